/* spammodule.c: the "spam" extension module, a small but realistic CPython
 * extension with real GIL mistakes in it, for trying gilcheck on:
 *
 *     build/gilcheck example/spammodule.c
 *
 * Each intended mistake is marked with a comment that starts "BUG:" and
 * names the rule that reports it; everything else is meant to be right, and
 * a few functions show patterns that look wrong but are not (marked "OK:").
 *
 * What it offers Python:
 *   spam.system(command)        run a shell command, return its status
 *   spam.checksum(data)         a checksum of a bytes-like object
 *   spam.fill(buffer, byte)     fill a writable buffer with one byte value
 *   spam.copyfile(src, dst, progress=None)
 *   spam.call_later(callback, count, interval_ms)
 *                               call callback count times from a C thread
 *   spam.Reader(path)           .read(n), .seek(pos), .fileno()
 *   spam.Counter()              .add(n), .value: a counter with its own lock
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static PyObject *SpamError;

/* Raises RuntimeError(msg); returns -1 so callers can write
 * `return set_error("...")`. Uses the API, so it needs the GIL. */
static int set_error(const char *msg)
{
    PyErr_SetString(PyExc_RuntimeError, msg);
    return -1;
}

/* Plain C, no Python objects: fine with or without the GIL. */
static unsigned long adler32_bytes(const unsigned char *p, size_t n)
{
    unsigned long a = 1, b = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

/* ---- module functions ---------------------------------------------- */

/* spam.system(command) -> int, the example from "Extending and Embedding
 * the Python Interpreter", with the command run without the GIL. */
static PyObject *spam_system(PyObject *self, PyObject *args)
{
    const char *command;
    int sts;

    if (!PyArg_ParseTuple(args, "s", &command))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    sts = system(command);
    if (sts < 0)
        /* BUG: raises an exception while the GIL is released
         * [api-without-gil] */
        PyErr_SetString(SpamError, "system command failed");
    Py_END_ALLOW_THREADS
    if (sts < 0)
        return NULL;
    return PyLong_FromLong(sts);
}

/* spam.checksum(data) -> int. Releasing and taking back the GIL costs more
 * than summing a short buffer, so it only lets go for long ones. */
static PyObject *spam_checksum(PyObject *self, PyObject *args)
{
    Py_buffer view;
    PyThreadState *ts = NULL;
    Py_ssize_t n;
    unsigned long sum;

    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    n = view.len;
    /* OK: conditional release, same condition on both ends. */
    if (n > 1000)
        ts = PyEval_SaveThread();
    sum = adler32_bytes(view.buf, (size_t)n);
    if (n > 1000)
        PyEval_RestoreThread(ts);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(sum);
}

/* spam.fill(buffer, byte) -> None */
static PyObject *spam_fill(PyObject *self, PyObject *args)
{
    Py_buffer view;
    int value;
    int rc = 0;

    if (!PyArg_ParseTuple(args, "w*i", &view, &value))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (value < 0 || value > 255)
        /* BUG: set_error() calls PyErr_SetString, so calling it here uses
         * the API without the GIL [api-without-gil] */
        rc = set_error("fill value must be in range(256)");
    else
        memset(view.buf, value, (size_t)view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* spam.copyfile(src, dst, progress=None) -> int, the number of bytes
 * copied; progress(total) is called after each block. */
static PyObject *spam_copyfile(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"src", "dst", "progress", NULL};
    const char *src, *dst;
    PyObject *progress = Py_None;
    char buf[65536];
    int in, out, saved_errno = 0, failed = 0;
    ssize_t n;
    long long total = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ss|O", kwlist, &src, &dst, &progress))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    in = open(src, O_RDONLY);
    out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (in < 0 || out < 0) {
        saved_errno = errno;
        if (in >= 0)
            close(in);
        /* OK: takes the GIL back before leaving the region. */
        Py_BLOCK_THREADS
        errno = saved_errno;
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, in < 0 ? src : dst);
    }
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            saved_errno = errno;
            break;              /* OK: the loop is inside the region */
        }
        total += n;
        if (progress != Py_None) {
            PyObject *r;
            /* OK: the callback runs with the GIL held. */
            Py_BLOCK_THREADS
            r = PyObject_CallFunction(progress, "L", total);
            Py_XDECREF(r);
            Py_UNBLOCK_THREADS
            if (r == NULL) {
                failed = 1;
                break;
            }
        }
    }
    if (n < 0)
        saved_errno = errno;
    close(in);
    close(out);
    Py_END_ALLOW_THREADS
    if (failed)
        return NULL;
    if (saved_errno) {
        errno = saved_errno;
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, dst);
    }
    return PyLong_FromLongLong(total);
}

