// The C API, object-internals macros and helpers that need the GIL, called
// with the GIL released: reported at the call, the same on every CPython.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>
#include <pthread.h>
#include <unistd.h>

static int set_error(const char *msg) {
  PyErr_SetString(PyExc_RuntimeError, msg);
  return -1;
}

static int set_error_twice_removed(const char *msg) { return set_error(msg); }

static int pure_c(int x) { return x * 2; }

static PyObject *bad_call(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "x"); // expected-warning{{call to 'PyErr_SetString' without holding the GIL (no attached thread state) [api-without-gil]}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_macro(PyObject *self, PyObject *tuple) {
  PyObject *item;
  Py_BEGIN_ALLOW_THREADS
  item = PyTuple_GET_ITEM(tuple, 0); // expected-warning{{'PyTuple_GET_ITEM' used without holding the GIL}}
  Py_INCREF(item);                   // expected-warning{{'Py_INCREF' used without holding the GIL}}
  Py_END_ALLOW_THREADS
  return item;
}

static PyObject *bad_helper(PyObject *self, PyObject *arg) {
  int r;
  Py_BEGIN_ALLOW_THREADS
  r = set_error("boom"); // expected-warning{{call to 'set_error', which needs the GIL, without holding it}}
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(r);
}

static PyObject *bad_helper_chain(PyObject *self, PyObject *arg) {
  int r;
  Py_BEGIN_ALLOW_THREADS
  r = set_error_twice_removed("boom"); // expected-warning{{call to 'set_error_twice_removed', which needs the GIL}}
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(r);
}

static PyObject *bad_one_branch(PyObject *self, PyObject *arg) {
  int fd = 0, n;
  char buf[16];
  Py_BEGIN_ALLOW_THREADS
  n = (int)read(fd, buf, sizeof buf);
  if (n < 0)
    PyErr_SetFromErrno(PyExc_OSError); // expected-warning{{call to 'PyErr_SetFromErrno' without holding the GIL}}
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(n);
}

static PyObject *bad_after_restore_and_save(PyObject *self, PyObject *arg) {
  PyThreadState *ts = PyEval_SaveThread();
  PyEval_RestoreThread(ts);
  ts = PyEval_SaveThread();
  Py_DECREF(arg); // expected-warning{{'Py_DECREF' used without holding the GIL}}
  PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}

static void *bad_thread_routine(void *p) {
  PyObject *o = (PyObject *)p;
  Py_DECREF(o); // expected-warning{{'Py_DECREF' used without holding the GIL}}
  return NULL;
}

static void bad_after_gilstate_release(void) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyRun_SimpleString("pass");
  PyGILState_Release(st);
  PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear' without holding the GIL}}
}

static PyObject *ok_api_outside(PyObject *self, PyObject *arg) {
  int fd = 0, n;
  char buf[16];
  Py_BEGIN_ALLOW_THREADS
  n = (int)read(fd, buf, sizeof buf);
  Py_END_ALLOW_THREADS
  if (n < 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  return PyLong_FromLong(pure_c(n));
}

static PyObject *ok_no_gil_needed(PyObject *self, PyObject *arg) {
  void *p;
  PyThread_type_lock lock = PyThread_allocate_lock();
  Py_BEGIN_ALLOW_THREADS
  p = PyMem_RawMalloc(16);
  PyThread_acquire_lock(lock, WAIT_LOCK);
  PyThread_release_lock(lock);
  PyMem_RawFree(p);
  (void)pure_c(1);
  Py_END_ALLOW_THREADS
  PyThread_free_lock(lock);
  Py_RETURN_NONE;
}

static PyObject *ok_bytes_buffer(PyObject *self, PyObject *bytes) {
  /* reading an immutable object's buffer while holding a reference is the
   * common idiom */
  const char *s = PyBytes_AS_STRING(bytes);
  Py_ssize_t n = PyBytes_GET_SIZE(bytes);
  long sum = 0;
  Py_BEGIN_ALLOW_THREADS
  for (Py_ssize_t i = 0; i < n; i++) sum += s[i];
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(sum);
}

static PyObject *ok_ensure_inside(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  {
    PyGILState_STATE st = PyGILState_Ensure();
    PyErr_WarnEx(PyExc_RuntimeWarning, "inside", 1);
    PyGILState_Release(st);
  }
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_block_unblock(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_BLOCK_THREADS
  PyErr_CheckSignals();
  Py_UNBLOCK_THREADS
  sleep(1);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static void ok_callback_agnostic(void) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyRun_SimpleString("pass");
  PyGILState_Release(st);
}

static PyObject *ok_calls_agnostic(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  ok_callback_agnostic();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static void *ok_thread_takes_gil(void *p) {
  PyGILState_STATE st = PyGILState_Ensure();
  Py_DECREF((PyObject *)p);
  PyGILState_Release(st);
  return NULL;
}

static PyObject *start(PyObject *self, PyObject *arg) {
  pthread_t t1, t2;
  pthread_create(&t1, NULL, bad_thread_routine, arg);
  pthread_create(&t2, NULL, ok_thread_takes_gil, arg);
  bad_after_gilstate_release();
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_call", bad_call, METH_O, NULL},
    {"bad_macro", bad_macro, METH_O, NULL},
    {"bad_helper", bad_helper, METH_O, NULL},
    {"bad_helper_chain", bad_helper_chain, METH_O, NULL},
    {"bad_one_branch", bad_one_branch, METH_O, NULL},
    {"bad_after_restore_and_save", bad_after_restore_and_save, METH_O, NULL},
    {"ok_api_outside", ok_api_outside, METH_O, NULL},
    {"ok_no_gil_needed", ok_no_gil_needed, METH_O, NULL},
    {"ok_bytes_buffer", ok_bytes_buffer, METH_O, NULL},
    {"ok_ensure_inside", ok_ensure_inside, METH_O, NULL},
    {"ok_block_unblock", ok_block_unblock, METH_O, NULL},
    {"ok_calls_agnostic", ok_calls_agnostic, METH_O, NULL},
    {"start", start, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

/* A helper that asks whether it holds the GIL works either way: agnostic. */
static void ok_log_either_way(const char *msg) {
  if (!PyGILState_Check()) {
    PyGILState_STATE st = PyGILState_Ensure();
    PyErr_WarnEx(PyExc_RuntimeWarning, msg, 1);
    PyGILState_Release(st);
  } else {
    PyErr_WarnEx(PyExc_RuntimeWarning, msg, 1);
  }
}

static PyObject *ok_calls_either_way(PyObject *self, PyObject *arg) {
  ok_log_either_way("before");
  Py_BEGIN_ALLOW_THREADS
  ok_log_either_way("inside");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef more_methods[] = {
    {"ok_calls_either_way", ok_calls_either_way, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
