// ft-borrowed-ref and containers that are filled once and then only read,
// reached through a local copy or through a parameter of a static helper.
// Reduced, in new code, from:
//
// - numpy (multiarray/descriptor.c, _arraydescr_... field walks): a dtype's
//   fields dict, filled by whoever creates the dtype, read through
//   'fields = dtype->fields;'.
// - numpy (multiarray/hashdescr.c, _array_descr_walk_fields, and
//   legacy_dtype_implementation.c, can_cast_fields): a static helper whose
//   every caller passes such a dict ('ldescr->fields').
// - numpy (multiarray/convert_datatype.c, PyArray_GetCastFunc, and
//   usertypes.c, PyArray_RegisterCastFunc): a cast dict the registration
//   function creates and fills, read through a local copy.
// - pycurl (src/module.c, the *_constants dicts): a global dict created and
//   filled in PyInit_ through a helper's parameter, then only read.
// - psycopg2 (psycopg/microprotocols.c, psyco_adapters): a global dict
//   filled in module initialisation but also made a module attribute,
//   which Python code changes (extensions.register_adapter): not once-filled.
// - pycurl (src/mime.c, data_cb_owners): the mirror image, a list changed
//   only through a local copy ('owners = self->owners;'), which is still a
//   change of the container held as 'self->owners'.
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct {
  PyObject_HEAD
  PyObject *fields;     /* filled by the creator, then only read */
  PyObject *castdict;   /* created and filled by the registration function */
  PyObject *memo;       /* changed by a method */
  PyObject *owners;     /* changed by a method, through a local copy */
} Descr;

static PyObject *constants;   /* created and filled in PyInit_ */
static PyObject *registry;    /* created in PyInit_, changed by a method */
static PyObject *adapters;    /* filled in PyInit_ and made a module attribute */

static PyObject *ok_fields_through_local(PyObject *self, PyObject *key) {
  Descr *d = (Descr *)self;
  PyObject *fields = d->fields;
  PyObject *tup = PyDict_GetItemWithError(fields, key);
  if (tup == NULL)
    return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
  return Py_NewRef(tup);
}

static PyObject *bad_memo_through_local(PyObject *self, PyObject *key) {
  PyObject *memo = ((Descr *)self)->memo;
  PyObject *v = PyDict_GetItem(memo, key); // expected-warning{{'PyDict_GetItem' returns a borrowed reference from 'memo'}}
  return Py_XNewRef(v);
}

