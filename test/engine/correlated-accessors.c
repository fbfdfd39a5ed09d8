// A condition that calls accessors, tested twice, and a local given its
// value.
//
// A pure accessor — a static inline whose body is `return E;`, E reading its
// parameters and what they point to, with no store, nothing volatile, and no
// call but to other pure accessors — gives the same value for the same
// arguments, so a condition made of such calls correlates with itself
// written again (the release under `!(flags_of(d) & NEEDS_API)`, the restore
// under the same test), and with a local set from it (`int needs_api =
// (flags_of(d) & NEEDS_API) != 0;`). Calls in between do not change that;
// a store to a local the condition names, or to a member it reads (in the
// accessors too), does. A call to any other function is not a pure accessor.
//
// (test/realcode/recomputed-release-condition.c has the same through macros,
// the way numpy writes it.)
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

#define NEEDS_API 0x10
typedef struct { PyObject_HEAD unsigned long flags; int itemsize; } Desc;
typedef struct { PyObject_HEAD Desc *descr; double *data; } Arr;

static inline Desc *descr_of(const Arr *a) { return a->descr; }
static inline unsigned long flags_of(const Desc *d) { return d->flags; }
static inline int needs_api_of(const Desc *d) { return (flags_of(d) & NEEDS_API) != 0; }

static unsigned long reads;
static inline unsigned long counted_flags(const Desc *d) { return d->flags + 0 * reads++; }
static inline unsigned long volatile_flags(const volatile Desc *d) { return d->flags; }
extern unsigned long library_flags(const Desc *d);

extern void kernel(double *p, Py_ssize_t n);
extern void kernel_on(Desc *d, double *p);

#define RESTORE() do { if (_save) { PyEval_RestoreThread(_save); _save = NULL; } } while (0)

