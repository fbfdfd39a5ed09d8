// --dump-cfg prints what the engine sees: blocks, events with the macro the
// user wrote, edges with their conditions, then the whole state reached at
// the end of each block, every domain: the GIL (and how it was released),
// Ensure handles, critical sections, the current thread state, and per
// tracked local its value, thread-state and interpreter typestates, handle
// and ownership.
// RUN: not %gilcheck --dump-cfg %s -- %pyinc -I%S/../rules/Inputs 2>&1 | FileCheck %s
#include <Python.h>
#include "cpython-future.h"

static PyObject *f(PyObject *self, PyObject *arg) {
  PyThreadState *ts = NULL;
  if (arg == Py_None)
    ts = PyEval_SaveThread();
  if (ts)
    PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}
// CHECK: function f ({{.*}}dump-cfg.c:11) entry=held pre=held effect=none
// CHECK: var 0: ts
// CHECK: call PyEval_SaveThread python-api -> ts
// CHECK: -> {{[0-9]+}} if 'ts' (var)
// CHECK: call PyEval_RestoreThread python-api
// CHECK: objmacro Py_RETURN_NONE
// CHECK: states:
// CHECK-DAG: block 0: gil=held ts={null}
// CHECK-DAG: block 1: gil=released (saved in a local 'ts') current=none ts={non-null,ts:saved}
// CHECK-DAG: block 3: gil=held (taken here) current='ts' ts={non-null,ts:current}
// The NULL path skips the restore: the return block is reached held only.
// CHECK-NOT: block 4: gil=released

void g(PyInterpreterState *interp, PyObject *o, int flag) {
  PyGILState_STATE st = PyGILState_Ensure();
  PyThreadState *ts = PyThreadState_New(interp);
  PyThreadState_Clear(ts);
  PyCriticalSection cs;
  PyCriticalSection_Begin(&cs, o);
  if (flag)
    PyThreadState_Delete(ts);
  PyCriticalSection_End(&cs);
  PyGILState_Release(st);
}
// CHECK: function g ({{.*}}dump-cfg.c:[[#@LINE-11]]) entry=inferred
// CHECK: states:
// Ensure on an unknown entry: two worlds, the GIL held before or taken by it.
// CHECK-DAG: block 0: gil=held ensure=[st:was-held] critical-sections=[_] st={handle:active} ts={ts:new,cleared,owned}
// CHECK-DAG: block 0: gil=held ensure=[st:was-released] critical-sections=[_] st={handle:active} ts={ts:new,cleared,owned}
// CHECK-DAG: gil=released (by PyGILState_Release) st={handle:released} ts={ts:deleted,cleared}

void h(void) {
  PyThreadState *sub = Py_NewInterpreter();
  PyInterpreterState *in = PyInterpreterState_New();
  if (sub && in)
    return;
}
// CHECK: function h ({{.*}}dump-cfg.c:[[#@LINE-6]])
// CHECK: states:
// CHECK-DAG: current='sub' {{.*}}sub={ts:current,sub-interpreter,owned} in={interp:new,owned}

static PyMethodDef methods[] = {{"f", f, METH_O, NULL}, {NULL, NULL, 0, NULL}};
