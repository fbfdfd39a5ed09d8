// --dump-cfg and the free-threading model: uses of globals are events
// (read, write, named), the locks held and the new containers no other
// thread sees yet are part of the state, and a critical section is on the
// object it locks (in the default build, where Py_BEGIN_CRITICAL_SECTION
// is only a brace, as in the free-threaded one).
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
// CHECK: var {{[0-9]+}}: d
// CHECK: call PyDict_New python-api -> d
// CHECK: global lock named
// CHECK: call pthread_mutex_lock
// CHECK: global counter read
// CHECK: global counter write
// CHECK: call Py_BEGIN_CRITICAL_SECTION python-api
// CHECK: call Py_END_CRITICAL_SECTION python-api
// CHECK: states:
// CHECK-DAG: fresh=[d]
// CHECK-DAG: d={non-null} locks=1 fresh=[d]
// CHECK-DAG: critical-sections=[other] d={non-null} fresh=[d]
