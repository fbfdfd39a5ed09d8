#include <Python.h>
#include "errors.h"

int net_error(const char *what)
{
    PyErr_SetString(PyExc_OSError, what);
    return -1;
}
