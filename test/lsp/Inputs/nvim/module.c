/* A method that raises with the GIL released (test/lsp/nvim.test). */
#include <Python.h>

static PyObject *spam_fail(PyObject *self, PyObject *args) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_SetString(PyExc_RuntimeError, "raised without the GIL");
  Py_END_ALLOW_THREADS
  return NULL;
}

static PyMethodDef spam_methods[] = {
    {"fail", spam_fail, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
