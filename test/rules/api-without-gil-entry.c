// A function whose own code takes the GIL says it is entered without it: a
// non-nesting acquire (PyEval_RestoreThread, PyEval_AcquireThread, a helper
// whose summary acquires) on a path means the C-API uses before it on that
// path ran without the GIL. So does a PyGILState_Ensure, unless the use is
// guarded by PyGILState_Check(). The shape of many callbacks from C
// libraries: build the argument tuple, then attach, then call Python.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>

typedef struct {
  PyThreadState *ts;
  PyObject *cb;
} Ctx;

size_t bad_write_cb(char *data, size_t size, size_t n, void *userdata) {
  Ctx *c = userdata;
  PyObject *arg = PyBytes_FromStringAndSize(data, (Py_ssize_t)(size * n)); // expected-warning{{call to 'PyBytes_FromStringAndSize' without holding the GIL}}
  PyEval_RestoreThread(c->ts); // expected-note{{'bad_write_cb' is entered without the GIL: 'PyEval_RestoreThread' here needs it released}}
  PyObject *r = PyObject_CallOneArg(c->cb, arg);
  Py_XDECREF(r);
  Py_XDECREF(arg);
  c->ts = PyEval_SaveThread();
  return size * n;
}

static void enter(Ctx *c) { PyEval_RestoreThread(c->ts); }
static void leave(Ctx *c) { c->ts = PyEval_SaveThread(); }

void bad_through_helper(Ctx *c, PyObject *o) {
  Py_INCREF(o); // expected-warning{{'Py_INCREF' used without holding the GIL}}
  enter(c);
  PyObject *r = PyObject_CallOneArg(c->cb, o);
  Py_XDECREF(r);
  Py_DECREF(o);
  leave(c);
}

void bad_before_ensure(PyObject *o) {
  Py_INCREF(o); // expected-warning{{'Py_INCREF' used without holding the GIL}}
  PyGILState_STATE g = PyGILState_Ensure(); // expected-note{{may be entered without the GIL: it calls 'PyGILState_Ensure' here}}
  Py_DECREF(o);
  PyGILState_Release(g);
}

// Only on the paths that reach the acquire.
int bad_one_path(Ctx *c, PyObject *o, int attach) {
  if (!attach)
    return PyObject_IsTrue(o);
  Py_INCREF(o); // expected-warning{{'Py_INCREF' used without holding the GIL}}
  enter(c);
  Py_DECREF(o);
  leave(c);
  return 0;
}

size_t ok_write_cb(char *data, size_t size, size_t n, void *userdata) {
  Ctx *c = userdata;
  PyEval_RestoreThread(c->ts);
  PyObject *arg = PyBytes_FromStringAndSize(data, (Py_ssize_t)(size * n));
  PyObject *r = arg ? PyObject_CallOneArg(c->cb, arg) : NULL;
  Py_XDECREF(r);
  Py_XDECREF(arg);
  c->ts = PyEval_SaveThread();
  return size * n;
}

// Guarded by PyGILState_Check: the use runs only where the GIL is held.
void ok_checked(PyObject *o) {
  if (PyGILState_Check())
    Py_INCREF(o);
  PyGILState_STATE g = PyGILState_Ensure();
  PyGILState_Release(g);
}

// Entered holding the GIL (a method): releasing it first, then taking it back.
static PyObject *ok_method(PyObject *self, PyObject *o) {
  PyObject *r = PyObject_Repr(o);
  Py_BEGIN_ALLOW_THREADS
  Py_END_ALLOW_THREADS
  return r;
}

// The uses come after a release of the function's own: nothing to infer.
void ok_released_first(Ctx *c, PyObject *o) {
  Py_INCREF(o);
  c->ts = PyEval_SaveThread();
  PyEval_RestoreThread(c->ts);
  Py_DECREF(o);
}

static PyMethodDef methods[] = {{"m", ok_method, METH_O, NULL}, {NULL, NULL, 0, NULL}};
