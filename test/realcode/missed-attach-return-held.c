// Reduced from ninia/jep (src/main/c/Jep/pyembed.c, pyembed_thread_init):
// an entry point called from a foreign runtime without the GIL attaches a
// saved thread state (PyEval_AcquireThread / PyEval_RestoreThread), does
// Python work, and detaches before returning -- except on an error path,
// which returns with the thread state still attached. The next caller that
// tries to attach any thread state then blocks forever (a deadlock), and the
// thread state is stuck on this thread. In jep the two such paths are:
// Py_NewInterpreterFromConfig failing (the main thread state, attached just
// before, stays attached) and the module set-up helper failing (the new
// thread state stays attached). Missed until unbalanced-acquire.
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct {
  PyThreadState *tstate;
  PyObject *globals;
} Session;

static PyThreadState *main_tstate;

static int setup_module(void) {
  PyObject *m = PyImport_AddModule("__main__");
  return m == NULL ? -1 : 0;
}

int bad_session_run(Session *s, const char *code) {
  PyEval_AcquireThread(s->tstate);
  PyObject *r = PyRun_String(code, Py_file_input, s->globals, s->globals);
  if (r == NULL) {
    PyErr_Print();
    return -1; // expected-warning{{with the GIL held}}
  }
  Py_DECREF(r);
  PyEval_ReleaseThread(s->tstate);
  return 0;
}

int bad_session_init(Session *s) {
  PyEval_AcquireThread(main_tstate);
  s->tstate = Py_NewInterpreter();
  if (s->tstate == NULL)
    return -1; // expected-warning{{with the GIL held}}
  (void)PyEval_SaveThread();
  PyEval_AcquireThread(s->tstate);
  if (setup_module() < 0)
    return -1; // expected-warning{{with the GIL held}}
  s->globals = PyDict_New();
  PyEval_ReleaseThread(s->tstate);
  return 0;
}

int ok_session_run(Session *s, const char *code) {
  int rc = 0;
  PyEval_AcquireThread(s->tstate);
  PyObject *r = PyRun_String(code, Py_file_input, s->globals, s->globals);
  if (r == NULL) {
    PyErr_Print();
    rc = -1;
  }
  Py_XDECREF(r);
  PyEval_ReleaseThread(s->tstate);
  return rc;
}
