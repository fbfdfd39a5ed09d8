#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  PyErr_SetString(PyExc_ValueError, "x"); // expected-warning{{without holding the GIL}}
  return NULL;
}
