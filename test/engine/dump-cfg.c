// --dump-cfg prints what the engine sees: blocks, events with the macro the
// user wrote, edges with their conditions, and the states reached.
// RUN: %gilcheck --dump-cfg %s -- %pyinc | FileCheck %s
#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  PyThreadState *ts = NULL;
  if (arg == Py_None)
    ts = PyEval_SaveThread();
  if (ts)
    PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}
// CHECK: function f ({{.*}}dump-cfg.c:6) entry=held pre=held effect=none
// CHECK: var 0: ts
// CHECK: call PyEval_SaveThread python-api -> ts
// CHECK: -> {{[0-9]+}} if 'ts' (var)
// CHECK: call PyEval_RestoreThread python-api
// CHECK: objmacro Py_RETURN_NONE
// CHECK: states:
// CHECK-DAG: block 1: gil=released (saved in a local)
// CHECK-DAG: block 3: gil=held
// The NULL path skips the restore: the return block is reached held only.
// CHECK-NOT: block 4: gil=released

static PyMethodDef methods[] = {{"f", f, METH_O, NULL}, {NULL, NULL, 0, NULL}};
