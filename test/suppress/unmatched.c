// An unmatched NOLINTBEGIN or NOLINTEND is itself reported (gilcheck-nolint),
// and what it would have paired with does not matter to other findings.
// RUN: not %gilcheck %s -- %pyinc | FileCheck %s --implicit-check-not=warning:
// (The directives' names are spelled NOLI{{N}}T... below so that these
// lines are no directives themselves.)
// CHECK: unmatched.c:[[@LINE+7]]:3: warning: call to 'PyErr_Clear'
// CHECK: unmatched.c:[[@LINE+13]]:6: warning: unmatched 'NOLI{{N}}TEND(api-without-gil)': no 'NOLI{{N}}TBEGIN(api-without-gil)' comes before it [gilcheck-nolint]
// CHECK: unmatched.c:[[@LINE+19]]:6: warning: unmatched 'NOLI{{N}}TBEGIN(double-release)': no 'NOLI{{N}}TEND(double-release)' follows it [gilcheck-nolint]
#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *g(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  /* NOLINTEND(api-without-gil) */
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *h(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  /* NOLINTBEGIN(double-release) */
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"f", f, METH_O, NULL},
    {"g", g, METH_O, NULL},
    {"h", h, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
