// NOLINT comments silence exactly the findings they name, on their line, on
// the next line, or between BEGIN and END; others stay.
// RUN: not %gilcheck %s -- %pyinc > %t.out
// RUN: FileCheck %s --input-file=%t.out --implicit-check-not=warning:
// Without the comments (stripped by sed), every call is reported: so each
// NOLINT above really silences something.
// RUN: sed -e 's/NOLI[N]T[A-Z]*//' %s > %t.stripped.c
// RUN: not %gilcheck %t.stripped.c -- %pyinc | FileCheck %s --check-prefix=ALL
// ALL-COUNT-13: warning: {{.*}}[api-without-gil]
// ALL-NOT: warning:
#include <Python.h>
#include <unistd.h>

static PyObject *same_line(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // NOLINT(api-without-gil)
  PyErr_SetString(PyExc_ValueError, "kept");
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_SetString' without holding the GIL {{.*}}[api-without-gil]
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *next_line(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  // NOLINTNEXTLINE(api-without-gil)
  PyErr_Clear();
  PyErr_Occurred();
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_Occurred'
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *begin_end(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  // NOLINTBEGIN(api-without-gil)
  PyErr_Clear();
  PyErr_Occurred();
  // NOLINTEND(api-without-gil)
  PyErr_NoMemory();
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_NoMemory'
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bare(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); /* NOLINT */
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *glob(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // NOLINT(bugprone-*, api-*)
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *other_rule(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // NOLINT(unbalanced-release)
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_Clear'
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *tidy_check(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // NOLINT(bugprone-unused-return-value)
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_Clear'
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *next_line_too_far(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  // NOLINTNEXTLINE(api-without-gil)

  PyErr_Clear();
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_Clear'
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *in_string(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_ValueError, "// NOLINT");
  // CHECK: nolint.c:[[@LINE-1]]:3: warning: call to 'PyErr_SetString'
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"same_line", same_line, METH_O, NULL},
    {"next_line", next_line, METH_O, NULL},
    {"begin_end", begin_end, METH_O, NULL},
    {"bare", bare, METH_O, NULL},
    {"glob", glob, METH_O, NULL},
    {"other_rule", other_rule, METH_O, NULL},
    {"tidy_check", tidy_check, METH_O, NULL},
    {"next_line_too_far", next_line_too_far, METH_O, NULL},
    {"in_string", in_string, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
