/* flow.c: the path-sensitive engine (see flow.h).
 *
 * A worklist over (block, state) pairs. A state has a key part, compared
 * and hashed to merge paths, and an aux part (where things happened, for
 * notes) that rides along with the first path to reach a key. Events are
 * applied in order; an Ensure on a function whose entry is unknown splits
 * the path in two. The walk is bounded: past node_limit() exploded nodes the
 * function is given up on, silently (and said under -v). */
#include "flow.h"
#include "xalloc.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "hash.h"
#include "log.h"

#define MAX_NODES 40000       /* exploded nodes, plus a few per block (node_limit) */
#define PER_BLOCK 48          /* precise states per block before facts are dropped */
#define MAX_ENS 4
#define MAX_CS 4
#define HIST 4

enum gil { G_ENTRY = 0, G_HELD, G_RELEASED, G_TOP };
enum req { REQ_NONE = 0, REQ_HELD, REQ_RELEASED };
enum rel {
  REL_NONE = 0,
  REL_LOCAL,     /* the saved thread state is only in a local */
  REL_LOST,      /* the saved thread state was thrown away */
  REL_STORED,    /* stored where a caller or another function can restore it */
  REL_CALL,      /* a callee released it (its summary) */
  REL_ENSURE,    /* PyGILState_Release gave it back: the state from before */
  REL_ENTRY,     /* the function was entered without it */
  REL_DELETED,   /* PyThreadState_DeleteCurrent */
  REL_ENDED,     /* Py_EndInterpreter */
};
enum nz { NZ_UNKNOWN = 0, NZ_ZERO, NZ_NONZERO };
enum ts {
  T_NONE = 0,
  T_SAVED,       /* from PyEval_SaveThread: detached, to be restored */
  T_NEW,         /* PyThreadState_New: not yet current */
  T_CURRENT,     /* attached */
  T_DETACHED,    /* was current, swapped out or released */
  T_CLEARED,
  T_DELETED,
  I_NEW,         /* PyInterpreterState_New */
  I_CLEARED,
  I_DELETED,
  E_ACTIVE,      /* PyGILState_Ensure handle */
  E_RELEASED,
};

typedef struct vkey { uint8_t nz, ts, own, sub; } vkey;

typedef struct skey {
  uint8_t gil, held_acq, entry_req, rel_kind;
  int16_t rel_var, rel_region;
  uint8_t nens, ncs;
  int16_t ens_var[MAX_ENS];
  uint8_t ens_was[MAX_ENS];   /* 0 held before, 1 released before, 2 unknown */
  int16_t cur_ts;             /* tracked var that is current, -1 unknown, -2 none */
  uint8_t approx;             /* facts dropped to bound the walk: report nothing from here */
  uint8_t pad;
  int32_t pend_fn;            /* a call whose GIL effect depends on its result, tested next; -1 */
  uint32_t kknown, kval;
  vkey v[IR_MAX_VARS];
} skey;

typedef struct saux {
  int32_t rel_ev, acq_ev;
  int32_t ens_ev[MAX_ENS];
  int32_t cs_ev[MAX_CS];
  int32_t hist[IR_MAX_VARS][HIST];
} saux;

typedef struct node {
  skey k;
  saux a;
  int block;
  struct node *pred;
  int16_t edge_cond;          /* cond of the edge that led here, -1 none */
  bool edge_sense;
  struct node *hnext;
} node;

struct flow_ctx {
  flow_program *p;
  int fi;
  ir_func *fn;
  arena A;
  bool report;
  gc_findings *out;
  int *ev_base;               /* event id = ev_base[block] + index */
  node **htab;
  size_t hcap;
  int *per_block;             /* states reached per block */
  uint32_t *live_v, *live_k;  /* tracked locals and conditions still read later, per block entry */
  uint32_t keep_v;            /* locals whose facts are kept to the end (owned thread states) */
  int nnodes;
  node **work;
  int nwork, capwork;
  node *cur;                  /* the node being processed (for path notes) */
  skey *sk;                   /* the state at the event being processed */
  saux *sa;
  bool gave_up;
  /* summary facts gathered over all paths */
  bool req_held, req_released;
  int req_held_ev, req_released_ev;
  int32_t req_wit_fn;
  int exits, ex_rel, ex_acq, ex_none, ex_top, approx_exits;
  int by_ret[3][4];           /* exits by returned constant (unknown, 0, non-zero) x effect */
  int first_rel_ev, first_acq_ev;
  /* reported places, to report each once */
  struct { int rule; unsigned line, col; const char *file; } *seen;
  int nseen, capseen;
  FILE *dump;
};

/* ---------- event ids ---------- */

static const ir_event *ev_at(flow_ctx *c, int id, int *block) {
  if (id < 0) return NULL;
  for (int b = 0; b < c->fn->nblocks; b++) {
    int base = c->ev_base[b];
    if (id >= base && id < base + c->fn->blocks[b].nev) {
      if (block) *block = b;
      return &c->fn->blocks[b].ev[id - base];
    }
  }
  return NULL;
}

const ir_event *flow_event(flow_ctx *c, int id) { return ev_at(c, id, NULL); }
const ir_func *flow_func(flow_ctx *c) { return c->fn; }
bool flow_entry_is_annotation(flow_ctx *c) {
  const ir_entry_hint *h = c->p->entry_hint[c->fi];
  return h && h->why && !strncmp(h->why, "annotated", 9);
}
const char *flow_callee_name(flow_ctx *c, int fn) {
  return fn >= 0 && fn < c->p->nfuncs ? c->p->funcs[fn]->name : "?";
}

/* ---------- reporting helpers for rules ---------- */

gc_finding *flow_finding(flow_ctx *c, rule_id r, gc_loc loc, const char *fmt, ...) {
  if (!c->report || !c->p->rules[r] || !loc.file) return NULL;
  if (c->sk && c->sk->approx) return NULL;
  for (int i = 0; i < c->nseen; i++)
    if (c->seen[i].rule == (int)r && c->seen[i].line == loc.line && c->seen[i].col == loc.col &&
        !strcmp(c->seen[i].file, loc.file))
      return NULL;
  if (c->nseen == c->capseen) {
    c->capseen = c->capseen ? c->capseen * 2 : 8;
    c->seen = xrealloc(c->seen, sizeof(*c->seen) * (size_t)c->capseen);
  }
  c->seen[c->nseen].rule = (int)r;
  c->seen[c->nseen].line = loc.line;
  c->seen[c->nseen].col = loc.col;
  c->seen[c->nseen].file = loc.file;
  c->nseen++;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return diag_add(c->out, rule_table[r].id, GC_SEV_WARNING, loc, c->fn->name, "%s", buf);
}

void flow_note_event(flow_ctx *c, gc_finding *f, int id, const char *fmt, ...) {
  const ir_event *e = ev_at(c, id, NULL);
  if (!f || !e) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  diag_note(f, e->loc, "%s", buf);
}

static const char *ev_name(const ir_event *e) {
  return e->macro ? e->macro : e->callee ? e->callee : "?";
}

void flow_note_release(flow_ctx *c, gc_finding *f) {
  if (!f) return;
  const skey *k = c->sk;
  if (k->rel_kind == REL_ENTRY) {
    const ir_entry_hint *h = c->p->entry_hint[c->fi];
    const ir_event *why = ev_at(c, c->req_released_ev, NULL);
    if (h) diag_note(f, h->loc, "'%s' runs without the GIL: %s", c->fn->name, h->why);
    else if (why && c->req_released)
      diag_note(f, why->loc, "'%s' is entered without the GIL: '%s' here needs it released",
                c->fn->name, ev_name(why));
    else diag_note(f, c->fn->loc, "'%s' runs without the GIL", c->fn->name);
    return;
  }
  const ir_event *e = ev_at(c, c->sa->rel_ev, NULL);
  if (!e) return;
  if (k->rel_kind == REL_ENSURE)
    diag_note(f, e->loc, "the GIL is released here by '%s', which restores the state from before "
              "'PyGILState_Ensure', when the GIL was not held", ev_name(e));
  else if (k->rel_kind == REL_CALL && e->kind == EV_CALL && e->callee_fn >= 0)
    diag_note(f, e->loc, "the GIL is released here by the call to '%s'", e->callee);
  else if (k->rel_kind == REL_DELETED)
    diag_note(f, e->loc, "the GIL is released here by '%s'", ev_name(e));
  else if (k->rel_kind == REL_ENDED)
    diag_note(f, e->loc, "no thread state is attached after '%s' here", ev_name(e));
  else
    diag_note(f, e->loc, "the GIL is released here by '%s'", ev_name(e));
}

