#include <Python.h>

static PyObject *set_error_held(PyObject *self, PyObject *arg) {
  PyErr_SetString(PyExc_ValueError, "x");
  return NULL;
}
