// Reduced from numpy (multiarray/calculation.c _PyArray_ArgMinMaxCommon,
// multiarray/multiarraymodule.c PyArray_MatrixProduct2, _pyarray_correlate and
// array_vdot, multiarray/item_selection.c PyArray_SearchSorted,
// multiarray/compiled_base.c arr_place). No code is copied.
//
// numpy releases the GIL when a dtype needs no Python API:
// NPY_BEGIN_THREADS_DESCR(d) is `if (!PyDataType_FLAGCHK(d, NPY_NEEDS_PYAPI))
// _save = PyEval_SaveThread();`, and NPY_END_THREADS_DESCR(d) computes the
// same test again before `if (_save) PyEval_RestoreThread(_save)`. The test
// calls static inline accessors (PyArray_DESCR, PyDataType_FLAGS), and some
// functions keep it in a local (`int needs_api = PyDataType_FLAGCHK(...)`)
// to call PyErr_Occurred only when the dtype needs the API.
// FALSE POSITIVE (before this test): the two evaluations were independent,
// and gilcheck followed "released at the start, not restored at the end"
// (or "released, and needs_api true"). The accessors are pure, so the
// condition correlates with itself and with the local; a store to what it
// reads, another argument, another operator, an accessor that stores, are
// still reported.
//
// The operators of the condition are in macros' bodies, which only
// libclang 17 and later let gilcheck read (test/engine/correlated-accessors.c
// has the same written out, for every libclang).
//
// REQUIRES: libclang-operators
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

#define DT_NEEDS_API 0x10
#define DT_HAS_REFS 0x01
typedef struct { PyObject_HEAD unsigned long long flags; int elsize; } DType;
typedef struct { PyObject_HEAD char *data; DType *dtype; Py_ssize_t n; } Array;

static inline DType *array_dtype(const Array *a) { return a->dtype; }
static inline unsigned long long dtype_flags(const DType *d) { return d->flags; }
static unsigned long long flag_reads;
static inline unsigned long long dtype_flags_counted(const DType *d) { return d->flags + 0 * flag_reads++; }

#define DT_FLAGCHK(d, f) ((dtype_flags(d) & (f)) == (f))
#define DT_FLAGANY(d, f) ((dtype_flags(d) | (f)) == (f))
#define DT_FLAGCHK_COUNTED(d, f) ((dtype_flags_counted(d) & (f)) == (f))
#define THREADS_DEF PyThreadState *_save = NULL;
#define END_THREADS do { if (_save) { PyEval_RestoreThread(_save); _save = NULL; } } while (0)
#define BEGIN_THREADS_DT(d) do { if (!(DT_FLAGCHK((d), DT_NEEDS_API))) _save = PyEval_SaveThread(); } while (0)
#define END_THREADS_DT(d) do { if (!(DT_FLAGCHK((d), DT_NEEDS_API))) END_THREADS; } while (0)

typedef void dot_fn(const char *, const char *, char *, Py_ssize_t, Array *);
extern dot_fn *dot_of(const DType *d);
extern void copy_item(char *dst, const char *src, Array *a);

/* _PyArray_ArgMinMaxCommon, PyArray_MatrixProduct2: begin and end on the
 * same dtype, a loop calling the dtype's function in between */
static PyObject *ok_begin_end_same_dtype(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  dot_fn *dot = dot_of(array_dtype(a));
  char out[16];
  THREADS_DEF
  BEGIN_THREADS_DT(array_dtype(a));
  for (Py_ssize_t i = 0; i < a->n; i++)
    dot(a->data, a->data, out, i, a);
  END_THREADS_DT(array_dtype(a));
  if (PyErr_Occurred())
    return NULL;
  Py_INCREF(arg);
  return arg;
}

/* arr_place, _pyarray_correlate: the test kept in a local, the error checked
 * only when the dtype needs the API; the plain END_THREADS after */
static PyObject *ok_needs_api_local(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  THREADS_DEF
  int needs_api = DT_FLAGCHK(array_dtype(a), DT_NEEDS_API);
  BEGIN_THREADS_DT(array_dtype(a));
  for (Py_ssize_t i = 0; i < a->n && (!needs_api || !PyErr_Occurred()); i++) {
    copy_item(a->data + i, a->data, a);
    if (needs_api && PyErr_Occurred())
      break;
  }
  END_THREADS;
  if (PyErr_Occurred())
    return NULL;
  Py_RETURN_NONE;
}

