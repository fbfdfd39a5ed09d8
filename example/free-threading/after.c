/* after.c: the "registry" extension of before.c, ported to free threading:
 * strong references instead of borrowed ones, and the shared dict made
 * under a PyMutex. gilcheck reports nothing:
 *
 *     build/gilcheck example/free-threading/after.c -- $(python3.13-config --includes)
 *
 * See docs/free-threading.md. Needs CPython 3.13's headers (or
 * pythoncapi-compat's header for older ones).
 *
 *   registry.register(key, value)   remember value under key
 *   registry.lookup(key)            the value, or None
 *   registry.first(list)            list[0]
 *   registry.target(ref)            what the weak reference points to
 *   registry.defaults()             a dict shared by every caller
 */
#include <Python.h>

typedef struct {
    PyObject *table;    /* dict: key -> value */
} registry_state;

static PyObject *defaults;   /* made on first use, under defaults_lock */
static PyMutex defaults_lock;

static PyObject *
register_(PyObject *module, PyObject *args)
{
    registry_state *st = PyModule_GetState(module);
    PyObject *key, *value;
    if (!PyArg_ParseTuple(args, "OO:register", &key, &value))
        return NULL;
    if (PyDict_SetItem(st->table, key, value) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
lookup(PyObject *module, PyObject *key)
{
    registry_state *st = PyModule_GetState(module);
    PyObject *value;
    int found = PyDict_GetItemRef(st->table, key, &value);   /* a strong reference */
    if (found < 0)
        return NULL;
    if (found == 0)
        Py_RETURN_NONE;
    return value;
}

static PyObject *
first(PyObject *module, PyObject *list)
{
    return PyList_GetItemRef(list, 0);   /* a strong reference, or NULL and IndexError */
}

static PyObject *
target(PyObject *module, PyObject *ref)
{
    PyObject *obj;
    if (PyWeakref_GetRef(ref, &obj) < 0)   /* a strong reference, or NULL if it is gone */
        return NULL;
    if (obj == NULL)
        Py_RETURN_NONE;
    return obj;
}

static PyObject *
get_defaults(PyObject *module, PyObject *unused)
{
    PyObject *result;
    PyMutex_Lock(&defaults_lock);
    if (defaults == NULL)
        defaults = PyDict_New();
    result = Py_XNewRef(defaults);
    PyMutex_Unlock(&defaults_lock);
    return result;   /* NULL: PyDict_New failed */
}

static PyMethodDef registry_methods[] = {
    {"register", register_, METH_VARARGS, NULL},
    {"lookup", lookup, METH_O, NULL},
    {"first", first, METH_O, NULL},
    {"target", target, METH_O, NULL},
    {"defaults", get_defaults, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static int
registry_exec(PyObject *module)
{
    registry_state *st = PyModule_GetState(module);
    st->table = PyDict_New();
    return st->table ? 0 : -1;
}

static PyModuleDef_Slot registry_slots[] = {
    {Py_mod_exec, registry_exec},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef registry_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "registry",
    .m_size = sizeof(registry_state),
    .m_methods = registry_methods,
    .m_slots = registry_slots,
};

PyMODINIT_FUNC
PyInit_registry(void)
{
    return PyModuleDef_Init(&registry_module);
}
