/* errors.c: the extension's error helper; it raises with the C API, so it
 * needs the GIL (crossfile.test, nvim.test). */
#include <Python.h>
#define NET_ERRORS_IMPL
#include "errors.h"

int raise_io_error(const char *what) {
  PyErr_SetString(PyExc_OSError, what);
  return -1;
}
