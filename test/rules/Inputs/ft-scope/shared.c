/* A helper the declaring module calls: in scope. */
#include <Python.h>

PyObject *shared_first(PyObject *list) {
  PyObject *item = PyList_GetItem(list, 0);
  Py_XINCREF(item);
  return item;
}
