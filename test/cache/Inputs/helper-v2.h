/* helper.h, version 2: the helper needs the GIL */
static inline void helper_touch(PyObject *o) { Py_INCREF(o);    }
