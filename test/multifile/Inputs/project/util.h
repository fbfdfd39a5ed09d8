#ifndef UTIL_H
#define UTIL_H
#include <Python.h>
#include "gilcheck.h"

int raise_error(const char *msg);
int log_line(const char *msg);
/* a callback registered with a C library: runs on the library's thread */
GILCHECK_NO_GIL void on_data_annotated(void *ctx);
#endif
