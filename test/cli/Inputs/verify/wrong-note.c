#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS // expected-note{{the GIL is acquired here}}
  PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear'}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
