// ft-unsafe-global: static state written by code Python runs on several
// threads at once, with no lock held, in a module that declares
// Py_MOD_GIL_NOT_USED. The same findings in the free-threaded build, where
// the project's lock macro and Py_BEGIN_CRITICAL_SECTION are real
// (test/rules/ft-build.test).
// RUN: %for-each-python %gilcheck --verify %s -- {PYINC} -I%S/Inputs
#include <Python.h>
#include <pthread.h>
#include "cpython-future.h"

#ifdef Py_GIL_DISABLED
#define STATS_LOCK(m) PyMutex_Lock(m)
#define STATS_UNLOCK(m) PyMutex_Unlock(m)
#else
#define STATS_LOCK(m)
#define STATS_UNLOCK(m)
#endif

static PyObject *cache;
static long counter;
static int verbose;
static PyObject *table[4];
static struct { long hits; PyObject *last; } stats;
static const char *const names[] = {"a", "b"};
static _Thread_local long per_thread;
static _Atomic long atomic_count;
static long relaxed_count;
static volatile int stop_requested;
static PyMutex mutex;
static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static PyObject *error_type;    /* set once, by the exec function */

static PyObject *bad_lazy_cache(PyObject *self, PyObject *unused) {
  if (cache == NULL) { // expected-note{{'cache' is found unset here}}
    cache = PyDict_New(); // expected-warning{{lazy initialisation of static 'cache' in 'bad_lazy_cache' races under free threading: two threads can both find it unset; set it in the module's exec function (or PyInit_), or hold a 'PyMutex' across the test and the store [ft-unsafe-global]}}
    if (cache == NULL)
      return NULL;
  }
  Py_INCREF(cache);
  return cache;
}

static PyObject *bad_counter(PyObject *self, PyObject *unused) {
  counter++; // expected-warning{{static 'counter' is updated in 'bad_counter' with no lock held: a data race under free threading, where Python runs 'bad_counter' on several threads at once; make it atomic, hold a 'PyMutex', or keep it in the module state [ft-unsafe-global]}}
  return PyLong_FromLong(counter);
}

static PyObject *bad_flag(PyObject *self, PyObject *arg) {
  verbose = PyObject_IsTrue(arg); // expected-warning{{static 'verbose' is written in 'bad_flag' with no lock held: a data race under free threading, where Python runs 'bad_flag' on several threads at once; hold a 'PyMutex' around every use, or keep it in the module state}}
  Py_RETURN_NONE;
}

static PyObject *bad_element(PyObject *self, PyObject *arg) {
  Py_INCREF(arg);
  Py_XDECREF(table[0]);
  table[0] = arg; // expected-warning{{static 'table' is written in 'bad_element'}}
  Py_RETURN_NONE;
}

static PyObject *bad_member(PyObject *self, PyObject *arg) {
  stats.hits += 1; // expected-warning{{static 'stats' is written in 'bad_member'}}
  Py_RETURN_NONE;
}

static PyObject *bad_clear(PyObject *self, PyObject *unused) {
  Py_CLEAR(cache); // expected-warning{{static 'cache' is written in 'bad_clear'}} expected-note{{'cache' is also written here, in 'bad_clear'}}
  Py_RETURN_NONE;
}

static PyObject *bad_setref(PyObject *self, PyObject *arg) {
  Py_INCREF(arg);
  Py_XSETREF(stats.last, arg); // expected-warning{{static 'stats' is written in 'bad_setref'}}
  Py_RETURN_NONE;
}

static PyObject *bad_function_static(PyObject *self, PyObject *unused) {
  static int calls;
  calls++; // expected-warning{{static 'calls' is updated in 'bad_function_static'}}
  return PyLong_FromLong(calls);
}

static void note_hit(void) { // expected-note{{'note_hit' is called by 'bad_through_a_helper', which Python reaches}}
  relaxed_count += 1; // expected-warning{{static 'relaxed_count' is updated in 'note_hit'}}
}

static PyObject *bad_through_a_helper(PyObject *self, PyObject *unused) {
  note_hit();
  Py_RETURN_NONE;
}

static PyObject *ok_mutex(PyObject *self, PyObject *unused) {
  PyMutex_Lock(&mutex);
  counter++;
  PyMutex_Unlock(&mutex);
  Py_RETURN_NONE;
}

static PyObject *ok_pthread(PyObject *self, PyObject *unused) {
  pthread_mutex_lock(&plock);
  counter += 2;
  pthread_mutex_unlock(&plock);
  Py_RETURN_NONE;
}

static void lock_counter(void) { PyMutex_Lock(&mutex); }
static void unlock_counter(void) { PyMutex_Unlock(&mutex); }

static PyObject *ok_lock_helpers(PyObject *self, PyObject *unused) {
  lock_counter();
  counter = 0;
  unlock_counter();
  Py_RETURN_NONE;
}

/* helpers its callers call with the lock held: the lock is the callers' */
static long hits;
static void count_hit_locked(void) { hits++; }

static PyObject *ok_called_with_lock(PyObject *self, PyObject *unused) {
  PyMutex_Lock(&mutex);
  count_hit_locked();
  PyMutex_Unlock(&mutex);
  Py_RETURN_NONE;
}

