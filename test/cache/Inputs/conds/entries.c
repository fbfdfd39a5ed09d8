#include <Python.h>
#include <signal.h>
#include <stdlib.h>

/* Functions whose entry the runtime or the OS decides: one run after
 * finalization (atexit), one in a signal handler. */
static void at_exit(void) { }

static void on_signal(int sig) { (void)sig; }

static PyObject *install(PyObject *self, PyObject *unused)
{
    atexit(at_exit);
    signal(SIGINT, on_signal);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"install", install, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
