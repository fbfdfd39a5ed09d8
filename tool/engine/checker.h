/* checker.h: the interface between the engine and the rules, in the manner
 * of the Clang Static Analyzer's checkers.
 *
 * The engine models the program: the GIL, thread-state, interpreter and
 * Ensure-handle typestates, critical sections, paths and summaries. As it
 * walks a path it publishes events; each rule (one file in rules/)
 * subscribes to the events it needs with ON(...) rows in rules/rules.def,
 * asks the state read-only questions, decides, and reports with its notes.
 * A rule never changes the state: what follows a mistake (one finding, not
 * a cascade) is the engine's modelling.
 *
 * A new rule is a file in rules/ with its callbacks, its rows in rules.def,
 * its page docs/rules/<id>.md and its tests; nothing in the engine. */
#ifndef GILCHECK_CHECKER_H
#define GILCHECK_CHECKER_H
#include <stdbool.h>
#include <stddef.h>
#include "api.h"
#include "diag.h"
#include "engine.h"
#include "ir.h"
#include "rules.h"
#include "state.h"

typedef struct check_ctx check_ctx;

typedef enum check_event_kind {
  CE_PRE_CALL,       /* a call, before its effect (the state is the one before) */
  CE_POST_CALL,      /* the same call, after its effect */
  CE_API_USE,        /* something that needs the GIL: a C-API call, an object-internals
                        macro, a call to a function whose summary needs it; the state
                        before it. Published whatever the state (rules ask) */
  CE_RELEASE,        /* the GIL is about to be released (state before) */
  CE_ACQUIRE,        /* the GIL is about to be acquired (state before) */
  CE_LEAVE_REGION,   /* a return, goto, break or continue leaves a compound statement
                        opened by a macro (a released region, a critical section) */
  CE_CS_BEGIN,       /* a critical section begins (state before) */
  CE_CS_END,         /* a critical section ends (state before) */
  CE_BRANCH,         /* an edge is taken (the state after the condition's facts) */
  CE_EXIT,           /* a return: the state as the function leaves */
  CE_END_FUNCTION,   /* every path of the function has been walked */
  CE_GLOBAL_WRITE,   /* a variable of static storage is written (EV_GLOBAL, state before) */
  CE_GLOBAL_READ,    /* its value is read */
  CE_COUNT
} check_event_kind;

typedef struct check_event {
  check_event_kind kind;
  const ir_event *ev;      /* the event of the graph (call, macro, leave), or NULL */
  int ev_id;               /* its id (for notes), or NO_EVENT */
  api_effect fx;           /* the call's built-in effect (FX_NONE for others) */
  int callee_fn;           /* the project function called or whose summary acts, or -1 */
  bool counts;             /* CE_ACQUIRE: an acquire that makes a second one a mistake
                              (not PyThreadState_Swap) */
  const ir_block *block;   /* CE_EXIT: the block that returns */
  const ir_cond *cond;     /* CE_BRANCH: the condition, or NULL */
  bool sense;              /* CE_BRANCH: the edge taken when the condition is this */
  const ir_region *region; /* CE_LEAVE_REGION */
} check_event;

typedef void (*check_fn)(check_ctx *c, const check_event *e);

/* ---- questions about the state at the event (read-only) ---- */

const gstate *check_state(check_ctx *c);
const gwhere *check_where(check_ctx *c);
const ir_func *check_function(check_ctx *c);
const engine_program *check_program(check_ctx *c);
/* How the function is entered: ENTRY_HELD (method tables, slots, PyInit_,
 * annotations), ENTRY_RELEASED (thread start routines, callbacks) or
 * ENTRY_UNKNOWN (inferred); and why, or NULL. */
uint8_t check_entry_kind(check_ctx *c);
const entry_reason *check_entry_hint(check_ctx *c);
/* The function was entered without the GIL: its entry says so (released,
 * after finalization, a signal handler), or this path found that it needs
 * it released. */
bool check_entered_released(check_ctx *c);
const summary *check_summary(check_ctx *c, int fn);
const char *check_function_name(check_ctx *c, int fn);
const ir_event *check_event_at(check_ctx *c, int event_id);
const char *check_var_name(check_ctx *c, int var);
/* The slot of the Ensure stack that PyGILState_Release(VAR) gives back (the
 * newest for a handle not in a tracked local, VAR -1), or -1 for none. */
int check_ensure_slot(check_ctx *c, int var);
/* The name a user knows an event by: the macro written, else the callee. */
const char *check_event_name(const ir_event *e);

/* ---- reporting ---- */

/* Starts a finding of the rule whose callback runs, at LOC; NULL when the
 * place was already reported by this rule or the path is approximate. */
