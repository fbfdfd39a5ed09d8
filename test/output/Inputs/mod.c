#include <Python.h>
#include <unistd.h>

static PyObject *read_byte(PyObject *self, PyObject *arg)
{
    int fd = (int)PyLong_AsLong(arg);
    unsigned char c;
    ssize_t n;

    Py_BEGIN_ALLOW_THREADS
    n = read(fd, &c, 1);
    if (n < 0)
        PyErr_SetFromErrno(PyExc_OSError);
    Py_END_ALLOW_THREADS
    if (n < 0)
        return NULL;
    return PyLong_FromLong(n == 0 ? -1 : c);
}

static PyMethodDef methods[] = {
    {"read_byte", read_byte, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
