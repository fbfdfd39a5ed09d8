// Acquiring the GIL when this function already re-acquired it.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>
#include <unistd.h>

static PyObject *bad_block_then_end(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_BLOCK_THREADS
  Py_END_ALLOW_THREADS // expected-warning{{'Py_END_ALLOW_THREADS' acquires the GIL, but it is already held [double-acquire]}}
  Py_RETURN_NONE;
}

static PyObject *bad_restore_twice(PyObject *self, PyObject *arg) {
  PyThreadState *ts = PyEval_SaveThread();
  sleep(1);
  PyEval_RestoreThread(ts);
  PyEval_RestoreThread(ts); // expected-warning{{'PyEval_RestoreThread' acquires the GIL, but it is already held}}
  Py_RETURN_NONE;
}

static PyObject *bad_on_one_branch(PyObject *self, PyObject *arg) {
  int fd = 0;
  char buf[4];
  Py_BEGIN_ALLOW_THREADS
  if (read(fd, buf, 4) < 0) {
    Py_BLOCK_THREADS
    PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_END_ALLOW_THREADS // expected-warning{{'Py_END_ALLOW_THREADS' acquires the GIL, but it is already held}}
  Py_RETURN_NONE;
}

/* A function whose first action is to attach a thread state is entered
 * without the GIL: not a double acquire. */
static void ok_attach_first(PyThreadState *ts) {
  PyEval_RestoreThread(ts);
  PyRun_SimpleString("pass");
  PyEval_SaveThread();
}

static PyObject *ok_block_unblock_end(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_BLOCK_THREADS
  PyErr_CheckSignals();
  Py_UNBLOCK_THREADS
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_numpy_style(PyObject *self, PyObject *arg) {
  PyThreadState *_save = NULL;
  if (arg != Py_None)
    _save = PyEval_SaveThread();
  sleep(1);
  if (_save) {
    PyEval_RestoreThread(_save);
    _save = NULL;
  }
  if (_save)
    PyEval_RestoreThread(_save);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_block_then_end", bad_block_then_end, METH_O, NULL},
    {"bad_restore_twice", bad_restore_twice, METH_O, NULL},
    {"bad_on_one_branch", bad_on_one_branch, METH_O, NULL},
    {"ok_block_unblock_end", ok_block_unblock_end, METH_O, NULL},
    {"ok_numpy_style", ok_numpy_style, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
