// PyThreadState_Swap(NULL) detaches the thread state; whether it also
// releases the GIL depends on the CPython the code is built for: from 3.12 it
// does, before it only left no thread state current and kept the GIL locked.
// Either way no API call is valid after it, and the finding says which of the
// two it is, from the headers the file is compiled with.
//
// RUN: not %gilcheck --no-cache %s -- %pyinc-3.11 2>&1 | FileCheck %s --check-prefix=PY311
// RUN: not %gilcheck --no-cache %s -- %pyinc-3.13 2>&1 | FileCheck %s --check-prefix=PY313
// REQUIRES: python3.11, python3.13
#include <Python.h>

void bad_after_swap(PyObject *o) {
  PyThreadState *prev = PyThreadState_Swap(NULL);
  Py_DECREF(o);
  PyThreadState_Swap(prev);
}
// PY311: swap-null-by-version.c:14:3: warning: 'Py_DECREF' used without holding the GIL
// PY311-NEXT: swap-null-by-version.c:13:25: note: no thread state is attached after 'PyThreadState_Swap(NULL)' here (with Python 3.11's headers the GIL stays locked, but no API call is valid)
// PY313: swap-null-by-version.c:14:3: warning: 'Py_DECREF' used without holding the GIL
// PY313-NEXT: swap-null-by-version.c:13:25: note: the GIL is released here by 'PyThreadState_Swap(NULL)', which detaches the thread state
