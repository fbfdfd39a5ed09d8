"""nearest.py GILCHECK DIR PYINC: a document its compilation database does
not list (a new file not built yet) is checked with the flags of its nearest
entry, as the command line does: here a define the code needs. Without
them it would not parse. Prints its diagnostics (lspclient.show). For
test/lsp/nearest.test."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lspclient import Server, show, write  # noqa: E402

gilcheck, top, pyinc = sys.argv[1:4]
shutil.rmtree(top, ignore_errors=True)
os.makedirs(os.path.join(top, "src"))
BODY = """#include <Python.h>
#ifndef SPAM_BUILD
#error "built without the project's flags"
#endif

static PyObject *%s(PyObject *self, PyObject *args) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_RuntimeError, "raised without the GIL");
  Py_END_ALLOW_THREADS
  return NULL;
}

static PyMethodDef methods[] = {{"f", %s, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
"""
write(os.path.join(top, "src", "listed.c"), BODY % ("listed", "listed"))
write(os.path.join(top, "src", "unlisted.c"), BODY % ("unlisted", "unlisted"))
write(os.path.join(top, "compile_commands.json"), json.dumps([{
    "directory": os.path.join(top, "src"), "file": "listed.c",
    "arguments": ["cc", pyinc, "-DSPAM_BUILD", "-c", "listed.c"]}]))
s = Server([gilcheck, "--lsp"], stderr=open(os.path.join(top, "server.log"), "w"))
s.initialize(root=top)
uri = s.open(os.path.join(top, "src", "unlisted.c"))
show("unlisted", s.publishes(uri, 60))
print("exit status %d" % s.finish())
