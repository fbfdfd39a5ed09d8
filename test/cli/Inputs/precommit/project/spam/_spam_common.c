#include "_spam_common.h"

PyObject *spam_raise_oserror(const char *syscall)
{
    return PyErr_SetFromErrnoWithFilename(PyExc_OSError, syscall);
}