/* Can block 'to' be reached from block 'from' without passing through
 * block 'avoid' (the branch being judged: going round a loop back into it
 * does not make the branch undecided)? */
static bool reaches(flow_ctx *c, int from, int to, int avoid) {
  if (from == to) return true;
  if (from == avoid) return false;
  int n = c->fn->nblocks;
  char *seen = xcalloc((size_t)n, 1);
  int *stack = xmalloc(sizeof(int) * (size_t)n);
  int sp = 0;
  bool found = false;
  stack[sp++] = from;
  seen[from] = 1;
  while (sp > 0 && !found) {
    const ir_block *b = &c->fn->blocks[stack[--sp]];
    for (int i = 0; i < b->nsucc; i++) {
      int t = b->succ[i].to;
      if (t == to) { found = true; break; }
      if (!seen[t] && t != avoid) { seen[t] = 1; stack[sp++] = t; }
    }
  }
  free(seen);
  free(stack);
  return found;
}

/* Does a block change the GIL or a thread state (so the branch into it matters)? */
static bool block_acts(flow_ctx *c, int block) {
  const ir_block *b = &c->fn->blocks[block];
  for (int i = 0; i < b->nev; i++) {
    const ir_event *e = &b->ev[i];
    if (e->kind != EV_CALL) continue;
    if (e->api && api_effect_acts(e->api->effect)) return true;
    if (e->callee_fn >= 0 && c->p->sums[e->callee_fn].effect != EFF_NONE) return true;
  }
  return false;
}

/* The branches that decide the path from 'stop' (a node where something
 * happened: a release, an Ensure) to the node at hand, nearest first; *first
 * tells whether the earliest one is the branch into 'stop' itself. */
typedef struct branch_notes { const ir_cond *cond[8]; bool sense[8]; int n; bool into_stop; } branch_notes;

static void collect_branches(flow_ctx *c, bool (*is_stop)(flow_ctx *, node *, int), int arg, branch_notes *out) {
  out->n = 0;
  out->into_stop = false;
  int target = c->cur ? c->cur->block : -1;
  bool acted = false;
  for (node *x = c->cur; x && x->pred && out->n < 8; x = x->pred) {
    bool stop = is_stop(c, x, arg);
    if (block_acts(c, x->block)) acted = true;
    const ir_block *pb = &c->fn->blocks[x->pred->block];
    if (x->edge_cond >= 0 && pb->nsucc > 1 && c->fn->conds[x->edge_cond].text) {
      bool other_reaches = false;
      for (int i = 0; i < pb->nsucc; i++)
        if (pb->succ[i].to != x->block && reaches(c, pb->succ[i].to, target, x->pred->block))
          other_reaches = true;
      /* A branch explains the path if the other way does not lead here, or
       * if the way taken changed the GIL before the next branch. The branch
       * into the stop node matters only when the other way leads here too
       * (a conditional release), not when it is an early return. */
      bool keep = stop ? other_reaches : (!other_reaches || acted);
      if (keep) {
        out->cond[out->n] = &c->fn->conds[x->edge_cond];
        out->sense[out->n] = x->edge_sense;
        out->n++;
        if (stop) out->into_stop = true;
      }
      acted = false;
    }
    if (stop) break;
  }
}

static void emit_branches(gc_finding *f, const branch_notes *b, int from, int to) {
  for (int i = from; i >= to; i--)
    diag_note(f, b->cond[i]->loc, "assuming '%s' is %s", b->cond[i]->text,
              b->sense[i] != b->cond[i]->text_negated ? "true" : "false");
}

static bool released_here(flow_ctx *c, node *x, int rel) {
  return x->k.gil != G_RELEASED || x->a.rel_ev != rel;
}

static bool block_has_event(flow_ctx *c, node *x, int ev) {
  int b;
  return ev >= 0 && ev_at(c, ev, &b) && b == x->block;
}

void flow_note_release_path(flow_ctx *c, gc_finding *f) {
  if (!f) return;
  branch_notes b;
  collect_branches(c, released_here, c->sa->rel_ev, &b);
  int before = b.into_stop && c->sk->rel_kind != REL_ENTRY ? 1 : 0;
  /* in the order they happen: the branch into the release, the release, the rest */
  emit_branches(f, &b, b.n - 1, b.n - before);
  flow_note_release(c, f);
  emit_branches(f, &b, b.n - before - 1, 0);
}

void flow_note_branches_since(flow_ctx *c, gc_finding *f, int event_id) {
  if (!f || event_id < 0) return;
  branch_notes b;
  collect_branches(c, block_has_event, event_id, &b);
  /* the branch into the event's own block comes before it: leave it out */
  emit_branches(f, &b, b.n - 1 - (b.into_stop ? 1 : 0), 0);
}

void flow_note_chain(flow_ctx *c, gc_finding *f, int fn) {
  if (!f) return;
  int seen[8];
  for (int depth = 0; depth < 8 && fn >= 0; depth++) {
    for (int i = 0; i < depth; i++) if (seen[i] == fn) return;
    seen[depth] = fn;
    const summary *s = &c->p->sums[fn];
    if (!s->wit_loc.file) return;
    const char *name = c->p->funcs[fn]->name;
    if (s->wit_fn >= 0)
      diag_note(f, s->wit_loc, "'%s' needs the GIL: it calls '%s' here", name, s->wit_what);
    else if (s->pre == PRE_HELD && c->p->entry[fn] == ENTRY_HELD && !strcmp(s->wit_what, "@entry"))
      diag_note(f, s->wit_loc, "'%s' needs the GIL", name);
    else
      diag_note(f, s->wit_loc, "'%s' needs the GIL: it uses '%s' here", name, s->wit_what);
    fn = s->wit_fn;
  }
}

/* ---------- states ---------- */

static uint64_t hash_key(const skey *k, int block) {
  return gc_hash_seed(k, sizeof *k, (uint64_t)block);
}

/* Liveness of tracked locals and of condition keys, per block entry (a
 * backward fixed point). A fact nobody reads later cannot change a path, so
 * states are compared without it: otherwise each Py_BEGIN_ALLOW_THREADS's
 * own _save, or a condition tested once, would multiply the states. */
static uint32_t ev_uses(const ir_event *e) {
  uint32_t u = 0;
  if (e->kind == EV_CALL)
    for (int i = 0; i < IR_MAX_ARGS; i++) if (e->argvar[i] >= 0) u |= 1u << e->argvar[i];
  if (e->kind == EV_ASSIGN && e->val == VAL_COPY && e->src_var >= 0) u |= 1u << e->src_var;
  if (e->kind == EV_ESCAPE && e->var >= 0) u |= 1u << e->var;
  return u;
}

static uint32_t ev_defs(const ir_event *e) {
  if (e->kind == EV_ASSIGN && e->var >= 0) return 1u << e->var;
  if (e->kind == EV_CALL && e->result_var >= 0) return 1u << e->result_var;
  return 0;
}

