#ifndef API_H
#define API_H
#include <Python.h>

/* A helper in a header: its finding belongs to the header. */
static inline int api_ok(void) { return 1; }

static inline void api_drop(PyObject *o) {
  Py_BEGIN_ALLOW_THREADS
  Py_DECREF(o);
  Py_END_ALLOW_THREADS
}
#endif
