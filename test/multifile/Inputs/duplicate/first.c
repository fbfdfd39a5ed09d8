#include <Python.h>
int shared_helper(PyObject *o) { Py_BEGIN_ALLOW_THREADS Py_INCREF(o); Py_END_ALLOW_THREADS return 0; }
