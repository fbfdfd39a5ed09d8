/* state.h: the engine's abstract state, one domain per concern.
 *
 * A path's state is two parts. The key (gstate) is what paths are merged
 * on: two paths reaching a block with equal keys go on as one. The places
 * (gwhere) say where things happened, for notes; they ride along with the
 * first path to reach a key.
 *
 *   domain          key                               places
 *   GIL             gil_dom: held / released / ...    the release, the acquire
 *   thread states   var_dom.ts (+ cleared), cur_ts    a history per local
 *   interpreters    var_dom.interp, var_dom.subinterp  a history per local
 *   Ensure handles  ens_dom: a stack                   each Ensure
 *   critical secs   cs_dom: a stack                    each begin
 *   a pending call  pend_dom                           the call
 *   values          var_dom.null, var_dom.owned
 *   correlations    corr_dom: truth of repeated conditions
 *
 * Every field has one meaning; each domain has its own enum and printer
 * (state.c), which --dump-cfg uses. */
#ifndef GILCHECK_STATE_H
#define GILCHECK_STATE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "ir.h"

#define STATE_MAX_ENSURE 4      /* open PyGILState_Ensure handles followed per path */
#define STATE_MAX_CS 4          /* open critical sections followed per path */
#define STATE_HISTORY 4         /* events remembered per local, for notes */
#define STATE_EARLY_USES 4      /* API uses remembered before the entry is known to be released */
#define NO_EVENT (-1)

/* ---- the GIL / attached thread state ---- */

typedef enum gil_state {
  GIL_ENTRY = 0,         /* not known yet: as the function was entered (inferred) */
  GIL_HELD,
  GIL_RELEASED,
  GIL_UNKNOWN,           /* lost track (after a mistake, or a helper that may do either) */
} gil_state;

typedef enum release_how {   /* GIL_RELEASED: how it came to be released */
  RH_NONE = 0,
  RH_SAVED_LOCAL,        /* PyEval_SaveThread, the thread state only in a local */
  RH_LOST,               /* PyEval_SaveThread, its result thrown away */
  RH_STORED,             /* the thread state is kept where others reach it */
  RH_CALLEE,             /* a callee released it (its summary) */
  RH_ENSURE_RELEASE,     /* PyGILState_Release gave back a state from before the Ensure */
  RH_ENTRY,              /* the function was entered without it */
  RH_DELETE_CURRENT,     /* PyThreadState_DeleteCurrent */
  RH_END_INTERPRETER,    /* Py_EndInterpreter: no thread state is attached */
  RH_FINALIZED,          /* the function runs after Python is finalized (Py_AtExit) */
  RH_SIGNAL,             /* the function is a signal handler: any thread, at any point */
} release_how;

typedef enum entry_need {    /* what this path has found the function needs at entry */
  NEED_NOTHING = 0,
  NEED_HELD,
  NEED_RELEASED,
} entry_need;

typedef struct gil_dom {
  uint8_t state;         /* gil_state */
  uint8_t how;           /* release_how, when GIL_RELEASED */
  uint8_t entry_need;    /* entry_need */
  uint8_t own_acquire;   /* GIL_HELD because this function took it when it was released */
  int16_t saved_var;     /* RH_SAVED_LOCAL: the tracked local holding the thread state, else -1 */
  int16_t region;        /* the macro region (Py_BEGIN_ALLOW_THREADS block) that released it, or -1 */
  uint8_t from_entry;    /* GIL_HELD only because an API use made the entry need it, and nothing
                            has released or taken it since: an acquire or an Ensure now says the
                            entry was released after all */
  uint8_t pad;
} gil_dom;

/* ---- per tracked local: value, thread state, interpreter, Ensure handle ---- */

typedef enum nullness { NULL_UNKNOWN = 0, NULL_YES, NULL_NO } nullness;

typedef enum ts_state {      /* a PyThreadState * held in a local */
  TS_NONE = 0,           /* not a thread state we follow */
  TS_SAVED,              /* from PyEval_SaveThread: detached, to be restored */
  TS_NEW,                /* PyThreadState_New: never current yet */
  TS_CURRENT,            /* attached */
  TS_DETACHED,           /* was current, swapped out or released */
  TS_DELETED,
} ts_state;

typedef enum interp_state {  /* a PyInterpreterState * held in a local */
  IS_NONE = 0,
  IS_NEW,                /* PyInterpreterState_New */
  IS_CLEARED,
  IS_DELETED,
} interp_state;

typedef enum ensure_handle { /* a PyGILState_STATE held in a local */
  EH_NONE = 0,
  EH_ACTIVE,             /* from PyGILState_Ensure, not released yet */
  EH_RELEASED,
} ensure_handle;

