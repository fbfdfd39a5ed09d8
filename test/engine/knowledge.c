// What the lowering knows of the C API is rules/api.def's (its last row
// forms): a global of a method or slot table type lists functions Python
// calls with the GIL (TABLE_TYPE), as does a member of a type object a
// function is assigned to (TYPE_SLOT_PREFIX) and a module's init function
// (MODULE_INIT_PREFIX); a compiler builtin's call is no event unless it
// does not return (BUILTIN_PREFIX, NORETURN); a function's type spelled
// noreturn ends the path (NORETURN_TYPE_WORD); a compound statement a
// macro opens is a critical section when an API row says the macro begins
// one (FX_CS_BEGIN), not because of its name.
// RUN: not %gilcheck --no-cache --dump-cfg %s -- %pyinc -I%S/../rules/Inputs 2>&1 | FileCheck %s
// RUN: not %gilcheck --no-cache %s -- %pyinc -I%S/../rules/Inputs 2>&1 | FileCheck %s --check-prefix=FIND
#include <Python.h>
#include "cpython-future.h"

static PyObject *listed(PyObject *self, PyObject *args) { Py_RETURN_NONE; }
static PyObject *not_listed(PyObject *self, PyObject *args) { Py_RETURN_NONE; }
static void slot_dealloc(PyObject *self) { Py_TYPE(self)->tp_free(self); }
static PyObject *member_fn(PyObject *self) { Py_RETURN_NONE; }

static PyMethodDef methods[] = {
  {"listed", listed, METH_VARARGS, NULL},
  {NULL, NULL, 0, NULL},
};
static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "knowledge", NULL, -1, methods};
static PyTypeObject type = {PyVarObject_HEAD_INIT(NULL, 0) "knowledge.T"};
struct not_a_slot { PyObject *(*fn)(PyObject *); } other;

__attribute__((noreturn)) void die(const char *why);

#define MY_CRITICAL_SECTION(op) {
#define MY_CRITICAL_SECTION_END }

PyMODINIT_FUNC PyInit_knowledge(void) {
  type.tp_dealloc = slot_dealloc;
  other.fn = member_fn;
  return PyModule_Create(&moddef);
}
// CHECK-DAG: function listed ({{.*}}) entry=held
// CHECK-DAG: function not_listed ({{.*}}) entry=inferred
// CHECK-DAG: function slot_dealloc ({{.*}}) entry=held
// CHECK-DAG: function member_fn ({{.*}}) entry=inferred
// CHECK-DAG: function PyInit_knowledge ({{.*}}) entry=held

int builtins(PyObject *o, int x) {
  if (__builtin_expect(x > 0, 1))
    return 1;
  if (x < 0)
    __builtin_unreachable();
  if (x == 0)
    die("zero");
  return x;
}
// CHECK-LABEL: function builtins
// CHECK-NOT: __builtin_expect{{.*}}call
// CHECK: call __builtin_unreachable
// CHECK-NEXT: noreturn
// CHECK: call die
// CHECK-NEXT: noreturn
// CHECK-LABEL: states:

int sections(PyObject *o, int x) {
  Py_BEGIN_CRITICAL_SECTION(o);
  if (x)
    return 1;
  Py_END_CRITICAL_SECTION();
  MY_CRITICAL_SECTION(o);
  if (x > 1)
    return 2;
  MY_CRITICAL_SECTION_END;
  return 0;
}
// FIND: knowledge.c:[[#@LINE-8]]:5: warning: 'return' leaves the critical section of 'Py_BEGIN_CRITICAL_SECTION' without ending it [critical-section-unbalanced]
// FIND-NOT: MY_CRITICAL_SECTION
