// ft-borrowed-ref: borrowed references from containers another thread can
// change, in a module that declares Py_MOD_GIL_NOT_USED: the rule is on
// here without --checks. On headers before 3.13 the slot is in a branch the
// preprocessor skips, and still counts. The free-threaded build (3.13
// headers, Py_GIL_DISABLED, real critical sections) gives the same
// findings: test/rules/ft-build.test.
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs
// Turned off by name, it says nothing.
// RUN: %gilcheck --checks=-ft-borrowed-ref %s -- %pyinc -I%S/Inputs | FileCheck --allow-empty --check-prefix=OFF %s
// OFF-NOT: ft-borrowed-ref
#include <Python.h>
#include "cpython-future.h"

typedef struct {
  PyObject *registry;   /* a dict the module changes */
  PyObject *items;      /* a list the module changes */
  PyObject *names;      /* a dict only the exec function fills */
} state;

typedef struct {
  PyObject_HEAD
  PyObject *dict;
} Obj;

static PyObject *register_(PyObject *m, PyObject *args) {
  state *st = PyModule_GetState(m);
  PyObject *k, *v;
  if (!PyArg_ParseTuple(args, "OO", &k, &v))
    return NULL;
  if (PyDict_SetItem(st->registry, k, v) < 0) // expected-note{{a container held as 'st->registry' is changed here, in 'register_'}}
    return NULL;
  if (PyList_Append(st->items, v) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *bad_dict_in_state(PyObject *m, PyObject *key) {
  state *st = PyModule_GetState(m);
  PyObject *v = PyDict_GetItem(st->registry, key); // expected-warning{{'PyDict_GetItem' returns a borrowed reference from 'st->registry', which another thread can change under free threading; use 'PyDict_GetItemRef', which returns a strong reference [ft-borrowed-ref]}}
  Py_XINCREF(v);
  return v;
}

static PyObject *bad_incref_at_once(PyObject *m, PyObject *key) {
  state *st = PyModule_GetState(m);
  /* another thread can drop the item between the lookup and the INCREF */
  PyObject *v = PyDict_GetItemWithError(st->registry, key); // expected-warning{{'PyDict_GetItemWithError' returns a borrowed reference from 'st->registry'}}
  Py_XINCREF(v);
  return v;
}

static PyObject *bad_string_key(PyObject *m, PyObject *unused) {
  state *st = PyModule_GetState(m);
  PyObject *v = PyDict_GetItemString(st->registry, "x"); // expected-warning{{use 'PyDict_GetItemStringRef'}}
  Py_XINCREF(v);
  return v;
}

static PyObject *bad_setdefault(PyObject *m, PyObject *key) {
  state *st = PyModule_GetState(m);
  PyObject *v = PyDict_SetDefault(st->registry, key, Py_None); // expected-warning{{use 'PyDict_SetDefaultRef'}}
  Py_XINCREF(v);
  return v;
}

static PyObject *bad_list_passed_in(PyObject *self, PyObject *list) {
  PyObject *item = PyList_GetItem(list, 0); // expected-warning{{'PyList_GetItem' returns a borrowed reference from 'list', which another thread can change under free threading; use 'PyList_GetItemRef'}}
  Py_XINCREF(item);
  return item;
}

static PyObject *bad_list_macro(PyObject *self, PyObject *list) {
  if (!PyList_Check(list) || PyList_GET_SIZE(list) == 0)
    Py_RETURN_NONE;
  PyObject *item = PyList_GET_ITEM(list, 0); // expected-warning{{'PyList_GET_ITEM' returns a borrowed reference from 'list', which another thread can change under free threading; use 'PyList_GetItemRef'}}
  Py_INCREF(item);
  return item;
}

static PyObject *bad_list_in_state(PyObject *m, PyObject *unused) {
  state *st = PyModule_GetState(m);
  PyObject *item = PyList_GetItem(st->items, 0); // expected-warning{{from 'st->items'}}
  Py_XINCREF(item);
  return item;
}

static PyObject *bad_weakref(PyObject *self, PyObject *ref) {
  PyObject *o = PyWeakref_GetObject(ref); // expected-warning{{'PyWeakref_GetObject' returns a borrowed reference to the object 'ref' refers to, which another thread can destroy at any moment under free threading; use 'PyWeakref_GetRef', which returns a strong reference [ft-borrowed-ref]}}
  Py_XINCREF(o);
  return o;
}

static PyObject *bad_import(PyObject *self, PyObject *unused) {
  PyObject *sys = PyImport_AddModule("sys"); // expected-warning{{'PyImport_AddModule' returns a borrowed reference from 'sys.modules', which another thread can change under free threading; use 'PyImport_AddModuleRef'}}
  Py_XINCREF(sys);
  return sys;
}

static PyObject *bad_dict_next(PyObject *self, PyObject *d) {
  PyObject *key, *value;
  Py_ssize_t pos = 0, n = 0;
  while (PyDict_Next(d, &pos, &key, &value)) // expected-warning{{'PyDict_Next' iterates 'd' outside a critical section on it: another thread can change the dict during the loop under free threading; wrap the loop in 'Py_BEGIN_CRITICAL_SECTION(d)' ... 'Py_END_CRITICAL_SECTION()' [ft-borrowed-ref]}}
    n++;
  return PyLong_FromSsize_t(n);
}

static PyObject *bad_other_section(PyObject *self, PyObject *list) {
  PyObject *item = NULL;
  Py_BEGIN_CRITICAL_SECTION(self); // expected-note{{the critical section here locks 'self', not 'list'}}
  item = PyList_GetItem(list, 0); // expected-warning{{from 'list'}}
  Py_XINCREF(item);
  Py_END_CRITICAL_SECTION();
  return item;
}

static PyObject *bad_escaped(PyObject *self, PyObject *key) {
  PyObject *d = PyDict_New();
  if (d == NULL)
    return NULL;
  /* now another thread can reach it through self */
  if (PyObject_SetAttrString(self, "cache", d) < 0) {
    Py_DECREF(d);
    return NULL;
  }
  PyObject *v = PyDict_GetItem(d, key); // expected-warning{{from 'd'}}
  Py_XINCREF(v);
  Py_DECREF(d);
  return v;
}

static PyObject *ok_own_dict(PyObject *self, PyObject *key) {
  PyObject *d = PyDict_New();
  if (d == NULL)
    return NULL;
  if (PyDict_SetItem(d, key, key) < 0) {
    Py_DECREF(d);
    return NULL;
  }
  PyObject *v = PyDict_GetItem(d, key);
  Py_XINCREF(v);
  Py_DECREF(d);
  return v;
}

static PyObject *ok_own_list(PyObject *self, PyObject *seq) {
  PyObject *l = PySequence_List(seq);
  if (l == NULL)
    return NULL;
  PyObject *first = PyList_GET_SIZE(l) ? PyList_GET_ITEM(l, 0) : Py_None;
  Py_INCREF(first);
  Py_DECREF(l);
  return first;
}

static PyObject *ok_own_list_cleared(PyObject *self, PyObject *seq) {
  /* Py_CLEAR writes through &(l) on 3.12+ headers: l is still this function's */
  PyObject *l = PySequence_List(seq);
  PyObject *first = NULL;
  if (l != NULL && PyList_GET_SIZE(l) > 0) {
    first = PyList_GET_ITEM(l, 0);
    Py_INCREF(first);
  }
  Py_CLEAR(l);
  return first;
}

/* a helper whose every return is a container it made (or NULL) gives a new one */
static PyObject *make_index(PyObject *key) {
  PyObject *index = PyDict_New();
  if (index == NULL)
    return NULL;
  if (PyDict_SetItem(index, key, key) < 0) {
    Py_DECREF(index);
    return NULL;
  }
  return index;
}

static PyObject *ok_helper_made_it(PyObject *self, PyObject *key) {
  PyObject *index = make_index(key);
  if (index == NULL)
    return NULL;
  PyObject *v = PyDict_GetItem(index, key);
  Py_XINCREF(v);
  Py_DECREF(index);
  return v;
}

/* one that hands out a shared one does not */
static PyObject *shared_index;
static PyObject *get_index(void) { return shared_index; }

static PyObject *bad_helper_shares_it(PyObject *self, PyObject *key) {
  PyObject *index = get_index();
  PyObject *v = index ? PyDict_GetItem(index, key) : NULL; // expected-warning{{from 'index'}}
  Py_XINCREF(v);
  return v;
}

static PyObject *ok_kwargs(PyObject *self, PyObject *args, PyObject *kwds) {
  PyObject *v = kwds ? PyDict_GetItemString(kwds, "x") : NULL;
  Py_XINCREF(v);
  return v;
}

static PyObject *ok_critical_section(PyObject *self, PyObject *list) {
  PyObject *item = NULL;
  Py_BEGIN_CRITICAL_SECTION(list);
  if (PyList_GET_SIZE(list) > 0) {
    item = PyList_GET_ITEM(list, 0);
    Py_INCREF(item);
  }
  Py_END_CRITICAL_SECTION();
  return item;
}

static PyObject *ok_section_on_owner(PyObject *self, PyObject *key) {
  Obj *o = (Obj *)self;
  PyObject *v = NULL;
  Py_BEGIN_CRITICAL_SECTION(o);
  v = PyDict_GetItem(o->dict, key);
  Py_XINCREF(v);
  Py_END_CRITICAL_SECTION();
  return v;
}

static PyObject *ok_dict_next_locked(PyObject *self, PyObject *d) {
  PyObject *key, *value;
  Py_ssize_t pos = 0, n = 0;
  Py_BEGIN_CRITICAL_SECTION(d);
  while (PyDict_Next(d, &pos, &key, &value))
    n++;
  Py_END_CRITICAL_SECTION();
  return PyLong_FromSsize_t(n);
}

static PyObject *ok_strong_references(PyObject *m, PyObject *args) {
  state *st = PyModule_GetState(m);
  PyObject *key, *list, *ref, *v = NULL, *item, *o = NULL;
  if (!PyArg_ParseTuple(args, "OOO", &key, &list, &ref))
    return NULL;
  if (PyDict_GetItemRef(st->registry, key, &v) < 0)
    return NULL;
  Py_XDECREF(v);
  item = PyList_GetItemRef(list, 0);
  Py_XDECREF(item);
  if (PyWeakref_GetRef(ref, &o) < 0)
    return NULL;
  if (o)
    return o;
  Py_RETURN_NONE;
}

static PyObject *ok_never_changed(PyObject *m, PyObject *key) {
  /* only the exec function fills it: no other thread can change it */
  state *st = PyModule_GetState(m);
  PyObject *v = PyDict_GetItem(st->names, key);
  Py_XINCREF(v);
  return v;
}

static PyObject *ok_thread_dict(PyObject *self, PyObject *unused) {
  PyObject *v = PyDict_GetItemString(PyThreadState_GetDict(), "x");
  Py_XINCREF(v);
  return v;
}

static PyObject *ok_versions_before_313(PyObject *m, PyObject *key) {
  state *st = PyModule_GetState(m);
  PyObject *v;
#if PY_VERSION_HEX < 0x030D0000
  v = PyDict_GetItem(st->registry, key);
  Py_XINCREF(v);
#else
  if (PyDict_GetItemRef(st->registry, key, &v) < 0)
    return NULL;
#endif
  return v;
}

static PyObject *ok_default_build_only(PyObject *self, PyObject *list) {
  PyObject *item;
#ifndef Py_GIL_DISABLED
  item = PyList_GetItem(list, 0);
  Py_XINCREF(item);
#else
  item = PyList_GetItemRef(list, 0);
#endif
  return item;
}

/* a static helper every caller hands a new list of its own */
static PyObject *first_of(PyObject *list) {
  PyObject *v = PyList_GetItem(list, 0);
  Py_XINCREF(v);
  return v;
}

static PyObject *ok_new_list_to_helper(PyObject *self, PyObject *item) {
  PyObject *list = PyList_New(0);
  if (list == NULL || PyList_Append(list, item) < 0) {
    Py_XDECREF(list);
    return NULL;
  }
  PyObject *first = first_of(list);
  Py_DECREF(list);
  return first;
}

/* one caller hands it the list it was given: reported */
static PyObject *last_of(PyObject *list) {
  PyObject *v = PyList_GetItem(list, PyList_GET_SIZE(list) - 1); // expected-warning{{'PyList_GetItem' returns a borrowed reference from 'list'}}
  Py_XINCREF(v);
  return v;
}

static PyObject *ok_new_list_to_shared_helper(PyObject *self, PyObject *item) {
  PyObject *list = PyList_New(0);
  if (list == NULL || PyList_Append(list, item) < 0) {
    Py_XDECREF(list);
    return NULL;
  }
  PyObject *last = last_of(list);
  Py_DECREF(list);
  return last;
}

static PyObject *bad_callers_list_to_helper(PyObject *self, PyObject *list) { return last_of(list); }

/* a dict lookup only compared: no reference is used, nothing to free */
static PyObject *ok_only_compared(PyObject *m, PyObject *key) {
  state *st = PyModule_GetState(m);
  if (PyDict_GetItem(st->registry, key) == Py_None)
    Py_RETURN_NONE;
  if (NULL != PyDict_GetItemString(st->registry, "x") && PyDict_GetItem(st->registry, key) != NULL)
    Py_RETURN_TRUE;
  Py_RETURN_FALSE;
}

/* kept, then compared: the kept reference is what is reported */
static PyObject *bad_kept_then_compared(PyObject *m, PyObject *key) {
  state *st = PyModule_GetState(m);
  PyObject *v = PyDict_GetItem(st->registry, key); // expected-warning{{from 'st->registry'}}
  if (v == Py_None)
    Py_RETURN_NONE;
  Py_XINCREF(v);
  return v;
}

/* a list's item read by the macro with a stale index: the read itself races */
static PyObject *bad_list_item_compared(PyObject *m, PyObject *obj) {
  state *st = PyModule_GetState(m);
  return PyBool_FromLong(PyList_GET_ITEM(st->items, 0) == obj); // expected-warning{{from 'st->items'}}
}

/* the running frame's locals, through a helper: this thread's own */
static PyObject *frame_locals(void) { return PyEval_GetLocals(); }

static PyObject *ok_frame_locals(PyObject *self, PyObject *unused) {
  PyObject *locals = frame_locals();
  if (locals == NULL)
    return NULL;
  PyObject *v = PyDict_GetItemString(locals, "self");
  Py_XINCREF(v);
  return v;
}

/* the globals are the module's dict, which other threads share */
static PyObject *frame_globals(void) { return PyEval_GetGlobals(); }

static PyObject *bad_frame_globals(PyObject *self, PyObject *unused) {
  PyObject *globals = frame_globals();
  if (globals == NULL)
    return NULL;
  PyObject *v = PyDict_GetItemString(globals, "x"); // expected-warning{{from 'globals'}}
  Py_XINCREF(v);
  return v;
}

static PyMethodDef methods[] = {
    {"register", register_, METH_VARARGS, NULL},
    {"bad_dict_in_state", bad_dict_in_state, METH_O, NULL},
    {"bad_incref_at_once", bad_incref_at_once, METH_O, NULL},
    {"bad_string_key", bad_string_key, METH_NOARGS, NULL},
    {"bad_setdefault", bad_setdefault, METH_O, NULL},
    {"bad_list_passed_in", bad_list_passed_in, METH_O, NULL},
    {"bad_list_macro", bad_list_macro, METH_O, NULL},
    {"bad_list_in_state", bad_list_in_state, METH_NOARGS, NULL},
    {"bad_weakref", bad_weakref, METH_O, NULL},
    {"bad_import", bad_import, METH_NOARGS, NULL},
    {"bad_dict_next", bad_dict_next, METH_O, NULL},
    {"bad_other_section", bad_other_section, METH_O, NULL},
    {"bad_escaped", bad_escaped, METH_O, NULL},
    {"ok_own_dict", ok_own_dict, METH_O, NULL},
    {"ok_own_list", ok_own_list, METH_O, NULL},
    {"ok_own_list_cleared", ok_own_list_cleared, METH_O, NULL},
    {"ok_helper_made_it", ok_helper_made_it, METH_O, NULL},
    {"bad_helper_shares_it", bad_helper_shares_it, METH_O, NULL},
    {"ok_kwargs", (PyCFunction)(void (*)(void))ok_kwargs, METH_VARARGS | METH_KEYWORDS, NULL},
    {"ok_critical_section", ok_critical_section, METH_O, NULL},
    {"ok_section_on_owner", ok_section_on_owner, METH_O, NULL},
    {"ok_dict_next_locked", ok_dict_next_locked, METH_O, NULL},
    {"ok_strong_references", ok_strong_references, METH_VARARGS, NULL},
    {"ok_never_changed", ok_never_changed, METH_O, NULL},
    {"ok_thread_dict", ok_thread_dict, METH_NOARGS, NULL},
    {"ok_versions_before_313", ok_versions_before_313, METH_O, NULL},
    {"ok_default_build_only", ok_default_build_only, METH_O, NULL},
    {"ok_new_list_to_helper", ok_new_list_to_helper, METH_O, NULL},
    {"ok_new_list_to_shared_helper", ok_new_list_to_shared_helper, METH_O, NULL},
    {"bad_callers_list_to_helper", bad_callers_list_to_helper, METH_O, NULL},
    {"ok_only_compared", ok_only_compared, METH_O, NULL},
    {"bad_kept_then_compared", bad_kept_then_compared, METH_O, NULL},
    {"bad_list_item_compared", bad_list_item_compared, METH_O, NULL},
    {"ok_frame_locals", ok_frame_locals, METH_NOARGS, NULL},
    {"bad_frame_globals", bad_frame_globals, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* module initialisation: no other thread sees these objects yet */
static int exec_module(PyObject *m) {
  state *st = PyModule_GetState(m);
  st->registry = PyDict_New();
  st->items = PyList_New(0);
  st->names = PyDict_New();
  if (!st->registry || !st->items || !st->names)
    return -1;
  if (PyDict_SetItemString(st->names, "a", Py_None) < 0)
    return -1;
  PyObject *a = PyDict_GetItemString(st->names, "a");
  return a ? 0 : -1;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "borrowed", NULL, sizeof(state), methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_borrowed(void) { return PyModuleDef_Init(&module); }
