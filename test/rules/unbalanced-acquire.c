// unbalanced-acquire: a function entered without the GIL takes it and one
// `return` keeps it while another path gives it back. Acquire helpers
// (attached on every successful return, detached on the failing ones) and
// PyGILState_Ensure pairs stay silent. The same on every CPython.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>

typedef struct {
  PyThreadState *ts;
  PyObject *cb;
} Host;

// A host server calls this on its own threads: attach, call back, detach.
int bad_early_error(Host *h, PyObject *arg) {
  PyEval_RestoreThread(h->ts); // expected-note{{the GIL is taken here by 'PyEval_RestoreThread'}}
  if (arg == NULL) // expected-note{{assuming 'arg == NULL' is true}}
    return -1; // expected-warning{{'bad_early_error' returns with the GIL held, which it took itself, while another path gives it back [unbalanced-acquire]}}
  PyObject *r = PyObject_CallOneArg(h->cb, arg);
  Py_XDECREF(r);
  h->ts = PyEval_SaveThread(); // expected-note{{another path gives it back here by 'PyEval_SaveThread'}}
  return 0;
}

// The same through the AcquireThread / ReleaseThread pair, from a void
// callback: a void function cannot tell success from failure, so a return
// that keeps the GIL is a mistake.
void bad_void_callback(Host *h, int code) {
  PyEval_AcquireThread(h->ts);
  PyObject *r = PyObject_CallFunction(h->cb, "i", code);
  if (r == NULL) {
    PyErr_Print();
    return; // expected-warning{{'bad_void_callback' returns with the GIL held}}
  }
  Py_DECREF(r);
  PyEval_ReleaseThread(h->ts);
}

// A wrapper macro, and a NULL pointer returned on the error path.
#define ENTER(h) PyEval_RestoreThread((h)->ts)
#define LEAVE(h) ((h)->ts = PyEval_SaveThread())

const char *bad_macro_pointer(Host *h, PyObject *key) {
  ENTER(h);
  PyObject *v = PyObject_GetItem(h->cb, key);
  if (v == NULL)
    return NULL; // expected-warning{{'bad_macro_pointer' returns with the GIL held}}
  Py_DECREF(v);
  LEAVE(h);
  return "ok";
}

// A helper whose summary acquires counts as taking it.
static void attach(Host *h) { PyEval_RestoreThread(h->ts); }
static void detach(Host *h) { h->ts = PyEval_SaveThread(); }

int bad_through_helpers(Host *h, PyObject *arg) {
  attach(h);
  if (PyObject_IsTrue(arg) < 0)
    return -1; // expected-warning{{'bad_through_helpers' returns with the GIL held}}
  detach(h);
  return 0;
}

// Fixed: every path gives the GIL back.
int ok_early_error(Host *h, PyObject *arg) {
  PyEval_RestoreThread(h->ts);
  if (arg == NULL) {
    h->ts = PyEval_SaveThread();
    return -1;
  }
  PyObject *r = PyObject_CallOneArg(h->cb, arg);
  Py_XDECREF(r);
  h->ts = PyEval_SaveThread();
  return 0;
}

// An acquire helper: attached on success (0), detached on failure (-1).
int ok_attach_or_fail(Host *h) {
  PyEval_RestoreThread(h->ts);
  if (PyErr_CheckSignals() < 0) {
    h->ts = PyEval_SaveThread();
    return -1;
  }
  return 0;
}

// An acquire helper returning a pointer: the object with the GIL held, or
// NULL with it given back.
PyObject *ok_attach_and_get(Host *h, const char *name) {
  PyEval_RestoreThread(h->ts);
  PyObject *o = PyObject_GetAttrString(h->cb, name);
  if (o == NULL) {
    PyErr_Clear();
    h->ts = PyEval_SaveThread();
    return NULL;
  }
  return o;
}

// "Attach and return 1, or return 0 having attached nothing".
int ok_enter_if_saved(Host *h) {
  if (h->ts == NULL)
    return 0;
  PyEval_RestoreThread(h->ts);
  return 1;
}

// Attaching for the caller on every path: nothing is given back.
void ok_attach_only(Host *h) { PyEval_RestoreThread(h->ts); }

// PyGILState_Ensure pairs are gilstate-unbalanced's, not this rule's.
int ok_gilstate(PyObject *cb) {
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = PyObject_CallNoArgs(cb);
  if (r == NULL)
    return -1; // expected-warning{{the handle 'g' from 'PyGILState_Ensure' is not released on this path [gilstate-unbalanced]}}
  Py_DECREF(r);
  PyGILState_Release(g);
  return 0;
}

// Entered holding the GIL (a method): releasing and taking it back, then
// returning held, is what a method must do.
static PyObject *ok_method(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  Py_END_ALLOW_THREADS
  if (arg == Py_None)
    return NULL;
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"m", ok_method, METH_O, NULL}, {NULL, NULL, 0, NULL}};
