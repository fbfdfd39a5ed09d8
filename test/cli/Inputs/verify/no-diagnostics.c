#include <Python.h>
// expected-no-diagnostics

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_RETURN_NONE;
}
