/* The project's own wrappers around the GIL macros and functions. */
#ifndef COMPAT_H
#define COMPAT_H
#include <Python.h>

typedef struct { PyObject_HEAD PyThreadState *ts; int fd; } Conn;

#define CONN_BEGIN_ALLOW_THREADS(self) do { (self)->ts = PyEval_SaveThread(); } while (0)
#define CONN_END_ALLOW_THREADS(self) do { PyEval_RestoreThread((self)->ts); (self)->ts = NULL; } while (0)

static inline void release_gil(Conn *self) { self->ts = PyEval_SaveThread(); }
static inline void acquire_gil(Conn *self) { PyEval_RestoreThread(self->ts); self->ts = NULL; }
#endif
