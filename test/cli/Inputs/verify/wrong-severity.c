#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // expected-error{{call to 'PyErr_Clear'}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
