/* util.c: a helper that needs the GIL, called from main.c. */
#include <Python.h>

void util_clear(void) { PyErr_Clear(); }
