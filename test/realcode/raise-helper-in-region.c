// Reduced from ninia/jep (src/main/c/Objects/pyjmonitor.c, pyjmonitor_enter):
// a context manager's __enter__ releases the GIL around a blocking lock call
// of a foreign runtime (so that it cannot deadlock against the GIL) and, when
// the lock call fails, converts the foreign error into a Python exception by
// calling a helper -- still inside the released region. The helper
// (process_java_exception in jep) uses PyErr_Occurred, PyErr_SetString and
// PyErr_SetObject.
//
// A TRUE POSITIVE that gilcheck reports today (keep it reported): the helper
// needs the GIL, and the fix is to remember the failure in a flag and convert
// the error after Py_END_ALLOW_THREADS.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct { PyObject_HEAD void *foreign_lock; } Monitor;

extern int foreign_lock_enter(void *lock);  /* blocks; < 0 on failure */
extern const char *foreign_last_error(void);

/* Turns the foreign runtime's pending error into a Python exception. */
static int convert_foreign_error(void) {
  const char *msg = foreign_last_error();
  if (msg == NULL)
    return 0;
  if (PyErr_Occurred())
    PyErr_Clear();
  PyErr_SetString(PyExc_RuntimeError, msg);
  return 1;
}

static PyObject *bad_enter(PyObject *self, PyObject *unused) {
  Monitor *m = (Monitor *)self;
  int failed = 0;
  Py_BEGIN_ALLOW_THREADS
  if (foreign_lock_enter(m->foreign_lock) < 0) {
    convert_foreign_error(); // expected-warning{{call to 'convert_foreign_error', which needs the GIL, without holding it}}
    failed = 1;
  }
  Py_END_ALLOW_THREADS
  if (failed)
    return NULL;
  Py_INCREF(self);
  return self;
}

static PyObject *ok_enter(PyObject *self, PyObject *unused) {
  Monitor *m = (Monitor *)self;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = foreign_lock_enter(m->foreign_lock);
  Py_END_ALLOW_THREADS
  if (rc < 0) {
    convert_foreign_error();
    return NULL;
  }
  Py_INCREF(self);
  return self;
}

static PyMethodDef methods[] = {
    {"bad_enter", bad_enter, METH_NOARGS, NULL},
    {"ok_enter", ok_enter, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
