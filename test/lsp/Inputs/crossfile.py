"""crossfile.py GILCHECK DIR PYINC [watch|watch-refused]: drives
`GILCHECK --lsp` through the two-file extension of Inputs/crossfile (net.c
calls the error helper of errors.c inside Py_BEGIN_ALLOW_THREADS), copied to
DIR with a compile_commands.json, and prints what is published after each
step (lspclient.show). For test/lsp/crossfile.test.

Without a mode the client offers no file watching: the server polls.
With `watch` it offers dynamic registration of didChangeWatchedFiles and
accepts it; with `watch-refused` it answers the registration with an
error, and the server must poll after all. With `api`, errors.c raises
through lib_raise, a library function that only the api: facts of a
.gilcheck.yml say needs the GIL: first without one (no finding), then with
one written while the server runs and net.c saved; then a second server
with it from the start. With `exclude`, a .gilcheck.yml excludes errors.c;
with `broken`, the database has a third file that does not parse.
With `cache` three servers open
net.c one after the other, with the result cache in DIR/cache: empty, then
filled by the first, then with --no-cache (their logs: DIR/cold.log,
DIR/warm.log, DIR/no-cache.log)."""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lspclient import Server, show, write  # noqa: E402

gilcheck, top, pyinc = sys.argv[1:4]
mode = sys.argv[4] if len(sys.argv) > 4 else "poll"
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crossfile")
shutil.rmtree(top, ignore_errors=True)
shutil.copytree(src, top)
NET, ERRORS, HEADER, CDB = (os.path.join(top, f) for f in ("net.c", "errors.c", "errors.h", "compile_commands.json"))
HELPER = open(ERRORS).read()
PURE = HELPER.replace("  PyErr_SetString(PyExc_OSError, what);\n", "  (void)what;\n")
assert PURE != HELPER


def database(*files):
    write(CDB, json.dumps([{"directory": top, "file": f, "arguments": ["cc", pyinc, "-c", f]} for f in files]))


def step(name, uri, timeout=60):
    show(name, s.publishes(uri, timeout))


def quiet(name, uri, seconds):
    """Nothing may be published for URI within SECONDS."""
    d = s.publishes(uri, seconds)
    print("%s: %s" % (name, "nothing published" if d is None else "published %d" % len(d)))
    sys.stdout.flush()


database("errors.c", "net.c")
if mode == "cache":
    # the cache stores only units whose files have not changed (ctime) for
    # a second before they were read
    time.sleep(1.5)
    env = dict(os.environ, GILCHECK_CACHE_DIR=os.path.join(top, "cache"))
    for run, extra in (("cold", []), ("warm", []), ("no-cache", ["--no-cache"])):
        s = Server([gilcheck, "--lsp", "-v"] + extra, stderr=open(os.path.join(top, run + ".log"), "w"), env=env)
        s.initialize(root=top)
        net = s.open(NET)
        step(run + ": open", net)
        step(run + ": whole-database", net)
        print("%s: exit status %d" % (run, s.finish()))
    sys.exit(0)
if mode == "broken":
    write(os.path.join(top, "broken.c"), "int broken(void) { return undeclared; }\n")
    database("errors.c", "net.c", "broken.c")
    s = Server([gilcheck, "--lsp", "-v"], stderr=open(os.path.join(top, "server.log"), "w"))
    s.initialize(root=top)
    net = s.open(NET)
    step("broken: open", net)
    step("broken: whole-database", net)
    print("exit status %d" % s.finish())
    sys.exit(0)
if mode == "exclude":
    write(os.path.join(top, ".gilcheck.yml"), "exclude:\n  - errors.c\n")
    s = Server([gilcheck, "--lsp", "-v"], stderr=open(os.path.join(top, "server.log"), "w"))
    s.initialize(root=top)
    net = s.open(NET)
    step("exclude: open", net)
    quiet("exclude: whole-database", net, 3)
    print("exit status %d" % s.finish())
    sys.exit(0)
