// Reduced from pycurl (src/threadsupport.c, pycurl_python_enter, used by
// every libcurl callback): a helper that attaches a saved thread state if
// there is one and returns 1, or returns 0 having attached nothing. Its
// summary is exact by what it returns, so a caller that branches on the
// result is checked on both branches: an API call on the 0 branch, where
// nothing was attached, is a finding.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct { PyObject_HEAD PyThreadState *saved; PyObject *cb; } Handle;

static int enter_if_saved(PyThreadState **slot) {
  if (slot == NULL || *slot == NULL)
    return 0;
  PyEval_RestoreThread(*slot);
  return 1;
}

static void leave_to_slot(PyThreadState **slot) {
  *slot = PyEval_SaveThread();
}

size_t bad_on_data(char *p, size_t n, void *data) {
  Handle *h = (Handle *)data;
  if (!enter_if_saved(&h->saved)) {
    PyErr_WarnEx(PyExc_RuntimeWarning, "callback without a thread state", 1); // expected-warning{{call to 'PyErr_WarnEx' without holding the GIL}}
    return 0;
  }
  PyObject *r = PyObject_CallFunction(h->cb, "y#", p, (Py_ssize_t)n);
  Py_XDECREF(r);
  leave_to_slot(&h->saved);
  return n;
}

size_t ok_on_data(char *p, size_t n, void *data) {
  Handle *h = (Handle *)data;
  if (!enter_if_saved(&h->saved)) {
    PyGILState_STATE g = PyGILState_Ensure();
    PyErr_WarnEx(PyExc_RuntimeWarning, "callback without a thread state", 1);
    PyGILState_Release(g);
    return 0;
  }
  PyObject *r = PyObject_CallFunction(h->cb, "y#", p, (Py_ssize_t)n);
  Py_XDECREF(r);
  leave_to_slot(&h->saved);
  return n;
}

