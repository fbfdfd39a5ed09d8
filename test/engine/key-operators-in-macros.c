// A condition written in a macro's body, tested twice: its operators are
// part of what makes the two tests the same.
//
// A side-effect-free condition written twice correlates by its structure,
// operators included. Inside a macro's body the operator was read as the
// token after the left operand where the macro is used — the same token for
// `flags & X` and `flags | X` — so two different tests were taken for one,
// and the path where they differ was never followed. libclang 17 and later
// name the operator; older ones place all of a macro's body where it is
// used, and there the condition gets no key at all.
//
// REQUIRES: libclang-operators
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

#define NEEDS_API 0x10
typedef struct { PyObject_HEAD unsigned long flags; } Desc;

#define ALL_SET(d, f) (((d)->flags & (f)) == (f))
#define ANY_SET(d, f) (((d)->flags | (f)) == (f))
#define SHIFTED(d) (((d)->flags >> 4) != 0)
#define SCALED(d) (((d)->flags * 4) != 0)

#define RESTORE() do { if (_save) { PyEval_RestoreThread(_save); _save = NULL; } } while (0)

extern void kernel(void);

/* the same macro twice: one test */
static PyObject *ok_same_macro(PyObject *self, PyObject *arg) {
  Desc *d = (Desc *)arg;
  PyThreadState *_save = NULL;
  if (!ALL_SET(d, NEEDS_API)) _save = PyEval_SaveThread();
  kernel();
  if (!ALL_SET(d, NEEDS_API)) RESTORE();
  Py_RETURN_NONE;
}

/* `&` and `|`: two tests */
static PyObject *bad_and_then_or(PyObject *self, PyObject *arg) {
  Desc *d = (Desc *)arg;
  PyThreadState *_save = NULL;
  if (!ALL_SET(d, NEEDS_API)) _save = PyEval_SaveThread();
  kernel();
  if (!ANY_SET(d, NEEDS_API)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

/* `>>` and `*`: two tests */
static PyObject *bad_shift_then_multiply(PyObject *self, PyObject *arg) {
  Desc *d = (Desc *)arg;
  PyThreadState *_save = NULL;
  if (SHIFTED(d)) _save = PyEval_SaveThread();
  kernel();
  if (SCALED(d)) RESTORE();
  Py_RETURN_NONE; // expected-warning{{'Py_RETURN_NONE' used without holding the GIL}} expected-warning{{returns with the GIL released}}
}

static PyMethodDef methods[] = {
    {"same_macro", ok_same_macro, METH_O, NULL},
    {"and_then_or", bad_and_then_or, METH_O, NULL},
    {"shift_then_multiply", bad_shift_then_multiply, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