gc_finding *check_report(check_ctx *c, gc_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A finding kept aside: it is reported only if the rule publishes its
 * drafts before the walk ends (for decisions that need every path). */
gc_finding *check_draft(check_ctx *c, gc_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_publish_drafts(check_ctx *c);
void check_publish_draft(check_ctx *c, int i);      /* one only; the rest are dropped */
int check_ndrafts(check_ctx *c);
gc_finding *check_draft_at(check_ctx *c, int i);   /* valid until the next draft */
/* Zeroed memory of SIZE bytes for the rule whose callback runs, the same
 * for the whole walk of one function. */
void *check_scratch(check_ctx *c, size_t size);

/* ---- notes that explain ---- */

/* "the GIL is released here by 'Py_BEGIN_ALLOW_THREADS'", or why the
 * function runs without it. */
void check_note_release(check_ctx *c, gc_finding *f);
/* Where the GIL was released and the branches that decide the path, in the
 * order they happen. */
void check_note_release_path(check_ctx *c, gc_finding *f);
/* The branches that decide the path since an earlier event. */
void check_note_branches_since(check_ctx *c, gc_finding *f, int event_id);
/* A callee's summary chain down to the API use that makes it need the GIL. */
void check_note_chain(check_ctx *c, gc_finding *f, int callee_fn);
/* A note at an earlier event. */
void check_note_event(check_ctx *c, gc_finding *f, int event_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* What happened to a local thread state or interpreter: "'ts' created by
 * 'PyThreadState_New' here", ... */
void check_note_history(check_ctx *c, gc_finding *f, int var);
/* The history, then the branches since its last event: why the local is
 * still owned at this exit. */
void check_note_history_and_path(check_ctx *c, gc_finding *f, int var);

/* ---- free threading (the ft-* rules; tool/engine/ft.c) ---- */

/* Is the function reached from Python (a method table, a type slot, a
 * getter; through calls), or only from module initialisation (PyInit_,
 * Py_mod_exec, and module teardown)? */
bool check_python_reachable(check_ctx *c);
bool check_init_only(check_ctx *c);
/* The caller through which Python reaches the function (it is in no
 * table itself), or -1. */
int check_python_caller(check_ctx *c);
/* Is the function (in no table itself) called only with a lock held or a
 * critical section open, on every path of its callers seen? */
bool check_called_locked(check_ctx *c);
/* Does an open critical section lock the object spelled TEXT (casts and
 * parentheses aside), a member of it ('self' locks 'self->dict'), or the
 * tracked local VAR? A section whose object is not known locks anything. */
bool check_cs_locks(check_ctx *c, const char *text, int var);
/* The object the open critical section I locks, as written, or NULL. */
const char *check_cs_object(check_ctx *c, int i);

/* A module definition as the free-threading rules see it. */
typedef struct check_module {
  const char *name;        /* the PyModuleDef variable */
  gc_loc loc;
  const char *slots;       /* its PyModuleDef_Slot array, or NULL */
  gc_loc slots_loc;
  uint8_t decl;            /* gil_decl: what it says of the GIL, wherever it says it */
  bool single_phase;       /* created by PyModule_Create (say PyUnstable_Module_SetGIL) */
  int creator;             /* the function that creates it for the import (a PyInit_, or one it
                              calls), or -1 */
  const ir_event *created_at;  /* where, in that function */
} check_module;

/* The modules the function creates for an import; at most MAX. */
int check_modules_created(check_ctx *c, const check_module **out, int max);
/* Does some module of the program declare Py_MOD_GIL_NOT_USED? */
bool check_program_declares_free_threading(check_ctx *c);

/* Another use of a global, elsewhere in the program. */
typedef struct check_access {
  int fn;                  /* the function */
  const ir_event *e;       /* its EV_GLOBAL */
} check_access;
/* Uses of the global KEY (EV_GLOBAL's callee_usr) in other functions:
 * writes first, then reads, one of each per function; at most MAX. Returns
 * how many. */
int check_global_uses(check_ctx *c, const char *key, check_access *out, int max);
/* A container spelled TEXT at the event EV_ID, held in a member (x->m), a
 * global, or as a call's result (F(...)): 1 when the program changes a
 * container held the same way somewhere (WHERE: one such change), 0 when
 * it never does (only its creator fills it), -1 when it is held otherwise
 * (a local, a parameter: not known). */
int check_container_changed(check_ctx *c, const char *text, int ev_id, check_access *where);
/* The container argument ARG of E is a local or a parameter that only ever
 * holds containers held in a member or a global nothing in the program
 * changes (fields = dtype->fields), or, for a parameter of a static
 * function, what every call passes is held so (ir_event.held). */
bool check_container_held_unchanged(check_ctx *c, const ir_event *e, int arg);
/* The branch on this path, in this function, taken because the variable
 * NAME was unset ('if (!cache)', 'if (cache == NULL)', 'cache || ...'): the
 * mark of lazy initialisation. Its condition, or NULL. */
const ir_cond *check_path_tested_unset(check_ctx *c, const char *name);

/* ---- the registry (rules/registry.c, from rules.def) ---- */

typedef struct check_subscription {
  rule_id rule;
  check_event_kind kind;
  check_fn fn;
} check_subscription;

extern const check_subscription check_subscriptions[];
extern const int check_nsubscriptions;

#endif