typedef struct var_dom {
  uint16_t null : 2;      /* nullness */
  uint16_t ts : 3;        /* ts_state */
  uint16_t cleared : 1;   /* a thread state PyThreadState_Clear'ed (it may still be current) */
  uint16_t interp : 2;    /* interp_state */
  uint16_t subinterp : 1; /* the thread state of a sub-interpreter from Py_NewInterpreter:
                             Py_EndInterpreter ends both */
  uint16_t owned : 1;     /* this function created it and must delete or end it */
  uint16_t ensure : 2;    /* ensure_handle */
  uint16_t value : 3;     /* value_fact: what is known of its integer value */
  uint16_t value_eq : 1;  /* 1: it equals that constant; 0: it does not */
} var_dom;

/* The integer constants a function compares its locals with (COND_CMP),
 * the first VALUE_CONSTS of them; var_dom.value names one (1..VALUE_CONSTS)
 * or says the value is a constant none of them is (VALUE_OTHER). */
#define VALUE_CONSTS 6
enum value_fact { VALUE_NONE = 0, VALUE_OTHER = 7 };

/* The current thread state, when a tracked local holds it. */
#define CUR_UNKNOWN (-1)        /* some thread state, or none, not in a tracked local */
#define CUR_NONE (-2)           /* no thread state is current */

/* ---- PyGILState_Ensure handles ---- */

typedef enum ensure_before {  /* the GIL before an Ensure: what its Release restores */
  EB_HELD = 0,
  EB_RELEASED,
  EB_UNKNOWN,
} ensure_before;

typedef struct ens_dom {
  uint8_t n;
  uint8_t escaped;                   /* bit i: handle i is returned or stored for another function */
  uint8_t before[STATE_MAX_ENSURE];  /* ensure_before */
  int16_t var[STATE_MAX_ENSURE];     /* the local holding the handle, or -1 */
} ens_dom;

/* ---- critical sections ---- */

typedef struct cs_dom {
  uint8_t n, pad;
  int16_t var[STATE_MAX_CS];         /* the tracked local locked, or -1 */
} cs_dom;

/* ---- a call whose effect its result tells, tested next ---- */

typedef struct pend_dom {
  int32_t fn;            /* the project function, or -1 */
} pend_dom;

/* ---- correlated conditions (ir_cond COND_KEY bits) ---- */

typedef struct corr_dom {
  uint32_t known, val;
} corr_dom;

/* The key part of a path's state. Compared with memcmp: always zero it
 * whole before filling it (state_init). */
typedef struct gstate {
  corr_dom corr;
  pend_dom pend;
  gil_dom gil;
  ens_dom ens;
  cs_dom cs;
  int16_t cur_ts;        /* tracked local that is the current thread state, CUR_UNKNOWN or CUR_NONE */
  uint8_t approx;        /* facts were dropped to bound the walk: nothing reported from here */
  uint8_t pad[3];
  var_dom v[IR_MAX_VARS];
} gstate;

/* No padding anywhere: states are hashed and compared as bytes. */
_Static_assert(sizeof(gstate) == sizeof(corr_dom) + sizeof(pend_dom) + sizeof(gil_dom) + sizeof(ens_dom) +
                                     sizeof(cs_dom) + sizeof(int16_t) + 4 * sizeof(uint8_t) +
                                     sizeof(var_dom) * IR_MAX_VARS &&
                   sizeof(gil_dom) == 10 && sizeof(ens_dom) == 2 + 3 * STATE_MAX_ENSURE &&
                   sizeof(cs_dom) == 2 + 2 * STATE_MAX_CS && sizeof(var_dom) == 2,
               "gstate has padding: hashing and memcmp would read it");

/* Where things happened on the path, as event ids (NO_EVENT: nowhere). */
typedef struct gwhere {
  int32_t release;       /* the event that released the GIL */
  int32_t acquire;       /* the event that last acquired it */
  int32_t gave_back;     /* a release that gave back a GIL this function had taken */
  int32_t pending;       /* the call of pend_dom */
  int32_t entry_use;     /* the API use that made the entry need the GIL */
  int32_t entry_evidence; /* the acquire or Ensure that says the entry was released */
  int32_t early[STATE_EARLY_USES];  /* API uses while gil.from_entry, in order */
  int32_t nearly;
  int32_t ensure[STATE_MAX_ENSURE];
  int32_t cs[STATE_MAX_CS];
  int32_t hist[IR_MAX_VARS][STATE_HISTORY];
} gwhere;

typedef struct pstate {  /* a path's state: both parts */
  gstate k;
  gwhere w;
} pstate;

void state_init(pstate *s, uint8_t entry_kind);
void state_history_add(gwhere *w, int var, int ev);
void state_history_reset(gwhere *w, int var, int ev);
/* The history of VAR (event ids, oldest first) into OUT; returns how many. */
int state_history(const gwhere *w, int var, int out[STATE_HISTORY]);

/* Printers, one per domain, for --dump-cfg. VAR_NAMES names the tracked
 * locals. */
const char *gil_state_name(gil_state s);
const char *release_how_name(release_how h);
const char *ts_state_name(ts_state s);
const char *interp_state_name(interp_state s);
void state_print(FILE *out, const gstate *k, const char *const *var_names, int nvars);

#endif
