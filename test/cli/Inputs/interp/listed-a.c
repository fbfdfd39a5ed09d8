#include <Python.h>
#include "api.h"

#ifndef DIR_A
#error "not compiled with src/a's flags"
#endif

int listed_a(void) { return api_ok(); }
