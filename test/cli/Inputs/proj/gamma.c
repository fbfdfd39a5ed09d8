#include <Python.h>

static PyObject *gamma_fn(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "gamma");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
