/* undeclared.c: the "registry" extension of before.c before its port
 * began: it does not say whether it needs the GIL, so a free-threaded
 * Python turns the GIL back on when it is imported. gilcheck is silent by
 * default (the ft-* rules are on where a module declares
 * Py_MOD_GIL_NOT_USED); with --checks=ft-* it reports the module and the
 * four places before.c shows:
 *
 *     build/gilcheck --checks=ft-* example/free-threading/undeclared.c -- $(python3.13-config --includes)
 *
 * See docs/free-threading.md.
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
    PyObject *value = PyDict_GetItem(st->table, key);
    if (value == NULL)
        Py_RETURN_NONE;
    return Py_NewRef(value);
}

static PyObject *
first(PyObject *module, PyObject *list)
{
    PyObject *item = PyList_GetItem(list, 0);
    return Py_XNewRef(item);
}

static PyObject *
target(PyObject *module, PyObject *ref)
{
    PyObject *obj = PyWeakref_GetObject(ref);
    return Py_XNewRef(obj);
}

static PyObject *
get_defaults(PyObject *module, PyObject *unused)
{
    if (defaults == NULL) {
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
