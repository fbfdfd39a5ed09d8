/* A module of the same program that does not declare: its code is out of
 * scope, but its definition is reported (it turns the GIL back on). */
#include <Python.h>

static long calls;

static PyObject *slow_first(PyObject *self, PyObject *list) {
  calls++;
  PyObject *item = PyList_GetItem(list, 0);
  Py_XINCREF(item);
  return item;
}

static PyMethodDef slow_methods[] = {{"first", slow_first, METH_O, NULL}, {NULL, NULL, 0, NULL}};

static struct PyModuleDef slow_module = {
    PyModuleDef_HEAD_INIT, "slow", NULL, -1, slow_methods,
};

PyMODINIT_FUNC PyInit_slow(void) { return PyModule_Create(&slow_module); }
