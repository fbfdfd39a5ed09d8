/* cleanmodule.c: the "clean" extension module, written to have no GIL
 * mistakes: gilcheck must report nothing here.
 *
 *     build/gilcheck example/cleanmodule.c
 *
 * It collects the patterns that are right although a careless checker might
 * call them wrong:
 *   - Py_BLOCK_THREADS before a return inside a released region, and
 *     Py_BLOCK_THREADS ... Py_UNBLOCK_THREADS around a call into Python;
 *   - conditional release, with the same condition on both ends, and the
 *     NumPy form `if (ts) PyEval_RestoreThread(ts)`;
 *   - a pair of helpers that keep the saved thread state in their
 *     caller's struct, not in a local of their own;
 *   - a callback that takes the GIL itself with PyGILState_Ensure, called
 *     from a released region, and released on every path;
 *   - the raw allocator and PyThread locks without the GIL;
 *   - break and continue inside a released region;
 *   - a path out of a released region that ends in abort().
 *
 * What it offers Python:
 *   clean.sum_squares(seq)          sum of x*x over a sequence of floats
 *   clean.count_byte(data, byte)    how often a byte occurs in a buffer
 *   clean.find_line(path, prefix)   the first line of a file that starts so
 *   clean.Session(path)             .write(data), .sync(): a file that
 *                                   releases the GIL through helpers
 *   clean.run_in_thread(callback)   call callback once from a C thread
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- plain C helpers: no Python objects, fine without the GIL ------- */

static double sum_of_squares(const double *v, Py_ssize_t n)
{
    double s = 0.0;
    Py_ssize_t i;

    for (i = 0; i < n; i++)
        s += v[i] * v[i];
    return s;
}

/* Reports a message from C code that may run with or without the GIL: it
 * takes the GIL itself, so any caller may use it. */
static void report(const char *msg)
{
    PyGILState_STATE g = PyGILState_Ensure();

    PySys_WriteStderr("clean: %s\n", msg);
    PyGILState_Release(g);
}

/* ---- module functions ---------------------------------------------- */

/* clean.sum_squares(seq) -> float. The values are copied out with the GIL
 * held; only the arithmetic runs without it, and only for long inputs. */
static PyObject *clean_sum_squares(PyObject *self, PyObject *arg)
{
    PyObject *fast;
    double *v;
    double s;
    Py_ssize_t n, i;
    PyThreadState *ts = NULL;

    fast = PySequence_Fast(arg, "sum_squares() needs a sequence");
    if (fast == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(fast);
    v = PyMem_RawMalloc((size_t)(n ? n : 1) * sizeof *v);
    if (v == NULL) {
        Py_DECREF(fast);
        return PyErr_NoMemory();
    }
    for (i = 0; i < n; i++) {
        v[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
        if (v[i] == -1.0 && PyErr_Occurred()) {
            PyMem_RawFree(v);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    /* The NumPy form: ts stays NULL when the GIL is kept. */
    if (n > 10000)
        ts = PyEval_SaveThread();
    s = sum_of_squares(v, n);
    PyMem_RawFree(v);
    if (ts)
        PyEval_RestoreThread(ts);
    return PyFloat_FromDouble(s);
}

/* clean.count_byte(data, byte) -> int */
static PyObject *clean_count_byte(PyObject *self, PyObject *args)
{
    Py_buffer view;
    int byte;
    Py_ssize_t i, n, count = 0;
    const unsigned char *p;
    PyThreadState *ts = NULL;

    if (!PyArg_ParseTuple(args, "y*i", &view, &byte))
        return NULL;
    if (byte < 0 || byte > 255) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "byte must be in range(256)");
        return NULL;
    }
    p = view.buf;
    n = view.len;
    /* The same condition on both ends. */
    if (n > 4096)
        ts = PyEval_SaveThread();
    for (i = 0; i < n; i++) {
        if (p[i] != byte)
            continue;           /* the loop is inside the region */
        count++;
    }
    if (n > 4096)
        PyEval_RestoreThread(ts);
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(count);
}

/* clean.find_line(path, prefix) -> str or None */
static PyObject *clean_find_line(PyObject *self, PyObject *args)
{
    const char *path, *prefix;
    char line[4096];
    size_t plen;
    int found = 0;
    FILE *f;

    if (!PyArg_ParseTuple(args, "ss", &path, &prefix))
        return NULL;
    plen = strlen(prefix);
    Py_BEGIN_ALLOW_THREADS
    f = fopen(path, "r");
    if (f == NULL) {
        /* Take the GIL back before raising and returning. */
        Py_BLOCK_THREADS
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, prefix, plen) == 0) {
            found = 1;
            break;              /* the loop is inside the region */
        }
    }
    if (!found)
        report("no such line");     /* takes the GIL itself */
    fclose(f);
    Py_END_ALLOW_THREADS
    if (!found)
        Py_RETURN_NONE;
    line[strcspn(line, "\n")] = '\0';
    return PyUnicode_DecodeFSDefault(line);
}

