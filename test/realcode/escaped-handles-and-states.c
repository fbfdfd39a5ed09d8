// Handles and thread states that leave the function are not leaks. Seen on
// embedders and servers: an Ensure wrapper that returns the
// PyGILState_STATE for its caller's release (pairs such as
// `gil_enter()`/`gil_leave(st)` in plugin glue), a handle kept in a struct
// between an enter and a leave callback, a new thread state or interpreter
// handed to a function that stores it in a table (a pool of worker states),
// and a thread state passed to a callback through a pointer.
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct {
  PyGILState_STATE gstate;
  PyThreadState *slots[8];
} Session;

extern void pool_put(int slot, PyThreadState *ts);
extern void registry_add(PyInterpreterState *interp);

PyGILState_STATE ok_gil_enter(void) { return PyGILState_Ensure(); }

PyGILState_STATE ok_gil_enter_named(void) {
  PyGILState_STATE st = PyGILState_Ensure();
  return st;
}

void ok_gil_leave(PyGILState_STATE st) { PyGILState_Release(st); }

void ok_session_enter(Session *s) { s->gstate = PyGILState_Ensure(); }
void ok_session_leave(Session *s) { PyGILState_Release(s->gstate); }

void ok_pooled(PyInterpreterState *interp, int slot) {
  PyThreadState *ts = PyThreadState_New(interp);
  pool_put(slot, ts);
}

void ok_registered(void) {
  PyInterpreterState *interp = PyInterpreterState_New();
  registry_add(interp);
}

void ok_in_array(Session *s, PyInterpreterState *interp, int k) {
  PyThreadState *ts = PyThreadState_New(interp);
  s->slots[k] = ts;
}

void ok_through_pointer(void (*keep)(PyThreadState *)) {
  PyThreadState *sub = Py_NewInterpreter();
  keep(sub);
}

// Not escaped: the handle is dropped on the error path.
int bad_not_released(PyObject *cb) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyObject *r = PyObject_CallNoArgs(cb);
  if (r == NULL)
    return -1; // expected-warning{{the handle 'st' from 'PyGILState_Ensure' is not released on this path}}
  Py_DECREF(r);
  PyGILState_Release(st);
  return 0;
}