/* PyArray_SearchSorted: an error path that leaves the region first */
static PyObject *ok_error_path(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  THREADS_DEF
  BEGIN_THREADS_DT(array_dtype(a));
  if (a->n < 0) {
    END_THREADS_DT(array_dtype(a));
    PyErr_SetString(PyExc_ValueError, "negative size");
    return NULL;
  }
  copy_item(a->data, a->data, a);
  END_THREADS_DT(array_dtype(a));
  Py_RETURN_NONE;
}

/* the flags changed inside the region: the end may not restore */
static PyObject *bad_flags_changed(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  THREADS_DEF
  BEGIN_THREADS_DT(array_dtype(a));
  a->dtype->flags |= DT_NEEDS_API;
  END_THREADS_DT(array_dtype(a));
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* the array replaced inside the region */
static PyObject *bad_array_replaced(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  THREADS_DEF
  BEGIN_THREADS_DT(array_dtype(a));
  a = (Array *)self;
  END_THREADS_DT(array_dtype(a));
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* begin on one array's dtype, end on another's */
static PyObject *bad_other_dtype(PyObject *self, PyObject *arg) {
  THREADS_DEF
  BEGIN_THREADS_DT(array_dtype((Array *)arg));
  END_THREADS_DT(array_dtype((Array *)self));
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* the end tests another flag, and another operator, inside its macro */
static PyObject *bad_other_flag(PyObject *self, PyObject *arg) {
  DType *d = array_dtype((Array *)arg);
  THREADS_DEF
  BEGIN_THREADS_DT(d);
  if (!DT_FLAGCHK(d, DT_HAS_REFS)) END_THREADS;
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

static PyObject *bad_other_operator(PyObject *self, PyObject *arg) {
  DType *d = array_dtype((Array *)arg);
  THREADS_DEF
  BEGIN_THREADS_DT(d);
  if (!DT_FLAGANY(d, DT_NEEDS_API)) END_THREADS;
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* an accessor that stores (it counts its reads) is no pure accessor */
static PyObject *bad_counting_accessor(PyObject *self, PyObject *arg) {
  DType *d = array_dtype((Array *)arg);
  THREADS_DEF
  if (!DT_FLAGCHK_COUNTED(d, DT_NEEDS_API)) _save = PyEval_SaveThread();
  if (!DT_FLAGCHK_COUNTED(d, DT_NEEDS_API)) END_THREADS;
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* the API used in the region released under the condition */
static PyObject *bad_api_in_region(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  THREADS_DEF
  BEGIN_THREADS_DT(array_dtype(a));
  Py_ssize_t n = PyObject_Size(self); // expected-warning{{call to 'PyObject_Size' without holding the GIL}}
  END_THREADS_DT(array_dtype(a));
  return PyLong_FromSsize_t(n);
}

/* the local tested after the flags it copied changed */
static PyObject *bad_needs_api_stale(PyObject *self, PyObject *arg) {
  Array *a = (Array *)arg;
  THREADS_DEF
  int needs_api = DT_FLAGCHK(array_dtype(a), DT_NEEDS_API);
  a->dtype->flags = 0;
  BEGIN_THREADS_DT(array_dtype(a));
  copy_item(a->data, a->data, a);
  if (needs_api && PyErr_Occurred()) // expected-warning{{call to 'PyErr_Occurred' without holding the GIL}}
    needs_api = 0;
  END_THREADS;
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"begin_end_same_dtype", ok_begin_end_same_dtype, METH_O, NULL},
    {"needs_api_local", ok_needs_api_local, METH_O, NULL},
    {"error_path", ok_error_path, METH_O, NULL},
    {"flags_changed", bad_flags_changed, METH_O, NULL},
    {"array_replaced", bad_array_replaced, METH_O, NULL},
    {"other_dtype", bad_other_dtype, METH_O, NULL},
    {"other_flag", bad_other_flag, METH_O, NULL},
    {"other_operator", bad_other_operator, METH_O, NULL},
    {"counting_accessor", bad_counting_accessor, METH_O, NULL},
    {"api_in_region", bad_api_in_region, METH_O, NULL},
    {"needs_api_stale", bad_needs_api_stale, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
