// Reduced from pycurl (src/threadsupport.c, pycurl_python_enter and
// pycurl_python_leave; used by every libcurl callback in src/easycb.c): the
// perform call stores its saved thread state in a slot of the handle object;
// a callback finds that slot, re-attaches with PyEval_RestoreThread(*slot),
// calls Python, and detaches through a helper that takes the slot's address,
// checks that the attached thread state is the one in the slot (fatal error
// otherwise), and then calls PyEval_SaveThread, dropping the result because
// it is the value already in the slot.
//
// FALSE POSITIVE (as of commit d4e84d8): "'ok_leave_checked' returns with the GIL released, and
// the saved thread state is lost". The thread state is not lost: it lives in
// *slot, which the caller owns (the contract's helper-pair case, "stores the
// thread state where its caller can reach it"), and the identity check proves
// it. A helper that takes a PyThreadState ** (or reaches a PyThreadState
// field through a parameter) and releases should get the summary "releases"
// without a finding.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct {
  PyObject_HEAD
  PyThreadState *saved; /* set while a blocking call runs, else NULL */
  PyObject *on_data;
} Transfer;

static int ok_enter(PyThreadState **slot) {
  if (slot == NULL || *slot == NULL)
    return 0;
  PyEval_RestoreThread(*slot);
  return 1;
}

static void ok_leave_checked(PyThreadState **slot) {
  if (slot == NULL || *slot == NULL)
    Py_FatalError("leave: no thread state slot");
  if (PyThreadState_Get() != *slot)
    Py_FatalError("leave: attached thread state is not the slot's");
  (void)PyEval_SaveThread();
}

// Already silent today: the same helper storing the result back.
static void ok_leave_store(PyThreadState **slot) {
  *slot = PyEval_SaveThread();
}

// A data callback driven by the C library while the perform call below has
// the GIL released.
static size_t ok_on_data(char *buf, size_t size, size_t n, void *userdata) {
  Transfer *t = (Transfer *)userdata;
  if (!ok_enter(&t->saved))
    return 0;
  PyObject *r = PyObject_CallFunction(t->on_data, "y#", buf, (Py_ssize_t)(size * n));
  Py_XDECREF(r);
  ok_leave_checked(&t->saved);
  return r ? size * n : 0;
}

static size_t ok_on_data_store(char *buf, size_t size, size_t n, void *userdata) {
  Transfer *t = (Transfer *)userdata;
  if (!ok_enter(&t->saved))
    return 0;
  PyObject *r = PyObject_CallFunction(t->on_data, "y#", buf, (Py_ssize_t)(size * n));
  Py_XDECREF(r);
  ok_leave_store(&t->saved);
  return r ? size * n : 0;
}

extern int c_library_perform(size_t (*cb)(char *, size_t, size_t, void *), void *userdata);

static PyObject *ok_perform(PyObject *self, PyObject *unused) {
  Transfer *t = (Transfer *)self;
  int rc;
  t->saved = PyEval_SaveThread();
  rc = c_library_perform(ok_on_data, t);
  rc += c_library_perform(ok_on_data_store, t);
  PyEval_RestoreThread(t->saved);
  t->saved = NULL;
  return PyLong_FromLong(rc);
}

static PyMethodDef methods[] = {
    {"perform", ok_perform, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

// expected-no-diagnostics
