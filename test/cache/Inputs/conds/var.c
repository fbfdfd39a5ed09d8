#include <Python.h>

/* The truth of a tracked local (COND_VAR): the NumPy form of a
 * conditional release. */
static PyObject *var(PyObject *self, PyObject *arg)
{
    PyThreadState *ts = NULL;
    if (PyObject_IsTrue(arg))
        ts = PyEval_SaveThread();
    if (ts)
        PyEval_RestoreThread(ts);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"var", var, METH_O, NULL}, {NULL, NULL, 0, NULL}};