static void compute_liveness(flow_ctx *c) {
  const ir_func *fn = c->fn;
  int nb = fn->nblocks;
  c->live_v = xcalloc((size_t)nb + 1, sizeof(uint32_t));
  c->live_k = xcalloc((size_t)nb + 1, sizeof(uint32_t));
  c->keep_v = 0;
  for (int b = 0; b < nb; b++)
    for (int i = 0; i < fn->blocks[b].nev; i++) {
      const ir_event *e = &fn->blocks[b].ev[i];
      if (e->kind == EV_CALL && e->result_var >= 0 && e->api &&
          (e->api->effect == FX_TSTATE_NEW || e->api->effect == FX_INTERP_NEW ||
           e->api->effect == FX_NEW_INTERPRETER))
        c->keep_v |= 1u << e->result_var;
    }
  bool changed = true;
  for (int round = 0; changed && round < 1000; round++) {
    changed = false;
    for (int b = nb - 1; b >= 0; b--) {
      const ir_block *bl = &fn->blocks[b];
      uint32_t lv = 0, lk = 0;
      for (int i = 0; i < bl->nsucc; i++) {
        lv |= c->live_v[bl->succ[i].to];
        lk |= c->live_k[bl->succ[i].to];
        if (bl->succ[i].cond >= 0) {
          const ir_cond *cd = &fn->conds[bl->succ[i].cond];
          if (cd->kind == COND_VAR && cd->var >= 0) lv |= 1u << cd->var;
          if (cd->kind == COND_KEY && cd->key >= 0) lk |= 1u << cd->key;
        }
      }
      if (bl->term == TERM_RETURN && bl->ret_var >= 0) lv |= 1u << bl->ret_var;
      for (int i = bl->nev - 1; i >= 0; i--) {
        lv = (lv & ~ev_defs(&bl->ev[i])) | ev_uses(&bl->ev[i]);
        lk &= ~bl->ev[i].kills;
      }
      if (lv != c->live_v[b] || lk != c->live_k[b]) {
        c->live_v[b] = lv;
        c->live_k[b] = lk;
        changed = true;
      }
    }
  }
}

static void drop_dead_facts(flow_ctx *c, int block, skey *k) {
  uint32_t lv = c->live_v[block] | c->keep_v;
  for (int v = 0; v < c->fn->nvars && v < IR_MAX_VARS; v++)
    if (!(lv & (1u << v))) k->v[v] = (vkey){0, 0, 0, 0};
  if (k->cur_ts >= 0 && !(lv & (1u << k->cur_ts))) k->cur_ts = -1;
  k->kknown &= c->live_k[block];
  k->kval &= c->live_k[block];
}

/* Linear in the function's size: long straight code has a state or two per
 * block, and the per-block bound keeps branchy code from multiplying them. */
static int node_limit(const flow_ctx *c) { return MAX_NODES + 4 * c->fn->nblocks; }

static void push_node(flow_ctx *c, node *from, int block, const skey *k_in, const saux *a, int cond, bool sense) {
  if (c->gave_up) return;
  skey live_key = *k_in;
  const skey *k = &live_key;
  if (c->live_v) drop_dead_facts(c, block, &live_key);
  if (!c->hcap) {
    c->hcap = 1024;
    c->htab = xcalloc(c->hcap, sizeof(node *));
  }
  skey approx_key;
  if (!k->approx && c->per_block && c->per_block[block] >= PER_BLOCK) {
    /* Too many distinct states here: drop the correlation facts (values of
     * locals, truth of conditions). What follows may be infeasible, so it
     * feeds neither findings nor summaries (see flow_finding, exits). */
    approx_key = *k;
    approx_key.approx = 1;
    approx_key.kknown = approx_key.kval = 0;
    for (int v = 0; v < IR_MAX_VARS; v++) approx_key.v[v].nz = NZ_UNKNOWN;
    k = &approx_key;
  }
  uint64_t h = hash_key(k, block);
  size_t slot = h & (c->hcap - 1);
  for (node *x = c->htab[slot]; x; x = x->hnext)
    if (x->block == block && !memcmp(&x->k, k, sizeof *k)) return;
  if (c->nnodes >= node_limit(c)) { c->gave_up = true; return; }
  if (c->per_block) c->per_block[block]++;
  node *n = arena_alloc(&c->A, sizeof *n);
  n->k = *k;
  n->a = *a;
  n->block = block;
  n->pred = from;
  n->edge_cond = (int16_t)cond;
  n->edge_sense = sense;
  n->hnext = c->htab[slot];
  c->htab[slot] = n;
  c->nnodes++;
  if (c->nnodes > (int)c->hcap) {
    size_t ncap = c->hcap * 4;
    node **nt = xcalloc(ncap, sizeof(node *));
    for (size_t i = 0; i < c->hcap; i++) {
      node *x = c->htab[i];
      while (x) {
        node *nx = x->hnext;
        size_t s2 = hash_key(&x->k, x->block) & (ncap - 1);
        x->hnext = nt[s2];
        nt[s2] = x;
        x = nx;
      }
    }
    free(c->htab);
    c->htab = nt;
    c->hcap = ncap;
  }
  if (c->nwork == c->capwork) {
    c->capwork = c->capwork ? c->capwork * 2 : 256;
    c->work = xrealloc(c->work, sizeof(node *) * (size_t)c->capwork);
  }
  c->work[c->nwork++] = n;
}

static void hist_add(saux *a, int v, int ev) {
  if (v < 0) return;
  for (int i = 0; i < HIST; i++)
    if (a->hist[v][i] < 0) { a->hist[v][i] = ev; return; }
  memmove(&a->hist[v][0], &a->hist[v][1], sizeof(int32_t) * (HIST - 1));
  a->hist[v][HIST - 1] = ev;
}

static void hist_reset(saux *a, int v, int ev) {
  if (v < 0) return;
  for (int i = 0; i < HIST; i++) a->hist[v][i] = -1;
  hist_add(a, v, ev);
}

/* ---------- the transfer function ---------- */

typedef struct sstate { skey k; saux a; } sstate;

static void need_gil_entry(flow_ctx *c, skey *k, int ev, int wit_fn) {
  /* the first thing this function does with the GIL tells its precondition */
  if (k->gil != G_ENTRY) return;
  k->gil = G_HELD;
  k->held_acq = 0;
  k->entry_req = REQ_HELD;
  if (!c->req_held && !k->approx) { c->req_held = true; c->req_held_ev = ev; c->req_wit_fn = wit_fn; }
}

static void need_released_entry(flow_ctx *c, skey *k, int ev) {
  if (k->gil != G_ENTRY) return;
  k->gil = G_RELEASED;
  k->rel_kind = REL_ENTRY;
  k->entry_req = REQ_RELEASED;
  if (!c->req_released && !k->approx) { c->req_released = true; c->req_released_ev = ev; }
}

static void use_api(flow_ctx *c, sstate *s, const ir_event *e, int ev, int callee_fn) {
  skey *k = &s->k;
  if (k->gil == G_ENTRY) { need_gil_entry(c, k, ev, callee_fn); return; }
  if (k->gil == G_RELEASED && c->report) {
    c->sk = k; c->sa = &s->a;
    rule_api_without_gil(c, e, callee_fn);
  }
}

static void do_release(flow_ctx *c, sstate *s, const ir_event *e, int ev, int callee_fn, int kind) {
  skey *k = &s->k;
  if (k->gil == G_ENTRY) need_gil_entry(c, k, ev, -1);
  if (k->gil == G_RELEASED) {
    if (c->report) { c->sk = k; c->sa = &s->a; rule_double_release(c, e, callee_fn); }
    k->gil = G_TOP;   /* one finding, not a cascade of acquires that follow */
    return;
  }
  if (k->gil == G_HELD && k->cur_ts >= 0) {
    k->v[k->cur_ts].ts = T_DETACHED;
    hist_add(&s->a, k->cur_ts, ev);
  }
  k->gil = G_RELEASED;
  k->held_acq = 0;
  k->rel_kind = (uint8_t)kind;
  k->rel_var = -1;
  k->rel_region = (int16_t)e->region;
  k->cur_ts = -2;
  s->a.rel_ev = ev;
  if (kind == REL_LOCAL) {
    if (e->result_var >= 0) k->rel_var = e->result_var;
    else k->rel_kind = REL_STORED;   /* a local we do not follow: assume it is kept */
  }
  if (c->first_rel_ev < 0) c->first_rel_ev = ev;
}

static int release_kind_of_result(const ir_event *e) {
  switch (e->result_to) {
  case RES_LOCAL: return REL_LOCAL;
  case RES_DISCARD: return REL_LOST;
  default: return REL_STORED;
  }
}

