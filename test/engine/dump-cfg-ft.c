// --dump-cfg and what the lowering finds for the free-threading rules: uses
// of globals are events (read, write, named), and in the default build,
// where Py_BEGIN_CRITICAL_SECTION(op) is only a brace, the section's begin
// and end are events on the object it locks, as in the free-threaded build.
// RUN: %gilcheck --dump-cfg %s -- %pyinc -I%S/../rules/Inputs 2>&1 | FileCheck %s
#include <Python.h>
#include <pthread.h>
#include "cpython-future.h"

static long counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void f(PyObject *key, PyObject *other) {
  PyObject *d = PyDict_New();
  if (d == NULL)
    return;
  pthread_mutex_lock(&lock);
  if (key != other)
    counter++;
  pthread_mutex_unlock(&lock);
  PyObject *v = PyDict_GetItem(d, key);
  Py_BEGIN_CRITICAL_SECTION(other);
  if (v == NULL)
    v = PyDict_GetItem(other, key);
  Py_END_CRITICAL_SECTION();
  Py_DECREF(d);
}
// CHECK: function f
// CHECK: call PyDict_New python-api
// CHECK: global lock named
// CHECK: call pthread_mutex_lock
// CHECK: global counter read
// CHECK: global counter write
// CHECK: call Py_BEGIN_CRITICAL_SECTION python-api
// CHECK: call Py_END_CRITICAL_SECTION python-api
// CHECK: states:
// CHECK-DAG: critical-sections=[other]
