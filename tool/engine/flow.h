/* flow.h: the path-sensitive engine. It walks a function's graph (ir.h)
 * with an abstract state — the GIL (held / released / not yet known /
 * lost track), where the saved thread state went, open PyGILState_Ensure
 * handles and critical sections, the values of tracked locals and the truth
 * of repeated conditions — merging identical states per block (an exploded
 * graph, bounded). The same walk computes a function's summary for its
 * callers and, in report mode, calls the rules at each situation. */
#ifndef GILCHECK_FLOW_H
#define GILCHECK_FLOW_H
#include <stdbool.h>
#include <stdio.h>
#include "diag.h"
#include "ir.h"
#include "rules.h"

typedef enum pre_kind { PRE_NONE = 0, PRE_HELD, PRE_RELEASED, PRE_CONFLICT } pre_kind;
typedef enum eff_kind { EFF_NONE = 0, EFF_RELEASES, EFF_ACQUIRES, EFF_UNKNOWN } eff_kind;

/* What callers need to know about a function. */
typedef struct summary {
  uint8_t pre;           /* pre_kind: GIL needed at entry */
  uint8_t effect;        /* eff_kind: what it leaves behind */
  bool noreturn;         /* no path returns */
  uint8_t eff_zero, eff_nonzero; /* when effect is EFF_UNKNOWN overall but exact by what it
                                    returns (attach and return 1, or return 0): eff_kind + 1, 0 none */
  gc_loc wit_loc;        /* why 'pre' (or 'effect'): the API use, release or acquire */
  const char *wit_what;  /* its name: "PyErr_SetString", "Py_BEGIN_ALLOW_THREADS" */
  int wit_fn;            /* the witness is a call to this function (chains), or -1 */
} summary;

/* The program as the engine sees it: functions and their summaries. */
typedef struct flow_program {
  ir_func **funcs;
  int nfuncs;
  summary *sums;
  uint8_t *entry;        /* entry_kind per function */
  const ir_entry_hint **entry_hint; /* why, per function, or NULL */
  bool rules[R_COUNT];
  bool verbose;
} flow_program;

/* Computes fn's summary from the current summaries of its callees.
 * Returns true when it changed. */
bool flow_summarize(flow_program *p, int fn);

/* Walks fn reporting findings into out. */
void flow_report(flow_program *p, int fn, gc_findings *out);

/* Prints fn's graph and the states reached at each block (--dump-cfg). */
void flow_dump(flow_program *p, int fn, FILE *out);

/* ---- for rules: the situation at hand and ways to explain it ---- */

typedef struct flow_ctx flow_ctx;

/* Starts a finding of rule r at loc (NULL when the rule is disabled or the
 * place was already reported). */
gc_finding *flow_finding(flow_ctx *c, rule_id r, gc_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "the GIL was released here by 'Py_BEGIN_ALLOW_THREADS'" and, where the
 * function was entered without it, why. */
void flow_note_release(flow_ctx *c, gc_finding *f);
/* Where the GIL was released and the branches that decide the path, in
 * the order they happen. */
void flow_note_release_path(flow_ctx *c, gc_finding *f);
/* The branches that decide the path since an earlier event (an Ensure, a
 * thread state's creation), for findings at an exit. */
void flow_note_branches_since(flow_ctx *c, gc_finding *f, int event_id);
/* Walks a callee's summary chain down to the API use that makes it need
 * the GIL. */
void flow_note_chain(flow_ctx *c, gc_finding *f, int callee_fn);
/* The place an earlier event happened (an acquire, an Ensure...). */
void flow_note_event(flow_ctx *c, gc_finding *f, int event_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const ir_event *flow_event(flow_ctx *c, int event_id);
const ir_func *flow_func(flow_ctx *c);
/* The function's entry state comes from a gilcheck annotation, not from a
 * method table, slot or thread creator. */
bool flow_entry_is_annotation(flow_ctx *c);
const char *flow_callee_name(flow_ctx *c, int fn);

/* Rules, one file each under rules/. */
void rule_api_without_gil(flow_ctx *c, const ir_event *e, int callee_fn);
void rule_unbalanced_release_leave(flow_ctx *c, const ir_event *e);
void rule_unbalanced_release_exit(flow_ctx *c, gc_loc loc, bool lost, bool entry_held);
void rule_annotation_mismatch(flow_ctx *c, gc_loc loc, const char *annotation, const char *how);
void rule_double_release(flow_ctx *c, const ir_event *e, int callee_fn);
void rule_double_acquire(flow_ctx *c, const ir_event *e, int callee_fn, int acq_event);
enum gilstate_problem { GS_NOT_RELEASED, GS_OUT_OF_ORDER, GS_RELEASED_TWICE };
void rule_gilstate_unbalanced(flow_ctx *c, enum gilstate_problem p, gc_loc loc, const char *var,
                              int ensure_event);
void rule_critical_section_leave(flow_ctx *c, const ir_event *e, const ir_region *r);
void rule_critical_section_exit(flow_ctx *c, gc_loc loc, int begin_event);
void rule_blocking_with_gil(flow_ctx *c, const ir_event *e);
enum lifecycle_problem {
  LC_DELETE_BEFORE_CLEAR, LC_DELETE_CURRENT, LC_USE_AFTER_DELETE, LC_DOUBLE_DELETE, LC_LEAK,
  LC_CLEAR_WITHOUT_GIL, LC_END_NOT_CURRENT, LC_END_WITHOUT_GIL, LC_NOT_CURRENT_DELETE_CURRENT,
};
void rule_tstate_lifecycle(flow_ctx *c, enum lifecycle_problem p, gc_loc loc, const char *what,
                           const char *var, const int *history, int nhistory);
void rule_interp_lifecycle(flow_ctx *c, enum lifecycle_problem p, gc_loc loc, const char *what,
                           const char *var, const int *history, int nhistory);

#endif
