// PyGILState_Ensure handles: not released, out of order, released twice.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs
#include <Python.h>
#include "cpython-future.h"

void bad_error_path(void) {
  PyGILState_STATE st = PyGILState_Ensure(); // expected-note{{'PyGILState_Ensure' called here}}
  if (PyRun_SimpleString("pass") < 0)
    return; // expected-warning{{the handle 'st' from 'PyGILState_Ensure' is not released on this path [gilstate-unbalanced]}}
  PyGILState_Release(st);
}

void bad_out_of_order(void) {
  PyGILState_STATE a = PyGILState_Ensure();
  PyGILState_STATE b = PyGILState_Ensure();
  PyGILState_Release(a); // expected-warning{{'a' is released out of order}}
  PyGILState_Release(b);
}

void bad_twice(void) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyRun_SimpleString("pass");
  PyGILState_Release(st);
  PyGILState_Release(st); // expected-warning{{the handle 'st' is released twice}}
}

void bad_token_not_released(void *guard, int x) {
  PyThreadStateToken t = PyThreadState_Ensure(guard);
  if (x)
    return; // expected-warning{{the handle 't' from 'PyThreadState_Ensure' is not released on this path}}
  PyThreadState_Release(t);
}

void ok_pairs(void) {
  PyGILState_STATE a = PyGILState_Ensure();
  PyGILState_STATE b = PyGILState_Ensure();
  PyRun_SimpleString("pass");
  PyGILState_Release(b);
  PyGILState_Release(a);
}

int ok_error_path_released(void) {
  PyGILState_STATE st = PyGILState_Ensure();
  if (PyRun_SimpleString("pass") < 0) {
    PyErr_Print();
    PyGILState_Release(st);
    return -1;
  }
  PyGILState_Release(st);
  return 0;
}

void ok_token(void *guard) {
  PyThreadStateToken t = PyThreadState_Ensure(guard);
  PyRun_SimpleString("pass");
  PyThreadState_Release(t);
}
