/* before.c: the "registry" extension as it stands when its maintainer has
 * just declared Py_MOD_GIL_NOT_USED, before the port: four places that the
 * GIL made safe and free threading does not. gilcheck reports each BUG
 * (the declaration turns the ft-* rules on):
 *
 *     build/gilcheck example/free-threading/before.c -- $(python3.13-config --includes)
 *
 * after.c is the same module ported; undeclared.c is one that has not
 * declared anything yet. See docs/free-threading.md. Needs CPython 3.13's
 * headers (the strong-reference APIs, PyMutex).
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

static PyObject *defaults;   /* made on first use */

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
    /* BUG: another thread can replace the value and free it before the
     * Py_NewRef below [ft-borrowed-ref] */
    PyObject *value = PyDict_GetItem(st->table, key);
    if (value == NULL)
        Py_RETURN_NONE;
    return Py_NewRef(value);
}

static PyObject *
first(PyObject *module, PyObject *list)
{
    /* BUG: the caller's list can be emptied by another thread [ft-borrowed-ref] */
    PyObject *item = PyList_GetItem(list, 0);
    return Py_XNewRef(item);
}

static PyObject *
target(PyObject *module, PyObject *ref)
{
    /* BUG: the object can die on another thread at any moment [ft-borrowed-ref] */
    PyObject *obj = PyWeakref_GetObject(ref);
    return Py_XNewRef(obj);
}

static PyObject *
get_defaults(PyObject *module, PyObject *unused)
{
    if (defaults == NULL) {
        /* BUG: two threads can both find it NULL and both set it [ft-unsafe-global] */
        defaults = PyDict_New();
        if (defaults == NULL)
            return NULL;
    }
    return Py_NewRef(defaults);
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
