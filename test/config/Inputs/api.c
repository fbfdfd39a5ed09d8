#include <Python.h>

/* A library gilcheck does not see: only .gilcheck.yml says what these do. */
extern void lib_raise(void);
extern void lib_unlock(void);
extern void lib_lock(void);
extern void lib_wait(void);
extern void lib_call_later(int when, void (*fn)(void *), void *data);

static PyObject *calls_raise_released(PyObject *self, PyObject *arg) {
  Py_BEGIN_ALLOW_THREADS
  lib_raise();
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject *unlock_then_api(PyObject *self, PyObject *arg) {
  lib_unlock();
  PyErr_Clear();
  lib_lock();
  Py_RETURN_NONE;
}

static PyObject *waits_holding(PyObject *self, PyObject *arg) {
  lib_wait();
  Py_RETURN_NONE;
}

static void later(void *data) {
  Py_DECREF((PyObject *)data);
}

static PyObject *schedules(PyObject *self, PyObject *arg) {
  Py_INCREF(arg);
  lib_call_later(0, later, arg);
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"calls_raise_released", calls_raise_released, METH_O, NULL},
    {"unlock_then_api", unlock_then_api, METH_O, NULL},
    {"waits_holding", waits_holding, METH_O, NULL},
    {"schedules", schedules, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};
