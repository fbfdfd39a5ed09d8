// An embedding program: thread states and interpreters created, made
// current, cleared and deleted by hand. The correct sequences from the
// CPython docs stay silent; each mistake is reported once, at the offending
// call or exit, with the value's history in notes.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
// RUN: not %gilcheck %s -- %pyinc | FileCheck %s
#include <Python.h>

/* The thread-pool sequence: New, AcquireThread, Clear, DeleteCurrent. */
void ok_pool_worker(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  PyEval_AcquireThread(ts);
  PyRun_SimpleString("x = 1");
  PyThreadState_Clear(ts);
  PyThreadState_DeleteCurrent();
}

/* The sub-interpreter sequence: NewInterpreter ... EndInterpreter, Swap back. */
int ok_subinterpreter(void) {
  PyThreadState *main_ts = PyThreadState_Get();
  PyThreadState *sub = Py_NewInterpreter();
  if (sub == NULL) {
    PyThreadState_Swap(main_ts);
    return -1;
  }
  PyRun_SimpleString("x = 1");
  Py_EndInterpreter(sub);
  PyThreadState_Swap(main_ts);
  return 0;
}

/* The PyInterpreterState sequence: New, Clear, Delete. */
void ok_interpreter_state(void) {
  PyInterpreterState *interp = PyInterpreterState_New();
  PyThreadState *ts = PyThreadState_New(interp);
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts);
  PyInterpreterState_Clear(interp);
  PyInterpreterState_Delete(interp);
}

/* Created and handed over: not a leak. */
PyThreadState *ok_returned(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  return ts;
}

struct worker { PyThreadState *ts; };
void ok_stored(struct worker *w, PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  w->ts = ts;
}

int ok_null_checked(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  if (ts == NULL)
    return -1;
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts);
  return 0;
}

void bad_delete_before_clear(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  PyThreadState_Delete(ts); // expected-warning{{'PyThreadState_Delete' deletes 'ts' before it is cleared with 'PyThreadState_Clear' [tstate-lifecycle]}}
}
// CHECK: lifecycle.c:[[@LINE-2]]:3: warning: 'PyThreadState_Delete' deletes 'ts' before it is cleared with 'PyThreadState_Clear' [tstate-lifecycle]
// CHECK-NEXT: lifecycle.c:[[@LINE-4]]:23: note: 'ts' created by 'PyThreadState_New' here

void bad_delete_current(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  PyEval_AcquireThread(ts);
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts); // expected-warning{{deletes 'ts' while it is the current thread state (use 'PyThreadState_DeleteCurrent')}}
}
// CHECK: lifecycle.c:[[@LINE-2]]:3: warning: 'PyThreadState_Delete' deletes 'ts' while it is the current thread state
// CHECK-NEXT: note: 'ts' created by 'PyThreadState_New' here
// CHECK-NEXT: lifecycle.c:[[@LINE-6]]:3: note: 'ts' made current by 'PyEval_AcquireThread' here
// CHECK-NEXT: lifecycle.c:[[@LINE-6]]:3: note: 'ts' cleared by 'PyThreadState_Clear' here

void bad_delete_current_via_get(void) {
  PyThreadState *ts = PyThreadState_Get();
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts); // expected-warning{{deletes 'ts' while it is the current thread state}}
}

void bad_double_delete(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts);
  PyThreadState_Delete(ts); // expected-warning{{'PyThreadState_Delete' deletes 'ts' a second time}}
}

void bad_use_after_delete(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts);
  PyEval_AcquireThread(ts); // expected-warning{{'PyEval_AcquireThread' uses 'ts' after it was deleted}}
}

int bad_leak(PyInterpreterState *interp, int fail) {
  PyThreadState *ts = PyThreadState_New(interp);
  if (fail)
    return -1; // expected-warning{{the thread state 'ts' from 'PyThreadState_New' is never deleted on this path}}
  PyThreadState_Clear(ts);
  PyThreadState_Delete(ts);
  return 0;
}

