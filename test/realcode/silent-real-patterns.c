// Patterns from real extensions that gilcheck handles correctly today and
// must keep silent on (regression guards). Each is reduced, in new code, from:
//
// - psycopg2 (psycopg/pqpath.c, pq_*_locked): helpers that take the caller's
//   `PyThreadState **` and briefly re-attach with PyEval_RestoreThread(*ts) to
//   raise, then detach with *ts = PyEval_SaveThread(); called from inside a
//   Py_BEGIN_ALLOW_THREADS region with &_save.
// - python-ldap (Modules/pythonldap.h, LDAP_BEGIN/END_ALLOW_THREADS): the
//   saved thread state kept in a field of the object, with a fatal error if a
//   save is already pending.
// - apsw (src/util.c, the *_CALL macros): a do { } while (0) macro that
//   releases around a library call and a mutex, and records an error message
//   through a helper that takes the GIL itself with PyGILState_Ensure.
// - python-zstandard (c-ext/compressor.c): a released region holding a whole
//   loop with `continue`.
// - Pillow (src/_imaging.c, ImagingSectionEnter/Leave): a cookie-based helper
//   pair that saves into *cookie and restores from it.
//
// RUN: %gilcheck --verify %s -- %pyinc
// expected-no-diagnostics
#include <Python.h>
#include <pthread.h>

extern int db_exec(void *db, const char *sql);
extern const char *db_errmsg(void *db);

typedef struct {
  PyObject_HEAD
  void *db;
  pthread_mutex_t lock;
  PyThreadState *pending_save;
} Conn;

/* psycopg2 shape: runs released, raises with the GIL briefly re-attached. */
static int exec_locked(Conn *c, const char *sql, PyThreadState **ts) {
  if (db_exec(c->db, sql) != 0) {
    PyEval_RestoreThread(*ts);
    PyErr_SetString(PyExc_RuntimeError, db_errmsg(c->db));
    *ts = PyEval_SaveThread();
    return -1;
  }
  return 0;
}

static PyObject *ok_commit(PyObject *self, PyObject *unused) {
  Conn *c = (Conn *)self;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&c->lock);
  rc = exec_locked(c, "COMMIT", &_save);
  pthread_mutex_unlock(&c->lock);
  Py_END_ALLOW_THREADS
  if (rc < 0)
    return NULL;
  Py_RETURN_NONE;
}

/* python-ldap shape. */
#define CONN_BEGIN(c)                                 \
  {                                                   \
    Conn *c_ = (c);                                   \
    if (c_->pending_save != NULL)                     \
      Py_FatalError("thread state saved twice");      \
    c_->pending_save = PyEval_SaveThread();           \
  }
#define CONN_END(c)                                   \
  {                                                   \
    Conn *c_ = (c);                                   \
    PyThreadState *s_ = c_->pending_save;             \
    c_->pending_save = NULL;                          \
    PyEval_RestoreThread(s_);                         \
  }

static PyObject *ok_exec_field(PyObject *self, PyObject *arg) {
  Conn *c = (Conn *)self;
  const char *sql = PyUnicode_AsUTF8(arg);
  int rc;
  if (sql == NULL)
    return NULL;
  CONN_BEGIN(c);
  rc = db_exec(c->db, sql);
  CONN_END(c);
  if (rc != 0) {
    PyErr_SetString(PyExc_RuntimeError, db_errmsg(c->db));
    return NULL;
  }
  Py_RETURN_NONE;
}

/* apsw shape. */
static PyObject *last_errors;

static void remember_error(const char *msg) {
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *v = PyUnicode_FromString(msg);
  if (v != NULL) {
    PyList_Append(last_errors, v);
    Py_DECREF(v);
  }
  PyGILState_Release(g);
}

#define CALL_RELEASED(c, x)                 \
  do {                                      \
    Py_BEGIN_ALLOW_THREADS {                \
      pthread_mutex_lock(&(c)->lock);       \
      x;                                    \
      if (rc != 0)                          \
        remember_error(db_errmsg((c)->db)); \
      pthread_mutex_unlock(&(c)->lock);     \
    }                                       \
    Py_END_ALLOW_THREADS;                   \
  } while (0)

static PyObject *ok_exec_macro(PyObject *self, PyObject *unused) {
  Conn *c = (Conn *)self;
  int rc;
  CALL_RELEASED(c, rc = db_exec(c->db, "VACUUM"));
  return PyLong_FromLong(rc);
}

/* python-zstandard shape. */
extern void work_on(size_t i);

static PyObject *ok_loop_in_region(PyObject *self, PyObject *arg) {
  Py_ssize_t n = PyLong_AsSsize_t(arg);
  Py_ssize_t i;
  if (n < 0)
    return NULL;
  Py_BEGIN_ALLOW_THREADS
  for (i = 0; i < n; i++) {
    if (i % 2)
      continue;
    work_on((size_t)i);
  }
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

/* Pillow shape. */
typedef PyThreadState *SectionCookie;

void section_enter(SectionCookie *cookie) {
  *cookie = PyEval_SaveThread();
}

void section_leave(SectionCookie *cookie) {
  PyEval_RestoreThread(*cookie);
}

static PyObject *ok_section(PyObject *self, PyObject *arg) {
  SectionCookie cookie;
  Py_ssize_t n = PyLong_AsSsize_t(arg);
  if (n < 0)
    return NULL;
  section_enter(&cookie);
  work_on((size_t)n);
  section_leave(&cookie);
  return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"commit", ok_commit, METH_NOARGS, NULL},
    {"exec_field", ok_exec_field, METH_O, NULL},
    {"exec_macro", ok_exec_macro, METH_NOARGS, NULL},
    {"loop", ok_loop_in_region, METH_O, NULL},
    {"section", ok_section, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
