// Critical sections (free-threaded CPython) left open by return, goto or
// break. On headers before 3.13 the test header mirrors CPython's macros.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs
// The free-threaded expansion (3.13+) calls PyCriticalSection_Begin/End.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs -DPy_GIL_DISABLED
#include <Python.h>
#include "cpython-future.h"

static PyObject *bad_return(PyObject *self, PyObject *list) {
  Py_BEGIN_CRITICAL_SECTION(list); // expected-note{{the critical section begins here}}
  if (PyList_GET_SIZE(list) == 0)
    return NULL; // expected-warning{{'return' leaves the critical section of 'Py_BEGIN_CRITICAL_SECTION' without ending it [critical-section-unbalanced]}}
  Py_END_CRITICAL_SECTION();
  Py_RETURN_NONE;
}

static PyObject *bad_goto(PyObject *self, PyObject *args) {
  PyObject *a = self, *b = args;
  Py_BEGIN_CRITICAL_SECTION2(a, b);
  if (a == b)
    goto fail; // expected-warning{{'goto' leaves the critical section of 'Py_BEGIN_CRITICAL_SECTION2'}}
  Py_END_CRITICAL_SECTION2();
  Py_RETURN_NONE;
fail:
  return NULL;
}

static PyObject *bad_break(PyObject *self, PyObject *list) {
  for (int i = 0; i < 3; i++) {
    Py_BEGIN_CRITICAL_SECTION(list);
    if (i == 1)
      break; // expected-warning{{'break' leaves the critical section}}
    Py_END_CRITICAL_SECTION();
  }
  Py_RETURN_NONE;
}

static PyObject *bad_function_form(PyCriticalSection *cs, PyObject *o) {
  PyCriticalSection_Begin(cs, o);
  if (o == Py_None)
    return NULL; // expected-warning{{'bad_function_form' returns with a critical section still open}}
  PyCriticalSection_End(cs);
  Py_RETURN_NONE;
}

static PyObject *ok_balanced(PyObject *self, PyObject *list) {
  Py_ssize_t n;
  Py_BEGIN_CRITICAL_SECTION(list);
  n = PyList_GET_SIZE(list);
  for (Py_ssize_t i = 0; i < n; i++) {
    if (i == 2)
      break;
  }
  Py_END_CRITICAL_SECTION();
  return PyLong_FromSsize_t(n);
}

static PyObject *ok_function_form(PyCriticalSection *cs, PyObject *o) {
  PyCriticalSection_Begin(cs, o);
  PyObject_Repr(o);
  PyCriticalSection_End(cs);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_return", bad_return, METH_O, NULL},
    {"bad_goto", bad_goto, METH_VARARGS, NULL},
    {"bad_break", bad_break, METH_O, NULL},
    {"ok_balanced", ok_balanced, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
