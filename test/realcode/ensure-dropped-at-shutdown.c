// A shutdown path that takes the GIL with PyGILState_Ensure, drops the
// handle, and finalizes: Py_Finalize ends every thread state, so there is no
// handle to release. Seen in embedders' exit handlers (a host program's
// "unload" hook run on its own thread).
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

void ok_unload(void) {
  PyGILState_Ensure();
  Py_Finalize();
}

int ok_unload_ex(void) {
  (void)PyGILState_Ensure();
  return Py_FinalizeEx();
}

// Without the finalization the handle is owed.
void bad_forgot(void) {
  PyGILState_Ensure();
  PyRun_SimpleString("print('bye')");
} // expected-warning{{the state from 'PyGILState_Ensure' is not released on this path}}
