/* api.h: what gilcheck knows about the C API and the C library, looked up
 * by name. The knowledge itself is data in rules/api.def (X-macro rows);
 * this header only gives it types. */
#ifndef GILCHECK_API_H
#define GILCHECK_API_H
#include <stdbool.h>
#include <stdint.h>

/* What a call does to the GIL or to thread-state / interpreter values. */
typedef enum api_effect {
  FX_NONE = 0,
  FX_RELEASE,            /* PyEval_SaveThread: detach, GIL released; returns the thread state */
  FX_RELEASE_KEEP,       /* PyEval_ReleaseThread(ts), PyEval_ReleaseLock(): detach, the caller
                            keeps the thread state (it is the argument, or the caller's) */
  FX_ACQUIRE,            /* PyEval_RestoreThread(ts), PyEval_AcquireThread(ts): attach ts */
  FX_ENSURE,             /* PyGILState_Ensure, PyThreadState_Ensure: returns a handle */
  FX_ENSURE_RELEASE,     /* PyGILState_Release(handle), PyThreadState_Release */
  FX_TSTATE_NEW,         /* PyThreadState_New(interp) */
  FX_TSTATE_CLEAR,       /* PyThreadState_Clear(ts) */
  FX_TSTATE_DELETE,      /* PyThreadState_Delete(ts) */
  FX_TSTATE_DELETE_CURRENT, /* PyThreadState_DeleteCurrent(): detaches and releases */
  FX_TSTATE_SWAP,        /* PyThreadState_Swap(ts): attaches ts (NULL: detaches) */
  FX_TSTATE_GET,         /* PyThreadState_Get(): the current thread state */
  FX_INTERP_NEW,         /* PyInterpreterState_New() */
  FX_INTERP_CLEAR,       /* PyInterpreterState_Clear(interp) */
  FX_INTERP_DELETE,      /* PyInterpreterState_Delete(interp) */
  FX_NEW_INTERPRETER,    /* Py_NewInterpreter(): new interpreter, its thread state current */
  FX_END_INTERPRETER,    /* Py_EndInterpreter(ts): ts must be current; leaves none current */
  FX_FINALIZE,           /* Py_FinalizeEx, Py_Finalize, Py_RunMain */
  FX_INITIALIZE,         /* Py_Initialize*: returns with the main thread state attached */
  FX_CS_BEGIN,           /* PyCriticalSection_Begin and macros */
  FX_CS_END,             /* PyCriticalSection_End and macros */
  FX_NORETURN,           /* Py_FatalError, abort, exit, longjmp ... */
  FX_INTERP_GET,         /* PyInterpreterState_Get, PyThreadState_GetInterpreter: a live interpreter */
  FX_GIL_CHECK,          /* PyGILState_Check(): a question, true exactly when the GIL is held */
  FX_RUNTIME_ALIVE,      /* Py_IsInitialized(): a question, false once Python is finalized */
  FX_RUNTIME_ENDING,     /* Py_IsFinalizing(): a question, true while Python is finalizing */
} api_effect;

/* Does a call with this effect change the GIL, a thread state or an
 * interpreter (FX_GIL_CHECK only asks)? */
static inline bool api_effect_acts(api_effect fx) {
  return fx != FX_NONE && fx != FX_GIL_CHECK && fx != FX_RUNTIME_ALIVE && fx != FX_RUNTIME_ENDING;
}

/* Who calls a function, and so the state it starts in. */
typedef enum entry_kind {
  ENTRY_UNKNOWN = 0,      /* inferred from the body and from callers */
  ENTRY_HELD,             /* reached from Python: method tables, slots, PyInit_* */
  ENTRY_RELEASED,         /* a thread start routine, a callback run without the GIL */
  ENTRY_FINALIZED,        /* runs after Python is finalized (Py_AtExit, atexit) */
  ENTRY_SIGNAL,           /* a signal handler: only async-signal-safe calls belong */
  ENTRY_KIND_COUNT
} entry_kind;

typedef struct api_fact {
  const char *name;
  bool needs_gil;        /* calling it requires an attached thread state */
  api_effect effect;
  const char *since;     /* first CPython version, "" when older than 3.x markers */
} api_fact;

/* Object-internals macros (PyTuple_GET_ITEM ...) found by macro name,
 * whether or not they expand to a call in the CPython being used. */
typedef struct objmacro_fact {
  const char *name;
  bool needs_gil;        /* false for accessors the docs and idiom allow released */
} objmacro_fact;

/* A known blocking call: a missed chance to release the GIL. 'arg' >= 0 names
 * an argument that must equal 'value' for the call to block (-1: always). */
typedef struct blocking_fact {
  const char *name;
  int arg;
  const char *value;     /* a macro or literal spelling, e.g. "WAIT_LOCK" or "1" */
} blocking_fact;

/* A function that starts a thread: argument 'fn_arg' is the start routine,
 * which runs without the GIL. */
typedef struct thread_creator_fact {
  const char *name;
  int fn_arg;
} thread_creator_fact;

