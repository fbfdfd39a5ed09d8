#include <Python.h>

#ifndef DIR_A
#error "not compiled with src/a's flags"
#endif

static PyObject *in_a(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  Py_INCREF(arg);
  Py_END_ALLOW_THREADS
  return arg;
}
