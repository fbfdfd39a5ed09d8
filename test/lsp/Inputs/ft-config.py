"""ft-config.py GILCHECK DIR PYINC: a module that does not declare
Py_MOD_GIL_NOT_USED, opened in the editor, with and without a .gilcheck.yml
turning the free-threading rules on: as on the command line, the
configuration's `checks: ft-*` makes them report everywhere. Prints the
diagnostics (lspclient.show). For test/lsp/ft-config.test."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lspclient import Server, show, write  # noqa: E402

gilcheck, top, pyinc = sys.argv[1:4]
shutil.rmtree(top, ignore_errors=True)
SOURCE = """#include <Python.h>

static PyMethodDef methods[] = {{NULL, NULL, 0, NULL}};
static struct PyModuleDef spam = {PyModuleDef_HEAD_INIT, "spam", NULL, -1, methods};

PyMODINIT_FUNC PyInit_spam(void) { return PyModule_Create(&spam); }
"""


def case(name, config):
    d = os.path.join(top, name)
    os.makedirs(d)
    write(os.path.join(d, "spam.c"), SOURCE)
    if config:
        write(os.path.join(d, ".gilcheck.yml"), config)
    write(os.path.join(d, "compile_commands.json"), json.dumps([{
        "directory": d, "file": "spam.c", "arguments": ["cc", pyinc, "-c", "spam.c"]}]))
    s = Server([gilcheck, "--lsp"], stderr=open(os.path.join(top, name + ".log"), "w"))
    s.initialize(root=d)
    uri = s.open(os.path.join(d, "spam.c"))
    show(name, s.publishes(uri, 60))
    s.finish()


case("default", None)
case("configured", 'checks: "ft-*"\n')