/* ... unless one caller does not take it */
static long misses;
static void count_miss(void) {
  misses++; // expected-warning{{static 'misses' is updated in 'count_miss'}}
}

static PyObject *bad_one_caller_unlocked(PyObject *self, PyObject *arg) {
  if (arg == Py_None) {
    count_miss();
    Py_RETURN_NONE;
  }
  PyMutex_Lock(&mutex);
  count_miss();
  PyMutex_Unlock(&mutex);
  Py_RETURN_NONE;
}

static PyObject *ok_lock_macro(PyObject *self, PyObject *unused) {
  /* empty in the default build, PyMutex_Lock in the free-threaded one */
  STATS_LOCK(&mutex);
  stats.hits++;
  STATS_UNLOCK(&mutex);
  Py_RETURN_NONE;
}

static PyObject *ok_critical_section(PyObject *self, PyObject *unused) {
  Py_BEGIN_CRITICAL_SECTION(self);
  verbose = 0;
  Py_END_CRITICAL_SECTION();
  Py_RETURN_NONE;
}

static PyObject *ok_kinds(PyObject *self, PyObject *unused) {
  per_thread++;                 /* one per thread */
  atomic_count++;               /* _Atomic */
  __atomic_fetch_add(&relaxed_count, 1, __ATOMIC_RELAXED);
  stop_requested = 1;           /* volatile: meant to be shared */
  return PyUnicode_FromString(names[0]);
}

static PyObject *ok_reads(PyObject *self, PyObject *unused) {
  /* reads are never reported; the exec function alone writes error_type */
  if (verbose && cache)
    PyErr_SetString(error_type, "x");
  return NULL;
}

static PyObject *ok_default_build_only(PyObject *self, PyObject *unused) {
#ifndef Py_GIL_DISABLED
  counter++;
#endif
  Py_RETURN_NONE;
}

/* a C thread's own state: it raced before free threading as after */
static int worker_done;
static void *worker(void *arg) {
  worker_done = 1;
  return NULL;
}

static PyObject *ok_start_thread(PyObject *self, PyObject *unused) {
  pthread_t t;
  if (pthread_create(&t, NULL, worker, NULL) != 0)
    return PyErr_NoMemory();
  pthread_detach(t);
  Py_RETURN_NONE;
}

/* not reached from Python: not reported (precision before recall) */
static void never_called(void) { counter = 0; }

/* PyArg_ParseTuple stores through the addresses it is given ... */
static PyObject *hook;
static PyObject *bad_parsed_into_static(PyObject *self, PyObject *args) {
  if (!PyArg_ParseTuple(args, "O", &hook)) // expected-warning{{static 'hook' is written in 'bad_parsed_into_static' with no lock held}}
    return NULL;
  Py_RETURN_NONE;
}

/* ... but not through the type an 'O!' checks against */
static PyTypeObject Thing_Type;
static PyObject *ok_type_checked(PyObject *self, PyObject *args) {
  PyObject *thing;
  int n;
  if (!PyArg_ParseTuple(args, "O!|i:check", &Thing_Type, &thing, &n))
    return NULL;
  return PyLong_FromLong(n);
}

static PyMethodDef methods[] = {
    {"bad_lazy_cache", bad_lazy_cache, METH_NOARGS, NULL},
    {"bad_counter", bad_counter, METH_NOARGS, NULL},
    {"bad_flag", bad_flag, METH_O, NULL},
    {"bad_element", bad_element, METH_O, NULL},
    {"bad_member", bad_member, METH_O, NULL},
    {"bad_clear", bad_clear, METH_NOARGS, NULL},
    {"bad_setref", bad_setref, METH_O, NULL},
    {"bad_function_static", bad_function_static, METH_NOARGS, NULL},
    {"bad_through_a_helper", bad_through_a_helper, METH_NOARGS, NULL},
    {"ok_mutex", ok_mutex, METH_NOARGS, NULL},
    {"ok_pthread", ok_pthread, METH_NOARGS, NULL},
    {"ok_lock_helpers", ok_lock_helpers, METH_NOARGS, NULL},
    {"ok_called_with_lock", ok_called_with_lock, METH_NOARGS, NULL},
    {"bad_one_caller_unlocked", bad_one_caller_unlocked, METH_O, NULL},
    {"ok_lock_macro", ok_lock_macro, METH_NOARGS, NULL},
    {"ok_critical_section", ok_critical_section, METH_NOARGS, NULL},
    {"ok_kinds", ok_kinds, METH_NOARGS, NULL},
    {"ok_reads", ok_reads, METH_NOARGS, NULL},
    {"ok_default_build_only", ok_default_build_only, METH_NOARGS, NULL},
    {"ok_start_thread", ok_start_thread, METH_NOARGS, NULL},
    {"bad_parsed_into_static", bad_parsed_into_static, METH_VARARGS, NULL},
    {"ok_type_checked", ok_type_checked, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* module initialisation runs once, before Python can call the methods */
static int exec_module(PyObject *m) {
  error_type = PyErr_NewException("unsafe.Error", NULL, NULL);
  if (error_type == NULL)
    return -1;
  counter = 0;
  if (cache == NULL)
    cache = PyDict_New();
  return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "unsafe", NULL, 0, methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_unsafe(void) { return PyModuleDef_Init(&module); }
