// Reduced from pycurl (src/pycurl.h, PYCURL_BEGIN_CALLBACK_COMMON): a callback
// that a C library runs without the GIL first asks whether the interpreter is
// shutting down, and only then attaches (PyGILState_Ensure or
// PyEval_RestoreThread). CPython's documentation for PyGILState_Ensure and
// PyEval_RestoreThread recommends exactly this: use Py_IsFinalizing() to check
// for finalization *before* calling them, so Py_IsFinalizing (3.13+) and the
// older _Py_IsFinalizing it replaces must be allowed without the GIL (they
// read an atomic runtime field).
//
// FALSE POSITIVE (as of commit d4e84d8): "call to '_Py_IsFinalizing' without holding the GIL"
// (with pycurl's own macro around it the message even names the macro,
// "call to 'PYCURL_BEGIN_CALLBACK'", rather than the API function). Seen on
// pycurl with a .gilcheck.yml that declares curl_easy_setopt's callback
// argument as running without the GIL.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>
#include <pthread.h>

#if PY_VERSION_HEX >= 0x030D0000
#define IS_FINALIZING() Py_IsFinalizing()
#else
#define IS_FINALIZING() _Py_IsFinalizing()
#endif

static PyObject *handler;

static void *ok_worker(void *arg) {
  if (IS_FINALIZING())
    return NULL;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = PyObject_CallNoArgs(handler);
  Py_XDECREF(r);
  PyGILState_Release(g);
  return arg;
}

static PyThreadState *parked;

static void *ok_worker_restore(void *arg) {
  if (IS_FINALIZING())
    return NULL;
  PyEval_RestoreThread(parked);
  PyErr_Clear();
  parked = PyEval_SaveThread();
  return arg;
}

// The check itself is fine; a real call before attaching is not.
static void *bad_worker(void *arg) {
  if (IS_FINALIZING())
    return NULL;
  if (PyErr_Occurred()) // expected-warning{{call to 'PyErr_Occurred' without holding the GIL}}
    return NULL;
  PyGILState_STATE g = PyGILState_Ensure();
  PyGILState_Release(g);
  return arg;
}

static PyObject *start(PyObject *self, PyObject *unused) {
  pthread_t t1, t2, t3;
  pthread_create(&t1, NULL, ok_worker, NULL);
  pthread_create(&t2, NULL, ok_worker_restore, NULL);
  pthread_create(&t3, NULL, bad_worker, NULL);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"start", start, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
