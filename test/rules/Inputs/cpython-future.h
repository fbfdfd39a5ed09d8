/* cpython-future.h: a test header that MIRRORS CPython's own definitions of
 * APIs newer than some of the headers the suite runs against, so the rule
 * tests run the same on every version. It declares nothing when the real
 * header already has it. Not part of gilcheck; do not include it elsewhere.
 *
 * - Py_BEGIN_CRITICAL_SECTION & co.: Include/cpython/critical_section.h
 *   (3.13), default (GIL) build, where they only open and close a block.
 * - PyCriticalSection_Begin/End: the same header's functions (3.13).
 * - PyThreadState_Ensure/Release: PEP 788 (3.15).
 * - Free threading (3.13): the strong-reference APIs (dictobject.h,
 *   listobject.h, weakrefobject.h, import.h), PyMutex (cpython/lock.h,
 *   its exported functions). Py_mod_gil and PyUnstable_Module_SetGIL are
 *   not mirrored: tests guard them as extensions do (#if PY_VERSION_HEX >=
 *   0x030D0000, #ifdef Py_GIL_DISABLED), which is what they test. */
#ifndef GILCHECK_TEST_CPYTHON_FUTURE_H
#define GILCHECK_TEST_CPYTHON_FUTURE_H
#include <Python.h>

#ifndef Py_BEGIN_CRITICAL_SECTION
typedef struct PyCriticalSection { void *_cs_prev; void *_cs_mutex; } PyCriticalSection;
PyAPI_FUNC(void) PyCriticalSection_Begin(PyCriticalSection *c, PyObject *op);
PyAPI_FUNC(void) PyCriticalSection_End(PyCriticalSection *c);
# define Py_BEGIN_CRITICAL_SECTION(op) {
# define Py_END_CRITICAL_SECTION() }
# define Py_BEGIN_CRITICAL_SECTION2(a, b) {
# define Py_END_CRITICAL_SECTION2() }
#endif

#if PY_VERSION_HEX < 0x030F0000
typedef struct PyThreadStateToken_ *PyThreadStateToken;
PyAPI_FUNC(PyThreadStateToken) PyThreadState_Ensure(void *guard);
PyAPI_FUNC(void) PyThreadState_Release(PyThreadStateToken token);
#endif

#if PY_VERSION_HEX < 0x030D0000
PyAPI_FUNC(int) PyDict_GetItemRef(PyObject *mp, PyObject *key, PyObject **result);
PyAPI_FUNC(int) PyDict_GetItemStringRef(PyObject *mp, const char *key, PyObject **result);
PyAPI_FUNC(int) PyDict_SetDefaultRef(PyObject *mp, PyObject *key, PyObject *default_value, PyObject **result);
PyAPI_FUNC(PyObject *) PyList_GetItemRef(PyObject *, Py_ssize_t);
PyAPI_FUNC(int) PyWeakref_GetRef(PyObject *ref, PyObject **pobj);
PyAPI_FUNC(PyObject *) PyImport_AddModuleRef(const char *name);
typedef struct PyMutex {
    uint8_t _bits;  // (private)
} PyMutex;
PyAPI_FUNC(void) PyMutex_Lock(PyMutex *m);
PyAPI_FUNC(void) PyMutex_Unlock(PyMutex *m);
#endif

#endif
