#include <Python.h>

/* PyGILState_Check() (COND_GIL). */
void maybe_clear(void)
{
    if (PyGILState_Check())
        PyErr_Clear();
}
