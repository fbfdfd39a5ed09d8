// Releasing the GIL when it is already released on some path.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>
#include <unistd.h>

static PyObject *bad_nested(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  Py_BEGIN_ALLOW_THREADS // expected-warning{{'Py_BEGIN_ALLOW_THREADS' releases the GIL, but it is already released [double-release]}}
  sleep(1);
  Py_END_ALLOW_THREADS
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_unblock_twice(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_UNBLOCK_THREADS // expected-warning{{'Py_UNBLOCK_THREADS' releases the GIL, but it is already released}}
  sleep(1);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_on_one_path(PyObject *self, PyObject *arg) {
  PyThreadState *ts = NULL;
  if (arg == Py_None)
    ts = PyEval_SaveThread();
  sleep(1);
  ts = PyEval_SaveThread(); // expected-warning{{'PyEval_SaveThread' releases the GIL, but it is already released}}
  PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}

static PyObject *ok_twice_in_sequence(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_END_ALLOW_THREADS
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_unblock_after_block(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_BLOCK_THREADS
  PyErr_CheckSignals();
  Py_UNBLOCK_THREADS
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_conditional(PyObject *self, PyObject *arg) {
  long n = PyLong_AsLong(arg);
  PyThreadState *ts = NULL;
  if (n > 1000)
    ts = PyEval_SaveThread();
  sleep(1);
  if (n > 1000)
    PyEval_RestoreThread(ts);
  Py_BEGIN_ALLOW_THREADS
  sleep(1);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_nested", bad_nested, METH_O, NULL},
    {"bad_unblock_twice", bad_unblock_twice, METH_O, NULL},
    {"bad_on_one_path", bad_on_one_path, METH_O, NULL},
    {"ok_twice_in_sequence", ok_twice_in_sequence, METH_O, NULL},
    {"ok_unblock_after_block", ok_unblock_after_block, METH_O, NULL},
    {"ok_conditional", ok_conditional, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
