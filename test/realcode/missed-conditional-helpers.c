// MISSED: helpers that take or give up the GIL only on some paths get
// the summary "effect unknown", and everything after a call to them in the
// caller goes unchecked. Two real shapes:
//
// 1. pycurl's "attach if there is a saved thread state and return 1, else
//    return 0" is now followed: see conditional-attach-helper.c.
//
// 2. mrab-regex (regex_3/_regex.c, release_GIL / acquire_GIL, used by the
//    whole matcher: 15 functions end up "effect unknown"): "release if the
//    state says multithreaded and we have not released yet", with the saved
//    thread state kept in the same struct. bad_match sets the flag to a
//    constant 1 and makes an API call between the two helpers.
//
// Known limitation, kept as a target: shape 1 is now followed (see
// conditional-attach-helper.c); shape 2 depends on a flag in a struct, not on
// what the helper returns, and stays "effect unknown" (silent).
// XFAIL: *
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

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
