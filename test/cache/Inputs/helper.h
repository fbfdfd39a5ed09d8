/* helper.h, version 1: the helper needs no GIL. */
static inline void helper_touch(PyObject *o) { (void)o;         }
