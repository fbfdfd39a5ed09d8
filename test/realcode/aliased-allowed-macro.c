// Reduced from psycopg2 (psycopg/python.h defines short aliases such as
// Bytes_AS_STRING for PyBytes_AS_STRING; psycopg/pqpath.c, _pq_copy_in_v3,
// passes Bytes_AS_STRING(o) to the libpq copy call inside
// Py_BEGIN_ALLOW_THREADS). pylibmc (src/_pylibmcmodule.c) does the same with
// the CPython names spelled out, and gilcheck rightly stays silent there:
// reading the buffer and size of a bytes object the function holds a
// reference to is allowed in a released region (bytes are immutable).
//
// FALSE POSITIVE (as of commit d4e84d8): once the same macro is reached through the project's
// own alias (object-like `#define Bytes_AS_STRING PyBytes_AS_STRING` or
// function-like `#define B_STR(o) PyBytes_AS_STRING(o)`), gilcheck reports
// "call to 'Bytes_AS_STRING' without holding the GIL". The allow-list seems
// to be matched against the outermost macro the user wrote, not the CPython
// macro it expands to. Aliases of *forbidden* macros must still be reported
// (bad_alias_list_item).
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

#define Bytes_AS_STRING PyBytes_AS_STRING
#define Bytes_GET_SIZE PyBytes_GET_SIZE
#define B_STR(o) PyBytes_AS_STRING(o)
#define List_ITEM PyList_GET_ITEM

extern int sink_write(const char *buf, Py_ssize_t len);

static PyObject *ok_direct(PyObject *self, PyObject *b) {
  int r;
  Py_BEGIN_ALLOW_THREADS
  r = sink_write(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(r);
}

static PyObject *ok_alias(PyObject *self, PyObject *b) {
  int r;
  Py_BEGIN_ALLOW_THREADS
  r = sink_write(Bytes_AS_STRING(b), Bytes_GET_SIZE(b));
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(r);
}

static PyObject *ok_function_like_alias(PyObject *self, PyObject *b) {
  int r;
  Py_BEGIN_ALLOW_THREADS
  r = sink_write(B_STR(b), 1);
  Py_END_ALLOW_THREADS
  return PyLong_FromLong(r);
}

static PyObject *bad_alias_list_item(PyObject *self, PyObject *list) {
  PyObject *first;
  Py_BEGIN_ALLOW_THREADS
  first = List_ITEM(list, 0); // expected-warning{{without holding the GIL}}
  Py_END_ALLOW_THREADS
  return Py_NewRef(first);
}

static PyMethodDef methods[] = {
    {"direct", ok_direct, METH_O, NULL},
    {"alias", ok_alias, METH_O, NULL},
    {"function_like_alias", ok_function_like_alias, METH_O, NULL},
    {"list_item", bad_alias_list_item, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
