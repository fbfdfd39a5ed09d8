// Reduced from an embedding start-up routine (ninia/jep, pyembed.c,
// pyembed_startup): after Py_Initialize the main thread state is read with
// PyThreadState_Get into a file-scope variable, and PyEval_ReleaseThread(that
// variable) gives the GIL up so that other threads can attach; a shutdown
// routine later takes it back with PyEval_AcquireThread(the same variable).
//
// FALSE POSITIVE (as of commit d4e84d8): gilcheck says "returns with the GIL released, and the
// saved thread state is lost" at each return after PyEval_ReleaseThread. The
// thread state is not lost: it was stored in a global before the release, and
// PyEval_ReleaseThread's argument *is* that global. Only a release whose
// thread state is reachable from nothing but locals loses it; the engine seems
// to treat every PyEval_ReleaseThread like a PyEval_SaveThread whose result was
// dropped. (PyEval_SaveThread into the same global is already silent: see
// ok_save_into_global.) Oddly, PyEval_ReleaseThread(local) with the local read
// from PyThreadState_Get is silent today, so the check looks inverted: the
// global copy, which survives the return, is the one reported as lost.
//
// RUN: %gilcheck --verify %s -- %pyinc
// expected-no-diagnostics
#include <Python.h>

static PyThreadState *main_tstate;
static PyObject *lock_factory;

void ok_startup(void) {
  Py_Initialize();
  main_tstate = PyThreadState_Get();
  PyEval_ReleaseThread(main_tstate);
}

// The same with an early return that also releases first (jep does this when
// a start-up argument is missing).
void ok_startup_early_exit(int argc) {
  Py_Initialize();
  main_tstate = PyThreadState_Get();
  if (argc < 0) {
    PyEval_ReleaseThread(main_tstate);
    return;
  }
  PySys_SetArgvEx(0, NULL, 0);
  PyEval_ReleaseThread(main_tstate);
}

// Start-up that can fail before the release (the failure leaves the GIL with
// this thread; whether that is wise is another matter, but nothing is lost on
// the success path).
void ok_startup_with_failure(void) {
  Py_Initialize();
  PyObject *threading = PyImport_ImportModule("threading");
  if (threading == NULL)
    return;
  lock_factory = PyObject_GetAttrString(threading, "Lock");
  Py_DECREF(threading);
  main_tstate = PyThreadState_Get();
  PyEval_ReleaseThread(main_tstate);
}

// Already silent today: the control case.
void ok_save_into_global(void) {
  Py_Initialize();
  main_tstate = PyEval_SaveThread();
}

void ok_shutdown(void) {
  PyEval_AcquireThread(main_tstate);
  Py_Finalize();
}

// A helper of a pair (the other half is ok_shutdown): the thread state was put
// in the global by someone else, and the caller can take it back from there.
void ok_release_main(void) {
  PyEval_ReleaseThread(main_tstate);
}