// Cleared but never deleted: a thread state's leak, not an interpreter's
// (the engine once kept "cleared" and "sub-interpreter" in one bit).
void bad_cleared_leak(PyInterpreterState *interp) {
  PyThreadState *ts = PyThreadState_New(interp);
  PyThreadState_Clear(ts);
  return; // expected-warning{{the thread state 'ts' from 'PyThreadState_New' is never deleted on this path [tstate-lifecycle]}}
}

void bad_clear_without_gil(PyThreadState *ts) {
  Py_BEGIN_ALLOW_THREADS
  PyThreadState_Clear(ts); // expected-warning{{'PyThreadState_Clear' called without holding the GIL (no attached thread state) [tstate-lifecycle]}}
  Py_END_ALLOW_THREADS
}

void bad_end_not_current(void) {
  PyThreadState *main_ts = PyThreadState_Get();
  PyThreadState *sub = Py_NewInterpreter();
  PyThreadState_Swap(main_ts);
  Py_EndInterpreter(sub); // expected-warning{{'Py_EndInterpreter' ends 'sub', which is not the current thread state [interp-lifecycle]}}
}
// CHECK: lifecycle.c:[[@LINE-2]]:3: warning: 'Py_EndInterpreter' ends 'sub', which is not the current thread state [interp-lifecycle]
// CHECK-NEXT: lifecycle.c:[[@LINE-5]]:24: note: 'sub' created by 'Py_NewInterpreter' here
// CHECK-NEXT: lifecycle.c:[[@LINE-5]]:3: note: 'sub' swapped out by 'PyThreadState_Swap' here

void bad_end_without_gil(PyThreadState *sub) {
  Py_BEGIN_ALLOW_THREADS
  Py_EndInterpreter(sub); // expected-warning{{'Py_EndInterpreter' called without holding the GIL}}
  Py_END_ALLOW_THREADS
}

int bad_subinterpreter_lost(int fail) {
  PyThreadState *main_ts = PyThreadState_Get();
  PyThreadState *sub = Py_NewInterpreter();
  if (fail) {
    PyThreadState_Swap(main_ts);
    return -1; // expected-warning{{the interpreter from 'Py_NewInterpreter' ('sub') is never ended with 'Py_EndInterpreter' on this path}}
  }
  Py_EndInterpreter(sub);
  PyThreadState_Swap(main_ts);
  return 0;
}

void bad_interp_delete_before_clear(void) {
  PyInterpreterState *interp = PyInterpreterState_New();
  PyInterpreterState_Delete(interp); // expected-warning{{'PyInterpreterState_Delete' deletes 'interp' before it is cleared with 'PyInterpreterState_Clear'}}
}

void bad_interp_use_after_delete(void) {
  PyInterpreterState *interp = PyInterpreterState_New();
  PyInterpreterState_Clear(interp);
  PyInterpreterState_Delete(interp);
  PyThreadState *ts = PyThreadState_New(interp); // expected-warning{{'PyThreadState_New' uses 'interp' after it was deleted or ended}}
  (void)ts;
}

void bad_interp_double_delete(void) {
  PyInterpreterState *interp = PyInterpreterState_New();
  PyInterpreterState_Clear(interp);
  PyInterpreterState_Delete(interp);
  PyInterpreterState_Delete(interp); // expected-warning{{'PyInterpreterState_Delete' deletes 'interp' a second time}}
}

void bad_interp_clear_without_gil(PyInterpreterState *interp) {
  PyThreadState *ts = PyEval_SaveThread();
  PyInterpreterState_Clear(interp); // expected-warning{{'PyInterpreterState_Clear' called without holding the GIL}}
  PyEval_RestoreThread(ts);
}

int bad_interp_leak(int fail) {
  PyInterpreterState *interp = PyInterpreterState_New();
  if (fail)
    return -1; // expected-warning{{the interpreter from 'PyInterpreterState_New' ('interp') is never deleted on this path}}
  PyInterpreterState_Clear(interp);
  PyInterpreterState_Delete(interp);
  return 0;
}
