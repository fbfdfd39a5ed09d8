#include <Python.h>

/* A parameter compared with a constant (COND_CMP): what a caller passes
 * decides the branch. */
static void report(int status)
{
    if (status == -1)
        PyErr_SetString(PyExc_OSError, "failed");
}

static PyObject *cmp(PyObject *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    report((int)n);
    return PyLong_FromLong(n);
}

static PyMethodDef methods[] = {{"cmp", cmp, METH_O, NULL}, {NULL, NULL, 0, NULL}};
