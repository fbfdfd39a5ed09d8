// MISSED (as of commit d4e84d8). Reduced from pycurl (src/easyopt.c): most of pycurl's libcurl
// callbacks are handed to curl_easy_setopt through a local function-pointer
// variable (`const curl_write_callback w_cb = write_callback;` and later
// `curl_easy_setopt(handle, opt, w_cb)`), only a few directly by name. With a
// .gilcheck.yml that declares the setopt callback argument as
// callback-without-gil, gilcheck checks the callbacks passed by name (and, on
// pycurl, then finds a real bug: the thread-state lookup helper runs
// PyObject_IsInstance in an assert that pycurl keeps on with #undef NDEBUG,
// before the callback attaches) but not the ones passed through a local, such
// as the write, header and read callbacks.
//
// RUN: %gilcheck --verify --config-file=%S/Inputs/c-library-callbacks.yml %s -- %pyinc
#include <Python.h>

typedef size_t (*data_cb)(char *, size_t, size_t, void *);
extern int lib_setopt(void *handle, int option, data_cb cb);

static PyObject *seen;

/* Both callbacks look at a Python object before attaching: a bug. */
static size_t bad_direct_cb(char *p, size_t size, size_t n, void *ud) {
  if (PyObject_IsTrue(seen)) // expected-warning{{call to 'PyObject_IsTrue' without holding the GIL}}
    return 0;
  PyGILState_STATE g = PyGILState_Ensure();
  PyGILState_Release(g);
  return size * n;
}

static size_t bad_local_cb(char *p, size_t size, size_t n, void *ud) {
  if (PyObject_IsTrue(seen)) // expected-warning{{call to 'PyObject_IsTrue' without holding the GIL}}
    return 0;
  PyGILState_STATE g = PyGILState_Ensure();
  PyGILState_Release(g);
  return size * n;
}

static PyObject *ok_setopt(PyObject *self, PyObject *handle) {
  void *h = PyLong_AsVoidPtr(handle);
  const data_cb via_local = bad_local_cb;
  lib_setopt(h, 1, bad_direct_cb);
  lib_setopt(h, 2, via_local);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setopt", ok_setopt, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
