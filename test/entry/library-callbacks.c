// Callbacks of C libraries: the library keeps a callback (a progress
// handler, a struct of operations) and calls it back from any call into it;
// when the extension makes such a call with the GIL released, the callback
// runs without it. A callback the library runs before the call returns
// (qsort, foreach) runs in the state of that call. A function stored in a
// variable the library declares (a hook) is kept too.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs/include
#include <Python.h>
#include <stdlib.h>
#include <unistd.h>
#include "progress/progress.h"
#include "ops/ops.h"
#include "lined/lined.h"
#include "tally/tally.h"

typedef struct {
  PyObject_HEAD
  pdb *db;
  PyObject *progress;
} Connection;

/* Registered with pdb_progress_handler; pdb_step runs it, and the module
 * calls pdb_step with the GIL released. */
static int bad_progress(void *ctx) {
  Connection *c = ctx;
  PyObject *r = PyObject_CallNoArgs(c->progress); // expected-warning{{call to 'PyObject_CallNoArgs' without holding the GIL}}
  int stop = r == NULL || PyObject_IsTrue(r);
  Py_XDECREF(r);
  return stop;
}

/* The same handler, taking the GIL itself. */
static int ok_progress(void *ctx) {
  Connection *c = ctx;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = PyObject_CallNoArgs(c->progress);
  int stop = r == NULL || PyObject_IsTrue(r);
  Py_XDECREF(r);
  PyGILState_Release(g);
  return stop;
}

static PyObject *set_progress(Connection *self, PyObject *arg) {
  Py_INCREF(arg);
  Py_XSETREF(self->progress, arg);
  pdb_progress_handler(self->db, 100, bad_progress, self); // expected-note{{registered with 'pdb_progress_handler' here; the library keeps it and may call it back from any call into it}}
  Py_RETURN_NONE;
}

static PyObject *set_progress_ok(Connection *self, PyObject *arg) {
  Py_INCREF(arg);
  Py_XSETREF(self->progress, arg);
  pdb_progress_handler(self->db, 100, ok_progress, self);
  Py_RETURN_NONE;
}

static PyObject *step(Connection *self, PyObject *unused) {
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = pdb_step(self->db); // expected-note{{'pdb_step' is called here with the GIL released, and may call it back}}
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(rc);
}

/* foreach runs its callback before returning, here with the GIL held. */
static void ok_visit(void *row, void *ctx) { PyList_Append((PyObject *)ctx, (PyObject *)row); }

static PyObject *rows(Connection *self, PyObject *unused) {
  PyObject *list = PyList_New(0);
  pdb_foreach_row(self->db, ok_visit, list);
  return list;
}

/* A qsort comparator that uses the C API, with qsort called holding the
 * GIL, in a file that also calls read() with it released. */
static int ok_compare(const void *a, const void *b) {
  return PyObject_RichCompareBool(*(PyObject **)a, *(PyObject **)b, Py_LT) ? -1 : 1;
}

static PyObject *sorted_items(PyObject *self, PyObject *tuple) {
  Py_ssize_t n = PyTuple_GET_SIZE(tuple);
  PyObject **items = PyMem_Malloc(sizeof(PyObject *) * (size_t)(n ? n : 1));
  for (Py_ssize_t i = 0; i < n; i++) items[i] = PyTuple_GET_ITEM(tuple, i);
  qsort(items, (size_t)n, sizeof(PyObject *), ok_compare);
  PyObject *r = PyList_New(n);
  for (Py_ssize_t i = 0; i < n; i++) { Py_INCREF(items[i]); PyList_SET_ITEM(r, i, items[i]); }
  PyMem_Free(items);
  return r;
}

static PyObject *read_fd(PyObject *self, PyObject *arg) {
  char buf[64];
  ssize_t got;
  int fd = (int)PyLong_AsLong(arg);
  Py_BEGIN_ALLOW_THREADS
  got = read(fd, buf, sizeof buf);
  Py_END_ALLOW_THREADS
  return PyBytes_FromStringAndSize(buf, got < 0 ? 0 : got);
}

/* A struct of operations: ops_serve runs them on its own threads while it
 * waits, and the module waits with the GIL released. */
static PyObject *handler;

static int bad_open(const char *path, void *ctx) {
  PyObject *r = PyObject_CallFunction(handler, "s", path); // expected-warning{{call to 'PyObject_CallFunction' without holding the GIL}}
  Py_XDECREF(r);
  return r ? 0 : -1;
}

static int ok_read(int fd, char *buf, int n, void *ctx) {
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = PyObject_CallFunction(handler, "i", fd);
  Py_XDECREF(r);
  PyGILState_Release(g);
  return 0;
}

static void ok_close(int fd, void *ctx) { close(fd); }

static const struct ops_table table = {.open = bad_open, .read = ok_read, .close = ok_close};

static PyObject *serve(PyObject *self, PyObject *unused) {
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = ops_serve(&table, NULL); // expected-note{{registered with 'ops_serve' here, with the GIL released; the library keeps it and may call it back from any call into it}}
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(rc);
}

/* Hooks are variables the library declares and reads: the function stored
 * there is kept, and called back from any call into the library (readline's
 * rl_startup_hook, read while readline() waits with the GIL released). */
static PyObject *startup;

static int bad_startup(void) {
  PyObject *r = PyObject_CallNoArgs(startup); // expected-warning{{call to 'PyObject_CallNoArgs' without holding the GIL}}
  Py_XDECREF(r);
  return 0;
}

static int ok_event(void) {
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *r = PyObject_CallNoArgs(startup);
  Py_XDECREF(r);
  PyGILState_Release(g);
  return 0;
}

static PyObject *read_line(PyObject *self, PyObject *prompt) {
  const char *p = PyUnicode_AsUTF8(prompt);
  char *line;
  if (p == NULL)
    return NULL;
  lined_startup_hook = bad_startup; // expected-note{{stored in 'lined_startup_hook' here, which the library reads; it may call it back from any call into it}}
  lined_event_hook = ok_event;
  Py_BEGIN_ALLOW_THREADS
  line = lined_read(p); // expected-note{{'lined_read' is called here with the GIL released, and may call it back}}
  Py_END_ALLOW_THREADS
  PyObject *r = PyUnicode_FromString(line ? line : "");
  lined_free(line);
  return r;
}

/* A hook of a library the module only calls holding the GIL. */
static PyObject *counter;

static void ok_overflow(long value) {
  PyObject *r = PyObject_CallFunction(counter, "l", value);
  Py_XDECREF(r);
}

static PyObject *add(PyObject *self, PyObject *arg) {
  long n = PyLong_AsLong(arg);
  tally_overflow_hook = ok_overflow;
  tally_add(n);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"set_progress", (PyCFunction)set_progress, METH_O, NULL},
    {"set_progress_ok", (PyCFunction)set_progress_ok, METH_O, NULL},
    {"step", (PyCFunction)step, METH_NOARGS, NULL},
    {"rows", (PyCFunction)rows, METH_NOARGS, NULL},
    {"sorted_items", sorted_items, METH_O, NULL},
    {"read_fd", read_fd, METH_O, NULL},
    {"serve", serve, METH_NOARGS, NULL},
    {"read_line", read_line, METH_O, NULL},
    {"add", add, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
