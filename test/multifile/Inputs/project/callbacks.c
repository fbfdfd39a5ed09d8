#include "util.h"

/* lib.h: a C library's API, declared in the project's config as calling
 * its callback back without the GIL */
typedef void (*lib_callback)(void *ctx);
void lib_register_callback(lib_callback cb, void *ctx);

static void on_data_configured(void *ctx) {
  PyObject *o = (PyObject *)ctx;
  Py_DECREF(o);
}

void on_data_annotated(void *ctx) {
  PyErr_SetString(PyExc_RuntimeError, "from a library thread");
}

static void on_data_correct(void *ctx) {
  PyGILState_STATE st = PyGILState_Ensure();
  Py_DECREF((PyObject *)ctx);
  PyGILState_Release(st);
}

void install(PyObject *o) {
  lib_register_callback(on_data_configured, o);
  lib_register_callback(on_data_correct, o);
  lib_register_callback(on_data_annotated, o);
}
