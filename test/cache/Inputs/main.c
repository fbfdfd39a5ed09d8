/* main.c: calls a helper of util.c (which needs the GIL) and an inline
 * helper of helper.h (which does not, until the header is edited) with the
 * GIL released; a -DFOO build has one more bug. */
#include <Python.h>
#include "helper.h"

void util_clear(void);

static PyObject *call_util(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  util_clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *call_inline(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  helper_touch(arg);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

#ifdef FOO
static PyObject *foo_only(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}
#endif
