/* engine.h: the modelling engine as the rest of the tool sees it.
 *
 * The engine walks a function's graph (ir.h) path by path with an abstract
 * state (state.h), merging identical states per block (an exploded graph,
 * bounded). The same walk computes the function's summary for its callers
 * and, when reporting, publishes events to the rules (checker.h), which
 * decide what is a finding. */
#ifndef GILCHECK_ENGINE_H
#define GILCHECK_ENGINE_H
#include <stdbool.h>
#include <stdio.h>
#include "diag.h"
#include "ir.h"
#include "map.h"
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

/* Why a function starts in the state it does, for notes: where it is
 * listed, registered or started, and for a callback of a C library, one call
 * into the library made with the GIL released. */
typedef struct entry_reason {
  gc_loc loc;
  const char *why;       /* "listed in the PyMethodDef table 'methods'", "registered with ..." */
  gc_loc loc2;           /* a second place, or none (file NULL) */
  const char *why2;
  bool annotation;       /* from a gilcheck annotation */
  bool sentence;         /* 'why' is a whole note ("registered with Py_AtExit here; ..."), not
                            what follows "'f' runs without the GIL: " */
} entry_reason;

/* The functions stored where a call through a pointer reads (a global, a
 * struct member), from every unit. */
typedef struct fn_set {
  const char *slot;
  int *fn;
  int n;
} fn_set;

/* What the summaries' walks saw at each call and function reference: which
 * GIL states reached it (OBS_* bits), per function, by event id. */
enum { OBS_AT_ENTRY = 1, OBS_HELD = 2, OBS_RELEASED = 4, OBS_UNKNOWN = 8 };

/* The program as the engine sees it: functions and their summaries. */
typedef struct engine_program {
  ir_func **funcs;
  int nfuncs;
  summary *sums;
  uint8_t *entry;        /* entry_kind per function */
  const entry_reason **entry_why; /* why, per function, or NULL */
  fn_set *sets;          /* targets of calls through pointers (ir_event.callee_set) */
  int nsets;
  uint8_t **obs;         /* per function, per event: OBS_* bits, set by engine_summarize */
  int *nobs;
  strmap rewalks;        /* a callee walked under a call's argument facts -> needs the GIL? */
  bool rules[R_COUNT];
  bool verbose;
} engine_program;

/* Computes function FN's summary from the current summaries of its callees.
 * Returns true when it changed. */
bool engine_summarize(engine_program *p, int fn);

/* Walks FN publishing events to the enabled rules; findings into OUT. */
void engine_report(engine_program *p, int fn, gc_findings *out);

/* Prints FN's graph and the whole state reached at each block (--dump-cfg). */
void engine_dump(engine_program *p, int fn, FILE *out);

/* Every function's summary, to a fixed point over the call graph (summary.c). */
void summarize_program(engine_program *p);

#endif