/* clean.run_in_thread(callback) -> None: calls callback() once from a new
 * C thread, which takes the GIL with PyGILState_Ensure. */
static void *callback_thread(void *arg)
{
    PyObject *callback = arg;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallObject(callback, NULL);

    if (r == NULL)
        PyErr_Print();
    else
        Py_DECREF(r);
    Py_DECREF(callback);
    PyGILState_Release(g);
    return NULL;
}

static PyObject *clean_run_in_thread(PyObject *self, PyObject *callback)
{
    pthread_t thread;
    int err;

    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    Py_INCREF(callback);
    err = pthread_create(&thread, NULL, callback_thread, callback);
    if (err != 0) {
        Py_DECREF(callback);
        errno = err;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    /* Wait without the GIL: the thread needs it to run the callback. */
    Py_BEGIN_ALLOW_THREADS
    err = pthread_join(thread, NULL);
    if (err != 0)
        abort();                /* a thread we made cannot be unjoinable */
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* ---- clean.Session: releases the GIL through a pair of helpers ------ */

typedef struct {
    PyObject_HEAD
    int fd;
    PyThread_type_lock lock;    /* serialises writes from several threads */
} SessionObject;

/* Where a caller keeps its thread state while the GIL is released. */
typedef struct {
    PyThreadState *saved;
} gil_save;

/* Lets go of the GIL, keeping the thread state in *g for unlock's pair. */
static void unlock_gil(gil_save *g)
{
    g->saved = PyEval_SaveThread();
}

/* Takes the GIL back with the thread state that unlock_gil kept. */
static void lock_gil(gil_save *g)
{
    PyThreadState *ts = g->saved;

    g->saved = NULL;
    PyEval_RestoreThread(ts);
}

static PyObject *Session_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    SessionObject *self = (SessionObject *)type->tp_alloc(type, 0);

    if (self == NULL)
        return NULL;
    self->fd = -1;
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int Session_init(SessionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", NULL};
    const char *path;
    int fd;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s", kwlist, &path))
        return -1;
    Py_BEGIN_ALLOW_THREADS
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    Py_END_ALLOW_THREADS
    if (fd < 0) {
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
        return -1;
    }
    if (self->fd >= 0)
        close(self->fd);
    self->fd = fd;
    return 0;
}

static void Session_dealloc(SessionObject *self)
{
    if (self->fd >= 0)
        close(self->fd);
    if (self->lock != NULL)
        PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Session.write(data) -> int, the number of bytes written. */
static PyObject *Session_write(SessionObject *self, PyObject *args)
{
    Py_buffer view;
    gil_save g;
    ssize_t n;
    int saved_errno;

    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    if (self->fd < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "session is closed");
        return NULL;
    }
    unlock_gil(&g);
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    n = write(self->fd, view.buf, (size_t)view.len);
    saved_errno = errno;
    PyThread_release_lock(self->lock);
    lock_gil(&g);
    PyBuffer_Release(&view);
    if (n < 0) {
        errno = saved_errno;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromSsize_t(n);
}

/* Session.sync() -> None */
static PyObject *Session_sync(SessionObject *self, PyObject *unused)
{
    int rc;

    if (self->fd < 0)
        Py_RETURN_NONE;
    Py_BEGIN_ALLOW_THREADS
    rc = fsync(self->fd);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

static PyMethodDef Session_methods[] = {
    {"write", (PyCFunction)Session_write, METH_VARARGS, "write(data) -> int"},
    {"sync", (PyCFunction)Session_sync, METH_NOARGS, "sync() -> None"},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "clean.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Session(path): appends to a file without holding the GIL",
    .tp_new = Session_new,
    .tp_init = (initproc)Session_init,
    .tp_dealloc = (destructor)Session_dealloc,
    .tp_methods = Session_methods,
};

/* ---- the module ----------------------------------------------------- */

static PyMethodDef clean_methods[] = {
    {"sum_squares", clean_sum_squares, METH_O, "sum_squares(seq) -> float"},
    {"count_byte", clean_count_byte, METH_VARARGS, "count_byte(data, byte) -> int"},
    {"find_line", clean_find_line, METH_VARARGS, "find_line(path, prefix) -> str or None"},
    {"run_in_thread", clean_run_in_thread, METH_O, "run_in_thread(callback) -> None"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef clean_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "clean",
    .m_doc = "An example extension with no GIL mistakes.",
    .m_size = -1,
    .m_methods = clean_methods,
};

PyMODINIT_FUNC PyInit_clean(void)
{
    PyObject *m;

    if (PyType_Ready(&SessionType) < 0)
        return NULL;
    m = PyModule_Create(&clean_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&SessionType);
    if (PyModule_AddObject(m, "Session", (PyObject *)&SessionType) < 0) {
        Py_DECREF(&SessionType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
