#include <Python.h>

/* A side-effect-free condition written twice (COND_KEY). */
static PyObject *key(PyObject *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    PyThreadState *ts = NULL;
    if (n > 1000)
        ts = PyEval_SaveThread();
    if (n > 1000)
        PyEval_RestoreThread(ts);
    return PyLong_FromLong(n);
}

static PyMethodDef methods[] = {{"key", key, METH_O, NULL}, {NULL, NULL, 0, NULL}};
