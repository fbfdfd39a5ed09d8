// A function defined in the analysed program is judged by its body and its
// summary, never by the default for a name the CPython headers declare:
// projects that vendor part of CPython (a copy of a tracemalloc or fileutils
// helper) or define a public name themselves. And CPython's own helpers made
// to run without a thread state (fileutils' _Py_*_noraise, _Py_closerange,
// faulthandler's _Py_DumpTraceback*) need none, defined here or not.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>
#include <signal.h>

/* The project's own definition of a public name, with no API use in it. */
int PyTraceMalloc_Track(unsigned int domain, uintptr_t ptr, size_t size) {
  (void)domain; (void)ptr; (void)size;
  return 0;
}

/* A vendored copy of a header's function that gilcheck would otherwise
 * take as needing the GIL (no api.def row: the default for the headers). */
int PyOS_mystrnicmp(const char *a, const char *b, Py_ssize_t n) {
  for (; n > 0 && *a && *b; a++, b++, n--)
    if ((*a | 0x20) != (*b | 0x20)) return (*a | 0x20) - (*b | 0x20);
  return 0;
}

/* A vendored helper under a CPython-style name whose body does need the GIL. */
void _PyVendored_Raise(const char *what) {
  PyErr_SetString(PyExc_RuntimeError, what);
}

/* Declared by CPython's internal headers; need no thread state. */
extern int _Py_write_noraise(int fd, const void *buf, size_t count);
extern void _Py_closerange(int first, int last);

static PyObject *ok_own_definition(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  PyTraceMalloc_Track(0, 0, 16);
  PyOS_mystrnicmp("a", "A", 1);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *bad_vendored_body(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  _PyVendored_Raise("x"); // expected-warning{{call to '_PyVendored_Raise', which needs the GIL, without holding it}}
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *ok_noraise_helpers(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  _Py_write_noraise(2, "x", 1);
  _Py_closerange(3, 255);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static void on_signal(int sig) {
  _Py_write_noraise(2, "signal\n", 7);
  (void)sig;
}

static PyObject *install(PyObject *self, PyObject *arg) {
  signal(SIGUSR1, on_signal);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"own_definition", ok_own_definition, METH_NOARGS, NULL},
    {"vendored_body", bad_vendored_body, METH_NOARGS, NULL},
    {"noraise_helpers", ok_noraise_helpers, METH_NOARGS, NULL},
    {"install", install, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
