#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS // expected-note{{the GIL is released here}}
  PyErr_SetString(PyExc_ValueError, "x"); // expected-warning{{call to 'PyErr_SetString' without holding the GIL (no attached thread state) [api-without-gil]}}
  // expected-warning@+1{{'Py_INCREF' used without holding the GIL}}
  Py_INCREF(arg);
  Py_END_ALLOW_THREADS
  return arg;
}