/* The runtime or the OS calls back the function passed as argument
 * 'fn_arg' (or a member of the struct passed there), in state 'entry'; 'why'
 * is the note ("registered with Py_AtExit here; ..."). */
typedef struct registrar_fact {
  const char *name;
  int fn_arg;
  uint8_t entry;         /* entry_kind */
  const char *why;
} registrar_fact;

/* A variable the runtime calls through (PyOS_InputHook): a function
 * assigned to it starts in state 'entry'. */
typedef struct hook_fact {
  const char *name;
  uint8_t entry;
  const char *why;
} hook_fact;

/* What a word in a registration's name, parameter or parameter type says a
 * C library does with a callback. */
typedef enum callback_word_kind {
  CB_NONE = 0,
  CB_KEPT,               /* kept for later: set, register, add, connect, hook, handler ... */
  CB_RUN,                /* run before the call returns: foreach, walk, sort, compare ... */
} callback_word_kind;

const api_fact *api_lookup(const char *name);
const registrar_fact *registrar_lookup(const char *name);
const hook_fact *hook_lookup(const char *name);
bool api_is_signal_safe(const char *name);        /* PyErr_SetInterrupt, Py_AddPendingCall ... */
bool api_runs_callbacks_before_return(const char *name);   /* qsort, bsearch, nftw ... */
callback_word_kind api_callback_word(const char *word);
const objmacro_fact *objmacro_lookup(const char *name);
const blocking_fact *blocking_lookup(const char *name);
/* The next alternative blocking condition for the same name (e.g.
 * PyThread_acquire_lock with "WAIT_LOCK", then with "1"), or NULL. */
const blocking_fact *blocking_lookup_next(const blocking_fact *f);
const thread_creator_fact *thread_creator_lookup(const char *name);
bool api_is_noreturn_libc(const char *name);   /* abort, exit, longjmp, ... */

/* Extra facts from a project's configuration (see config.c); they take
 * precedence over the built-in tables. Not thread-safe: call before analysis. */
void api_add_extra(const char *name, bool needs_gil, api_effect effect);
void api_add_blocking(const char *name);
/* A declared function that calls its argument 'fn_arg' back without the GIL
 * (a registrar, ENTRY_RELEASED). */
void api_add_callback_without_gil(const char *name, int fn_arg);

/* ---- free threading (the ft-* rules) ---- */

typedef enum ft_borrow_kind {
  FTB_CONTAINER = 0,     /* safe on the function's own new container, or inside a critical section on it */
  FTB_ALWAYS,            /* the object can die whatever the caller holds (weak references, sys.modules) */
  FTB_ITERATE,           /* iteration (PyDict_Next): only a critical section on the container makes it safe */
} ft_borrow_kind;

/* A function or macro returning a borrowed reference from a container
 * another thread can change; 'container_arg' is the container (-1: none
 * the caller holds), 'replacement' what to write instead. */
typedef struct ft_borrowed_fact {
  const char *name;
  int container_arg;
  ft_borrow_kind kind;
  const char *replacement;
} ft_borrowed_fact;

/* A lock that protects shared state: taken (acquire) or given back. */
typedef struct ft_lock_fact {
  const char *name;
  bool acquire;
} ft_lock_fact;

/* A call that creates a module from the PyModuleDef argument 'def_arg'
 * (phase 1: single-phase initialisation, 2: multi-phase). */
typedef struct ft_module_fact {
  const char *name;
  int def_arg;
  int phase;
} ft_module_fact;

const ft_borrowed_fact *ft_borrowed_lookup(const char *name);
bool ft_is_fresh(const char *name);            /* returns an object no other thread sees yet */
/* Changes the container given as the returned argument, or -1. */
int ft_mutator_arg(const char *name);
/* Hands the object given as the returned argument to Python code (a module
 * attribute ...), or -1. */
int ft_publish_arg(const char *name);
const ft_lock_fact *ft_lock_lookup(const char *name);
bool ft_is_atomic(const char *name);           /* an atomic operation (by prefix) */
const ft_module_fact *ft_module_lookup(const char *name);
bool ft_is_writer_macro(const char *name);     /* Py_CLEAR, Py_SETREF: assigns its first argument */
/* The argument of a critical section's begin that is the object it locks:
 * 0 for the macros (Py_BEGIN_CRITICAL_SECTION(op)), 1 for the functions
 * (PyCriticalSection_Begin(&cs, op)), -1 for the mutex forms and others. */
int ft_cs_object_arg(const char *name);
/* The lowering's rows (api.def's TABLE_TYPE ... NORETURN_TYPE_WORD). */
/* The first TABLE_TYPE row a type's spelling contains, or NULL. */
const char *api_table_type(const char *type_spelling);
bool api_is_type_slot(const char *member);        /* begins with a TYPE_SLOT_PREFIX */
bool api_is_module_init(const char *name);        /* begins with a MODULE_INIT_PREFIX */
bool api_is_builtin(const char *name);            /* begins with a BUILTIN_PREFIX */
bool api_type_says_noreturn(const char *type_spelling);   /* contains a NORETURN_TYPE_WORD */

#endif
