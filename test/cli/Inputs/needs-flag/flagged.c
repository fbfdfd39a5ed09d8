#include <Python.h>

#ifndef FLAG_FROM_DATABASE
#error "compiled without the compilation database's flags"
#endif

static PyObject *flagged_fn(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  Py_INCREF(arg);
  Py_END_ALLOW_THREADS
  return arg;
}
