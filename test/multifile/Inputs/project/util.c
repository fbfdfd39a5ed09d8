#include <stdio.h>
#include "util.h"

/* helper: the same static name as in module.c, but pure C here */
static int helper(void) { return 42; }

int raise_error(const char *msg) {
  PyErr_SetString(PyExc_RuntimeError, msg);
  return -1;
}

int log_line(const char *msg) { return fprintf(stderr, "%s %d\n", msg, helper()); }
