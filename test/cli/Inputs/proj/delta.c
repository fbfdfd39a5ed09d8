#include <Python.h>

static PyObject *delta_fn(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "delta");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
