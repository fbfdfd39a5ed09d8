// The notes that explain a path: where the GIL was released (the macro the
// user wrote, not the header), the branches that decide the path, and for a
// helper, the chain down to the API call.
// RUN: not %gilcheck %s -- %pyinc | FileCheck %s --strict-whitespace --match-full-lines
#include <Python.h>
#include <unistd.h>

static int fail(const char *why) {
  PyErr_SetString(PyExc_OSError, why);
  return -1;
}

static PyObject *reader(PyObject *self, PyObject *arg) {
  char buf[64];
  ssize_t n;
  int verbose = PyObject_IsTrue(arg);
  Py_BEGIN_ALLOW_THREADS
  n = read(0, buf, sizeof buf);
  if (verbose)
    write(2, "read\n", 5);
  if (n < 0)
    fail("read");
  Py_END_ALLOW_THREADS
  return PyLong_FromSsize_t(n);
}
// CHECK:{{.*}}notes.c:22:5: warning: call to 'fail', which needs the GIL, without holding it (no attached thread state) [api-without-gil]
// CHECK-NEXT:{{.*}}notes.c:17:3: note: the GIL is released here by 'Py_BEGIN_ALLOW_THREADS'
// CHECK-NEXT:{{.*}}notes.c:21:7: note: assuming 'n < 0' is true
// CHECK-NEXT:{{.*}}notes.c:9:3: note: 'fail' needs the GIL: it uses 'PyErr_SetString' here

static PyObject *conditional(PyObject *self, PyObject *arg) {
  PyThreadState *ts = NULL;
  if (arg == Py_None)
    ts = PyEval_SaveThread();
  Py_DECREF(arg);
  if (ts)
    PyEval_RestoreThread(ts);
  Py_RETURN_NONE;
}
// CHECK:{{.*}}notes.c:35:3: warning: 'Py_DECREF' used without holding the GIL (no attached thread state) [api-without-gil]
// CHECK-NEXT:{{.*}}notes.c:33:7: note: assuming 'arg == Py_None' is true
// CHECK-NEXT:{{.*}}notes.c:34:10: note: the GIL is released here by 'PyEval_SaveThread'
// CHECK-NOT: note:



// Leaving a loop says nothing about the path (the loop always ends): no note
// for its condition, unless its body changes the GIL.
static PyObject *after_loop(PyObject *self, PyObject *arg) {
  int total = 0;
  Py_BEGIN_ALLOW_THREADS
  for (int i = 0; i < 10; i++)
    total += i;
  Py_DECREF(arg);
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(total);
}
// CHECK:{{.*}}notes.c:[[#@LINE-4]]:3: warning: 'Py_DECREF' used without holding the GIL (no attached thread state) [api-without-gil]
// CHECK-NEXT:{{.*}}notes.c:[[#@LINE-8]]:3: note: the GIL is released here by 'Py_BEGIN_ALLOW_THREADS'
// CHECK-NOT: note:

// A branch in a macro's own body is not one the reader wrote: no "assuming"
// note whose text would be the macro's use.
#define FAIL_IF_NEGATIVE(n) do { if ((n) < 0) fail("read"); } while (0)
static PyObject *in_macro(PyObject *self, PyObject *arg) {
  char buf[64];
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = read(0, buf, sizeof buf);
  FAIL_IF_NEGATIVE(n);
  Py_END_ALLOW_THREADS
  return PyLong_FromSsize_t(n);
}
// CHECK:{{.*}}notes.c:[[#@LINE-4]]:3: warning: call to 'fail', which needs the GIL, without holding it (no attached thread state) [api-without-gil]
// CHECK-NEXT:{{.*}}notes.c:[[#@LINE-5]]:3: note: 'fail' is called by the macro 'FAIL_IF_NEGATIVE' used here
// CHECK-NEXT:{{.*}}notes.c:[[#@LINE-8]]:3: note: the GIL is released here by 'Py_BEGIN_ALLOW_THREADS'
// CHECK-NEXT:{{.*}}notes.c:9:3: note: 'fail' needs the GIL: it uses 'PyErr_SetString' here
// CHECK-NOT: note:

static PyMethodDef methods[] = {
    {"reader", reader, METH_O, NULL},
    {"conditional", conditional, METH_O, NULL},
    {"after_loop", after_loop, METH_O, NULL},
    {"in_macro", in_macro, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
