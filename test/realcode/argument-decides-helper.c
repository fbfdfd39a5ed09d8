// Reduced from numpy (nditer's `char **errmsg` helpers, ufunc_object.c
// calling NpyIter_ResetBasePointers(iter, ptrs, &err_msg) inside
// NPY_BEGIN_THREADS) and from helpers written the same way elsewhere: a
// helper that raises only for some values of its arguments -- NULL for an
// out-parameter meaning "raise", a status meaning "failed" -- is called from a
// released region with arguments that never take that path. What the caller
// passes decides: a constant, an address or a value the caller has just
// tested is followed into the helper; anything else is not, and the call is
// reported as before.
//
// RUN: %gilcheck --verify %s -- %pyinc
// --dump-cfg lists what each call passes (a constant, null, an address):
// RUN: not %gilcheck --no-cache --dump-cfg=ok_constant_status %s -- %pyinc 2>&1 | FileCheck %s --check-prefix=ARGS
// RUN: not %gilcheck --no-cache --dump-cfg=bad_with_null %s -- %pyinc 2>&1 | FileCheck %s --check-prefix=NULLARG
// ARGS: call check_status project-fn args(0) region=0
// NULLARG: call reset project-fn args(arg, null) region=0
#include <Python.h>

enum { OK = 0, FAILED = -1 };

static int reset(void *it, char **errmsg) {
  void *buf = PyMem_RawMalloc(64);
  if (buf == NULL) {
    if (errmsg == NULL)
      PyErr_NoMemory();
    else
      *errmsg = "out of memory";
    return 0;
  }
  PyMem_RawFree(buf);
  return 1;
}

/* hands errmsg down, as numpy's NpyIter_ResetBasePointers does to
 * npyiter_allocate_buffers */
static int reset_both(void *a, void *b, char **errmsg) {
  if (!reset(a, errmsg))
    return 0;
  return reset(b, errmsg);
}

/* raises only when given FAILED */
static void check_status(int status) {
  if (status == FAILED)
    PyErr_SetString(PyExc_OSError, "failed");
}

static PyObject *ok_with_errmsg(PyObject *self, PyObject *arg) {
  char *msg = NULL;
  int ok;
  Py_BEGIN_ALLOW_THREADS
  ok = reset(arg, &msg);
  Py_END_ALLOW_THREADS
  if (!ok) {
    PyErr_SetString(PyExc_MemoryError, msg);
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *bad_with_null(PyObject *self, PyObject *arg) {
  int ok;
  Py_BEGIN_ALLOW_THREADS
  ok = reset(arg, NULL); // expected-warning{{call to 'reset', which needs the GIL, without holding it}}
  Py_END_ALLOW_THREADS
  if (!ok)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *ok_errmsg_passed_down(PyObject *self, PyObject *arg) {
  char *msg = NULL;
  int ok;
  Py_BEGIN_ALLOW_THREADS
  ok = reset_both(arg, self, &msg);
  Py_END_ALLOW_THREADS
  if (!ok) {
    PyErr_SetString(PyExc_MemoryError, msg);
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *bad_null_passed_down(PyObject *self, PyObject *arg) {
  int ok;
  Py_BEGIN_ALLOW_THREADS
  ok = reset_both(arg, self, NULL); // expected-warning{{call to 'reset_both', which needs the GIL, without holding it}}
  Py_END_ALLOW_THREADS
  return ok ? Py_NewRef(Py_None) : NULL;
}

static PyObject *ok_constant_status(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  check_status(OK);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_constant_status(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  check_status(FAILED); // expected-warning{{call to 'check_status', which needs the GIL, without holding it}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

extern int do_io(int fd);

/* the status is whatever the I/O returned: it may be FAILED */
static PyObject *bad_unknown_status(PyObject *self, PyObject *arg) {
  int fd = (int)PyLong_AsLong(arg), rc;
  Py_BEGIN_ALLOW_THREADS
  rc = do_io(fd);
  check_status(rc); // expected-warning{{call to 'check_status', which needs the GIL, without holding it}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

/* tested by the caller first: only a status other than FAILED gets there */
static PyObject *ok_tested_status(PyObject *self, PyObject *arg) {
  int fd = (int)PyLong_AsLong(arg), rc;
  Py_BEGIN_ALLOW_THREADS
  rc = do_io(fd);
  if (rc != FAILED)
    check_status(rc);
  Py_END_ALLOW_THREADS
  if (rc == FAILED)
    return PyErr_SetFromErrno(PyExc_OSError);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"with_errmsg", ok_with_errmsg, METH_O, NULL},
    {"with_null", bad_with_null, METH_O, NULL},
    {"errmsg_passed_down", ok_errmsg_passed_down, METH_O, NULL},
    {"null_passed_down", bad_null_passed_down, METH_O, NULL},
    {"constant_status", ok_constant_status, METH_NOARGS, NULL},
    {"failed_status", bad_constant_status, METH_NOARGS, NULL},
    {"unknown_status", bad_unknown_status, METH_O, NULL},
    {"tested_status", ok_tested_status, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
