// ft-unsafe-global and state that only the default build has. Reduced, in
// new code, from numpy (multiarray/array_coercion.c, the coercion cache):
// the cache's statics are declared under '#ifndef Py_GIL_DISABLED', the
// #else sets the cache size to 0, and the uses sit under '#if SIZE > 0', a
// condition that does not name Py_GIL_DISABLED itself. Without the GIL the
// variables do not exist, and nor do their uses.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

#ifndef Py_GIL_DISABLED
#define CACHE_SIZE 4
static int cache_num = 0;
static void *cache_slots[CACHE_SIZE];
#else
#define CACHE_SIZE 0
#endif

#if !defined(Py_GIL_DISABLED)
static long calls_seen;
#endif

#ifdef Py_GIL_DISABLED
static _Atomic long hits;
#else
static long hits;
#endif

static long misses;   /* in every build */

static void *ok_take_cached(void) {
#if CACHE_SIZE > 0
  if (cache_num > 0) {
    cache_num--;
    return cache_slots[cache_num];
  }
#endif
  return NULL;
}

static PyObject *ok_get(PyObject *self, PyObject *unused) {
  void *p = ok_take_cached();
#if CACHE_SIZE > 0
  if (p == NULL && cache_num < CACHE_SIZE)
    cache_slots[cache_num++] = self;
#endif
  return PyLong_FromVoidPtr(p);
}

static PyObject *ok_count(PyObject *self, PyObject *unused) {
#if defined(COUNT_CALLS) || 1
  calls_seen++;
#endif
  hits++;
  Py_RETURN_NONE;
}

static PyObject *bad_miss(PyObject *self, PyObject *unused) {
  misses++; // expected-warning{{static 'misses' is updated in 'bad_miss' with no lock held}}
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"ok_get", ok_get, METH_NOARGS, NULL},
    {"ok_count", ok_count, METH_NOARGS, NULL},
    {"bad_miss", bad_miss, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "coercion", NULL, 0, methods, slots};

PyMODINIT_FUNC PyInit_coercion(void) { return PyModuleDef_Init(&module); }
