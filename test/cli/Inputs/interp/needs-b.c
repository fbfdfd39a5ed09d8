#include <Python.h>

#ifndef DIR_B
#error "not compiled with src/b's flags"
#endif

static PyObject *in_b(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  Py_INCREF(arg);
  Py_END_ALLOW_THREADS
  return arg;
}
