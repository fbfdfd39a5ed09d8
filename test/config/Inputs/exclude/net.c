#include <Python.h>
#include <unistd.h>

int vendored_raise(const char *what);

static PyObject *net_send(PyObject *self, PyObject *arg) {
  int fd = (int)PyLong_AsLong(arg);
  ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = write(fd, "x", 1);
  if (n < 0)
    vendored_raise("write");
  Py_END_ALLOW_THREADS
  if (n < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"send", net_send, METH_O, NULL}, {NULL, NULL, 0, NULL}};
