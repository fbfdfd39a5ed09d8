#include <Python.h>

#ifndef DIR_DEEP
#error "not compiled with src/a/deep's flags"
#endif

static PyObject *in_deep(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  Py_INCREF(arg);
  Py_END_ALLOW_THREADS
  return arg;
}
