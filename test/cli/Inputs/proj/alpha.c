#include <Python.h>

static PyObject *alpha_fn(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "alpha");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
