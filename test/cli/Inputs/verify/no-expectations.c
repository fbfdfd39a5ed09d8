#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_RETURN_NONE;
}
