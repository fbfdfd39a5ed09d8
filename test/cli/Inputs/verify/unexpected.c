#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "x"); // expected-warning{{call to 'PyErr_SetString'}}
  PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
