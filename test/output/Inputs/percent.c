#include <Python.h>
#include <string.h>

static PyObject *by_name(PyObject *self, PyObject *arg) {
  const char *s = "";
  Py_BEGIN_ALLOW_THREADS
  if (strcmp(s, "100%, a:b") == 0)
    PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"by_name", by_name, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