static void do_acquire(flow_ctx *c, sstate *s, const ir_event *e, int ev, int callee_fn, bool counts) {
  skey *k = &s->k;
  if (k->gil == G_ENTRY) {
    need_released_entry(c, k, ev);
  }
  if (k->gil == G_HELD) {
    if (k->held_acq && counts && c->report) {
      c->sk = k; c->sa = &s->a;
      rule_double_acquire(c, e, callee_fn, s->a.acq_ev);
    }
    return;
  }
  k->held_acq = k->gil == G_RELEASED && counts;
  k->gil = G_HELD;
  k->rel_kind = REL_NONE;
  k->rel_var = -1;
  k->rel_region = -1;
  s->a.acq_ev = ev;
  if (c->first_acq_ev < 0) c->first_acq_ev = ev;
}

static const char *var_name(flow_ctx *c, int v) {
  return v >= 0 && v < c->fn->nvars ? c->fn->var_names[v] : "?";
}

static void lifecycle(flow_ctx *c, sstate *s, bool interp, enum lifecycle_problem p, const ir_event *e, int v) {
  if (!c->report) return;
  c->sk = &s->k; c->sa = &s->a;
  int hist[HIST], n = 0;
  if (v >= 0)
    for (int i = 0; i < HIST; i++) if (s->a.hist[v][i] >= 0) hist[n++] = s->a.hist[v][i];
  if (interp) rule_interp_lifecycle(c, p, e->loc, ev_name(e), v >= 0 ? var_name(c, v) : NULL, hist, n);
  else rule_tstate_lifecycle(c, p, e->loc, ev_name(e), v >= 0 ? var_name(c, v) : NULL, hist, n);
}

static bool is_tstate(uint8_t t) { return t >= T_SAVED && t <= T_DELETED; }

/* Any call that takes a deleted thread state or interpreter uses it after delete. */
static bool check_use_after_delete(flow_ctx *c, sstate *s, const ir_event *e, api_effect fx) {
  bool found = false;
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
    int v = e->argvar[i];
    if (v < 0) continue;
    uint8_t t = s->k.v[v].ts;
    if (t == T_DELETED && fx != FX_TSTATE_DELETE) {
      lifecycle(c, s, false, LC_USE_AFTER_DELETE, e, v);
      s->k.v[v].ts = T_NONE;
      found = true;
    } else if (t == I_DELETED && fx != FX_INTERP_DELETE) {
      lifecycle(c, s, true, LC_USE_AFTER_DELETE, e, v);
      s->k.v[v].ts = T_NONE;
      found = true;
    }
  }
  return found;
}

static void escape_args(sstate *s, const ir_event *e) {
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
    int v = e->argvar[i];
    if (v < 0) continue;
    if (v == s->k.rel_var && s->k.rel_kind == REL_LOCAL) s->k.rel_kind = REL_STORED;
    s->k.v[v].own = 0;
  }
}

static void set_result(sstate *s, const ir_event *e, int ev, uint8_t nz, uint8_t ts, uint8_t own) {
  int v = e->result_var;
  if (v < 0) return;
  s->k.v[v] = (vkey){nz, ts, own, 0};
  hist_reset(&s->a, v, ev);
}

