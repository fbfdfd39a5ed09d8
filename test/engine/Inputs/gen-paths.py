"""Prints a C file with a function of 2^80 paths (see many-paths.test)."""
out = ["#include <Python.h>", "int f(int);",
       "static PyObject *many(PyObject *self, PyObject *arg) {", "  int x = 0;"]
out += ["  int a%d = f(%d);" % (i, i) for i in range(40)]
out += ["  Py_BEGIN_ALLOW_THREADS"]
out += ["  if (a%d) x += f(%d); else x -= 1;" % (i, i) for i in range(40)]
out += ["  if (a%d > 3) x += f(%d);" % (i, i) for i in range(40)]
# correlated with the branches above: only an infeasible path reaches it
out += ["  if (a0 && !a0) PyErr_Print();"]
out += ["  if (x == 7) PyErr_Clear();", "  Py_END_ALLOW_THREADS",
        "  return PyLong_FromLong(x);", "}",
        'static PyMethodDef m[] = {{"many", many, METH_O, NULL}, {NULL}};']
print("\n".join(out))
