#include <Python.h>

static PyObject *set_error_released(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "x");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