/* Applies a call. Returns the number of states in out (0: the path ends). */
static int apply_call(flow_ctx *c, sstate *s, const ir_event *e, int ev, sstate *out) {
  skey *k = &s->k;
  const api_fact *api = e->api;
  api_effect fx = api ? api->effect : FX_NONE;
  int fnid = e->callee_fn;
  k->kknown &= ~e->kills;
  bool misused = check_use_after_delete(c, s, e, fx);
  if (e->result_var >= 0) { k->v[e->result_var] = (vkey){0, 0, 0, 0}; hist_reset(&s->a, e->result_var, ev); }

  if (fx == FX_NONE && fnid >= 0) {
    /* a function of the project: its summary */
    const summary *sm = &c->p->sums[fnid];
    escape_args(s, e);
    if (sm->effect == EFF_RELEASES) do_release(c, s, e, ev, fnid, REL_CALL);
    else if (sm->effect == EFF_ACQUIRES) do_acquire(c, s, e, ev, fnid, true);
    else if (sm->effect == EFF_UNKNOWN && sm->eff_zero) {
      /* decided by the branch on its result (edge_states); what it needs first */
      if (sm->pre == PRE_RELEASED && k->gil == G_ENTRY) need_released_entry(c, k, ev);
      else if (sm->pre == PRE_HELD) use_api(c, s, e, ev, fnid);
      k->pend_fn = fnid;
      s->a.acq_ev = ev;
    }
    else if (sm->effect == EFF_UNKNOWN) { if (k->gil != G_ENTRY) k->gil = G_TOP; }
    else if (sm->pre == PRE_HELD) use_api(c, s, e, ev, fnid);
    else if (sm->pre == PRE_RELEASED && k->gil == G_ENTRY) need_released_entry(c, k, ev);
    if (sm->noreturn) return 0;
    out[0] = *s;
    return 1;
  }
  if (fx == FX_NONE && fnid < 0 && e->callee_annot && !api) {
    /* declared with a gilcheck annotation, defined outside what we analyse */
    escape_args(s, e);
    if (e->callee_annot & ANNOT_RELEASES_GIL) do_release(c, s, e, ev, -1, REL_CALL);
    else if (e->callee_annot & ANNOT_ACQUIRES_GIL) do_acquire(c, s, e, ev, -1, true);
    else if (e->callee_annot & ANNOT_REQUIRES_GIL) use_api(c, s, e, ev, -1);
    if (e->noreturn) return 0;
    out[0] = *s;
    return 1;
  }
  if (fx == FX_NONE) {
    bool needs = api ? api->needs_gil : e->python_api;
    if (needs) use_api(c, s, e, ev, -1);
    if (c->report && k->gil == G_HELD) {
      const blocking_fact *b = blocking_lookup(e->callee);
      for (; b; b = blocking_lookup_next(b)) {
        if (b->arg < 0 || (b->arg < e->nargs && b->arg < IR_MAX_ARGS && e->argtext[b->arg] &&
                           !strcmp(e->argtext[b->arg], b->value))) {
          c->sk = k; c->sa = &s->a;
          rule_blocking_with_gil(c, e);
          break;
        }
      }
    }
    escape_args(s, e);
    if (e->result_var >= 0 && e->result_to == RES_LOCAL) k->v[e->result_var].nz = NZ_UNKNOWN;
    if (e->noreturn) return 0;
    out[0] = *s;
    return 1;
  }

  int a0 = e->nargs > 0 ? e->argvar[0] : -1;
  bool a0null = e->argnull & 1;
  switch (fx) {
  case FX_RELEASE_KEEP:
    /* the caller holds the thread state already: it is its argument */
    do_release(c, s, e, ev, -1, REL_STORED);
    if (a0 >= 0) { k->v[a0].ts = T_DETACHED; hist_add(&s->a, a0, ev); }
    break;
  case FX_RELEASE:
    do_release(c, s, e, ev, -1, release_kind_of_result(e));
    set_result(s, e, ev, NZ_NONZERO, T_SAVED, 0);
    break;
  case FX_ACQUIRE:
    if (a0 >= 0 && k->v[a0].nz == NZ_ZERO) break;   /* restoring NULL: a no-op path */
    do_acquire(c, s, e, ev, -1, true);
    if (a0 >= 0) {
      if (k->cur_ts >= 0 && k->cur_ts != a0) k->v[k->cur_ts].ts = T_DETACHED;
      k->v[a0].ts = T_CURRENT;
      k->v[a0].nz = NZ_NONZERO;
      hist_add(&s->a, a0, ev);
      k->cur_ts = (int16_t)a0;
    } else k->cur_ts = -1;
    break;
  case FX_INITIALIZE:
    k->gil = G_HELD;
    k->held_acq = 0;
    k->cur_ts = -1;
    break;
  case FX_ENSURE: {
    if (k->nens >= MAX_ENS) { k->gil = G_TOP; break; }
    int i = k->nens++;
    k->ens_var[i] = e->result_var;
    s->a.ens_ev[i] = ev;
    set_result(s, e, ev, NZ_UNKNOWN, E_ACTIVE, 0);
    if (k->gil == G_ENTRY) {
      /* two worlds: the GIL was held before, or the Ensure took it */
      sstate other = *s;
      k->gil = G_HELD; k->held_acq = 0; k->ens_was[i] = 0;
      other.k.gil = G_HELD; other.k.held_acq = 0; other.k.ens_was[i] = 1;
      out[0] = *s;
      out[1] = other;
      return 2;
    }
    k->ens_was[i] = k->gil == G_HELD ? 0 : k->gil == G_RELEASED ? 1 : 2;
    if (k->gil == G_RELEASED) { k->gil = G_HELD; k->held_acq = 0; k->rel_kind = REL_NONE; }
    else if (k->gil == G_TOP) k->gil = G_HELD;
    break;
  }
  case FX_ENSURE_RELEASE: {
    int found = -1;
    if (a0 >= 0) {
      for (int i = k->nens - 1; i >= 0; i--) if (k->ens_var[i] == a0) { found = i; break; }
    } else if (k->nens > 0) found = k->nens - 1;
    if (found < 0) {
      if (a0 >= 0 && k->v[a0].ts == E_RELEASED && c->report) {
        c->sk = k; c->sa = &s->a;
        rule_gilstate_unbalanced(c, GS_RELEASED_TWICE, e->loc, var_name(c, a0),
                                 s->a.hist[a0][0] >= 0 ? s->a.hist[a0][0] : -1);
      }
      if (k->gil != G_ENTRY) k->gil = G_TOP;
      break;
    }
    if (found != k->nens - 1 && c->report) {
      c->sk = k; c->sa = &s->a;
      rule_gilstate_unbalanced(c, GS_OUT_OF_ORDER, e->loc, a0 >= 0 ? var_name(c, a0) : NULL,
                               s->a.ens_ev[k->nens - 1]);
    }
    uint8_t was = k->ens_was[found];
    for (int i = found; i + 1 < k->nens; i++) {
      k->ens_var[i] = k->ens_var[i + 1];
      k->ens_was[i] = k->ens_was[i + 1];
      s->a.ens_ev[i] = s->a.ens_ev[i + 1];
    }
    k->nens--;
    k->ens_var[k->nens] = 0; k->ens_was[k->nens] = 0; s->a.ens_ev[k->nens] = 0;
    if (a0 >= 0) { k->v[a0].ts = E_RELEASED; hist_add(&s->a, a0, ev); }
    if (found != k->nens) { k->gil = G_TOP; break; }
    if (was == 1) {
      k->gil = G_RELEASED; k->rel_kind = REL_ENSURE; k->rel_var = -1; k->rel_region = -1;
      s->a.rel_ev = ev;
    } else if (was == 0) {
      k->gil = G_HELD;
    } else k->gil = G_TOP;
    break;
  }
  case FX_TSTATE_NEW:
    set_result(s, e, ev, NZ_UNKNOWN, T_NEW, 1);
    break;
  case FX_TSTATE_GET:
    if (e->result_var >= 0) {
      if (k->cur_ts >= 0 && k->cur_ts != e->result_var) {
        k->v[e->result_var] = k->v[k->cur_ts];
        k->v[e->result_var].own = 0;
      } else {
        k->v[e->result_var] = (vkey){NZ_NONZERO, T_CURRENT, 0, 0};
        if (k->cur_ts < 0) k->cur_ts = e->result_var;
      }
      hist_reset(&s->a, e->result_var, ev);
    }
    if (api->needs_gil) use_api(c, s, e, ev, -1);
    break;
  case FX_TSTATE_CLEAR:
    if (k->gil == G_RELEASED) lifecycle(c, s, false, LC_CLEAR_WITHOUT_GIL, e, a0);
    else if (k->gil == G_ENTRY) need_gil_entry(c, k, ev, -1);
    if (a0 >= 0 && is_tstate(k->v[a0].ts)) {
      k->v[a0].ts = k->v[a0].ts == T_CURRENT ? T_CURRENT : T_CLEARED;
      k->v[a0].sub = 1;   /* cleared */
      hist_add(&s->a, a0, ev);
    }
    break;
  case FX_TSTATE_DELETE:
    if (a0 >= 0) {
      uint8_t t = k->v[a0].ts;
      if (t == T_DELETED) lifecycle(c, s, false, LC_DOUBLE_DELETE, e, a0);
      else if (t == T_CURRENT || (k->cur_ts == a0 && k->gil == G_HELD))
        lifecycle(c, s, false, LC_DELETE_CURRENT, e, a0);
      else if ((t == T_NEW || t == T_DETACHED || t == T_SAVED) && !k->v[a0].sub)
        lifecycle(c, s, false, LC_DELETE_BEFORE_CLEAR, e, a0);
      k->v[a0].ts = T_DELETED;
      k->v[a0].own = 0;
      hist_add(&s->a, a0, ev);
      if (k->cur_ts == a0) k->cur_ts = -1;
    }
    break;
  case FX_TSTATE_DELETE_CURRENT:
    if (k->gil == G_RELEASED && c->report) { c->sk = k; c->sa = &s->a; rule_api_without_gil(c, e, -1); }
    if (k->gil == G_ENTRY) need_gil_entry(c, k, ev, -1);
    if (k->cur_ts >= 0) {
      k->v[k->cur_ts].ts = T_DELETED;
      k->v[k->cur_ts].own = 0;
      hist_add(&s->a, k->cur_ts, ev);
    }
    k->cur_ts = -2;
    if (k->gil != G_RELEASED) {
      k->gil = G_RELEASED; k->held_acq = 0; k->rel_kind = REL_DELETED; k->rel_var = -1; k->rel_region = -1;
      s->a.rel_ev = ev;
    }
    break;
  case FX_TSTATE_SWAP: {
    int prev = k->cur_ts;
    if (a0null) {
      do_release(c, s, e, ev, -1, e->result_to == RES_LOCAL ? REL_LOCAL : release_kind_of_result(e));
      if (e->result_var >= 0) {
        if (prev >= 0) { k->v[e->result_var] = k->v[prev]; k->v[e->result_var].ts = T_DETACHED; }
        else k->v[e->result_var] = (vkey){NZ_NONZERO, T_SAVED, 0, 0};
      }
    } else {
      if (k->gil == G_ENTRY) need_released_entry(c, k, ev);
      if (k->gil != G_HELD) do_acquire(c, s, e, ev, -1, false);
      if (prev >= 0 && prev != a0) { k->v[prev].ts = T_DETACHED; hist_add(&s->a, prev, ev); }
      if (a0 >= 0) {
        k->v[a0].ts = T_CURRENT;
        hist_add(&s->a, a0, ev);
        k->cur_ts = (int16_t)a0;
      } else k->cur_ts = -1;
      if (e->result_var >= 0 && e->result_var != a0)
        k->v[e->result_var] = (vkey){NZ_UNKNOWN, prev >= 0 ? T_DETACHED : T_NONE, 0, 0};
    }
    break;
  }
  case FX_INTERP_NEW:
    set_result(s, e, ev, NZ_UNKNOWN, I_NEW, 1);
    break;
  case FX_INTERP_GET:
    if (api->needs_gil) use_api(c, s, e, ev, -1);
    break;
  case FX_INTERP_CLEAR:
    if (k->gil == G_RELEASED) lifecycle(c, s, true, LC_CLEAR_WITHOUT_GIL, e, a0);
    else if (k->gil == G_ENTRY) need_gil_entry(c, k, ev, -1);
    if (a0 >= 0 && (k->v[a0].ts == I_NEW || k->v[a0].ts == T_NONE)) {
      k->v[a0].ts = I_CLEARED;
      hist_add(&s->a, a0, ev);
    }
    break;
  case FX_INTERP_DELETE:
    if (a0 >= 0) {
      uint8_t t = k->v[a0].ts;
      if (t == I_DELETED) lifecycle(c, s, true, LC_DOUBLE_DELETE, e, a0);
      else if (t == I_NEW) lifecycle(c, s, true, LC_DELETE_BEFORE_CLEAR, e, a0);
      k->v[a0].ts = I_DELETED;
      k->v[a0].own = 0;
      hist_add(&s->a, a0, ev);
    }
    break;
  case FX_NEW_INTERPRETER:
    use_api(c, s, e, ev, -1);
    if (k->cur_ts >= 0) { k->v[k->cur_ts].ts = T_DETACHED; hist_add(&s->a, k->cur_ts, ev); }
    if (e->result_var >= 0) {
      k->v[e->result_var] = (vkey){NZ_UNKNOWN, T_CURRENT, 1, 1};
      hist_reset(&s->a, e->result_var, ev);
      k->cur_ts = e->result_var;
    } else k->cur_ts = -1;
    if (k->gil == G_TOP) k->gil = G_HELD;
    break;
  case FX_END_INTERPRETER:
    if (k->gil == G_RELEASED) lifecycle(c, s, true, LC_END_WITHOUT_GIL, e, a0);
    else if (k->gil == G_ENTRY) need_gil_entry(c, k, ev, -1);
    if (a0 >= 0) {
      uint8_t t = k->v[a0].ts;
      if (t == T_DELETED) lifecycle(c, s, true, LC_USE_AFTER_DELETE, e, a0);
      else if ((t == T_DETACHED || t == T_NEW || t == T_SAVED || (k->cur_ts >= 0 && k->cur_ts != a0)) &&
               k->gil != G_RELEASED)
        lifecycle(c, s, true, LC_END_NOT_CURRENT, e, a0);
      k->v[a0].ts = T_DELETED;
      k->v[a0].own = 0;
      hist_add(&s->a, a0, ev);
    }
    k->cur_ts = -2;
    if (k->gil == G_HELD || k->gil == G_TOP) {
      k->gil = G_RELEASED; k->held_acq = 0; k->rel_kind = REL_ENDED; k->rel_var = -1; k->rel_region = -1;
      s->a.rel_ev = ev;
    }
    break;
  case FX_FINALIZE:
    if (api->needs_gil) use_api(c, s, e, ev, -1);
    k->gil = G_TOP;
    k->cur_ts = -1;
    break;
  case FX_CS_BEGIN:
    use_api(c, s, e, ev, -1);
    if (k->ncs < MAX_CS) s->a.cs_ev[k->ncs++] = ev;
    break;
  case FX_CS_END:
    use_api(c, s, e, ev, -1);
    if (k->ncs > 0) k->ncs--;
    break;
  case FX_NORETURN:
    return 0;
  default:
    break;
  }
  k->kknown &= ~e->kills;
  if (misused && e->result_var >= 0) k->v[e->result_var].own = 0;   /* one finding, not a leak too */
  if (e->noreturn) return 0;
  out[0] = *s;
  return 1;
}

