// Annotations on declarations of functions defined elsewhere (a library's
// header, another part of the project not analysed in this run): callers
// are checked against them.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/../../include
#include <Python.h>
#include <unistd.h>
#include "gilcheck.h"

GILCHECK_REQUIRES_GIL int lib_notify(PyObject *o);
GILCHECK_RELEASES_GIL void lib_leave(void *handle);
GILCHECK_ACQUIRES_GIL void lib_enter(void *handle);
int lib_plain(void *handle);

static PyObject *bad_requires(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  lib_notify(arg); // expected-warning{{call to 'lib_notify' without holding the GIL}}
  lib_plain(NULL);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_between(PyObject *self, PyObject *arg) {
  lib_leave(self);
  Py_DECREF(arg); // expected-warning{{'Py_DECREF' used without holding the GIL}}
  lib_enter(self);
  Py_RETURN_NONE;
}

static PyObject *ok_pair(PyObject *self, PyObject *arg) {
  lib_leave(self);
  sleep(1);
  lib_enter(self);
  lib_notify(arg);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bad_requires", bad_requires, METH_O, NULL},
    {"bad_between", bad_between, METH_O, NULL},
    {"ok_pair", ok_pair, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