/* released when the dtype needs no API, restored under the same test */
static PyObject *ok_recomputed(PyObject *self, PyObject *arg) {
  Arr *a = (Arr *)arg;
  PyThreadState *_save = NULL;
  if (!(flags_of(descr_of(a)) & NEEDS_API)) _save = PyEval_SaveThread();
  kernel(a->data, 8);
  kernel_on(descr_of(a), a->data);   /* a call in between: its effects are not the accessors' business */
  if (!(flags_of(descr_of(a)) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE;
}

/* an accessor built on accessors, tested directly */
static PyObject *ok_nested_accessor(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!needs_api_of(d)) _save = PyEval_SaveThread();
  kernel(NULL, 0);
  if (!needs_api_of(d)) RESTORE();
  Py_RETURN_NONE;
}

/* a local given the test's value (`!= 0` tests the same truth) */
static PyObject *ok_local_copy(PyObject *self, PyObject *arg) {
  Arr *a = (Arr *)arg;
  PyThreadState *_save = NULL;
  int needs_api = (flags_of(descr_of(a)) & NEEDS_API) != 0;
  if (!(flags_of(descr_of(a)) & NEEDS_API)) _save = PyEval_SaveThread();
  for (int i = 0; i < 8; i++) {
    kernel(a->data, i);
    if (needs_api && PyErr_Occurred())
      break;
  }
  RESTORE();
  Py_RETURN_NONE;
}

/* the same, the local assigned later and from a pure accessor's call */
static PyObject *ok_local_from_accessor(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  int needs_api;
  needs_api = needs_api_of(d);
  if (!needs_api_of(d)) _save = PyEval_SaveThread();
  kernel(NULL, 0);
  if (needs_api && PyErr_Occurred())
    return NULL;
  RESTORE();
  Py_RETURN_NONE;
}

/* a store to another member, or into the data, leaves the flags alone */
static PyObject *ok_store_elsewhere(PyObject *self, PyObject *arg) {
  Arr *a = (Arr *)arg;
  Desc *d = descr_of(a);
  PyThreadState *_save = NULL;
  if (!(flags_of(d) & NEEDS_API)) _save = PyEval_SaveThread();
  d->itemsize = 8;
  a->data[0] = 1.0;
  if (!(flags_of(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE;
}

/* the flags changed in between: the two tests may differ */
static PyObject *bad_store_to_member(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(flags_of(d) & NEEDS_API)) _save = PyEval_SaveThread();
  d->flags |= NEEDS_API;
  if (!(flags_of(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* the local the test reads now names another dtype */
static PyObject *bad_store_to_local(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(flags_of(d) & NEEDS_API)) _save = PyEval_SaveThread();
  d = descr_of((Arr *)self);
  if (!(flags_of(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* released for one array's dtype, restored for another's */
static PyObject *bad_other_argument(PyObject *self, PyObject *arg) {
  PyThreadState *_save = NULL;
  if (!(flags_of(descr_of((Arr *)arg)) & NEEDS_API)) _save = PyEval_SaveThread();
  if (!(flags_of(descr_of((Arr *)self)) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* `|` is not `&` */
static PyObject *bad_other_operator(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(flags_of(d) & NEEDS_API)) _save = PyEval_SaveThread();
  if (!(flags_of(d) | NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* an accessor that stores (a counter), one that reads a volatile, one
 * without a body here: no two calls are known to agree */
static PyObject *bad_storing_accessor(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(counted_flags(d) & NEEDS_API)) _save = PyEval_SaveThread();
  if (!(counted_flags(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

static PyObject *bad_volatile_accessor(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(volatile_flags(d) & NEEDS_API)) _save = PyEval_SaveThread();
  if (!(volatile_flags(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

static PyObject *bad_library_function(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(library_flags(d) & NEEDS_API)) _save = PyEval_SaveThread();
  if (!(library_flags(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* the API used inside the region the condition released */
static PyObject *bad_api_while_released(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  if (!(flags_of(d) & NEEDS_API)) _save = PyEval_SaveThread();
  PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear' without holding the GIL}}
  if (!(flags_of(d) & NEEDS_API)) RESTORE();
  Py_RETURN_NONE;
}

/* the local was set before the flags changed */
static PyObject *bad_local_before_store(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  int needs_api = (flags_of(d) & NEEDS_API) != 0;
  d->flags &= ~(unsigned long)NEEDS_API;
  if (!(flags_of(d) & NEEDS_API)) _save = PyEval_SaveThread();
  if (needs_api && PyErr_Occurred()) // expected-warning{{call to 'PyErr_Occurred' without holding the GIL}}
    needs_api = 0;
  RESTORE();
  Py_RETURN_NONE;
}

/* the local set again from another dtype */
static PyObject *bad_local_reassigned(PyObject *self, PyObject *arg) {
  Desc *d = descr_of((Arr *)arg);
  PyThreadState *_save = NULL;
  int needs_api = needs_api_of(d);
  if (!needs_api_of(d)) _save = PyEval_SaveThread();
  needs_api = needs_api_of(descr_of((Arr *)self));
  if (needs_api && PyErr_Occurred()) // expected-warning{{call to 'PyErr_Occurred' without holding the GIL}}
    needs_api = 0;
  RESTORE();
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"a", ok_recomputed, METH_O, NULL},
    {"b", ok_nested_accessor, METH_O, NULL},
    {"c", ok_local_copy, METH_O, NULL},
    {"d", ok_local_from_accessor, METH_O, NULL},
    {"e", ok_store_elsewhere, METH_O, NULL},
    {"f", bad_store_to_member, METH_O, NULL},
    {"g", bad_store_to_local, METH_O, NULL},
    {"h", bad_other_argument, METH_O, NULL},
    {"i", bad_other_operator, METH_O, NULL},
    {"j", bad_storing_accessor, METH_O, NULL},
    {"k", bad_volatile_accessor, METH_O, NULL},
    {"l", bad_library_function, METH_O, NULL},
    {"m", bad_api_while_released, METH_O, NULL},
    {"n", bad_local_before_store, METH_O, NULL},
    {"o", bad_local_reassigned, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
