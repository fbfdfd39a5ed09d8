// ft-module-gil: a module that does not declare whether it needs the GIL,
// reported at its definition when the PyInit_ function that creates it is
// walked. Some module of this file declares Py_MOD_GIL_NOT_USED, so the rule
// is on without --checks (a module that does not declare turns the GIL back
// on for the whole process); --checks=ft-module-gil gives the same. A
// declaration the preprocessor skips still counts (the slot under #if
// PY_VERSION_HEX >= 0x030D0000 on older headers, SetGIL under #ifdef
// Py_GIL_DISABLED in the default build).
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs
// RUN: %for-each-python %gilcheck --checks=ft-module-gil --verify %s -- {PYINC} -I%S/Inputs
// The free-threaded build (3.13 headers only): test/rules/ft-build.test.
#include <Python.h>
#include "cpython-future.h"

static int exec_mod(PyObject *m) { return 0; }

/* --- multi-phase, no Py_mod_gil slot --- */
static PyModuleDef_Slot bad_slots[] = { // expected-note{{once it is safe without the GIL, add '{Py_mod_gil, Py_MOD_GIL_NOT_USED},' to 'bad_slots', under '#if PY_VERSION_HEX >= 0x030D0000'}}
    {Py_mod_exec, exec_mod},
    {0, NULL},
};
static struct PyModuleDef bad_multi = { // expected-warning{{module 'bad_multi' does not declare whether it needs the GIL: importing it turns the GIL back on in a free-threaded build [ft-module-gil]}}
    PyModuleDef_HEAD_INIT, "bad_multi", NULL, 0, NULL, bad_slots, NULL, NULL, NULL,
};
PyMODINIT_FUNC PyInit_bad_multi(void) {
  return PyModuleDef_Init(&bad_multi); // expected-note{{'PyInit_bad_multi' creates the module here}}
}

/* --- single-phase, no PyUnstable_Module_SetGIL --- */
static struct PyModuleDef bad_single = { // expected-warning{{module 'bad_single' does not declare whether it needs the GIL}}
    PyModuleDef_HEAD_INIT, "bad_single", NULL, -1, NULL,
};
PyMODINIT_FUNC PyInit_bad_single(void) {
  PyObject *m = PyModule_Create(&bad_single); // expected-note{{'PyInit_bad_single' creates the module here}} expected-note{{once it is safe without the GIL, call 'PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)' on the new module, under '#ifdef Py_GIL_DISABLED'}}
  return m;
}

/* --- single-phase, created by a helper PyInit_ calls --- */
static struct PyModuleDef bad_helper_def = { // expected-warning{{module 'bad_helper_def' does not declare}}
    PyModuleDef_HEAD_INIT, "bad_helper", NULL, -1, NULL,
};
static PyObject *make_module(void) {
  return PyModule_Create(&bad_helper_def); // expected-note{{'make_module' creates the module here}}
}
PyMODINIT_FUNC PyInit_bad_helper(void) { return make_module(); }

/* --- multi-phase with slots guarded as the HOWTO shows --- */
static PyModuleDef_Slot ok_slots[] = {
    {Py_mod_exec, exec_mod},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};
static struct PyModuleDef ok_multi = {
    PyModuleDef_HEAD_INIT, "ok_multi", NULL, 0, NULL, ok_slots, NULL, NULL, NULL,
};
PyMODINIT_FUNC PyInit_ok_multi(void) { return PyModuleDef_Init(&ok_multi); }

/* --- a module that says it needs the GIL has declared it too --- */
static PyModuleDef_Slot ok_used_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};
static struct PyModuleDef ok_used = {
    PyModuleDef_HEAD_INIT, "ok_used", NULL, 0, NULL, ok_used_slots, NULL, NULL, NULL,
};
PyMODINIT_FUNC PyInit_ok_used(void) { return PyModuleDef_Init(&ok_used); }

/* --- single-phase, SetGIL as the HOWTO shows --- */
static struct PyModuleDef ok_single = {
    PyModuleDef_HEAD_INIT, "ok_single", NULL, -1, NULL,
};
PyMODINIT_FUNC PyInit_ok_single(void) {
  PyObject *m = PyModule_Create(&ok_single);
  if (m == NULL)
    return NULL;
#ifdef Py_GIL_DISABLED
  PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
  return m;
}

/* --- single-phase, SetGIL in a helper the PyInit_ hands the module to --- */
static struct PyModuleDef ok_single_helper = {
    PyModuleDef_HEAD_INIT, "ok_single_helper", NULL, -1, NULL,
};
static int setup(PyObject *m) {
#ifdef Py_GIL_DISABLED
  PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
  return PyModule_AddIntConstant(m, "x", 1);
}
PyMODINIT_FUNC PyInit_ok_single_helper(void) {
  PyObject *m = PyModule_Create(&ok_single_helper);
  if (m && setup(m) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}

/* --- the definition in a static of PyInit_ itself --- */
PyMODINIT_FUNC PyInit_ok_local(void) {
  static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030D0000
      {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
      {0, NULL},
  };
  static struct PyModuleDef def = {
      PyModuleDef_HEAD_INIT, "ok_local", NULL, 0, NULL, slots, NULL, NULL, NULL,
  };
  return PyModuleDef_Init(&def);
}

/* --- a definition no PyInit_ creates: not imported, not reported --- */
static struct PyModuleDef ok_not_imported = {
    PyModuleDef_HEAD_INIT, "ok_not_imported", NULL, -1, NULL,
};
PyObject *make_private_module(void) { return PyModule_Create(&ok_not_imported); }
