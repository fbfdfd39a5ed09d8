/* walk.h: the engine's own view of one walk of one function, shared by
 * engine.c (the walk and the transfer functions), notes.c (explaining a
 * path) and dump.c. Rules never see this: they have checker.h. */
#ifndef GILCHECK_WALK_H
#define GILCHECK_WALK_H
#include "arena.h"
#include "checker.h"
#include "engine.h"
#include "map.h"
#include "uthash_gc.h"
#include "state.h"

#define WALK_MAX_NODES 40000    /* exploded nodes, plus a few per block (walk_node_limit) */
#define WALK_NODES_PER_BLOCK 4
#define WALK_PER_BLOCK 48       /* precise states per block before facts are dropped */
#define REWALK_DEPTH 3          /* nested walks of a helper under its arguments (call_needs_gil) */
#define WALK_MAX_SPLIT 16       /* states one block may split into (Ensure on an unknown entry) */

typedef struct node {
  int32_t block;              /* the key: the block and the state, contiguous */
  gstate k;
  gwhere w;
  struct node *pred;
  int16_t edge_cond;          /* the condition of the edge that led here, -1 none */
  bool edge_sense;
  UT_hash_handle hh;
} node;

struct check_ctx {
  engine_program *p;
  int fi;
  ir_func *fn;
  arena A;
  bool report;
  gc_findings *out;
  int *ev_base;               /* event id = ev_base[block] + index in the block */
  int *ev_block;              /* the block of each event id */
  int nevents;
  node *nodes;                /* the exploded graph, by (block, state) */
  int nnodes;
  int *per_block;             /* states reached per block */
  uint32_t *live_v, *live_k;  /* tracked locals and conditions still read later, per block entry */
  uint32_t keep_v;            /* locals whose facts are kept to the end (owned thread states) */
  node **work;
  int nwork, capwork;
  node *cur;                  /* the node whose block is being walked (for path notes) */
  pstate *s;                  /* the state at the event being published, or NULL */
  rule_id rule;               /* the rule whose callback runs */
  bool gave_up;
  /* what the walk tells the summary */
  bool req_held, req_released;         /* some path ended needing the GIL held / released at entry */
  int req_held_ev, req_released_ev;
  int32_t req_wit_fn;
  bool used_at_entry;                   /* some path used the API before any GIL action */
  int used_at_entry_ev;
  int32_t used_at_entry_fn;
  int exits, ex_rel, ex_acq, ex_none, ex_top, approx_exits;
  int by_ret[3][4];           /* exits by returned constant (unknown, 0, non-zero) x effect */
  int first_rel_ev, first_acq_ev;
  /* reporting */
  pairmap seen;               /* (file, rule/line/col) reported once */
  void *scratch[R_COUNT];
  gc_findings drafts[R_COUNT];
  FILE *dump;
  uint8_t *obs;               /* the GIL states seen at each call and reference (summaries) */
  int64_t consts[VALUE_CONSTS];  /* the constants the function compares locals with */
  int nconsts;
  const struct arg_fact *args;   /* a walk for one call: what the caller knows of the arguments */
  int nargs;
  int rewalk_depth;              /* 0, or how many such walks this one is nested in */
  int ft_exits, ft_fresh_exits;  /* free threading: returns, and those returning a new container or NULL */
};

/* What a caller knows of an argument, for a walk of the callee under it. */
typedef struct arg_fact {
  uint8_t null;               /* nullness */
  bool has_value;
  bool value_eq;              /* equals value (else: does not) */
  int64_t value;
} arg_fact;

const ir_event *walk_event(check_ctx *c, int id, int *block);
int walk_node_limit(const check_ctx *c);

#endif