static void settle_pending(skey *k);

static void apply_exit(flow_ctx *c, sstate *s, const ir_block *b) {
  skey *k = &s->k;
  settle_pending(k);
  c->sk = k; c->sa = &s->a;
  if (!k->approx) c->exits++;
  bool entry_held = c->p->entry[c->fi] == ENTRY_HELD;
  if (b->ret_var >= 0 && b->ret_var == k->rel_var && k->rel_kind == REL_LOCAL) k->rel_kind = REL_STORED;
  if (b->ret_var >= 0) k->v[b->ret_var].own = 0;
  if (c->report) {
    for (int i = 0; i < k->nens; i++)
      rule_gilstate_unbalanced(c, GS_NOT_RELEASED, b->term_loc,
                               k->ens_var[i] >= 0 ? var_name(c, k->ens_var[i]) : NULL, s->a.ens_ev[i]);
    bool came_released = k->entry_req == REQ_RELEASED || c->p->entry[c->fi] == ENTRY_RELEASED;
    if (k->gil == G_RELEASED && !came_released) {
      /* A dropped PyEval_SaveThread result is lost only if nobody else has
       * the thread state; a helper entered from C may detach a state its
       * caller keeps (a slot passed in), so only a function entered from
       * Python is sure to have lost it. */
      if (k->rel_kind == REL_LOCAL || (k->rel_kind == REL_LOST && entry_held))
        rule_unbalanced_release_exit(c, b->term_loc, true, entry_held);
      else if (entry_held && !(c->fn->annot & ANNOT_RELEASES_GIL) &&
               (k->rel_kind == REL_STORED || k->rel_kind == REL_CALL))
        rule_unbalanced_release_exit(c, b->term_loc, false, entry_held);
    }
    if ((c->fn->annot & ANNOT_RELEASES_GIL) && k->gil == G_HELD)
      rule_annotation_mismatch(c, b->term_loc, "GILCHECK_RELEASES_GIL", "with the GIL held");
    if ((c->fn->annot & ANNOT_ACQUIRES_GIL) && k->gil == G_RELEASED)
      rule_annotation_mismatch(c, b->term_loc, "GILCHECK_ACQUIRES_GIL", "without the GIL");
    for (int i = 0; i < k->ncs; i++) rule_critical_section_exit(c, b->term_loc, s->a.cs_ev[i]);
    for (int v = 0; v < c->fn->nvars; v++) {
      vkey *x = &k->v[v];
      if (!x->own || x->nz == NZ_ZERO) continue;
      int hist[HIST], n = 0;
      for (int i = 0; i < HIST; i++) if (s->a.hist[v][i] >= 0) hist[n++] = s->a.hist[v][i];
      if (x->sub && x->ts != T_DELETED)
        rule_interp_lifecycle(c, LC_LEAK, b->term_loc, "Py_NewInterpreter", var_name(c, v), hist, n);
      else if (x->ts == T_NEW || x->ts == T_DETACHED || x->ts == T_CLEARED || x->ts == T_CURRENT)
        rule_tstate_lifecycle(c, LC_LEAK, b->term_loc, "PyThreadState_New", var_name(c, v), hist, n);
      else if (x->ts == I_NEW || x->ts == I_CLEARED)
        rule_interp_lifecycle(c, LC_LEAK, b->term_loc, "PyInterpreterState_New", var_name(c, v), hist, n);
    }
  }
  /* what the exit tells the summary */
  if (k->approx) { c->approx_exits++; return; }
  bool entered_released = k->entry_req == REQ_RELEASED || c->p->entry[c->fi] == ENTRY_RELEASED;
  int eff;
  if (k->gil == G_TOP) { c->ex_top++; eff = EFF_UNKNOWN; }
  else if (k->gil == G_RELEASED && !entered_released &&
           k->rel_kind != REL_ENSURE && k->rel_kind != REL_ENTRY)
    { c->ex_rel++; eff = EFF_RELEASES; }
  else if (k->gil == G_HELD && entered_released) { c->ex_acq++; eff = EFF_ACQUIRES; }
  else { c->ex_none++; eff = EFF_NONE; }
  c->by_ret[b->ret_const < 3 ? b->ret_const : 0][eff]++;
}

static void settle_pending(skey *k) {
  /* the result was not tested at once: the effect is one of two, unknown */
  if (k->pend_fn < 0) return;
  k->pend_fn = -1;
  if (k->gil != G_ENTRY) k->gil = G_TOP;
}

