// Functions the runtime or the OS calls: Py_AtExit and atexit functions run
// after Python is finalized (no C-API use at all), signal handlers interrupt
// any thread (only async-signal-safe calls), thread-key destructors and
// PyOS_InputHook functions run without the GIL.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#define _GNU_SOURCE
#include <Python.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static PyObject *cache;
static volatile sig_atomic_t hits;
static pthread_key_t key;

static void bad_at_exit(void) {
  Py_CLEAR(cache); // expected-warning{{'Py_CLEAR' used without holding the GIL}}
}

static void bad_c_atexit(void) {
  PyObject_Print(cache, stdout, 0); // expected-warning{{call to 'PyObject_Print' without holding the GIL}}
}

static void ok_at_exit(void) {
  static const char bye[] = "bye\n";
  (void)write(2, bye, sizeof bye - 1);
}

static void bad_handler(int sig) {
  PyObject *n = PyLong_FromLong(sig); // expected-warning{{call to 'PyLong_FromLong' without holding the GIL}}
  Py_XDECREF(n);
}

static void bad_handler_ensure(int sig) {
  PyGILState_STATE g = PyGILState_Ensure(); // expected-warning{{call to 'PyGILState_Ensure' without holding the GIL}}
  PyErr_SetString(PyExc_KeyboardInterrupt, "signal");
  PyGILState_Release(g);
}

static void ok_handler(int sig) {
  hits++;
  PyErr_SetInterrupt();
}

static void bad_sa_handler(int sig) {
  PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear' without holding the GIL}}
}

static void bad_key_destructor(void *value) {
  Py_DECREF((PyObject *)value); // expected-warning{{'Py_DECREF' used without holding the GIL}}
}

static void ok_key_destructor(void *value) {
  PyGILState_STATE g = PyGILState_Ensure();
  Py_DECREF((PyObject *)value);
  PyGILState_Release(g);
}

static int bad_input_hook(void) {
  return PyErr_CheckSignals(); // expected-warning{{call to 'PyErr_CheckSignals' without holding the GIL}}
}

static PyObject *install(PyObject *self, PyObject *unused) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = bad_sa_handler;
  Py_AtExit(bad_at_exit); // expected-note{{registered with Py_AtExit here; it runs after Python is finalized}}
  Py_AtExit(ok_at_exit);
  atexit(bad_c_atexit);
  signal(SIGUSR1, bad_handler); // expected-note{{installed as a signal handler with signal here; it interrupts any thread at any point, where only async-signal-safe calls belong}}
  signal(SIGUSR2, bad_handler_ensure);
  signal(SIGINT, ok_handler);
  sigaction(SIGHUP, &sa, NULL); // expected-note{{installed as a signal handler with sigaction here}}
  pthread_key_create(&key, bad_key_destructor); // expected-note{{registered as a thread-key destructor with pthread_key_create here}}
  PyOS_InputHook = bad_input_hook; // expected-note{{assigned to PyOS_InputHook here; Python calls it without the GIL while it waits for input}}
  Py_RETURN_NONE;
}

static PyObject *install_ok(PyObject *self, PyObject *unused) {
  pthread_key_create(&key, ok_key_destructor);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, NULL},
    {"install_ok", install_ok, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
