#include <Python.h>

#ifndef DIR_DEEP
#error "not compiled with src/a/deep's flags"
#endif

int listed_deep(void) { return 0; }