static void apply_event(flow_ctx *c, sstate *s, const ir_event *e, int ev, sstate *out, int *nout) {
  skey *k = &s->k;
  settle_pending(k);
  switch (e->kind) {
  case EV_CALL:
    *nout = apply_call(c, s, e, ev, out);
    return;
  case EV_OBJMACRO:
    if (e->needs_gil) use_api(c, s, e, ev, -1);
    break;
  case EV_ASSIGN:
    k->kknown &= ~e->kills;
    if (e->var >= 0) {
      vkey nv = {0, 0, 0, 0};
      if (e->val == VAL_ZERO) nv.nz = NZ_ZERO;
      else if (e->val == VAL_NONZERO) nv.nz = NZ_NONZERO;
      else if (e->val == VAL_COPY && e->src_var >= 0) { nv = k->v[e->src_var]; nv.own = 0; }
      if (e->var == k->rel_var && k->rel_kind == REL_LOCAL && e->val != VAL_COPY) {
        /* overwriting the only copy of the saved thread state */
        k->rel_kind = REL_LOST;
      }
      k->v[e->var] = nv;
      if (e->val == VAL_COPY && e->src_var >= 0) {
        memcpy(s->a.hist[e->var], s->a.hist[e->src_var], sizeof s->a.hist[0]);
        if (e->src_var == k->rel_var) k->rel_kind = k->rel_kind == REL_LOCAL ? REL_LOCAL : k->rel_kind;
      } else hist_reset(&s->a, e->var, -1);
    }
    break;
  case EV_ESCAPE:
    if (e->var >= 0) {
      if (e->var == k->rel_var && k->rel_kind == REL_LOCAL) k->rel_kind = REL_STORED;
      k->v[e->var].own = 0;
    }
    break;
  case EV_LEAVE_REGION: {
    const ir_region *r = &c->fn->regions[e->region];
    if (c->report) {
      c->sk = k; c->sa = &s->a;
      if (r->critical_section) rule_critical_section_leave(c, e, r);
    }
    if (r->critical_section) {
      /* the free-threaded expansion begins it inside the block: leaving the
       * block is the one finding, not an open section at exit as well */
      for (int i = k->ncs - 1; i >= 0; i--) {
        const ir_event *b = ev_at(c, s->a.cs_ev[i], NULL);
        if (b && b->region == e->region) {
          for (int j = i; j + 1 < k->ncs; j++) s->a.cs_ev[j] = s->a.cs_ev[j + 1];
          k->ncs--;
        }
      }
    }
    if (k->gil == G_RELEASED && k->rel_region == e->region &&
        (k->rel_kind == REL_LOCAL || k->rel_kind == REL_LOST || k->rel_kind == REL_STORED)) {
      if (c->report) rule_unbalanced_release_leave(c, e);
      /* the thread state saved by the block is out of reach now: what follows
       * on this path is a consequence, not a new finding */
      k->gil = G_TOP;
    }
    break;
  }
  case EV_FNREF:
    break;
  }
  out[0] = *s;
  *nout = 1;
}

static void initial_state(flow_ctx *c, sstate *s) {
  memset(s, 0, sizeof *s);
  s->k.rel_var = -1;
  s->k.rel_region = -1;
  s->k.cur_ts = -1;
  s->k.pend_fn = -1;
  s->a.rel_ev = s->a.acq_ev = -1;
  for (int v = 0; v < IR_MAX_VARS; v++)
    for (int i = 0; i < HIST; i++) s->a.hist[v][i] = -1;
  switch (c->p->entry[c->fi]) {
  case ENTRY_HELD: s->k.gil = G_HELD; break;
  case ENTRY_RELEASED: s->k.gil = G_RELEASED; s->k.rel_kind = REL_ENTRY; s->k.cur_ts = -2; break;
  default: s->k.gil = G_ENTRY; break;
  }
}

static void edge_states(flow_ctx *c, node *from, const sstate *s, const ir_block *b) {
  for (int i = 0; i < b->nsucc; i++) {
    const ir_edge *ed = &b->succ[i];
    sstate t = *s;
    if (t.k.pend_fn >= 0) {
      const ir_cond *cd = ed->cond >= 0 ? &c->fn->conds[ed->cond] : NULL;
      if (cd && cd->kind == COND_CALL) {
        const summary *sm = &c->p->sums[t.k.pend_fn];
        int eff = (ed->sense ? sm->eff_nonzero : sm->eff_zero) - 1;
        const ir_event *ce = ev_at(c, t.a.acq_ev, NULL);
        int fnid = t.k.pend_fn;
        t.k.pend_fn = -1;
        if (eff == EFF_ACQUIRES && ce) do_acquire(c, &t, ce, t.a.acq_ev, fnid, true);
        else if (eff == EFF_RELEASES && ce) do_release(c, &t, ce, t.a.acq_ev, fnid, REL_CALL);
        else if (eff == EFF_UNKNOWN && t.k.gil != G_ENTRY) t.k.gil = G_TOP;
      } else settle_pending(&t.k);
    }
    if (ed->cond >= 0) {
      const ir_cond *cd = &c->fn->conds[ed->cond];
      if (cd->kind == COND_VAR && cd->var >= 0) {
        vkey *v = &t.k.v[cd->var];
        if (v->nz == NZ_ZERO && ed->sense) continue;
        if (v->nz == NZ_NONZERO && !ed->sense) continue;
        v->nz = ed->sense ? NZ_NONZERO : NZ_ZERO;
      } else if (cd->kind == COND_GIL) {
        /* a function that asks whether it holds the GIL: both answers are
         * possible where its entry is unknown, one where the state is known */
        if (t.k.gil == G_HELD && !ed->sense) continue;
        if (t.k.gil == G_RELEASED && ed->sense) continue;
        if (t.k.gil == G_ENTRY) {
          if (ed->sense) t.k.gil = G_HELD;
          else { t.k.gil = G_RELEASED; t.k.rel_kind = REL_ENTRY; }
        }
      } else if (cd->kind == COND_KEY && cd->key >= 0) {
        uint32_t bit = 1u << cd->key;
        if (t.k.kknown & bit) {
          bool val = (t.k.kval & bit) != 0;
          if (val != ed->sense) continue;
        }
        t.k.kknown |= bit;
        if (ed->sense) t.k.kval |= bit; else t.k.kval &= ~bit;
      }
    }
    push_node(c, from, ed->to, &t.k, &t.a, ed->cond, ed->sense);
  }
}

static void run(flow_ctx *c) {
  c->ev_base = xcalloc((size_t)c->fn->nblocks + 1, sizeof(int));
  c->per_block = xcalloc((size_t)c->fn->nblocks + 1, sizeof(int));
  int total = 0;
  for (int b = 0; b < c->fn->nblocks; b++) { c->ev_base[b] = total; total += c->fn->blocks[b].nev; }
  c->first_rel_ev = c->first_acq_ev = -1;
  c->req_wit_fn = -1;
  compute_liveness(c);
  sstate init;
  initial_state(c, &init);
  push_node(c, NULL, c->fn->entry, &init.k, &init.a, -1, false);
  /* states split by an Ensure inside one block: a small local list */
  enum { MAXS = 16 };
  sstate *cur = xmalloc(sizeof(sstate) * MAXS), *nxt = xmalloc(sizeof(sstate) * MAXS);
  while (c->nwork > 0 && !c->gave_up) {
    node *n = c->work[--c->nwork];
    c->cur = n;
    const ir_block *b = &c->fn->blocks[n->block];
    int ncur = 1;
    cur[0].k = n->k;
    cur[0].a = n->a;
    for (int i = 0; i < b->nev && ncur > 0; i++) {
      int nn = 0;
      for (int j = 0; j < ncur; j++) {
        sstate tmp[2];
        int cnt = 0;
        apply_event(c, &cur[j], &b->ev[i], c->ev_base[n->block] + i, tmp, &cnt);
        for (int t = 0; t < cnt && nn < MAXS; t++) nxt[nn++] = tmp[t];
      }
      sstate *sw = cur; cur = nxt; nxt = sw;
      ncur = nn;
    }
    for (int j = 0; j < ncur; j++) {
      if (c->dump) {
        fprintf(c->dump, "    block %d: gil=%s%s\n", n->block,
                (const char *[]){"entry", "held", "released", "unknown"}[cur[j].k.gil],
                cur[j].k.gil == G_RELEASED ? (const char *[]){"", " (saved in a local)", " (thread state lost)",
                    " (thread state stored)", " (by a callee)", " (by PyGILState_Release)", " (at entry)",
                    " (thread state deleted)", " (interpreter ended)"}[cur[j].k.rel_kind] : "");
      }
      if (b->term == TERM_RETURN) { c->cur = n; apply_exit(c, &cur[j], b); }
      else if (b->term == TERM_EDGES) edge_states(c, n, &cur[j], b);
    }
  }
  free(cur);
  free(nxt);
}

static void ctx_init(flow_ctx *c, flow_program *p, int fi, bool report, gc_findings *out) {
  memset(c, 0, sizeof *c);
  c->p = p;
  c->fi = fi;
  c->fn = p->funcs[fi];
  c->report = report;
  c->out = out;
}

