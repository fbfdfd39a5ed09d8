#include <Python.h>
int shared_helper(PyObject *o) { Py_BEGIN_ALLOW_THREADS Py_DECREF(o); Py_END_ALLOW_THREADS return 1; }
