// A condition's text is the condition as written, whole: for a condition
// in a macro's argument, the argument's text; for one written in a macro's
// own body, the macro's invocation; runs of whitespace and comments as one
// space; past 160 bytes, cut after a whole token and "...". A branch that
// comes from inside a macro's body (the if of Py_CLEAR, of a
// g_return_if_fail) and not from the user's code says so: "(macro)".
// RUN: %gilcheck --no-cache --dump-cfg %s -- %pyinc 2>&1 | FileCheck %s
#include <Python.h>

#define G_STMT_START do
#define G_STMT_END while (0)
#define _G_BOOLEAN_EXPR(expr) __extension__ ({ int _g_boolean_var_; if (expr) _g_boolean_var_ = 1; else _g_boolean_var_ = 0; _g_boolean_var_; })
#define G_LIKELY(expr) (__builtin_expect (_G_BOOLEAN_EXPR(expr), 1))
#define g_return_if_fail(expr) G_STMT_START { if (G_LIKELY (expr)) { } else { return; } } G_STMT_END
#define CHECK(c) if (c) PyErr_Clear()
#define PICK(a, b) ((a) < (b) ? (a) : (b))

typedef struct { PyObject_HEAD PyObject *x; } obj;

void in_macros(obj *self, PyObject *x, int a, int b) {
  g_return_if_fail (x != NULL);
  Py_CLEAR(self->x);
  CHECK(x == Py_None);
  b = PICK(a, b);
  self->x = PyTuple_GET_ITEM(x, 0);
}
// CHECK-LABEL: function in_macros
// The argument's text, NULL whole (it used to print 'x != '), from GLib's if:
// (Whether x is tracked there depends on libclang: 14 cannot see the
// assignments inside GLib's statement expression.)
// CHECK: -> {{[0-9]+}} if 'x != NULL'{{( \(var\))?}} (macro)
// CHECK: -> {{[0-9]+}} if not 'x != NULL'{{( \(var\))?}} (macro)
// The outer test, G_LIKELY's, is made in the macro's body with the argument:
// CHECK: -> {{[0-9]+}} if 'g_return_if_fail (x != NULL)' (macro)
// CHECK: -> {{[0-9]+}} if 'Py_CLEAR(self->x)' (macro)
// CHECK: -> {{[0-9]+}} if 'x == Py_None' (macro)
// CHECK: -> {{[0-9]+}} if 'PICK(a, b)' (macro)
// Conditions made in a macro's body with its argument are the invocation,
// whole: glibc's assert in PyTuple_GET_ITEM (the second was cut after the
// argument: 'PyTuple_GET_ITEM(x'):
// CHECK: -> {{[0-9]+}} if 'PyTuple_GET_ITEM(x, 0)' (macro)
// CHECK: -> {{[0-9]+}} if 'PyTuple_GET_ITEM(x, 0)' (macro)
// CHECK-LABEL: states:

void written(PyObject *x, int aaaaaaaaaaaaaaaaaaaaaa, int bbbbbbbbbbbbbbbbbbbbbbbbbbbb, int cccccccccccccccccccccccccccccc) {
  if (PyTuple_GET_SIZE(x) > 2 &&
      aaaaaaaaaaaaaaaaaaaaaa >   /* a comment */
        0)
    PyErr_Clear();
  if (aaaaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbbbbbbb + cccccccccccccccccccccccccccccc + aaaaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbbbbbbb + cccccccccccccccccccccccccccccc > 7)
    PyErr_Clear();
  while (aaaaaaaaaaaaaaaaaaaaaa--)
    PyErr_Clear();
  bbbbbbbbbbbbbbbbbbbbbbbbbbbb = aaaaaaaaaaaaaaaaaaaaaa ? 1 : 2;
}
// CHECK-LABEL: function written
// Written by the user: no "(macro)", a macro invocation in it whole, the
// comment and the line break as one space each.
// CHECK: -> {{[0-9]+}} if 'PyTuple_GET_SIZE(x) > 2'{{$}}
// The long one (209 bytes), cut after a whole token:
// CHECK: -> {{[0-9]+}} if 'aaaaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbbbbbbb + cccccccccccccccccccccccccccccc + aaaaaaaaaaaaaaaaaaaaaa + bbbbbbbbbbbbbbbbbbbbbbbbbbbb + ...'{{$}}
// CHECK: -> {{[0-9]+}} if 'aaaaaaaaaaaaaaaaaaaaaa > 0' (var > 0){{$}}
// CHECK: -> {{[0-9]+}} if 'aaaaaaaaaaaaaaaaaaaaaa--'{{$}}
// CHECK: -> {{[0-9]+}} if 'aaaaaaaaaaaaaaaaaaaaaa' (var){{$}}
// CHECK-LABEL: states:
