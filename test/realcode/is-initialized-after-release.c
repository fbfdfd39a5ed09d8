// After releasing the GIL around a long wait, a worker checks whether Python
// is still there; if it was finalized meanwhile it must not take the GIL
// back (PyEval_RestoreThread would hang or kill the thread), so returning
// without re-attaching is right. Seen in plugin hosts' background loops.
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>
#include <unistd.h>

#if PY_VERSION_HEX >= 0x030D0000
#define IS_FINALIZING() Py_IsFinalizing()
#else
#define IS_FINALIZING() _Py_IsFinalizing()
#endif

static PyObject *ok_wait(PyObject *self, PyObject *arg) {
  PyThreadState *ts = PyEval_SaveThread();
  sleep(1);
  if (!Py_IsInitialized())
    return NULL;
  PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}

static PyObject *ok_wait_finalizing(PyObject *self, PyObject *arg) {
  PyThreadState *ts = PyEval_SaveThread();
  sleep(1);
  if (IS_FINALIZING())
    return NULL;
  PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}

// Any other early return still loses the thread state.
static PyObject *bad_wait(PyObject *self, PyObject *arg) {
  PyThreadState *ts = PyEval_SaveThread();
  if (sleep(1) != 0)
    return NULL; // expected-warning{{'bad_wait' returns with the GIL released, and the saved thread state is lost}}
  PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"wait", ok_wait, METH_O, NULL},
    {"wait_finalizing", ok_wait_finalizing, METH_O, NULL},
    {"bad_wait", bad_wait, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
