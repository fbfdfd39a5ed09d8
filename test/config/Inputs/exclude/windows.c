#include <Python.h>
#include <windows.h>

/* Only builds on Windows. */
static PyObject *win_only(PyObject *self, PyObject *arg) {
  Sleep(1);
  Py_RETURN_NONE;
}
