// Leaving a released region, or the function, with the GIL still released.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct { PyObject_HEAD PyThreadState *ts; int fd; } Conn;

static PyObject *bad_return(PyObject *self, PyObject *arg) {
  int fd = 0;
  char buf[8];
  Py_BEGIN_ALLOW_THREADS
  if (read(fd, buf, sizeof buf) < 0)
    return NULL; // expected-warning{{'return' leaves the 'Py_BEGIN_ALLOW_THREADS' block with the GIL still released [unbalanced-release]}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_goto(PyObject *self, PyObject *arg) {
  int fd = 0;
  char buf[8];
  Py_BEGIN_ALLOW_THREADS
  if (read(fd, buf, sizeof buf) < 0)
    goto error; // expected-warning{{'goto' leaves the 'Py_BEGIN_ALLOW_THREADS' block with the GIL still released}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
error:
  return NULL;
}

static PyObject *bad_break(PyObject *self, PyObject *arg) {
  int fd = 0;
  char buf[8];
  for (;;) {
    Py_BEGIN_ALLOW_THREADS
    if (read(fd, buf, sizeof buf) <= 0)
      break; // expected-warning{{'break' leaves the 'Py_BEGIN_ALLOW_THREADS' block with the GIL still released}}
    Py_END_ALLOW_THREADS
  }
  Py_RETURN_NONE;
}

static PyObject *bad_continue(PyObject *self, PyObject *arg) {
  int fd = 0, i;
  char buf[8];
  for (i = 0; i < 10; i++) {
    Py_BEGIN_ALLOW_THREADS
    if (read(fd, buf, sizeof buf) == 0)
      continue; // expected-warning{{'continue' leaves the 'Py_BEGIN_ALLOW_THREADS' block with the GIL still released}}
    Py_END_ALLOW_THREADS
  }
  Py_RETURN_NONE;
}

static PyObject *bad_local_lost(PyObject *self, PyObject *arg) {
  PyThreadState *ts = PyEval_SaveThread();
  sleep(1);
  if (arg == NULL)
    return NULL; // expected-warning{{'bad_local_lost' returns with the GIL released, and the saved thread state is lost}}
  PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}

static PyObject *bad_method_returns_released(Conn *self, PyObject *arg) {
  self->ts = PyEval_SaveThread();
  return NULL; // expected-warning{{'bad_method_returns_released' returns to Python with the GIL released}}
}

/* Helper pairs that keep the thread state outside locals: a summary, not a finding. */
static void ok_release(Conn *self) { self->ts = PyEval_SaveThread(); }
static void ok_acquire(Conn *self) { PyEval_RestoreThread(self->ts); self->ts = NULL; }

static PyObject *ok_helpers(Conn *self, PyObject *arg) {
  char buf[8];
  ssize_t n;
  ok_release(self);
  n = read(self->fd, buf, sizeof buf);
  ok_acquire(self);
  if (n < 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  Py_RETURN_NONE;
}

static PyObject *bad_helper_never_reacquired(Conn *self, PyObject *arg) {
  ok_release(self);
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{'bad_helper_never_reacquired' returns to Python with the GIL released}}
}

static PyObject *ok_block_before_return(PyObject *self, PyObject *arg) {
  int fd = 0;
  char buf[8];
  Py_BEGIN_ALLOW_THREADS
  if (read(fd, buf, sizeof buf) < 0) {
    Py_BLOCK_THREADS
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_break_inside_region(PyObject *self, PyObject *arg) {
  int fd = 0, i;
  char buf[8];
  Py_BEGIN_ALLOW_THREADS
  for (i = 0; i < 10; i++) {
    if (read(fd, buf, sizeof buf) <= 0)
      break;
    if (buf[0] == 'x')
      continue;
  }
  switch (buf[0]) {
  case 'a':
    break;
  default:
    sleep(1);
  }
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_noreturn_path(PyObject *self, PyObject *arg) {
  int fd = 0;
  char buf[8];
  Py_BEGIN_ALLOW_THREADS
  if (read(fd, buf, sizeof buf) < 0)
    abort();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_return", bad_return, METH_O, NULL},
    {"bad_goto", bad_goto, METH_O, NULL},
    {"bad_break", bad_break, METH_O, NULL},
    {"bad_continue", bad_continue, METH_O, NULL},
    {"bad_local_lost", bad_local_lost, METH_O, NULL},
    {"bad_method_returns_released", (PyCFunction)bad_method_returns_released, METH_O, NULL},
    {"ok_helpers", (PyCFunction)ok_helpers, METH_O, NULL},
    {"bad_helper_never_reacquired", (PyCFunction)bad_helper_never_reacquired, METH_O, NULL},
    {"ok_block_before_return", ok_block_before_return, METH_O, NULL},
    {"ok_break_inside_region", ok_break_inside_region, METH_O, NULL},
    {"ok_noreturn_path", ok_noreturn_path, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
