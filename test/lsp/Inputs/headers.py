"""headers.py GILCHECK DIR PYINC: drives `GILCHECK --lsp` through a small
project written to DIR (main.c and its own header helper.h, flags from a
compile_commands.json with PYINC) and prints what is published after each
step, one diagnostic a line: `STEP: LINE:COL CODE MESSAGE [related FILE:LINE]`
(1-based), or `STEP: none`. For test/lsp/headers.test."""
import json
import os
import subprocess
import sys

gilcheck, top, pyinc = sys.argv[1:4]
os.makedirs(top, exist_ok=True)
RELEASING = """#include <Python.h>
static inline PyThreadState *leave_python(void) { return PyEval_SaveThread(); }
"""
HELPER = os.path.join(top, "helper.h")
MAIN = os.path.join(top, "main.c")
MAIN_TEXT = """#include <Python.h>
#include "helper.h"

static PyObject *fail(PyObject *self, PyObject *args) {
  PyThreadState *ts = leave_python();
  PyErr_SetString(PyExc_RuntimeError, "raised without the GIL");
  PyEval_RestoreThread(ts);
  return NULL;
}

static PyMethodDef methods[] = {{"fail", fail, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


write(HELPER, RELEASING)
write(MAIN, MAIN_TEXT)
write(os.path.join(top, "compile_commands.json"),
      json.dumps([{"directory": top, "file": "main.c", "arguments": ["cc", pyinc, "-c", "main.c"]}]))

p = subprocess.Popen([gilcheck, "--lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def send(msg):
    body = json.dumps(msg).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    p.stdin.flush()


def receive():
    length = None
    while True:
        line = p.stdout.readline()
        if not line:
            sys.exit("headers.py: the server closed its output")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return json.loads(p.stdout.read(length))


def show(step, version):
    # the publish for this version of the text: the server also checks the
    # file again by itself when it sees a header change on disk (a poll),
    # which may publish before the save is handled
    while True:
        msg = receive()
        if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"].get("version") == version:
            break
    diags = msg["params"]["diagnostics"]
    if not diags:
        print("%s: none" % step)
    for d in diags:
        s = d["range"]["start"]
        related = "".join(" [related %s:%d]" % (os.path.basename(r["location"]["uri"]),
                                                 r["location"]["range"]["start"]["line"] + 1)
                          for r in d.get("relatedInformation", []))
        print("%s: %d:%d %s %s%s" % (step, s["line"] + 1, s["character"] + 1, d["code"], d["message"], related))
    sys.stdout.flush()


uri = "file://" + MAIN
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
receive()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "c", "version": 1, "text": MAIN_TEXT}}})
show("open", 1)
version = 1


def save(step):
    global version
    version += 1
    send({"jsonrpc": "2.0", "method": "textDocument/didChange",
          "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": MAIN_TEXT}]}})
    send({"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {"textDocument": {"uri": uri}}})
    show(step, version)


# The header changes on disk, main.c does not: the preamble must be rebuilt.
# The second edit has the same size and comes within the same second, which
# libclang's own check of the preamble cannot tell.
write(HELPER, RELEASING.replace("PyEval_SaveThread", "PyThreadState_Get"))
save("header-no-longer-releases")
write(HELPER, RELEASING)
save("header-releases-again")
write(HELPER, RELEASING + "static int broken(void) { return undeclared; }\n")
save("header-with-error")
write(HELPER, '#include "missing.h"\n' + RELEASING)
save("header-with-missing-include")
write(HELPER, RELEASING)
save("header-fixed")

send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
receive()
send({"jsonrpc": "2.0", "method": "exit"})
print("exit status %d" % p.wait())
