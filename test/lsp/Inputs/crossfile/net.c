/* net.c: reads with the GIL released and calls the error helper of
 * errors.c there, a bug that only the whole database shows (crossfile.test,
 * nvim.test). */
#include <Python.h>
#include <unistd.h>
#include "errors.h"

static PyObject *net_read(PyObject *self, PyObject *arg) {
  int fd = (int)PyLong_AsLong(arg);
  char buf[256];
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = read(fd, buf, sizeof buf);
  if (n < 0)
    raise_io_error("read failed");
  Py_END_ALLOW_THREADS
  if (n < 0)
    return NULL;
  return PyBytes_FromStringAndSize(buf, n);
}

static PyMethodDef net_methods[] = {
    {"read", net_read, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
