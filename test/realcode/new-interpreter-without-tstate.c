// Embedders create sub-interpreters with no thread state attached: they
// detach the main thread's with PyThreadState_Swap(NULL) and call
// Py_NewInterpreter, which CPython's new_interpreter() allows (it copies the
// main interpreter's configuration then), and they walk the interpreters
// with PyInterpreterState_Head/Next, which need no thread state. Seen in
// Apache mod_wsgi-style hosts.
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

static PyThreadState *main_ts;

PyThreadState *ok_create_sub(void) {
  PyEval_RestoreThread(main_ts);
  PyThreadState_Swap(NULL);
  PyThreadState *sub = Py_NewInterpreter();
  if (sub == NULL) {
    PyThreadState_Swap(main_ts);
    main_ts = PyEval_SaveThread();
    return NULL;
  }
  PyEval_SaveThread();
  return sub;
}

int ok_count_interpreters(void) {
  int n = 0;
  for (PyInterpreterState *i = PyInterpreterState_Head(); i; i = PyInterpreterState_Next(i))
    n++;
  return n;
}

PyInterpreterState *ok_main(void) { return PyInterpreterState_Main(); }

// An API call still needs an attached thread state.
void bad_after_swap(PyObject *o) {
  PyThreadState *prev = PyThreadState_Swap(NULL);
  Py_DECREF(o); // expected-warning{{'Py_DECREF' used without holding the GIL}}
  PyThreadState_Swap(prev);
}
