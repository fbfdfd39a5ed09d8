#include <Python.h>
#include "outer.h"

int mod_ok(void) { return OUTER_ANSWER; }