if mode == "api":
    write(ERRORS, HELPER.replace("  PyErr_SetString(PyExc_OSError, what);\n",
                                 "  lib_raise(what);\n").replace("int raise_io_error", "int lib_raise(const char *what);\n\nint raise_io_error"))
    s = Server([gilcheck, "--lsp", "-v"], stderr=open(os.path.join(top, "server.log"), "w"))
    s.initialize(root=top)
    net = s.open(NET)
    step("api: open", net)
    quiet("api: whole-database without facts", net, 3)
    write(os.path.join(top, ".gilcheck.yml"), "api:\n  needs-gil: [lib_raise]\n")
    s.save(NET)
    step("api: saved with facts", net)
    step("api: whole-database with facts", net)
    print("exit status %d" % s.finish())
    # a server started with the configuration there from the start takes
    # its facts before it lowers anything
    s = Server([gilcheck, "--lsp", "-v"], stderr=open(os.path.join(top, "server2.log"), "w"))
    s.initialize(root=top)
    net = s.open(NET)
    step("api: second server: open", net)
    step("api: second server: whole-database", net)
    print("exit status %d" % s.finish())
    sys.exit(0)
caps = {}
answer = None
if mode in ("watch", "watch-refused"):
    caps = {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}}}
if mode == "watch-refused":
    def answer(m):
        return {"jsonrpc": "2.0", "id": m["id"], "error": {"code": -32601, "message": "not here"}}
s = Server([gilcheck, "--lsp", "-v"], stderr=open(os.path.join(top, "server.log"), "w"), answer=answer)
s.initialize(root=top, capabilities=caps)

# net.c alone knows nothing of raise_io_error: the first publish (at once,
# from the one unit) is empty; the second comes with errors.c's unit.
net = s.open(NET)
step("open", net)
step("whole-database", net)
for r in s.requests:
    print("request %s %s" % (r["method"], json.dumps(r["params"], sort_keys=True)))

# errors.c changed on disk, not open anywhere.
write(ERRORS, PURE)
if mode == "watch":
    # the client watches it: the server leaves it to the client's word
    quiet("helper-fixed-unannounced", net, 5)
    s.notify("workspace/didChangeWatchedFiles",
             {"changes": [{"uri": "file://" + ERRORS, "type": 2}]})
step("helper-fixed-on-disk", net)
write(ERRORS, HELPER)
if mode == "watch":
    s.notify("workspace/didChangeWatchedFiles",
             {"changes": [{"uri": "file://" + ERRORS, "type": 2}]})
step("helper-broken-again", net)

if mode == "poll":
    # errors.h, a project header of net.c, changes on disk: net.c is
    # checked again (its text parsed with the header as it is now); here
    # the header turns the call into a constant for files other than
    # errors.c, and back.
    declaration = open(HEADER).read()
    write(HEADER, declaration.replace("#endif", "#ifndef NET_ERRORS_IMPL\n#define raise_io_error(what) (-1)\n#endif\n#endif"))
    step("header-macro", net)
    write(HEADER, declaration)
    step("header-restored", net)

    # errors.c opened: its own diagnostics (none: the finding is net.c's);
    # then fixed in the editor and saved: net.c follows at once.
    errors = s.open(ERRORS)
    step("errors.c-open", errors)
    s.save(ERRORS, PURE, version=2)
    step("errors.c-saved-fixed", errors)
    step("net.c-after-errors.c-saved", net)
    s.save(ERRORS, HELPER, version=3)
    step("errors.c-saved-broken", errors)
    step("net.c-after-errors.c-broken", net)
    # closed: its unit stays in the picture until it is lowered from disk
    s.close(ERRORS)
    step("errors.c-closed", errors)
    quiet("net.c-after-errors.c-closed", net, 4)

    # the database: errors.c dropped, then back
    database("net.c")
    step("database-without-errors.c", net)
    database("errors.c", "net.c")
    step("database-with-errors.c", net)
    # a database that cannot be read: the entries read before stay
    write(CDB, "[{")
    quiet("database-broken", net, 4)
    for m in s.shown:
        print("shown type %d: %s" % (m["type"], m["message"]))
    database("errors.c", "net.c")
    quiet("database-repaired", net, 4)

    # the last open file of the database closed: its units are dropped,
    # and made again (from the cache) when it is opened again
    s.close(NET)
    step("net.c-closed", net)
    net = s.open(NET)
    step("net.c-reopened", net)
    step("net.c-reopened-whole-database", net)

    # net.c fixed in the editor and saved
    fixed = open(NET).read().replace('    raise_io_error("read failed");\n', "    fd = -1;\n")
    s.save(NET, fixed, version=2)
    step("net.c-fixed", net)

print("exit status %d" % s.finish())
