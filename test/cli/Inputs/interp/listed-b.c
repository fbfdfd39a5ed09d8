#include <Python.h>

#ifndef DIR_B
#error "not compiled with src/b's flags"
#endif

int listed_b(void) { return 0; }
