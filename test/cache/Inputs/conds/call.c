#include <Python.h>

static int positive(long x) { return x > 0; }

/* A project function's result tested at once (COND_CALL): the shape that
 * once made every entry "corrupt". */
static PyObject *call(PyObject *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (positive(n))
        n--;
    return PyLong_FromLong(n);
}

static PyMethodDef methods[] = {{"call", call, METH_O, NULL}, {NULL, NULL, 0, NULL}};
