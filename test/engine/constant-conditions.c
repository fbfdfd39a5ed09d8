// Conditions the compiler folds, and a local compared with constants twice.
//
// A condition on a constant expression (sizeof, an enumerator, a macro's
// arithmetic) has one outcome: the other branch is dead code, and what it
// does is not a finding. A local set from a switch or from constants and
// compared with the same constant at the release and at the re-acquire
// correlates the two, as a flag tested twice does.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

enum mode { MODE_PLAIN, MODE_BLOCKING, MODE_ASYNC };

extern int blocking_io(int fd);

/* on a 64-bit build the `else` branch cannot run */
static PyObject *ok_sizeof_dead_branch(PyObject *self, PyObject *arg) {
  long v = PyLong_AsLong(arg);
  Py_BEGIN_ALLOW_THREADS
  if (sizeof(long) == 8)
    v = blocking_io((int)v);
  else
    PyErr_Clear();
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(v);
}

/* the live branch of the same shape is still checked */
static PyObject *bad_sizeof_live_branch(PyObject *self, PyObject *arg) {
  long v = PyLong_AsLong(arg);
  Py_BEGIN_ALLOW_THREADS
  if (sizeof(long) >= 4)
    PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear' without holding the GIL}}
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(v);
}

/* a local declared with a string is not NULL, as one assigned it is */
static PyObject *ok_declared_string(PyObject *self, PyObject *arg) {
  const char *what = "read";
  long v = PyLong_AsLong(arg);
  Py_BEGIN_ALLOW_THREADS
  v = blocking_io((int)v);
  if (what == NULL)
    PyErr_Clear();
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(v);
}

static PyObject *ok_mode_released_twice(PyObject *self, PyObject *arg) {
  int mode, fd = (int)PyLong_AsLong(arg), rc = 0;
  PyThreadState *ts = NULL;
  switch (fd & 3) {
  case 0: mode = MODE_PLAIN; break;
  case 1: mode = MODE_BLOCKING; break;
  default: mode = MODE_ASYNC; break;
  }
  if (mode == MODE_BLOCKING)
    ts = PyEval_SaveThread();
  rc = blocking_io(fd);
  if (mode == MODE_BLOCKING)
    PyEval_RestoreThread(ts);
  return PyLong_FromLong(rc);
}

static PyObject *bad_mode_mismatched(PyObject *self, PyObject *arg) {
  int mode, fd = (int)PyLong_AsLong(arg), rc = 0;
  PyThreadState *ts = NULL;
  mode = (fd & 1) ? MODE_BLOCKING : MODE_ASYNC;
  if (mode != MODE_PLAIN)
    ts = PyEval_SaveThread();
  rc = blocking_io(fd);
  if (mode == MODE_BLOCKING)
    PyEval_RestoreThread(ts);
  /* MODE_ASYNC released and never re-acquired */
  return PyLong_FromLong(rc); // expected-warning{{call to 'PyLong_FromLong' without holding the GIL}} expected-warning{{'bad_mode_mismatched' returns with the GIL released}}
}

static PyMethodDef methods[] = {
    {"sizeof_dead", ok_sizeof_dead_branch, METH_O, NULL},
    {"sizeof_live", bad_sizeof_live_branch, METH_O, NULL},
    {"declared_string", ok_declared_string, METH_O, NULL},
    {"mode_twice", ok_mode_released_twice, METH_O, NULL},
    {"mode_mismatched", bad_mode_mismatched, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
