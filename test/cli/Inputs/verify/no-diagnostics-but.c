#include <Python.h>
// expected-no-diagnostics

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