static void ctx_free(flow_ctx *c) {
  free(c->ev_base);
  free(c->per_block);
  free(c->live_v);
  free(c->live_k);
  free(c->htab);
  free(c->work);
  free(c->seen);
  arena_free(&c->A);
}

bool flow_summarize(flow_program *p, int fi) {
  ir_func *fn = p->funcs[fi];
  summary old = p->sums[fi];
  summary s = {0};
  s.wit_fn = -1;
  if (fn->abandoned) {
    p->sums[fi] = s;
    return memcmp(&old, &s, sizeof s) != 0;
  }
  flow_ctx c;
  ctx_init(&c, p, fi, false, NULL);
  run(&c);
  if (c.gave_up) {
    ctx_free(&c);
    p->sums[fi] = s;
    return old.pre != s.pre || old.effect != s.effect || old.noreturn != s.noreturn;
  }
  if (p->entry[fi] == ENTRY_HELD) { s.pre = PRE_HELD; s.wit_loc = fn->loc; s.wit_what = "@entry"; }
  else if (p->entry[fi] == ENTRY_RELEASED) s.pre = PRE_RELEASED;
  else if (c.req_held && c.req_released) s.pre = PRE_CONFLICT;
  else if (c.req_held) {
    s.pre = PRE_HELD;
    const ir_event *e = ev_at(&c, c.req_held_ev, NULL);
    if (e) {
      s.wit_loc = e->loc;
      s.wit_what = ev_name(e);
      if (e->kind == EV_CALL && e->callee_fn >= 0 && c.req_wit_fn >= 0) {
        s.wit_fn = e->callee_fn;
        s.wit_what = e->callee;
      }
    }
  } else if (c.req_released) s.pre = PRE_RELEASED;
  if (c.exits == 0 && c.approx_exits == 0) s.noreturn = true;
  else if (c.exits == 0) s.effect = EFF_UNKNOWN;
  else if (c.ex_top > 0) s.effect = EFF_UNKNOWN;
  else if (c.ex_rel == c.exits) s.effect = EFF_RELEASES;
  else if (c.ex_acq == c.exits) s.effect = EFF_ACQUIRES;
  else if (c.ex_none == c.exits) s.effect = EFF_NONE;
  else s.effect = EFF_UNKNOWN;
  if (s.effect == EFF_UNKNOWN && c.ex_top == 0 && c.by_ret[0][EFF_RELEASES] + c.by_ret[0][EFF_ACQUIRES] == 0) {
    /* mixed, but exact by the constant returned: "attach, return 1" and
     * "nothing to attach, return 0" */
    int z = -1, nz = -1;
    bool ok = true;
    for (int r = 1; r <= 2; r++)
      for (int e = 0; e < 4; e++)
        if (c.by_ret[r][e]) {
          int *slot = r == 1 ? &z : &nz;
          if (*slot >= 0 && *slot != e) ok = false;
          *slot = e;
        }
    if (ok && z >= 0 && nz >= 0 && z != nz && c.by_ret[0][EFF_NONE] == 0) {
      s.eff_zero = (uint8_t)(z + 1);
      s.eff_nonzero = (uint8_t)(nz + 1);
    }
  }
  if (fn->annot & ANNOT_RELEASES_GIL) s.effect = EFF_RELEASES;
  if (fn->annot & ANNOT_ACQUIRES_GIL) s.effect = EFF_ACQUIRES;
  if ((s.effect == EFF_RELEASES || s.effect == EFF_ACQUIRES) && !s.wit_loc.file) {
    const ir_event *e = ev_at(&c, s.effect == EFF_RELEASES ? c.first_rel_ev : c.first_acq_ev, NULL);
    if (e) { s.wit_loc = e->loc; s.wit_what = ev_name(e); }
  }
  ctx_free(&c);
  p->sums[fi] = s;
  return old.pre != s.pre || old.effect != s.effect || old.noreturn != s.noreturn ||
         old.wit_fn != s.wit_fn || old.eff_zero != s.eff_zero || old.eff_nonzero != s.eff_nonzero;
}

void flow_report(flow_program *p, int fi, gc_findings *out) {
  ir_func *fn = p->funcs[fi];
  if (fn->abandoned) {
    if (p->verbose)
      log_remark(fn->loc.file, fn->loc.line, fn->loc.col, "gilcheck gives up on '%s': %s", fn->name, fn->abandoned);
    return;
  }
  flow_ctx c;
  ctx_init(&c, p, fi, true, out);
  gc_findings local = {0};
  c.out = &local;
  run(&c);
  if (c.gave_up) {
    /* too many paths: stay silent rather than report from a partial walk */
    diag_free(&local);
    if (p->verbose)
      log_remark(fn->loc.file, fn->loc.line, fn->loc.col, "gilcheck gives up on '%s': more than %d states",
                 fn->name, node_limit(&c));
  } else {
    diag_move_all(out, &local);
  }
  ctx_free(&c);
}

static const char *ev_kind_name[] = {"call", "objmacro", "assign", "escape", "leave-region", "fnref"};

void flow_dump(flow_program *p, int fi, FILE *out) {
  ir_func *fn = p->funcs[fi];
  const summary *s = &p->sums[fi];
  fprintf(out, "function %s (%s:%u) entry=%s pre=%s effect=%s%s\n", fn->name, fn->loc.file, fn->loc.line,
          (const char *[]){"inferred", "held", "released"}[p->entry[fi]],
          (const char *[]){"none", "held", "released", "conflict"}[s->pre],
          (const char *[]){"none", "releases", "acquires", "unknown"}[s->effect], s->noreturn ? " noreturn" : "");
  if (fn->abandoned) { fprintf(out, "  abandoned: %s\n", fn->abandoned); return; }
  for (int i = 0; i < fn->nvars; i++) fprintf(out, "  var %d: %s\n", i, fn->var_names[i]);
  for (int b = 0; b < fn->nblocks; b++) {
    const ir_block *bl = &fn->blocks[b];
    fprintf(out, "  block %d%s:\n", b, b == fn->entry ? " (entry)" : "");
    for (int i = 0; i < bl->nev; i++) {
      const ir_event *e = &bl->ev[i];
      fprintf(out, "    %u:%u %s", e->loc.line, e->loc.col, ev_kind_name[e->kind]);
      if (e->callee) fprintf(out, " %s", e->callee);
      if (e->macro && (!e->callee || strcmp(e->macro, e->callee))) fprintf(out, " [macro %s]", e->macro);
      if (e->kind == EV_CALL) {
        if (e->python_api) fprintf(out, " python-api");
        if (e->callee_fn >= 0) fprintf(out, " project-fn");
        if (e->result_var >= 0) fprintf(out, " -> %s", fn->var_names[e->result_var]);
      }
      if (e->kind == EV_ASSIGN && e->var >= 0) fprintf(out, " %s", fn->var_names[e->var]);
      if (e->region >= 0) fprintf(out, " region=%d", e->region);
      fputc('\n', out);
    }
    if (bl->term == TERM_RETURN) fprintf(out, "    return at %u:%u\n", bl->term_loc.line, bl->term_loc.col);
    else if (bl->term == TERM_NORETURN) fprintf(out, "    noreturn\n");
    for (int i = 0; i < bl->nsucc; i++) {
      const ir_edge *ed = &bl->succ[i];
      if (ed->cond >= 0) {
        const ir_cond *cd = &fn->conds[ed->cond];
        fprintf(out, "    -> %d if %s'%s'%s\n", ed->to, ed->sense != cd->text_negated ? "" : "not ",
                cd->text ? cd->text : "?",
                cd->kind == COND_VAR ? " (var)" : cd->kind == COND_KEY ? " (key)" : cd->kind == COND_GIL ? " (gil)" : "");
      } else fprintf(out, "    -> %d\n", ed->to);
    }
  }
  if (!fn->abandoned) {
    flow_ctx c;
    ctx_init(&c, p, fi, false, NULL);
    c.dump = out;
    fprintf(out, "  states:\n");
    run(&c);
    ctx_free(&c);
  }
}
