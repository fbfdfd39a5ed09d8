/* A module that declares Py_MOD_GIL_NOT_USED: the ft-* rules are on for
 * what it reaches, in this file and others. */
#include <Python.h>

PyObject *shared_first(PyObject *list);   /* shared.c */
extern PyTypeObject Counter_Type;         /* types.c */

static PyObject *fast_first(PyObject *self, PyObject *list) { return shared_first(list); }

static PyMethodDef fast_methods[] = {{"first", fast_first, METH_O, NULL}, {NULL, NULL, 0, NULL}};

static int fast_exec(PyObject *m) {
  if (PyType_Ready(&Counter_Type) < 0)
    return -1;
  return PyModule_AddObject(m, "Counter", (PyObject *)&Counter_Type);
}

static PyModuleDef_Slot fast_slots[] = {
    {Py_mod_exec, fast_exec},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef fast_module = {
    PyModuleDef_HEAD_INIT, "fast", NULL, 0, fast_methods, fast_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_fast(void) { return PyModuleDef_Init(&fast_module); }
