#include <Python.h>

static PyObject *clears_released(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"clears_released", clears_released, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
