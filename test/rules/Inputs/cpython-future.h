/* cpython-future.h: a test header that MIRRORS CPython's own definitions of
 * APIs newer than some of the headers the suite runs against, so the rule
 * tests run the same on every version. It declares nothing when the real
 * header already has it. Not part of gilcheck; do not include it elsewhere.
 *
 * - Py_BEGIN_CRITICAL_SECTION & co.: Include/cpython/critical_section.h
 *   (3.13), default (GIL) build, where they only open and close a block.
 * - PyCriticalSection_Begin/End: the same header's functions (3.13).
 * - PyThreadState_Ensure/Release: PEP 788 (3.15). */
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

#endif
