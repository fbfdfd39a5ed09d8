/* A type whose object the declaring module's exec function names
 * (&Counter_Type): its methods are in scope through the module graph. */
#include <Python.h>

static long count;

static PyObject *counter_incr(PyObject *self, PyObject *unused) {
  count++;
  return PyLong_FromLong(count);
}

static PyMethodDef counter_methods[] = {{"incr", counter_incr, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};

PyTypeObject Counter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fast.Counter",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = counter_methods,
};
