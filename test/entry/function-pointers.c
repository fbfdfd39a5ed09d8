// A server plugin whose GIL functions sit behind function-pointer fields:
// the host fills a table at start-up with real functions when it runs
// Python threads and with no-ops when it does not, and the plugin reaches
// them through macros. A call through a global or a struct member has the
// joined effect of every function stored there (no-ops ignored when the
// others agree), so the macros work like any wrapper. Calls through
// parameters stay unknown.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC}
#include <Python.h>
#include <unistd.h>

typedef struct {
  void (*gil_get)(void);
  void (*gil_release)(void);
  void (*log)(const char *msg);
} host_api;

static host_api plug;
static PyThreadState *saved;

static void real_get(void) { PyEval_RestoreThread(saved); }
static void real_release(void) { saved = PyEval_SaveThread(); }
static void no_gil_op(void) {}
static void log_stderr(const char *msg) { (void)write(2, msg, 1); }

#define GET_GIL plug.gil_get();
#define RELEASE_GIL plug.gil_release();

void plugin_init(int threaded) {
  plug.gil_get = threaded ? real_get : no_gil_op;
  plug.gil_release = threaded ? real_release : no_gil_op;
  plug.log = log_stderr;
}

/* The host calls these on its own threads, without the GIL. */
int bad_handle(PyObject *handler, const char *request) {
  GET_GIL
  PyObject *r = PyObject_CallFunction(handler, "s", request);
  if (r == NULL) {
    PyErr_Print();
    return -1; // expected-warning{{'bad_handle' returns with the GIL held, which it took itself, while another path gives it back [unbalanced-acquire]}}
  }
  Py_DECREF(r);
  RELEASE_GIL
  return 0;
}

int ok_handle(PyObject *handler, const char *request) {
  int rc = 0;
  GET_GIL
  PyObject *r = PyObject_CallFunction(handler, "s", request);
  if (r == NULL) {
    PyErr_Print();
    rc = -1;
  }
  Py_XDECREF(r);
  RELEASE_GIL
  plug.log("handled");
  return rc;
}

/* Methods release around blocking work through the same table. */
static PyObject *ok_wait(PyObject *self, PyObject *arg) {
  unsigned n = (unsigned)PyLong_AsUnsignedLong(arg);
  RELEASE_GIL
  sleep(n);
  GET_GIL
  Py_RETURN_NONE;
}

static PyObject *bad_wait(PyObject *self, PyObject *arg) {
  unsigned n = (unsigned)PyLong_AsUnsignedLong(arg);
  RELEASE_GIL
  if (sleep(n) != 0)
    return NULL; // expected-warning{{'bad_wait' returns to Python with the GIL released [unbalanced-release]}}
  GET_GIL
  Py_RETURN_NONE;
}

static PyObject *bad_raise_released(PyObject *self, PyObject *arg) {
  RELEASE_GIL
  PyErr_SetString(PyExc_RuntimeError, "x"); // expected-warning{{call to 'PyErr_SetString' without holding the GIL}}
  GET_GIL
  return NULL;
}

/* Through a parameter: nothing is known, nothing is said. */
static PyObject *ok_through_parameter(void (*release)(void), void (*get)(void)) {
  release();
  get();
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"wait", ok_wait, METH_O, NULL},
    {"bad_wait", bad_wait, METH_O, NULL},
    {"bad_raise_released", bad_raise_released, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
