#include <Python.h>
#include <unistd.h>

static PyObject *sleeps_holding(PyObject *self, PyObject *arg) {
  sleep(1);
  Py_RETURN_NONE;
}

static PyObject *raises_released(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"sleeps_holding", sleeps_holding, METH_O, NULL},
    {"raises_released", raises_released, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
