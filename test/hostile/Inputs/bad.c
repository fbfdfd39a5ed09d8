/* bad.c: one real mistake, on line 10, for the hostile tests: whatever goes
 * wrong with the other inputs on the command line, this finding must still
 * be printed. */
#include <Python.h>

static PyObject *bad(PyObject *self, PyObject *arg)
{
    PyObject *r;
    Py_BEGIN_ALLOW_THREADS
    r = PyLong_FromLong(1);
    Py_END_ALLOW_THREADS
    return r;
}
