"""databases.py GILCHECK DIR: `GILCHECK --lsp` given compilation databases
it cannot use (with -p, with compilationDatabasePath, or found above the
file), each in a fresh server. Prints every window/showMessage (`CASE:
shown TYPE MESSAGE`) and then the diagnostics of a document that raises
with the GIL released (`CASE: LINE:COL CODE ...`, lspclient.show): the
server goes on with the fallback flags, under which Python.h is found and
the finding is made. For test/lsp/databases.test."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lspclient import Server, show, write  # noqa: E402

gilcheck, top = sys.argv[1:3]
shutil.rmtree(top, ignore_errors=True)
os.makedirs(top)
SOURCE = """#include <Python.h>

static PyObject *fail(PyObject *self, PyObject *args) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_RuntimeError, "raised without the GIL");
  Py_END_ALLOW_THREADS
  return NULL;
}

static PyMethodDef methods[] = {{"fail", fail, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
"""


def case(name, args, source_dir, options=None, root=None):
    os.makedirs(source_dir, exist_ok=True)
    path = os.path.join(source_dir, "module.c")
    write(path, SOURCE)
    s = Server([gilcheck, "--lsp"] + args, stderr=open(os.path.join(top, name + ".log"), "w"))
    s.initialize(root=root, options=options)
    uri = s.open(path)
    diags = s.publishes(uri, 60)
    for m in s.shown:
        print("%s: shown %d %s" % (name, m["type"], m["message"]))
    show(name, diags)
    print("%s: exit status %d" % (name, s.finish()))


# -p names a directory that does not exist
case("no-such-dir", ["-p", os.path.join(top, "nowhere")], os.path.join(top, "src1"))
# -p names a directory without compile_commands.json
os.makedirs(os.path.join(top, "empty"))
case("no-database", ["-p", os.path.join(top, "empty")], os.path.join(top, "src2"))
# -p names a database that is not JSON
os.makedirs(os.path.join(top, "bad"))
write(os.path.join(top, "bad", "compile_commands.json"), "[{\"file\": ")
case("not-json", ["-p", os.path.join(top, "bad")], os.path.join(top, "src3"))
# a database without C entries
os.makedirs(os.path.join(top, "cxx"))
write(os.path.join(top, "cxx", "compile_commands.json"),
      '[{"directory": "/", "file": "/x.cc", "arguments": ["c++", "-c", "/x.cc"]}]')
case("no-c-entries", ["-p", os.path.join(top, "cxx")], os.path.join(top, "src4"))
# initializationOptions.compilationDatabasePath, relative to the root
case("init-option", [], os.path.join(top, "src5"), options={"compilationDatabasePath": "nowhere"},
     root=os.path.join(top, "src5"))
# a database found above the file that is not JSON
os.makedirs(os.path.join(top, "found", "src"))
write(os.path.join(top, "found", "compile_commands.json"), "{")
case("found-not-json", [], os.path.join(top, "found", "src"))