/* spam.call_later(): a C thread that calls back into Python. */
typedef struct {
    PyObject *callback;     /* a strong reference, dropped by the thread */
    long count;
    long interval_ms;
} ticker;

static void *ticker_main(void *arg)
{
    ticker *t = arg;
    PyGILState_STATE g;
    long i;

    for (i = 0; i < t->count; i++) {
        PyObject *r;

        usleep((useconds_t)t->interval_ms * 1000);
        g = PyGILState_Ensure();
        r = PyObject_CallFunction(t->callback, "l", i);
        if (r == NULL) {
            PyErr_Print();
            /* BUG: leaves the thread with the GIL still taken by
             * PyGILState_Ensure, so every other thread hangs
             * [gilstate-unbalanced] */
            return NULL;
        }
        Py_DECREF(r);
        PyGILState_Release(g);
    }
    g = PyGILState_Ensure();
    Py_DECREF(t->callback);
    PyGILState_Release(g);
    PyMem_RawFree(t);
    return NULL;
}

static PyObject *spam_call_later(PyObject *self, PyObject *args)
{
    PyObject *callback;
    long count, interval_ms;
    ticker *t;
    pthread_t thread;
    int err;

    if (!PyArg_ParseTuple(args, "Oll", &callback, &count, &interval_ms))
        return NULL;
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    if (count < 0 || interval_ms < 0) {
        set_error("count and interval_ms must not be negative");
        return NULL;
    }
    t = PyMem_RawMalloc(sizeof *t);
    if (t == NULL)
        return PyErr_NoMemory();
    Py_INCREF(callback);
    t->callback = callback;
    t->count = count;
    t->interval_ms = interval_ms;
    err = pthread_create(&thread, NULL, ticker_main, t);
    if (err != 0) {
        Py_DECREF(callback);
        PyMem_RawFree(t);
        errno = err;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    pthread_detach(thread);
    Py_RETURN_NONE;
}

/* ---- spam.Reader ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    int fd;
} ReaderObject;

static int Reader_init(ReaderObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", NULL};
    const char *path;
    int fd;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s", kwlist, &path))
        return -1;
    Py_BEGIN_ALLOW_THREADS
    fd = open(path, O_RDONLY);
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

static void Reader_dealloc(ReaderObject *self)
{
    if (self->fd >= 0) {
        Py_BEGIN_ALLOW_THREADS
        close(self->fd);
        Py_END_ALLOW_THREADS
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Reader_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    ReaderObject *self = (ReaderObject *)type->tp_alloc(type, 0);

    if (self != NULL)
        self->fd = -1;
    return (PyObject *)self;
}

/* Reader.read(n) -> bytes, at most n bytes; b"" at the end of the file. */
static PyObject *Reader_read(ReaderObject *self, PyObject *args)
{
    Py_ssize_t size;
    PyObject *result;
    char *buf;
    ssize_t got;

    if (!PyArg_ParseTuple(args, "n", &size))
        return NULL;
    if (self->fd < 0) {
        set_error("reader is not open");
        return NULL;
    }
    if (size < 0) {
        PyErr_SetString(PyExc_ValueError, "size must not be negative");
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        return NULL;
    buf = PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    if (size == 0)
        /* BUG: returns from inside Py_BEGIN_ALLOW_THREADS, so the GIL is
         * never taken back [unbalanced-release] */
        return result;
    got = read(self->fd, buf, (size_t)size);
    Py_END_ALLOW_THREADS
    if (got < 0) {
        Py_DECREF(result);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (got < size && _PyBytes_Resize(&result, got) < 0)
        return NULL;
    return result;
}

/* Reader.seek(pos) -> int, the new position. */
static PyObject *Reader_seek(ReaderObject *self, PyObject *args)
{
    long long pos;
    off_t where;

    if (!PyArg_ParseTuple(args, "L", &pos))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    where = lseek(self->fd, (off_t)pos, SEEK_SET);
    if (where < 0) {
        /* OK: Py_BLOCK_THREADS takes the GIL back before the return. */
        Py_BLOCK_THREADS
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLongLong((long long)where);
}

static PyObject *Reader_fileno(ReaderObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->fd);
}

static PyMethodDef Reader_methods[] = {
    {"read", (PyCFunction)Reader_read, METH_VARARGS, "read(n) -> bytes"},
    {"seek", (PyCFunction)Reader_seek, METH_VARARGS, "seek(pos) -> int"},
    {"fileno", (PyCFunction)Reader_fileno, METH_NOARGS, "fileno() -> int"},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spam.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Reader(path): reads a file without holding the GIL",
    .tp_new = Reader_new,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
};

/* ---- spam.Counter --------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock;
    long value;
} CounterObject;

static PyObject *Counter_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    CounterObject *self = (CounterObject *)type->tp_alloc(type, 0);

    if (self == NULL)
        return NULL;
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->value = 0;
    return (PyObject *)self;
}

static void Counter_dealloc(CounterObject *self)
{
    if (self->lock != NULL)
        PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Counter.add(n) -> int, the new value. */
static PyObject *Counter_add(CounterObject *self, PyObject *args)
{
    long n, value;

    if (!PyArg_ParseTuple(args, "l", &n))
        return NULL;
    /* OK: PyThread locks may be used without the GIL; wait for the lock
     * with the GIL released so its holder can make progress. */
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    self->value += n;
    value = self->value;
    PyThread_release_lock(self->lock);
    return PyLong_FromLong(value);
}

static PyObject *Counter_get_value(CounterObject *self, void *closure)
{
    return PyLong_FromLong(self->value);
}

static PyMethodDef Counter_methods[] = {
    {"add", (PyCFunction)Counter_add, METH_VARARGS, "add(n) -> int"},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef Counter_getset[] = {
    {"value", (getter)Counter_get_value, NULL, "the current value", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject CounterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spam.Counter",
    .tp_basicsize = sizeof(CounterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Counter(): a counter that threads may share",
    .tp_new = Counter_new,
    .tp_dealloc = (destructor)Counter_dealloc,
    .tp_methods = Counter_methods,
    .tp_getset = Counter_getset,
};

/* ---- the module ----------------------------------------------------- */

static PyMethodDef spam_methods[] = {
    {"system", spam_system, METH_VARARGS, "system(command) -> int"},
    {"checksum", spam_checksum, METH_VARARGS, "checksum(data) -> int"},
    {"fill", spam_fill, METH_VARARGS, "fill(buffer, byte) -> None"},
    {"copyfile", (PyCFunction)(void (*)(void))spam_copyfile, METH_VARARGS | METH_KEYWORDS,
     "copyfile(src, dst, progress=None) -> int"},
    {"call_later", spam_call_later, METH_VARARGS,
     "call_later(callback, count, interval_ms) -> None"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef spam_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "spam",
    .m_doc = "An example extension with GIL mistakes for gilcheck to find.",
    .m_size = -1,
    .m_methods = spam_methods,
};

static int add_type(PyObject *m, const char *name, PyTypeObject *type)
{
    if (PyType_Ready(type) < 0)
        return -1;
    Py_INCREF(type);
    if (PyModule_AddObject(m, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit_spam(void)
{
    PyObject *m = PyModule_Create(&spam_module);

    if (m == NULL)
        return NULL;
    SpamError = PyErr_NewException("spam.error", NULL, NULL);
    if (SpamError == NULL)
        goto fail;
    Py_INCREF(SpamError);
    if (PyModule_AddObject(m, "error", SpamError) < 0) {
        Py_DECREF(SpamError);
        goto fail;
    }
    if (add_type(m, "Reader", &ReaderType) < 0 || add_type(m, "Counter", &CounterType) < 0)
        goto fail;
    return m;
fail:
    Py_CLEAR(SpamError);
    Py_DECREF(m);
    return NULL;
}