static PyObject *remember(PyObject *self, PyObject *key) {
  if (PyDict_SetItem(((Descr *)self)->memo, key, Py_None) < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* every caller passes 'x->fields': the parameter holds a once-filled dict */
static int walk_fields(PyObject *names, PyObject *fields, PyObject *out) {
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
    PyObject *v = PyDict_GetItem(fields, PyTuple_GET_ITEM(names, i));
    if (v == NULL || PyList_Append(out, v) < 0)
      return -1;
  }
  return 0;
}

static PyObject *ok_helper_given_fields(PyObject *self, PyObject *names) {
  PyObject *out = PyList_New(0);
  if (out == NULL)
    return NULL;
  if (walk_fields(names, ((Descr *)self)->fields, out) < 0)
    Py_CLEAR(out);
  return out;
}

static int same_fields(PyObject *f1, PyObject *f2) {
  Py_ssize_t pos = 0;
  PyObject *key, *v1;
  while (PyDict_Next(f1, &pos, &key, &v1))
    if (PyDict_GetItem(f2, key) != v1)
      return 0;
  return 1;
}

static PyObject *ok_compare_fields(PyObject *self, PyObject *other) {
  return PyBool_FromLong(same_fields(((Descr *)self)->fields, ((Descr *)other)->fields));
}

/* one caller passes a dict a method changes: reported */
static PyObject *lookup_in(PyObject *d, PyObject *key) {
  return Py_XNewRef(PyDict_GetItem(d, key)); // expected-warning{{'PyDict_GetItem' returns a borrowed reference from 'd'}}
}

static PyObject *ok_lookup_fields(PyObject *self, PyObject *key) { return lookup_in(((Descr *)self)->fields, key); }
static PyObject *bad_lookup_memo(PyObject *self, PyObject *key) { return lookup_in(((Descr *)self)->memo, key); }

/* the registration function creates and fills the cast dict */
static PyObject *register_cast(PyObject *self, PyObject *args) {
  Descr *d = (Descr *)self;
  PyObject *key, *func;
  if (!PyArg_ParseTuple(args, "OO", &key, &func))
    return NULL;
  if (d->castdict == NULL) {
    d->castdict = PyDict_New();
    if (d->castdict == NULL)
      return NULL;
  }
  if (PyDict_SetItem(d->castdict, key, func) < 0)
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *ok_castdict_through_local(PyObject *self, PyObject *key) {
  PyObject *obj = ((Descr *)self)->castdict;
  if (obj == NULL || !PyDict_Check(obj))
    Py_RETURN_NONE;
  return Py_XNewRef(PyDict_GetItem(obj, key));
}

/* filled in PyInit_ through a helper's parameter, then only read */
static int insert(PyObject *d, const char *name, long value) {
  PyObject *v = PyLong_FromLong(value);
  int r = v ? PyDict_SetItemString(d, name, v) : -1;
  Py_XDECREF(v);
  return r;
}

static PyObject *ok_constant_through_local(PyObject *self, PyObject *name) {
  PyObject *d = constants;
  return Py_XNewRef(PyDict_GetItem(d, name));
}

static PyObject *bad_registry_through_local(PyObject *self, PyObject *name) {
  PyObject *d = registry;
  return Py_XNewRef(PyDict_GetItem(d, name)); // expected-warning{{'PyDict_GetItem' returns a borrowed reference from 'd'}}
}

static PyObject *bad_adapter_through_local(PyObject *self, PyObject *type) {
  PyObject *d = adapters;
  return Py_XNewRef(PyDict_GetItem(d, type)); // expected-warning{{'PyDict_GetItem' returns a borrowed reference from 'd'}}
}

static PyObject *add(PyObject *self, PyObject *name) {
  if (insert(registry, "x", 1) < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* changed only through a local copy: the member read directly is reported */
static PyObject *add_owner(PyObject *self, PyObject *obj) {
  PyObject *owners = ((Descr *)self)->owners;
  if (PyList_Append(owners, obj) < 0) // expected-note{{a container held as 'd->owners' is changed here, in 'add_owner'}}
    return NULL;
  Py_RETURN_NONE;
}

static PyObject *bad_first_owner(PyObject *self, PyObject *unused) {
  Descr *d = (Descr *)self;
  if (PyList_GET_SIZE(d->owners) == 0)
    Py_RETURN_NONE;
  return Py_NewRef(PyList_GET_ITEM(d->owners, 0)); // expected-warning{{'PyList_GET_ITEM' returns a borrowed reference from 'd->owners'}}
}

static PyMethodDef methods[] = {
    {"ok_fields_through_local", ok_fields_through_local, METH_O, NULL},
    {"bad_memo_through_local", bad_memo_through_local, METH_O, NULL},
    {"remember", remember, METH_O, NULL},
    {"ok_helper_given_fields", ok_helper_given_fields, METH_O, NULL},
    {"ok_compare_fields", ok_compare_fields, METH_O, NULL},
    {"ok_lookup_fields", ok_lookup_fields, METH_O, NULL},
    {"bad_lookup_memo", bad_lookup_memo, METH_O, NULL},
    {"register_cast", register_cast, METH_VARARGS, NULL},
    {"ok_castdict_through_local", ok_castdict_through_local, METH_O, NULL},
    {"ok_constant_through_local", ok_constant_through_local, METH_O, NULL},
    {"bad_registry_through_local", bad_registry_through_local, METH_O, NULL},
    {"add", add, METH_O, NULL},
    {"bad_adapter_through_local", bad_adapter_through_local, METH_O, NULL},
    {"add_owner", add_owner, METH_O, NULL},
    {"bad_first_owner", bad_first_owner, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "descr", NULL, -1, methods};

PyMODINIT_FUNC PyInit_descr(void) {
  PyObject *m = PyModule_Create(&module);
  if (m == NULL)
    return NULL;
#ifdef Py_GIL_DISABLED
  PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
  constants = PyDict_New();
  registry = PyDict_New();
  adapters = PyDict_New();
  if (constants == NULL || registry == NULL || adapters == NULL || insert(constants, "A", 1) < 0 ||
      insert(constants, "B", 2) < 0 || insert(adapters, "int", 0) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  Py_INCREF(adapters);
  if (PyModule_AddObject(m, "adapters", adapters) < 0) {
    Py_DECREF(adapters);
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
