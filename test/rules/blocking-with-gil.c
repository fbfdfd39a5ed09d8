// Known blocking calls made while holding the GIL (off by default).
// RUN: %for-each-python %gilcheck --checks=blocking-with-gil --verify %s -- {PYINC}
// RUN: %gilcheck %s -- %pyinc | FileCheck --allow-empty --check-prefix=OFF %s
// OFF-NOT: warning:
#include <Python.h>
#include <pthread.h>
#include <unistd.h>

static PyObject *bad_sleep(PyObject *self, PyObject *arg) {
  sleep(1); // expected-warning{{'sleep' may block while holding the GIL; release it around the call (Py_BEGIN_ALLOW_THREADS) [blocking-with-gil]}}
  Py_RETURN_NONE;
}

static PyObject *bad_read(PyObject *self, PyObject *arg) {
  char buf[8];
  ssize_t n = read(0, buf, sizeof buf); // expected-warning{{'read' may block while holding the GIL}}
  return PyLong_FromSsize_t(n);
}

static PyObject *bad_lock_wait(PyObject *self, PyObject *arg) {
  PyThread_type_lock lock = PyThread_allocate_lock();
  PyThread_acquire_lock(lock, WAIT_LOCK); // expected-warning{{'PyThread_acquire_lock' may block while holding the GIL}}
  PyThread_release_lock(lock);
  PyThread_free_lock(lock);
  Py_RETURN_NONE;
}

static PyObject *ok_lock_nowait(PyObject *self, PyObject *arg) {
  PyThread_type_lock lock = PyThread_allocate_lock();
  if (PyThread_acquire_lock(lock, NOWAIT_LOCK))
    PyThread_release_lock(lock);
  PyThread_free_lock(lock);
  Py_RETURN_NONE;
}

static PyObject *ok_released(PyObject *self, PyObject *arg) {
  char buf[8];
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  n = read(0, buf, sizeof buf);
  Py_END_ALLOW_THREADS
  return PyLong_FromSsize_t(n);
}

/* Entry unknown: the helper may well run without the GIL. */
static void ok_unknown_entry(void) { sleep(1); }

static PyMethodDef methods[] = {
    {"bad_sleep", bad_sleep, METH_O, NULL},
    {"bad_read", bad_read, METH_O, NULL},
    {"bad_lock_wait", bad_lock_wait, METH_O, NULL},
    {"ok_lock_nowait", ok_lock_nowait, METH_O, NULL},
    {"ok_released", ok_released, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
