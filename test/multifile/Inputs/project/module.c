#include <unistd.h>
#include "compat.h"
#include "util.h"

/* helper: the same static name as in util.c, but it needs the GIL here */
static int helper(void) { return PyErr_WarnEx(PyExc_RuntimeWarning, "w", 1); }

static PyObject *bad_cross_file(Conn *self, PyObject *arg) {
  char buf[16];
  int r = 0;
  Py_BEGIN_ALLOW_THREADS
  if (read(self->fd, buf, sizeof buf) < 0)
    r = raise_error("read failed");
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(r);
}

static PyObject *ok_pure_helper_elsewhere(Conn *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  log_line("reading");
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_static_helper(Conn *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  helper();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_macro_wrapper(Conn *self, PyObject *arg) {
  CONN_BEGIN_ALLOW_THREADS(self);
  PyErr_Clear();
  CONN_END_ALLOW_THREADS(self);
  Py_RETURN_NONE;
}

static PyObject *ok_function_wrappers(Conn *self, PyObject *arg) {
  char buf[16];
  ssize_t n;
  release_gil(self);
  n = read(self->fd, buf, sizeof buf);
  acquire_gil(self);
  if (n < 0)
    return PyErr_SetFromErrno(PyExc_OSError);
  Py_RETURN_NONE;
}

static PyObject *bad_function_wrappers(Conn *self, PyObject *arg) {
  release_gil(self);
  Py_XDECREF(arg);
  acquire_gil(self);
  Py_RETURN_NONE;
}

static PyMethodDef conn_methods[] = {
    {"bad_cross_file", (PyCFunction)bad_cross_file, METH_O, NULL},
    {"ok_pure_helper_elsewhere", (PyCFunction)ok_pure_helper_elsewhere, METH_O, NULL},
    {"bad_static_helper", (PyCFunction)bad_static_helper, METH_O, NULL},
    {"bad_macro_wrapper", (PyCFunction)bad_macro_wrapper, METH_O, NULL},
    {"ok_function_wrappers", (PyCFunction)ok_function_wrappers, METH_O, NULL},
    {"bad_function_wrappers", (PyCFunction)bad_function_wrappers, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
