// A rule name in a NOLINT comment that is a few edits from a gilcheck rule
// is a misspelling: it suppresses nothing, so it is reported (gilcheck-nolint)
// with the rule it most likely meant; the finding it meant to hide stays.
// Other tools' names, far from every gilcheck rule, are left alone.
// RUN: not %gilcheck %s -- %pyinc | FileCheck %s --implicit-check-not=warning:
// (The directives' names are spelled NOLI{{N}}T... below so that these
// lines are no directives themselves.)
// CHECK: misspelt.c:[[@LINE+9]]:3: warning: call to 'PyErr_Clear' without holding the GIL {{.*}}[api-without-gil]
// CHECK: misspelt.c:[[@LINE+8]]:21: warning: unknown rule 'api-withou-gil' in NOLI{{N}}T(api-withou-gil); did you mean 'api-without-gil'? [gilcheck-nolint]
// CHECK: misspelt.c:[[@LINE+15]]:8: warning: unknown rule 'unbalanced-relase' in NOLI{{N}}TNEXTLINE(bugprone-branch-clone,unbalanced-relase); did you mean 'unbalanced-release'? [gilcheck-nolint]
// CHECK: misspelt.c:[[@LINE+15]]:5: warning: 'return' leaves the 'Py_BEGIN_ALLOW_THREADS' block with the GIL still released [unbalanced-release]
// CHECK: misspelt.c:[[@LINE+20]]:6: warning: unknown rule 'Double-Release' in NOLI{{N}}TBEGIN(Double-Release); did you mean 'double-release'? [gilcheck-nolint]
#include <Python.h>

static PyObject *f(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // NOLINT(api-withou-gil)
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *g(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  if (arg == Py_None)
    /* NOLINTNEXTLINE(bugprone-branch-clone,unbalanced-relase) */
    return NULL;
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *h(PyObject *self, PyObject *arg) {
  /* NOLINTBEGIN(Double-Release) */
  Py_BEGIN_ALLOW_THREADS
  Py_END_ALLOW_THREADS
  /* NOLINTEND(Double-Release) */
  /* A name of another tool alone: nothing said. NOLINTNEXTLINE(readability-braces-around-statements) */
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"f", f, METH_O, NULL}, {"g", g, METH_O, NULL}, {"h", h, METH_O, NULL}, {NULL, NULL, 0, NULL}};
