// Reduced from the shape of tp_clear / dealloc / tp_traverse functions in
// real extensions: rogerbinns/apsw (src/connection.c,
// Connection_internal_cleanup with 16 Py_CLEAR and Connection_tp_traverse
// with 15 Py_VISIT), pycurl (src/easy.c, util_curl_xdecref) and psycopg2
// (psycopg/column_type.c, column_setstate): a straight run of Py_CLEAR (each
// one a NULL test plus Py_DECREF's own branches) multiplies the paths. When
// first run (engine built from 4c57341) `gilcheck -v` printed "gives up on '...':
// more than 40000 states" after about 14 of them and the function went
// unchecked, so the bug below was MISSED; since d51f976 ("bound the walk per
// block with silent approximate states") it is reported. Keep it as a
// regression test. (Still given up on the real code as of d51f976:
// python-pillow src/encode.c PyImaging_LibTiffEncoderNew, a loop over TIFF
// tags with many branches and `continue`s, and the mrab-regex matcher.)
//
// RUN: %gilcheck --verify %s -- %pyinc
#include <Python.h>

typedef struct {
  PyObject_HEAD
  PyObject *hook0;
  PyObject *hook1;
  PyObject *hook2;
  PyObject *hook3;
  PyObject *hook4;
  PyObject *hook5;
  PyObject *hook6;
  PyObject *hook7;
  PyObject *hook8;
  PyObject *hook9;
  PyObject *hook10;
  PyObject *hook11;
  PyObject *hook12;
  PyObject *hook13;
  PyObject *hook14;
  PyObject *hook15;
} Conn;

static int bad_clear(Conn *self) {
  Py_CLEAR(self->hook0);
  Py_CLEAR(self->hook1);
  Py_CLEAR(self->hook2);
  Py_CLEAR(self->hook3);
  Py_CLEAR(self->hook4);
  Py_CLEAR(self->hook5);
  Py_CLEAR(self->hook6);
  Py_CLEAR(self->hook7);
  Py_CLEAR(self->hook8);
  Py_CLEAR(self->hook9);
  Py_CLEAR(self->hook10);
  Py_CLEAR(self->hook11);
  Py_CLEAR(self->hook12);
  Py_CLEAR(self->hook13);
  Py_CLEAR(self->hook14);
  Py_CLEAR(self->hook15);
  Py_BEGIN_ALLOW_THREADS
  PyErr_Clear(); // expected-warning{{call to 'PyErr_Clear' without holding the GIL}}
  Py_END_ALLOW_THREADS
  return 0;
}

static int ok_traverse(Conn *self, visitproc visit, void *arg) {
  Py_VISIT(self->hook0);
  Py_VISIT(self->hook1);
  Py_VISIT(self->hook2);
  Py_VISIT(self->hook3);
  Py_VISIT(self->hook4);
  Py_VISIT(self->hook5);
  Py_VISIT(self->hook6);
  Py_VISIT(self->hook7);
  Py_VISIT(self->hook8);
  Py_VISIT(self->hook9);
  Py_VISIT(self->hook10);
  Py_VISIT(self->hook11);
  Py_VISIT(self->hook12);
  Py_VISIT(self->hook13);
  Py_VISIT(self->hook14);
  Py_VISIT(self->hook15);
  return 0;
}

static PyTypeObject ConnType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "conn",
    .tp_basicsize = sizeof(Conn),
    .tp_traverse = (traverseproc)ok_traverse,
    .tp_clear = (inquiry)bad_clear,
};
