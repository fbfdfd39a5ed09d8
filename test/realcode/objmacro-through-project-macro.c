// Reduced from numpy (multiarray/dtypemeta.h defines
// `#define NPY_DTYPE(descr) ((PyArray_DTypeMeta *)Py_TYPE(descr))` and the
// accessor PyDataType_GetArrFuncs on it; common/cblasfuncs.c
// cblas_matrixproduct and multiarray/item_selection.c PyArray_LexSort and
// PyArray_SearchSorted use them inside released regions). No code is copied.
//
// Py_TYPE is an object-internals accessor allowed without the GIL
// (OBJMACRO(Py_TYPE, 0)). Written directly it is matched by macro name; on
// 3.11+ headers it is also a static inline function of the same name, and
// when the user writes another macro built on it, only the call of that
// function is seen. FALSE POSITIVE (before this test): "call to 'Py_TYPE'
// without holding the GIL", and the accessors built on it summarised as
// needing the GIL. The static inline gets its row's facts whatever macro it
// comes from; accessors whose row needs the GIL (Py_REFCNT, Py_INCREF) are
// still reported through a project macro.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct {
  PyTypeObject base;
  void (*kernel)(const double *, Py_ssize_t, double *);
} KernelType;

#define KERNEL_TYPE(o) ((KernelType *)Py_TYPE(o))
#define IS_EXACT(o, t) (Py_IS_TYPE((o), (t)) != 0)
#define REFS_PLUS(o, k) (Py_REFCNT(o) + (k))
#define KEPT(o) (Py_INCREF(o), (o))

static inline KernelType *kernel_type_of(PyObject *o) { return KERNEL_TYPE(o); }

static PyObject *ok_through_project_macro(PyObject *self, PyObject *arg) {
  double v[4] = {1, 2, 3, 4}, out = 0;
  Py_BEGIN_ALLOW_THREADS
  KERNEL_TYPE(arg)->kernel(v, 4, &out);
  Py_END_ALLOW_THREADS
  return PyFloat_FromDouble(out);
}

static PyObject *ok_through_accessor(PyObject *self, PyObject *arg) {
  double v[4] = {1, 2, 3, 4}, out = 0;
  Py_BEGIN_ALLOW_THREADS
  kernel_type_of(arg)->kernel(v, 4, &out);
  Py_END_ALLOW_THREADS
  return PyFloat_FromDouble(out);
}

static PyObject *ok_is_type_through_macro(PyObject *self, PyObject *arg) {
  int exact;
  Py_BEGIN_ALLOW_THREADS
  exact = IS_EXACT(arg, &PyFloat_Type);
  Py_END_ALLOW_THREADS
  return PyBool_FromLong(exact);
}

static PyObject *bad_refcnt_through_macro(PyObject *self, PyObject *arg) {
  Py_ssize_t n;
  Py_BEGIN_ALLOW_THREADS
  n = REFS_PLUS(arg, 1); // expected-warning{{call to 'Py_REFCNT' without holding the GIL}}
  Py_END_ALLOW_THREADS
  return PyLong_FromSsize_t(n);
}

static PyObject *bad_incref_through_macro(PyObject *self, PyObject *arg) {
  PyObject *r;
  Py_BEGIN_ALLOW_THREADS
  r = KEPT(arg); // expected-warning{{call to 'Py_INCREF' without holding the GIL}}
  Py_END_ALLOW_THREADS
  return r;
}

static PyMethodDef methods[] = {
    {"through_project_macro", ok_through_project_macro, METH_O, NULL},
    {"through_accessor", ok_through_accessor, METH_O, NULL},
    {"is_type_through_macro", ok_is_type_through_macro, METH_O, NULL},
    {"refcnt_through_macro", bad_refcnt_through_macro, METH_O, NULL},
    {"incref_through_macro", bad_incref_through_macro, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
