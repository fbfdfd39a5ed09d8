// --report-unused-suppressions reports a NOLINT that names a gilcheck rule
// and silences nothing; one that silences something, a bare NOLINT and one
// naming only another tool's check are never reported. Without the option,
// nothing about suppressions is said.
// RUN: not %gilcheck --report-unused-suppressions %s -- %pyinc | FileCheck %s --implicit-check-not=warning:
// RUN: %gilcheck %s -- %pyinc | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: {{.}}
#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // NOLINT(api-without-gil)
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *g(PyObject *self, PyObject *arg) {
  int x = 0; // NOLINT(api-without-gil)
  // CHECK: unused.c:[[@LINE-1]]:17: warning: 'api-without-gil' in NOLI{{N}}T(api-without-gil) suppresses no finding [gilcheck-unused-suppression]
  int y = 0; // NOLINT
  int z = 0; // NOLINT(readability-magic-numbers)
  Py_BEGIN_ALLOW_THREADS
  // NOLINTNEXTLINE(double-release, api-without-gil)
  PyErr_Clear();
  // CHECK: unused.c:[[@LINE-2]]:6: warning: 'double-release' in NOLI{{N}}TNEXTLINE(double-release,api-without-gil) suppresses no finding [gilcheck-unused-suppression]
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(x + y + z);
}

static PyMethodDef methods[] = {
    {"f", f, METH_O, NULL},
    {"g", g, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
