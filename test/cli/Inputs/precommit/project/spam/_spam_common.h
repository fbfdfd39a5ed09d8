#ifndef SPAM_COMMON_H
#define SPAM_COMMON_H
#include <Python.h>

#ifndef SPAM_LINUX
#error "built without the build's flags"
#endif

/* Raises OSError from errno; returns NULL. Needs the GIL. */
PyObject *spam_raise_oserror(const char *syscall);
#endif
