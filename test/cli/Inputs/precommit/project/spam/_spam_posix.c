#include <unistd.h>
#include "_spam_common.h"

static PyObject *spam_read_byte(PyObject *self, PyObject *arg)
{
    int fd = (int)PyLong_AsLong(arg);
    unsigned char c;
    ssize_t n;

    Py_BEGIN_ALLOW_THREADS
    n = read(fd, &c, 1);
    Py_END_ALLOW_THREADS
    if (n < 0)
        return spam_raise_oserror("read");
    return PyLong_FromLong(n == 0 ? -1 : c);
}

static PyMethodDef posix_methods[] = {
    {"read_byte", spam_read_byte, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
