#include <Python.h>

/* A vendored helper that raises: it needs the GIL. */
int vendored_raise(const char *what) {
  PyErr_SetString(PyExc_OSError, what);
  Py_BEGIN_ALLOW_THREADS
  Py_INCREF(Py_None);
  Py_END_ALLOW_THREADS
  return -1;
}
