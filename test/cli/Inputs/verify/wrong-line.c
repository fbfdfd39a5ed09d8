#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS // expected-warning{{call to 'PyErr_SetString'}}
  PyErr_SetString(PyExc_ValueError, "x");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
