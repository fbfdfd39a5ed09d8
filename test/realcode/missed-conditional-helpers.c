// MISSED (as of commit d4e84d8): helpers that take or give up the GIL only on some paths get
// the summary "effect unknown", and everything after a call to them in the
// caller goes unchecked. Two real shapes:
//
// 1. pycurl (src/threadsupport.c, pycurl_python_enter; every callback in
//    src/easycb.c and src/multi.c goes through it): "attach if there is a
//    saved thread state, and return 1 if attached, 0 if not". Callers branch
//    on the result, so the helper's effect is exact per branch: acquires when
//    it returns non-zero, nothing when it returns 0. bad_on_data below makes
//    an API call on the 0 branch, where nothing was attached.
//
// 2. mrab-regex (regex_3/_regex.c, release_GIL / acquire_GIL, used by the
//    whole matcher: 15 functions end up "effect unknown"): "release if the
//    state says multithreaded and we have not released yet", with the saved
//    thread state kept in the same struct. bad_match sets the flag to a
//    constant 1 and makes an API call between the two helpers.
//
// Known limitation, kept as a target: conditional effects of helpers are not modelled: a helper that attaches only when it returns 1 (or releases only when a flag says so) gets the summary "effect unknown", and its callers go unchecked after the call (silent, by design: precision before recall).
// XFAIL: *
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

typedef struct { int threaded; PyThreadState *ts; } MatchState;

static void maybe_release(MatchState *s) {
  if (s->threaded && s->ts == NULL)
    s->ts = PyEval_SaveThread();
}

static void maybe_acquire(MatchState *s) {
  if (s->threaded && s->ts != NULL) {
    PyEval_RestoreThread(s->ts);
    s->ts = NULL;
  }
}

static PyObject *bad_match(PyObject *self, PyObject *arg) {
  MatchState s = {1, NULL};
  maybe_release(&s);
  PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear' without holding the GIL}}
  maybe_acquire(&s);
  Py_RETURN_NONE;
}

static PyObject *ok_match(PyObject *self, PyObject *arg) {
  MatchState s = {1, NULL};
  maybe_release(&s);
  maybe_acquire(&s);
  PyErr_Clear();
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_match", bad_match, METH_O, NULL},
    {"ok_match", ok_match, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
