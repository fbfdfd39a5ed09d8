/* engine.c: the modelling engine (see engine.h and checker.h).
 *
 * A worklist over (block, state) pairs, the exploded graph. Events are
 * applied in order by transfer functions, one per kind of event and one per
 * effect of a call; an Ensure on a function whose entry is unknown splits
 * the path in two. When reporting, the walk publishes events to the rules
 * subscribed in rules/rules.def. The walk is bounded: past
 * walk_node_limit() nodes the function is given up on, silently (said under
 * -v), and a block reached in too many states goes on approximately (facts
 * dropped, nothing reported from there). */
#include "walk.h"
#include "ft.h"
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "xalloc.h"

/* ---------- events and their ids ---------- */

const ir_event *walk_event(check_ctx *c, int id, int *block) {
  if (id < 0 || id >= c->nevents) return NULL;
  int b = c->ev_block[id];
  if (block) *block = b;
  return &c->fn->blocks[b].ev[id - c->ev_base[b]];
}

int walk_node_limit(const check_ctx *c) { return WALK_MAX_NODES + WALK_NODES_PER_BLOCK * c->fn->nblocks; }

/* ---------- publishing to the rules ---------- */

/* The subscriptions of each kind of event, in rules.def's order. */
static struct { const check_subscription **v; int n; } subs[CE_COUNT];
static pthread_once_t subs_once = PTHREAD_ONCE_INIT;

static void index_subscriptions(void) {
  for (int k = 0; k < CE_COUNT; k++) {
    subs[k].v = xcalloc((size_t)check_nsubscriptions + 1, sizeof *subs[k].v);
    for (int i = 0; i < check_nsubscriptions; i++)
      if (check_subscriptions[i].kind == (check_event_kind)k) subs[k].v[subs[k].n++] = &check_subscriptions[i];
  }
}

static void publish(check_ctx *c, pstate *s, check_event *e) {
  if (!c->report) return;
  pthread_once(&subs_once, index_subscriptions);
  pstate *saved = c->s;
  c->s = s;
  for (int i = 0; i < subs[e->kind].n; i++) {
    const check_subscription *sub = subs[e->kind].v[i];
    if (!c->p->rules[sub->rule]) continue;
    if (!ft_rule_applies(c->p, sub->rule, c->fi)) continue;   /* free threading: where a module declares */
    c->rule = sub->rule;
    sub->fn(c, e);
  }
  c->s = saved;
}

static check_event event_of(check_event_kind kind, const ir_event *e, int ev) {
  check_event ce;
  memset(&ce, 0, sizeof ce);
  ce.kind = kind;
  ce.ev = e;
  ce.ev_id = ev;
  ce.fx = e && e->kind == EV_CALL && e->api ? e->api->effect : FX_NONE;
  ce.callee_fn = e && e->kind == EV_CALL ? e->callee_fn : -1;
  return ce;
}

/* ---------- the entry state, inferred from what a path does first ---------- */

/* The entry is known to need the GIL only where a path ends; a use on the
 * way is remembered as the witness, and as a fallback for functions no path
 * of which ends (a worker's endless loop). */
static void need_held_entry(check_ctx *c, pstate *s, int ev, int wit_fn) {
  gstate *k = &s->k;
  if (k->gil.state != GIL_ENTRY) return;
  k->gil.state = GIL_HELD;
  k->gil.own_acquire = 0;
  k->gil.entry_need = NEED_HELD;
  k->gil.from_entry = 1;
  s->w.entry_use = ev;
  if (!c->used_at_entry && !k->approx) { c->used_at_entry = true; c->used_at_entry_ev = ev; c->used_at_entry_fn = wit_fn; }
}

static void need_released_entry(check_ctx *c, pstate *s, int ev) {
  gstate *k = &s->k;
  if (k->gil.state != GIL_ENTRY) return;
  k->gil.state = GIL_RELEASED;
  k->gil.how = RH_ENTRY;
  k->gil.entry_need = NEED_RELEASED;
  s->w.entry_evidence = ev;
}

/* A path ends (a return, a noreturn call): what it found the entry needs. */
static void account_entry(check_ctx *c, const pstate *s) {
  const gstate *k = &s->k;
  if (k->approx) return;
  if (k->gil.entry_need == NEED_HELD && !c->req_held) {
    c->req_held = true;
    c->req_held_ev = s->w.entry_use;
    const ir_event *e = walk_event(c, s->w.entry_use, NULL);
    c->req_wit_fn = e && e->kind == EV_CALL ? e->callee_fn : -1;
  } else if (k->gil.entry_need == NEED_RELEASED && !c->req_released) {
    c->req_released = true;
    c->req_released_ev = s->w.entry_evidence;
  }
}

/* An acquire that cannot nest (PyEval_RestoreThread...), or an Ensure, on a
 * path where the GIL is held only because an earlier API use made the entry
 * need it: the function is entered without the GIL after all, and those
 * uses were made without it. The rules hear of each use again, in the state
 * it really had. */
static void entry_conflict(check_ctx *c, pstate *s, int ev) {
  pstate t = *s;
  t.k.gil.state = GIL_RELEASED;
  t.k.gil.how = RH_ENTRY;
  t.k.gil.entry_need = NEED_RELEASED;
  t.k.gil.from_entry = 0;
  t.w.entry_evidence = ev;
  for (int i = 0; i < s->w.nearly && i < STATE_EARLY_USES; i++) {
    const ir_event *u = walk_event(c, s->w.early[i], NULL);
    if (!u) continue;
    check_event ce = event_of(CE_API_USE, u, s->w.early[i]);
    publish(c, &t, &ce);
  }
  s->w.nearly = 0;
  s->k.gil.from_entry = 0;
  s->w.entry_evidence = ev;
}

static bool entry_unknown(check_ctx *c) { return c->p->entry[c->fi] == ENTRY_UNKNOWN; }

/* ---------- the GIL ---------- */

/* Something that needs the GIL: the entry, if not known yet, needs it;
 * the rules are told either way. */
static void use_api(check_ctx *c, pstate *s, const ir_event *e, int ev, int callee_fn) {
  need_held_entry(c, s, ev, callee_fn);
  if (s->k.gil.from_entry && s->w.nearly < STATE_EARLY_USES) s->w.early[s->w.nearly++] = ev;
  check_event ce = event_of(CE_API_USE, e, ev);
  ce.callee_fn = callee_fn;
  publish(c, s, &ce);
}

static void mark_released(pstate *s, int ev, release_how how) {
  gil_dom *g = &s->k.gil;
  if (g->state == GIL_HELD && g->own_acquire) s->w.gave_back = ev;
  g->state = GIL_RELEASED;
  g->own_acquire = 0;
  g->from_entry = 0;
  g->how = (uint8_t)how;
  g->saved_var = -1;
  g->region = -1;
  s->w.release = ev;
}

static void do_release(check_ctx *c, pstate *s, const ir_event *e, int ev, int callee_fn, release_how how) {
  gstate *k = &s->k;
  need_held_entry(c, s, ev, -1);
  check_event ce = event_of(CE_RELEASE, e, ev);
  ce.callee_fn = callee_fn;
  publish(c, s, &ce);
  if (k->gil.state == GIL_RELEASED) {
    k->gil.state = GIL_UNKNOWN;   /* one finding, not a cascade of acquires that follow */
    return;
  }
  if (k->gil.state == GIL_HELD && k->cur_ts >= 0) {
    k->v[k->cur_ts].ts = TS_DETACHED;
    state_history_add(&s->w, k->cur_ts, ev);
  }
  mark_released(s, ev, how);
  k->gil.region = (int16_t)e->region;
  k->cur_ts = CUR_NONE;
  if (how == RH_SAVED_LOCAL) {
    if (e->result_var >= 0) k->gil.saved_var = e->result_var;
    else k->gil.how = RH_STORED;   /* a local we do not follow: assume it is kept */
  }
  if (c->first_rel_ev < 0) c->first_rel_ev = ev;
}

static release_how release_of_result(const ir_event *e) {
  switch (e->result_to) {
  case RES_LOCAL: return RH_SAVED_LOCAL;
  case RES_DISCARD: return RH_LOST;
  default: return RH_STORED;
  }
}

static void do_acquire(check_ctx *c, pstate *s, const ir_event *e, int ev, int callee_fn, bool counts) {
  gstate *k = &s->k;
  need_released_entry(c, s, ev);
  if (k->gil.state == GIL_HELD && k->gil.from_entry && counts && entry_unknown(c)) {
    entry_conflict(c, s, ev);
    k->gil.state = GIL_RELEASED;
    k->gil.how = RH_ENTRY;
    k->gil.entry_need = NEED_RELEASED;
  }
  check_event ce = event_of(CE_ACQUIRE, e, ev);
  ce.callee_fn = callee_fn;
  ce.counts = counts;
  publish(c, s, &ce);
  if (k->gil.state == GIL_HELD) return;
  k->gil.own_acquire = k->gil.state == GIL_RELEASED && counts;
  k->gil.state = GIL_HELD;
  k->gil.from_entry = 0;
  k->gil.how = RH_NONE;
  k->gil.saved_var = -1;
  k->gil.region = -1;
  s->w.acquire = ev;
  if (c->first_acq_ev < 0) c->first_acq_ev = ev;
}

/* ---------- locals ---------- */

static void set_result(pstate *s, const ir_event *e, int ev, var_dom v) {
  if (e->result_var < 0) return;
  s->k.v[e->result_var] = v;
  state_history_reset(&s->w, e->result_var, ev);
}

/* Arguments passed to a call escape: a saved thread state is kept by the
 * callee, a created one is no longer this function's to delete. */
static void escape_args(pstate *s, const ir_event *e) {
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
    int v = e->argvar[i];
    if (v < 0) continue;
    if (v == s->k.gil.saved_var && s->k.gil.how == RH_SAVED_LOCAL) s->k.gil.how = RH_STORED;
    s->k.v[v].owned = 0;
  }
}

/* A thread state or interpreter passed on after it was deleted: the rules
 * say so at CE_PRE_CALL; from here it is no longer followed. Returns whether
 * one was. */
static bool forget_deleted_args(pstate *s, const ir_event *e, api_effect fx) {
  bool found = false;
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
    int v = e->argvar[i];
    if (v < 0) continue;
    var_dom *x = &s->k.v[v];
    if (x->ts == TS_DELETED && fx != FX_TSTATE_DELETE) { x->ts = TS_NONE; found = true; }
    else if (x->interp == IS_DELETED && fx != FX_INTERP_DELETE) { x->interp = IS_NONE; found = true; }
  }
  return found;
}

/* ---------- calls: one transfer function per effect ---------- */

/* ---------- integer values: what comparisons with constants tell ---------- */

/* The value fact for constant V: its index in the function's table, or
 * "a constant none of them is". */
static uint8_t value_index(const check_ctx *c, int64_t v) {
  for (int i = 0; i < c->nconsts; i++)
    if (c->consts[i] == v) return (uint8_t)(i + 1);
  return VALUE_OTHER;
}

static void collect_consts(check_ctx *c) {
  c->nconsts = 0;
  for (int i = 0; i < c->fn->nconds && c->nconsts < VALUE_CONSTS; i++) {
    const ir_cond *cd = &c->fn->conds[i];
    if (cd->kind != COND_CMP) continue;
    if (value_index(c, cd->cmp_value) == VALUE_OTHER) c->consts[c->nconsts++] = cd->cmp_value;
  }
}

static void set_value(const check_ctx *c, var_dom *v, int64_t value) {
  v->value = value_index(c, value);
  v->value_eq = 1;
}

/* Is `var op k` true (1), false (0) or not known (-1) from what is known
 * of var? */
static int compare(const check_ctx *c, const var_dom *v, cmp_op op, int64_t k) {
  if (!v->value) return -1;
  uint8_t ki = value_index(c, k);
  if (v->value_eq && v->value != VALUE_OTHER) {
    int64_t x = c->consts[v->value - 1];
    switch (op) {
    case CMP_EQ: return x == k;
    case CMP_NE: return x != k;
    case CMP_LT: return x < k;
    case CMP_LE: return x <= k;
    case CMP_GT: return x > k;
    case CMP_GE: return x >= k;
    }
  }
  if (op != CMP_EQ && op != CMP_NE) return -1;
  int eq;
  if (v->value_eq) eq = v->value == ki && ki != VALUE_OTHER ? 1 : ki != VALUE_OTHER || v->value != VALUE_OTHER ? 0 : -1;
  else eq = v->value == ki && ki != VALUE_OTHER ? 0 : -1;
  if (eq < 0) return -1;
  return op == CMP_EQ ? eq : !eq;
}

/* The caller's facts about the arguments of call E (constants, null, what
 * its branches fixed). Returns how many say anything. */
static int argument_facts(const check_ctx *c, const pstate *s, const ir_event *e, int nparams, arg_fact *out) {
  int any = 0;
  for (int i = 0; i < nparams && i < e->nargs && i < IR_MAX_ARGS; i++) {
    arg_fact f = {0};
    unsigned bit = 1u << i;
    if (e->argconst & bit) {
      f.has_value = f.value_eq = true;
      f.value = e->argval[i];
      f.null = e->argval[i] ? NULL_NO : NULL_YES;
    } else if (e->argnull & bit) {
      f.null = NULL_YES;
      f.has_value = f.value_eq = true;
    } else if (e->argnonnull & bit) {
      f.null = NULL_NO;
    } else if (e->argvar[i] >= 0) {
      const var_dom *v = &s->k.v[e->argvar[i]];
      f.null = v->null;
      if (v->value && v->value != VALUE_OTHER) {
        f.has_value = true;
        f.value_eq = v->value_eq;
        f.value = c->consts[v->value - 1];
      }
    }
    if (f.null || f.has_value) any++;
    out[i] = f;
  }
  return any;
}

static void ctx_init(check_ctx *c, engine_program *p, int fi, bool report, gc_findings *out);
static void ctx_free(check_ctx *c);
static void run(check_ctx *c);

/* A helper that needs the GIL only on some paths (`if (status != OK)
 * PyErr_Format(...)`), called with arguments that rule those paths out: its
 * walk under the caller's facts says whether this call reaches the API. */
static bool call_needs_gil(check_ctx *c, const pstate *s, const ir_event *e, int fn) {
  engine_program *p = c->p;
  const ir_func *callee = p->funcs[fn];
  if (!callee->nparams || callee->abandoned) return true;
  arg_fact facts[IR_MAX_ARGS];
  int n = callee->nparams < IR_MAX_ARGS ? callee->nparams : IR_MAX_ARGS;
  if (n > e->nargs) n = e->nargs;
  if (!argument_facts(c, s, e, n, facts)) return true;
  char key[64 + IR_MAX_ARGS * 40];
  int len = snprintf(key, sizeof key, "%d", fn);
  for (int i = 0; i < n; i++)
    len += snprintf(key + len, sizeof key - (size_t)len, "|%u:%d:%d:%lld", facts[i].null, facts[i].has_value,
                    facts[i].value_eq, (long long)facts[i].value);
  void **memo = strmap_at(&p->rewalks, key);
  if (*memo) return *memo == (void *)2;
  check_ctx w;
  ctx_init(&w, p, fn, false, NULL);
  w.args = facts;
  w.nargs = n;
  w.rewalk_depth = c->rewalk_depth + 1;
  run(&w);
  bool needs = w.gave_up || w.req_held || (w.used_at_entry && !w.req_released);
  ctx_free(&w);
  *memo = (void *)(intptr_t)(needs ? 2 : 1);
  return needs;
}

/* A function of the project: its summary. */
static int call_project(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  gstate *k = &s->k;
  int fn = e->callee_fn;
  const summary *sm = &c->p->sums[fn];
  escape_args(s, e);
  if (sm->effect == EFF_RELEASES) do_release(c, s, e, ev, fn, RH_CALLEE);
  else if (sm->effect == EFF_ACQUIRES) do_acquire(c, s, e, ev, fn, true);
  else if (sm->effect == EFF_UNKNOWN && sm->eff_zero) {
    /* decided by the branch on its result (edge_states); what it needs first */
    if (sm->pre == PRE_RELEASED) need_released_entry(c, s, ev);
    else if (sm->pre == PRE_HELD) use_api(c, s, e, ev, fn);
    k->pend.fn = fn;
    s->w.pending = ev;
  } else if (sm->effect == EFF_UNKNOWN) {
    if (k->gil.state != GIL_ENTRY) k->gil.state = GIL_UNKNOWN;
  } else if (sm->pre == PRE_HELD) {
    /* walked again under the arguments: where the call is reported, and
     * inside such a walk, where the argument is passed on (errmsg handed
     * down to the helper that raises) */
    bool rewalk = c->report ? k->gil.state == GIL_RELEASED
                            : c->rewalk_depth > 0 && c->rewalk_depth < REWALK_DEPTH && k->gil.state != GIL_HELD;
    if (!rewalk || call_needs_gil(c, s, e, fn)) use_api(c, s, e, ev, fn);
  } else if (sm->pre == PRE_RELEASED) need_released_entry(c, s, ev);
  return sm->noreturn ? 0 : 1;
}

/* A call through a global or a struct member: the functions stored there,
 * joined. It releases or acquires when those that do anything agree (a
 * "threads disabled" mode stores no-ops), else its effect is unknown. It
 * needs the GIL when every one of them does: which of several functions a
 * member holds where is often tied to other state (a codec that reads from
 * Python is called with the GIL, the others without), so one that needs it
 * among others that do not says nothing. */
static int call_slot(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  gstate *k = &s->k;
  const fn_set *set = &c->p->sets[e->callee_set];
  int need_held = -1, acting = -1, effect = EFF_NONE, nheld = 0;
  bool need_released = false, all_noreturn = set->n > 0;
  for (int i = 0; i < set->n; i++) {
    const summary *sm = &c->p->sums[set->fn[i]];
    if (sm->pre == PRE_HELD) { nheld++; if (need_held < 0) need_held = set->fn[i]; }
    if (sm->pre == PRE_RELEASED) need_released = true;
    if (!sm->noreturn) all_noreturn = false;
    if (sm->noreturn || sm->effect == EFF_NONE) continue;
    if (acting < 0) { acting = set->fn[i]; effect = sm->effect; }
    else if (effect != sm->effect) effect = EFF_UNKNOWN;
  }
  escape_args(s, e);
  if (effect == EFF_RELEASES) do_release(c, s, e, ev, acting, RH_CALLEE);
  else if (effect == EFF_ACQUIRES) do_acquire(c, s, e, ev, acting, true);
  else if (effect == EFF_UNKNOWN) { if (k->gil.state != GIL_ENTRY) k->gil.state = GIL_UNKNOWN; }
  else if (need_held >= 0 && nheld == set->n) use_api(c, s, e, ev, need_held);
  else if (need_released) need_released_entry(c, s, ev);
  return all_noreturn ? 0 : 1;
}

/* Declared with a gilcheck annotation, defined outside what is analysed. */
static int call_annotated(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  escape_args(s, e);
  if (e->callee_annot & ANNOT_RELEASES_GIL) do_release(c, s, e, ev, -1, RH_CALLEE);
  else if (e->callee_annot & ANNOT_ACQUIRES_GIL) do_acquire(c, s, e, ev, -1, true);
  else if (e->callee_annot & ANNOT_REQUIRES_GIL) use_api(c, s, e, ev, -1);
  return e->noreturn ? 0 : 1;
}

/* In a signal handler every C-API call but the async-signal-safe ones is
 * a use; after finalization, so is taking the GIL back (the runtime is
 * gone). Those the plain rule does not count already. */
static bool special_use(check_ctx *c, const ir_event *e, bool counted) {
  if (counted || !e->python_api) return false;
  uint8_t k = c->p->entry[c->fi];
  if (k == ENTRY_SIGNAL) return !api_is_signal_safe(e->callee);
  if (k == ENTRY_FINALIZED) return e->api && (e->api->effect == FX_ENSURE || e->api->effect == FX_ACQUIRE);
  return false;
}

/* The C API with no effect, and everything else. */
static int call_plain(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  bool needs = e->api ? e->api->needs_gil : e->python_api;
  if (needs || special_use(c, e, needs)) use_api(c, s, e, ev, -1);
  escape_args(s, e);
  return e->noreturn ? 0 : 1;
}

static void fx_release(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  do_release(c, s, e, ev, -1, release_of_result(e));
  set_result(s, e, ev, (var_dom){.null = NULL_NO, .ts = TS_SAVED});
}

static void fx_release_keep(check_ctx *c, pstate *s, const ir_event *e, int ev, int a0) {
  do_release(c, s, e, ev, -1, RH_STORED);
  if (a0 >= 0) { s->k.v[a0].ts = TS_DETACHED; state_history_add(&s->w, a0, ev); }
}

static void make_current(pstate *s, int a0, int ev) {
  gstate *k = &s->k;
  if (a0 >= 0) {
    if (k->cur_ts >= 0 && k->cur_ts != a0) k->v[k->cur_ts].ts = TS_DETACHED;
    k->v[a0].ts = TS_CURRENT;
    k->v[a0].null = NULL_NO;
    state_history_add(&s->w, a0, ev);
    k->cur_ts = (int16_t)a0;
  } else k->cur_ts = CUR_UNKNOWN;
}

static void fx_acquire(check_ctx *c, pstate *s, const ir_event *e, int ev, int a0) {
  if (a0 >= 0 && s->k.v[a0].null == NULL_YES) return;   /* restoring NULL: a no-op path */
  do_acquire(c, s, e, ev, -1, true);
  make_current(s, a0, ev);
}

/* PyGILState_Ensure: a new handle. Where the entry is not known yet, two
 * worlds: the GIL was held before, or the Ensure took it. */
static int fx_ensure(check_ctx *c, pstate *s, const ir_event *e, int ev, pstate *out) {
  gstate *k = &s->k;
  if (k->ens.n >= STATE_MAX_ENSURE) { k->gil.state = GIL_UNKNOWN; out[0] = *s; return 1; }
  bool conflict = k->gil.state == GIL_HELD && k->gil.from_entry && entry_unknown(c);
  if (conflict) {
    /* the uses before it assumed the GIL; the Ensure says it may not be held */
    entry_conflict(c, s, ev);
    k->gil.entry_need = NEED_NOTHING;
  }
  int i = k->ens.n++;
  k->ens.var[i] = e->result_var;
  /* a handle returned or stored is its caller's, or another function's, to release */
  if (e->result_to == RES_RETURN || e->result_to == RES_NONLOCAL) k->ens.escaped |= (uint8_t)(1u << i);
  s->w.ensure[i] = ev;
  set_result(s, e, ev, (var_dom){.ensure = EH_ACTIVE});
  k->gil.from_entry = 0;
  if (k->gil.state == GIL_ENTRY || conflict) {
    pstate other = *s;
    k->gil.state = GIL_HELD; k->gil.own_acquire = 0; k->ens.before[i] = EB_HELD;
    other.k.gil.state = GIL_HELD; other.k.gil.own_acquire = 0; other.k.ens.before[i] = EB_RELEASED;
    out[0] = *s;
    out[1] = other;
    return 2;
  }
  k->ens.before[i] = k->gil.state == GIL_HELD ? EB_HELD : k->gil.state == GIL_RELEASED ? EB_RELEASED : EB_UNKNOWN;
  if (k->gil.state == GIL_RELEASED) { k->gil.state = GIL_HELD; k->gil.own_acquire = 0; k->gil.how = RH_NONE; }
  else if (k->gil.state == GIL_UNKNOWN) k->gil.state = GIL_HELD;
  out[0] = *s;
  return 1;
}

int check_ensure_slot(check_ctx *c, int var) {
  const ens_dom *d = &c->s->k.ens;
  if (var >= 0) {
    for (int i = d->n - 1; i >= 0; i--)
      if (d->var[i] == var) return i;
    return -1;
  }
  return d->n > 0 ? d->n - 1 : -1;
}

static void remove_ensure(pstate *s, int found) {
  ens_dom *d = &s->k.ens;
  uint8_t low = (uint8_t)(d->escaped & ((1u << found) - 1)), high = (uint8_t)(d->escaped >> (found + 1));
  for (int i = found; i + 1 < d->n; i++) {
    d->var[i] = d->var[i + 1];
    d->before[i] = d->before[i + 1];
    s->w.ensure[i] = s->w.ensure[i + 1];
  }
  d->n--;
  d->escaped = (uint8_t)(low | (high << found));
  d->var[d->n] = -1;
  d->before[d->n] = 0;
  s->w.ensure[d->n] = NO_EVENT;
}

static void fx_ensure_release(check_ctx *c, pstate *s, const ir_event *e, int ev, int a0) {
  gstate *k = &s->k;
  pstate *saved = c->s;
  c->s = s;
  int found = check_ensure_slot(c, a0);
  c->s = saved;
  if (found < 0) {
    if (k->gil.state != GIL_ENTRY) k->gil.state = GIL_UNKNOWN;
    return;
  }
  uint8_t before = k->ens.before[found];
  bool top = found == k->ens.n - 1;
  remove_ensure(s, found);
  if (a0 >= 0) { k->v[a0].ensure = EH_RELEASED; state_history_add(&s->w, a0, ev); }
  if (!top) { k->gil.state = GIL_UNKNOWN; return; }
  if (before == EB_RELEASED) mark_released(s, ev, RH_ENSURE_RELEASE);
  else if (before == EB_HELD) k->gil.state = GIL_HELD;
  else k->gil.state = GIL_UNKNOWN;
}

static void fx_tstate_get(pstate *s, const ir_event *e, int ev) {
  gstate *k = &s->k;
  int r = e->result_var;
  if (r < 0) return;
  if (k->cur_ts >= 0 && k->cur_ts != r) {
    k->v[r] = k->v[k->cur_ts];
    k->v[r].owned = 0;
  } else {
    k->v[r] = (var_dom){.null = NULL_NO, .ts = TS_CURRENT};
    if (k->cur_ts < 0) k->cur_ts = (int16_t)r;
  }
  state_history_reset(&s->w, r, ev);
}

static void fx_tstate_clear(check_ctx *c, pstate *s, int ev, int a0) {
  need_held_entry(c, s, ev, -1);
  if (a0 >= 0 && s->k.v[a0].ts != TS_NONE) {
    s->k.v[a0].cleared = 1;
    state_history_add(&s->w, a0, ev);
  }
}

static void fx_tstate_delete(pstate *s, int ev, int a0) {
  gstate *k = &s->k;
  if (a0 < 0) return;
  k->v[a0].ts = TS_DELETED;
  k->v[a0].owned = 0;
  state_history_add(&s->w, a0, ev);
  if (k->cur_ts == a0) k->cur_ts = CUR_UNKNOWN;
}

static void fx_tstate_delete_current(pstate *s, int ev) {
  gstate *k = &s->k;
  if (k->cur_ts >= 0) {
    k->v[k->cur_ts].ts = TS_DELETED;
    k->v[k->cur_ts].owned = 0;
    state_history_add(&s->w, k->cur_ts, ev);
  }
  k->cur_ts = CUR_NONE;
  if (k->gil.state != GIL_RELEASED) mark_released(s, ev, RH_DELETE_CURRENT);
}

static void fx_tstate_swap(check_ctx *c, pstate *s, const ir_event *e, int ev, int a0) {
  gstate *k = &s->k;
  int prev = k->cur_ts;
  if (e->argnull & 1) {
    do_release(c, s, e, ev, -1, release_of_result(e));
    if (e->result_var >= 0) {
      if (prev >= 0) { k->v[e->result_var] = k->v[prev]; k->v[e->result_var].ts = TS_DETACHED; }
      else k->v[e->result_var] = (var_dom){.null = NULL_NO, .ts = TS_SAVED};
    }
    return;
  }
  need_released_entry(c, s, ev);
  if (k->gil.state != GIL_HELD) do_acquire(c, s, e, ev, -1, false);
  if (prev >= 0 && prev != a0) { k->v[prev].ts = TS_DETACHED; state_history_add(&s->w, prev, ev); }
  if (a0 >= 0) {
    k->v[a0].ts = TS_CURRENT;
    state_history_add(&s->w, a0, ev);
    k->cur_ts = (int16_t)a0;
  } else k->cur_ts = CUR_UNKNOWN;
  if (e->result_var >= 0 && e->result_var != a0)
    k->v[e->result_var] = (var_dom){.ts = prev >= 0 ? TS_DETACHED : TS_NONE};
}

static void fx_interp_clear(check_ctx *c, pstate *s, int ev, int a0) {
  need_held_entry(c, s, ev, -1);
  if (a0 >= 0) {
    var_dom *x = &s->k.v[a0];
    if (x->interp == IS_NEW || (x->interp == IS_NONE && x->ts == TS_NONE)) {
      x->interp = IS_CLEARED;
      state_history_add(&s->w, a0, ev);
    }
  }
}

static void fx_interp_delete(pstate *s, int ev, int a0) {
  if (a0 < 0) return;
  s->k.v[a0].interp = IS_DELETED;
  s->k.v[a0].owned = 0;
  state_history_add(&s->w, a0, ev);
}

static void fx_new_interpreter(pstate *s, const ir_event *e, int ev) {
  gstate *k = &s->k;
  if (k->cur_ts >= 0) { k->v[k->cur_ts].ts = TS_DETACHED; state_history_add(&s->w, k->cur_ts, ev); }
  if (e->result_var >= 0) {
    set_result(s, e, ev, (var_dom){.ts = TS_CURRENT, .owned = 1, .subinterp = 1});
    k->cur_ts = e->result_var;
  } else k->cur_ts = CUR_UNKNOWN;
  /* its thread state is attached now, whatever was before (it may be called
   * with none attached); one this function attached when none was is its own
   * to detach, like an acquire */
  if (k->gil.state == GIL_RELEASED) k->gil.own_acquire = 1;
  else if (k->gil.state != GIL_HELD) k->gil.own_acquire = 0;
  k->gil.state = GIL_HELD;
  k->gil.from_entry = 0;
  k->gil.how = RH_NONE;
  k->gil.saved_var = -1;
  k->gil.region = -1;
}

static void fx_end_interpreter(check_ctx *c, pstate *s, int ev, int a0) {
  gstate *k = &s->k;
  need_held_entry(c, s, ev, -1);
  if (a0 >= 0) {
    k->v[a0].ts = TS_DELETED;
    k->v[a0].owned = 0;
    state_history_add(&s->w, a0, ev);
  }
  k->cur_ts = CUR_NONE;
  if (k->gil.state == GIL_HELD || k->gil.state == GIL_UNKNOWN) mark_released(s, ev, RH_END_INTERPRETER);
}

static void fx_cs_begin(check_ctx *c, pstate *s, const ir_event *e, int ev, int a0) {
  check_event ce = event_of(CE_CS_BEGIN, e, ev);
  publish(c, s, &ce);
  cs_dom *d = &s->k.cs;
  if (d->n < STATE_MAX_CS) {
    s->w.cs[d->n] = ev;
    d->var[d->n] = (int16_t)a0;
    d->n++;
  }
}

static void fx_cs_end(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  check_event ce = event_of(CE_CS_END, e, ev);
  publish(c, s, &ce);
  cs_dom *d = &s->k.cs;
  if (d->n > 0) {
    d->n--;
    d->var[d->n] = -1;
    s->w.cs[d->n] = NO_EVENT;
  }
}

/* Effects whose need for the GIL is a plain API use (the others are the
 * lifecycle rules' and the release/acquire events'). */
static bool needs_plainly(api_effect fx) {
  switch (fx) {
  case FX_NONE: case FX_TSTATE_GET: case FX_INTERP_GET: case FX_NEW_INTERPRETER: case FX_FINALIZE:
  case FX_CS_BEGIN: case FX_CS_END: case FX_TSTATE_DELETE_CURRENT: case FX_GIL_CHECK:
  case FX_RUNTIME_ALIVE: case FX_RUNTIME_ENDING:
    return true;
  default:
    return false;
  }
}

/* A call with a built-in effect. Returns the number of states in out. */
static int call_effect(check_ctx *c, pstate *s, const ir_event *e, int ev, pstate *out) {
  api_effect fx = e->api->effect;
  int a0 = e->nargs > 0 ? e->argvar[0] : -1;
  bool plain = e->api->needs_gil && needs_plainly(fx);
  if (plain || special_use(c, e, plain)) use_api(c, s, e, ev, -1);
  switch (fx) {
  case FX_RELEASE: fx_release(c, s, e, ev); break;
  case FX_RELEASE_KEEP: fx_release_keep(c, s, e, ev, a0); break;
  case FX_ACQUIRE: fx_acquire(c, s, e, ev, a0); break;
  case FX_INITIALIZE:
    s->k.gil.state = GIL_HELD;
    s->k.gil.own_acquire = 0;
    s->k.gil.from_entry = 0;
    s->k.cur_ts = CUR_UNKNOWN;
    break;
  case FX_ENSURE: return fx_ensure(c, s, e, ev, out);
  case FX_ENSURE_RELEASE: fx_ensure_release(c, s, e, ev, a0); break;
  case FX_TSTATE_NEW: set_result(s, e, ev, (var_dom){.ts = TS_NEW, .owned = 1}); break;
  case FX_TSTATE_GET: fx_tstate_get(s, e, ev); break;
  case FX_TSTATE_CLEAR: fx_tstate_clear(c, s, ev, a0); break;
  case FX_TSTATE_DELETE: fx_tstate_delete(s, ev, a0); break;
  case FX_TSTATE_DELETE_CURRENT: fx_tstate_delete_current(s, ev); break;
  case FX_TSTATE_SWAP: fx_tstate_swap(c, s, e, ev, a0); break;
  case FX_INTERP_NEW: set_result(s, e, ev, (var_dom){.interp = IS_NEW, .owned = 1}); break;
  case FX_INTERP_GET: break;
  case FX_INTERP_CLEAR: fx_interp_clear(c, s, ev, a0); break;
  case FX_INTERP_DELETE: fx_interp_delete(s, ev, a0); break;
  case FX_NEW_INTERPRETER: fx_new_interpreter(s, e, ev); break;
  case FX_END_INTERPRETER: fx_end_interpreter(c, s, ev, a0); break;
  case FX_FINALIZE:
    /* the runtime is gone: no state is attached, no handle is owed */
    s->k.gil.state = GIL_UNKNOWN;
    s->k.cur_ts = CUR_UNKNOWN;
    while (s->k.ens.n > 0) remove_ensure(s, s->k.ens.n - 1);
    break;
  case FX_CS_BEGIN: fx_cs_begin(c, s, e, ev, ft_cs_object_var(e)); break;   /* the object locked */
  case FX_CS_END: fx_cs_end(c, s, e, ev); break;
  case FX_NORETURN: return 0;
  case FX_GIL_CHECK: case FX_RUNTIME_ALIVE: case FX_RUNTIME_ENDING: case FX_NONE: break;
  }
  out[0] = *s;
  return 1;
}

/* Applies a call. Returns the number of states in out (0: the path ends). */
static int apply_call(check_ctx *c, pstate *s, const ir_event *e, int ev, pstate *out) {
  gstate *k = &s->k;
  api_effect fx = e->api ? e->api->effect : FX_NONE;
  k->corr.known &= ~e->kills;
  check_event pre = event_of(CE_PRE_CALL, e, ev);
  publish(c, s, &pre);
  bool misused = forget_deleted_args(s, e, fx);
  if (e->result_var >= 0) set_result(s, e, ev, (var_dom){0});
  int n;
  if (e->slot) n = e->callee_set >= 0 ? call_slot(c, s, e, ev) : (escape_args(s, e), 1);
  else if (fx == FX_NONE && e->callee_fn >= 0) n = call_project(c, s, e, ev);
  else if (fx == FX_NONE && e->callee_annot && !e->api) n = call_annotated(c, s, e, ev);
  else if (fx == FX_NONE) n = call_plain(c, s, e, ev);
  else {
    n = call_effect(c, s, e, ev, out);
    for (int i = 0; i < n; i++) {
      out[i].k.corr.known &= ~e->kills;
      if (misused && e->result_var >= 0) out[i].k.v[e->result_var].owned = 0;   /* one finding, not a leak too */
      ft_after_call(c, &out[i], e);   /* free threading: the result is no new container */
    }
    if (e->noreturn) return 0;
    for (int i = 0; i < n; i++) {
      check_event post = event_of(CE_POST_CALL, e, ev);
      publish(c, &out[i], &post);
    }
    return n;
  }
  if (n == 0) return 0;
  ft_after_call(c, s, e);   /* free threading: locks, new containers, what escapes */
  check_event post = event_of(CE_POST_CALL, e, ev);
  publish(c, s, &post);
  out[0] = *s;
  return 1;
}

/* ---------- the other events ---------- */

static void settle_pending(gstate *k) {
  /* the result was not tested at once: the effect is one of two, unknown */
  if (k->pend.fn < 0) return;
  k->pend.fn = -1;
  if (k->gil.state != GIL_ENTRY) k->gil.state = GIL_UNKNOWN;
}

static void apply_assign(check_ctx *c, pstate *s, const ir_event *e) {
  gstate *k = &s->k;
  k->corr.known &= ~e->kills;
  if (e->var < 0) return;
  var_dom nv = {0};
  if (e->val == VAL_ZERO) nv.null = NULL_YES;
  else if (e->val == VAL_NONZERO) nv.null = NULL_NO;
  if (e->has_const) set_value(c, &nv, e->val_const);
  else if (e->val == VAL_COPY && e->src_var >= 0) { nv = k->v[e->src_var]; nv.owned = 0; }
  if (e->var == k->gil.saved_var && k->gil.how == RH_SAVED_LOCAL && e->val != VAL_COPY)
    k->gil.how = RH_LOST;   /* overwriting the only copy of the saved thread state */
  k->v[e->var] = nv;
  if (e->val == VAL_COPY && e->src_var >= 0)
    memcpy(s->w.hist[e->var], s->w.hist[e->src_var], sizeof s->w.hist[0]);
  else state_history_reset(&s->w, e->var, NO_EVENT);
}

/* A local given the value of a side-effect-free expression that is also a
 * correlated condition (key_src): its truth is the condition's. Known, the
 * local follows it; unknown, the path splits in two, one where both are
 * true and one where both are false. An approximate state learns nothing. */
static int assign_from_key(check_ctx *c, pstate *s, const ir_event *e, pstate *out) {
  uint32_t bit = 1u << e->key_src;
  int n = 0;
  for (int truth = 1; truth >= 0; truth--) {
    gstate *k = &s->k;
    if ((k->corr.known & bit) && ((k->corr.val & bit) != 0) != (truth != 0)) continue;
    pstate t = *s;
    t.k.corr.known |= bit;
    if (truth) t.k.corr.val |= bit; else t.k.corr.val &= ~bit;
    apply_assign(c, &t, e);   /* the condition is read before the store makes anything stale */
    t.k.v[e->var].null = truth ? NULL_NO : NULL_YES;
    ft_after_assign(&t, e);
    out[n++] = t;
  }
  return n;
}

static void apply_escape(pstate *s, const ir_event *e) {
  if (e->var < 0) return;
  if (e->var == s->k.gil.saved_var && s->k.gil.how == RH_SAVED_LOCAL) s->k.gil.how = RH_STORED;
  s->k.v[e->var].owned = 0;
  if (!(e->gflags & CF_RETURNED)) s->k.ft.fresh &= ~(1u << e->var);   /* free threading: others may see it now */
}

/* A return, goto, break or continue out of a compound statement opened by
 * a macro. */
static void apply_leave_region(check_ctx *c, pstate *s, const ir_event *e, int ev) {
  gstate *k = &s->k;
  const ir_region *r = &c->fn->regions[e->region];
  check_event ce = event_of(CE_LEAVE_REGION, e, ev);
  ce.region = r;
  publish(c, s, &ce);
  if (r->critical_section) {
    /* the free-threaded expansion begins it inside the block: leaving the
     * block is the one finding, not an open section at exit as well */
    for (int i = k->cs.n - 1; i >= 0; i--) {
      const ir_event *b = walk_event(c, s->w.cs[i], NULL);
      if (b && b->region == e->region) {
        for (int j = i; j + 1 < k->cs.n; j++) { s->w.cs[j] = s->w.cs[j + 1]; k->cs.var[j] = k->cs.var[j + 1]; }
        k->cs.n--;
        k->cs.var[k->cs.n] = -1;
        s->w.cs[k->cs.n] = NO_EVENT;
      }
    }
  }
  if (k->gil.state == GIL_RELEASED && k->gil.region == e->region &&
      (k->gil.how == RH_SAVED_LOCAL || k->gil.how == RH_LOST || k->gil.how == RH_STORED)) {
    /* the thread state saved by the block is out of reach now: what follows
     * on this path is a consequence, not a new finding */
    k->gil.state = GIL_UNKNOWN;
  }
}

/* What the summaries' walks see at calls and function references, for the
 * entries of C libraries' callbacks (entry.c). */
static void observe(check_ctx *c, const pstate *s, const ir_event *e, int ev) {
  if (!c->obs || s->k.approx || (e->kind != EV_CALL && e->kind != EV_FNREF)) return;
  static const uint8_t bit[] = {OBS_AT_ENTRY, OBS_HELD, OBS_RELEASED, OBS_UNKNOWN};
  c->obs[ev] |= bit[s->k.gil.state <= GIL_UNKNOWN ? s->k.gil.state : GIL_UNKNOWN];
}

static void apply_event(check_ctx *c, pstate *s, const ir_event *e, int ev, pstate *out, int *nout) {
  settle_pending(&s->k);
  observe(c, s, e, ev);
  switch (e->kind) {
  case EV_CALL:
    *nout = apply_call(c, s, e, ev, out);
    return;
  case EV_OBJMACRO:
    if (e->needs_gil) use_api(c, s, e, ev, -1);
    break;
  case EV_ASSIGN:
    if (e->key_src >= 0 && e->var >= 0 && !s->k.approx) {
      *nout = assign_from_key(c, s, e, out);
      return;
    }
    apply_assign(c, s, e);
    ft_after_assign(s, e);   /* free threading: a new container copied or overwritten */
    break;
  case EV_ESCAPE: apply_escape(s, e); break;
  case EV_LEAVE_REGION: apply_leave_region(c, s, e, ev); break;
  case EV_FNREF: break;
  case EV_GLOBAL: {   /* free threading */
    if (e->gaccess == GA_ADDR) break;
    check_event ce = event_of(e->gaccess == GA_WRITE ? CE_GLOBAL_WRITE : CE_GLOBAL_READ, e, ev);
    publish(c, s, &ce);
    break;
  }
  }
  out[0] = *s;
  *nout = 1;
}

/* ---------- exits ---------- */

static bool entry_is_released(uint8_t kind) {
  return kind == ENTRY_RELEASED || kind == ENTRY_FINALIZED || kind == ENTRY_SIGNAL;
}

static bool entered_released(check_ctx *c, const gstate *k) {
  return k->gil.entry_need == NEED_RELEASED || entry_is_released(c->p->entry[c->fi]);
}

static void apply_exit(check_ctx *c, pstate *s, const ir_block *b) {
  gstate *k = &s->k;
  settle_pending(k);
  ft_at_exit(c, s, b);   /* free threading: does it return a new container? */
  if (!k->approx) c->exits++;
  /* returning the saved thread state or a created one hands it over */
  if (b->ret_var >= 0 && b->ret_var == k->gil.saved_var && k->gil.how == RH_SAVED_LOCAL) k->gil.how = RH_STORED;
  if (b->ret_var >= 0) k->v[b->ret_var].owned = 0;
  for (int i = 0; i < k->ens.n; i++)
    if (b->ret_var >= 0 && k->ens.var[i] == b->ret_var) k->ens.escaped |= (uint8_t)(1u << i);
  account_entry(c, s);
  check_event ce = event_of(CE_EXIT, NULL, NO_EVENT);
  ce.block = b;
  publish(c, s, &ce);
  /* what the exit tells the summary */
  if (k->approx) { c->approx_exits++; return; }
  bool came_released = entered_released(c, k);
  int eff;
  if (k->gil.state == GIL_UNKNOWN) { c->ex_top++; eff = EFF_UNKNOWN; }
  else if (k->gil.state == GIL_RELEASED && !came_released && k->gil.how != RH_ENSURE_RELEASE &&
           k->gil.how != RH_ENTRY) { c->ex_rel++; eff = EFF_RELEASES; }
  else if (k->gil.state == GIL_HELD && came_released) { c->ex_acq++; eff = EFF_ACQUIRES; }
  else { c->ex_none++; eff = EFF_NONE; }
  int r = b->ret_const == RET_ZERO ? 1 : b->ret_const == RET_POSITIVE || b->ret_const == RET_NEGATIVE ? 2 : 0;
  c->by_ret[r][eff]++;
}

/* ---------- the exploded graph ---------- */

/* Liveness of tracked locals and of condition keys, per block entry (a
 * backward fixed point). A fact nobody reads later cannot change a path, so
 * states are compared without it: otherwise each Py_BEGIN_ALLOW_THREADS's
 * own _save, or a condition tested once, would multiply the states. */
static uint32_t ev_uses(const ir_event *e) {
  uint32_t u = 0;
  if (e->kind == EV_CALL)
    for (int i = 0; i < IR_MAX_ARGS; i++) if (e->argvar[i] >= 0) u |= 1u << e->argvar[i];
  if (e->kind == EV_OBJMACRO)   /* free threading: a borrowed-reference macro's container */
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

static bool creates_owned(const ir_event *e) {
  if (e->kind != EV_CALL || e->result_var < 0 || !e->api) return false;
  return e->api->effect == FX_TSTATE_NEW || e->api->effect == FX_INTERP_NEW || e->api->effect == FX_NEW_INTERPRETER;
}

#define LIVENESS_MAX_ROUNDS 1000

static void compute_liveness(check_ctx *c) {
  const ir_func *fn = c->fn;
  int nb = fn->nblocks;
  c->live_v = xcalloc((size_t)nb + 1, sizeof(uint32_t));
  c->live_k = xcalloc((size_t)nb + 1, sizeof(uint32_t));
  c->keep_v = 0;
  for (int b = 0; b < nb; b++)
    for (int i = 0; i < fn->blocks[b].nev; i++)
      if (creates_owned(&fn->blocks[b].ev[i])) c->keep_v |= 1u << fn->blocks[b].ev[i].result_var;
  bool changed = true;
  for (int round = 0; changed && round < LIVENESS_MAX_ROUNDS; round++) {
    changed = false;
    for (int b = nb - 1; b >= 0; b--) {
      const ir_block *bl = &fn->blocks[b];
      uint32_t lv = 0, lk = 0;
      for (int i = 0; i < bl->nsucc; i++) {
        lv |= c->live_v[bl->succ[i].to];
        lk |= c->live_k[bl->succ[i].to];
        if (bl->succ[i].cond >= 0) {
          const ir_cond *cd = &fn->conds[bl->succ[i].cond];
          if ((cd->kind == COND_VAR || cd->kind == COND_CMP) && cd->var >= 0) lv |= 1u << cd->var;
          if (cd->kind == COND_KEY && cd->key >= 0) lk |= 1u << cd->key;
        }
      }
      if (bl->term == TERM_RETURN && bl->ret_var >= 0) lv |= 1u << bl->ret_var;
      for (int i = bl->nev - 1; i >= 0; i--) {
        lv = (lv & ~ev_defs(&bl->ev[i])) | ev_uses(&bl->ev[i]);
        lk &= ~bl->ev[i].kills;
        if (bl->ev[i].kind == EV_ASSIGN && bl->ev[i].key_src >= 0) lk |= 1u << bl->ev[i].key_src;
      }
      if (lv != c->live_v[b] || lk != c->live_k[b]) {
        c->live_v[b] = lv;
        c->live_k[b] = lk;
        changed = true;
      }
    }
  }
}

static void drop_dead_facts(check_ctx *c, int block, gstate *k) {
  uint32_t lv = c->live_v[block] | c->keep_v;
  for (int v = 0; v < c->fn->nvars && v < IR_MAX_VARS; v++)
    if (!(lv & (1u << v))) k->v[v] = (var_dom){0};
  if (k->cur_ts >= 0 && !(lv & (1u << k->cur_ts))) k->cur_ts = CUR_UNKNOWN;
  k->ft.fresh &= lv;   /* free threading */
  k->corr.known &= c->live_k[block];
  k->corr.val &= c->live_k[block];
}

#define NODE_KEY_LEN (offsetof(node, k) + sizeof(gstate) - offsetof(node, block))

static void push_node(check_ctx *c, node *from, int block, const pstate *in, int cond, bool sense) {
  if (c->gave_up) return;
  node probe;
  memset(&probe, 0, sizeof probe);
  probe.block = block;
  probe.k = in->k;
  gstate *k = &probe.k;
  if (c->live_v) drop_dead_facts(c, block, k);
  if (!k->approx && c->per_block[block] >= WALK_PER_BLOCK) {
    /* Too many distinct states here: drop the correlation facts (values of
     * locals, truth of conditions). What follows may be infeasible, so it
     * feeds neither findings nor summaries (see check_report, exits). */
    k->approx = 1;
    k->corr.known = k->corr.val = 0;
    for (int v = 0; v < IR_MAX_VARS; v++) {
      k->v[v].null = NULL_UNKNOWN;
      k->v[v].value = VALUE_NONE;
      k->v[v].value_eq = 0;
    }
  }
  if (k->gil.state != GIL_HELD) k->gil.from_entry = 0;
  node *found = NULL;
  HASH_FIND(hh, c->nodes, &probe.block, NODE_KEY_LEN, found);
  if (found) return;
  if (c->nnodes >= walk_node_limit(c)) { c->gave_up = true; return; }
  c->per_block[block]++;
  node *n = arena_alloc(&c->A, sizeof *n);
  n->block = block;
  n->k = *k;
  n->w = in->w;
  n->pred = from;
  n->edge_cond = (int16_t)cond;
  n->edge_sense = sense;
  HASH_ADD(hh, c->nodes, block, NODE_KEY_LEN, n);
  c->nnodes++;
  if (c->nwork == c->capwork) {
    c->capwork = c->capwork ? c->capwork * 2 : 256;
    c->work = xrealloc(c->work, sizeof(node *) * (size_t)c->capwork);
  }
  c->work[c->nwork++] = n;
}

/* Facts a condition gives on an edge; false when the edge cannot be taken
 * in this state. */
static bool assume(check_ctx *c, pstate *t, const ir_edge *ed) {
  if (ed->cond < 0) return true;
  const ir_cond *cd = &c->fn->conds[ed->cond];
  gstate *k = &t->k;
  /* an approximate state learns nothing from branches: its facts were
   * dropped to bound the walk, and new ones would multiply it again */
  if (k->approx && (cd->kind == COND_VAR || cd->kind == COND_CMP || cd->kind == COND_KEY)) return true;
  switch (cd->kind) {
  case COND_VAR:
    if (cd->var >= 0) {
      var_dom *v = &k->v[cd->var];
      if (v->null == NULL_YES && ed->sense) return false;
      if (v->null == NULL_NO && !ed->sense) return false;
      v->null = ed->sense ? NULL_NO : NULL_YES;
    }
    return true;
  case COND_GIL:
    /* a function that asks whether it holds the GIL: both answers are
     * possible where its entry is unknown, one where the state is known */
    if (k->gil.state == GIL_HELD && !ed->sense) return false;
    if (k->gil.state == GIL_RELEASED && ed->sense) return false;
    if (k->gil.state == GIL_ENTRY) {
      if (ed->sense) k->gil.state = GIL_HELD;
      else { k->gil.state = GIL_RELEASED; k->gil.how = RH_ENTRY; }
    }
    return true;
  case COND_CMP: {
    if (cd->var < 0) return true;
    var_dom *v = &k->v[cd->var];
    int known = compare(c, v, (cmp_op)cd->cmp_op, cd->cmp_value);
    if (known >= 0 && known != ed->sense) return false;
    bool eq_edge = (cd->cmp_op == CMP_EQ) == ed->sense;   /* the edge says var == k, or var != k */
    if (cd->cmp_op == CMP_EQ || cd->cmp_op == CMP_NE) {
      if (eq_edge) set_value(c, v, cd->cmp_value);
      else if (!v->value) {
        uint8_t ki = value_index(c, cd->cmp_value);
        if (ki != VALUE_OTHER) { v->value = ki; v->value_eq = 0; }
      }
    }
    return true;
  }
  case COND_RUNTIME:
    /* Python finalized after the GIL was released here: not taking it back
     * is right, so nothing is known of it from here */
    if (k->gil.state == GIL_RELEASED && ed->sense == cd->runtime_ending) {
      k->gil.state = GIL_UNKNOWN;
      k->gil.from_entry = 0;
    }
    return true;
  case COND_KEY:
    if (cd->key >= 0) {
      uint32_t bit = 1u << cd->key;
      if ((k->corr.known & bit) && ((k->corr.val & bit) != 0) != ed->sense) return false;
      k->corr.known |= bit;
      if (ed->sense) k->corr.val |= bit; else k->corr.val &= ~bit;
    }
    return true;
  default:
    return true;
  }
}

/* A call whose effect its result tells, tested by this edge. */
static void settle_by_edge(check_ctx *c, pstate *t, const ir_edge *ed) {
  if (t->k.pend.fn < 0) return;
  const ir_cond *cd = ed->cond >= 0 ? &c->fn->conds[ed->cond] : NULL;
  if (!cd || cd->kind != COND_CALL) { settle_pending(&t->k); return; }
  const summary *sm = &c->p->sums[t->k.pend.fn];
  int eff = (ed->sense ? sm->eff_nonzero : sm->eff_zero) - 1;
  int ev = t->w.pending;
  const ir_event *ce = walk_event(c, ev, NULL);
  int fn = t->k.pend.fn;
  t->k.pend.fn = -1;
  t->w.pending = NO_EVENT;
  if (eff == EFF_ACQUIRES && ce) do_acquire(c, t, ce, ev, fn, true);
  else if (eff == EFF_RELEASES && ce) do_release(c, t, ce, ev, fn, RH_CALLEE);
  else if (eff == EFF_UNKNOWN && t->k.gil.state != GIL_ENTRY) t->k.gil.state = GIL_UNKNOWN;
}

static void edge_states(check_ctx *c, node *from, const pstate *s, const ir_block *b) {
  for (int i = 0; i < b->nsucc; i++) {
    const ir_edge *ed = &b->succ[i];
    pstate t = *s;
    settle_by_edge(c, &t, ed);
    if (!assume(c, &t, ed)) continue;
    if (ed->cond >= 0) {
      check_event ce = event_of(CE_BRANCH, NULL, NO_EVENT);
      ce.cond = &c->fn->conds[ed->cond];
      ce.sense = ed->sense;
      publish(c, &t, &ce);
    }
    push_node(c, from, ed->to, &t, ed->cond, ed->sense);
  }
}

/* ---------- the walk ---------- */

static void walk_block(check_ctx *c, node *n, pstate *cur, pstate *nxt) {
  const ir_block *b = &c->fn->blocks[n->block];
  int ncur = 1;
  cur[0].k = n->k;
  cur[0].w = n->w;
  for (int i = 0; i < b->nev && ncur > 0; i++) {
    int nn = 0;
    for (int j = 0; j < ncur; j++) {
      pstate tmp[2];
      int cnt = 0;
      apply_event(c, &cur[j], &b->ev[i], c->ev_base[n->block] + i, tmp, &cnt);
      if (cnt == 0) account_entry(c, &cur[j]);   /* a noreturn call ends the path */
      for (int t = 0; t < cnt && nn < WALK_MAX_SPLIT; t++) nxt[nn++] = tmp[t];
    }
    pstate *sw = cur; cur = nxt; nxt = sw;
    ncur = nn;
  }
  for (int j = 0; j < ncur; j++) {
    if (c->dump) {
      fprintf(c->dump, "    block %d: ", n->block);
      state_print(c->dump, &cur[j].k, c->fn->var_names, c->fn->nvars);
      fputc('\n', c->dump);
    }
    if (b->term == TERM_RETURN) apply_exit(c, &cur[j], b);
    else if (b->term == TERM_EDGES) edge_states(c, n, &cur[j], b);
    else account_entry(c, &cur[j]);
  }
}

static void run(check_ctx *c) {
  int nb = c->fn->nblocks;
  c->ev_base = xcalloc((size_t)nb + 1, sizeof(int));
  c->per_block = xcalloc((size_t)nb + 1, sizeof(int));
  int total = 0;
  for (int b = 0; b < nb; b++) { c->ev_base[b] = total; total += c->fn->blocks[b].nev; }
  c->nevents = total;
  c->ev_block = xcalloc((size_t)total + 1, sizeof(int));
  for (int b = 0; b < nb; b++)
    for (int i = 0; i < c->fn->blocks[b].nev; i++) c->ev_block[c->ev_base[b] + i] = b;
  c->first_rel_ev = c->first_acq_ev = -1;
  c->req_wit_fn = -1;
  compute_liveness(c);
  collect_consts(c);
  pstate init;
  state_init(&init, c->p->entry[c->fi]);
  for (int i = 0; i < c->nargs && i < c->fn->nparams; i++) {
    int v = c->fn->param_var[i];
    if (v < 0 || v >= c->fn->nvars) continue;
    init.k.v[v].null = c->args[i].null;
    if (c->args[i].has_value) {
      uint8_t vi = value_index(c, c->args[i].value);
      if (c->args[i].value_eq || vi != VALUE_OTHER) { init.k.v[v].value = vi; init.k.v[v].value_eq = c->args[i].value_eq; }
    }
  }
  ft_at_entry(c, &init);   /* free threading: parameters every caller gives a new container in */
  push_node(c, NULL, c->fn->entry, &init, -1, false);
  pstate *cur = xmalloc(sizeof(pstate) * WALK_MAX_SPLIT), *nxt = xmalloc(sizeof(pstate) * WALK_MAX_SPLIT);
  while (c->nwork > 0 && !c->gave_up) {
    node *n = c->work[--c->nwork];
    c->cur = n;
    walk_block(c, n, cur, nxt);
  }
  free(cur);
  free(nxt);
  if (!c->gave_up) {
    c->cur = NULL;
    check_event ce = event_of(CE_END_FUNCTION, NULL, NO_EVENT);
    publish(c, NULL, &ce);
  }
}

static void ctx_init(check_ctx *c, engine_program *p, int fi, bool report, gc_findings *out) {
  memset(c, 0, sizeof *c);
  c->p = p;
  c->fi = fi;
  c->fn = p->funcs[fi];
  c->report = report;
  c->out = out;
}

static void ctx_free(check_ctx *c) {
  free(c->ev_base);
  free(c->ev_block);
  free(c->per_block);
  free(c->live_v);
  free(c->live_k);
  HASH_CLEAR(hh, c->nodes);
  free(c->work);
  pairmap_free(&c->seen);
  for (int r = 0; r < R_COUNT; r++) diag_free(&c->drafts[r]);
  arena_free(&c->A);
}

/* ---------- summaries ---------- */

static const char *ev_name(const ir_event *e) { return check_event_name(e); }

/* Mixed effects, but exact by the constant returned: "attach, return 1" and
 * "nothing to attach, return 0". */
static void effect_by_return(const check_ctx *c, summary *s) {
  if (s->effect != EFF_UNKNOWN || c->ex_top != 0 || c->by_ret[0][EFF_RELEASES] + c->by_ret[0][EFF_ACQUIRES] != 0)
    return;
  int z = -1, nz = -1;
  bool ok = true;
  for (int r = 1; r <= 2; r++)
    for (int e = 0; e < 4; e++)
      if (c->by_ret[r][e]) {
        int *slot = r == 1 ? &z : &nz;
        if (*slot >= 0 && *slot != e) ok = false;
        *slot = e;
      }
  if (ok && z >= 0 && nz >= 0 && z != nz && c->by_ret[0][EFF_NONE] == 0) {
    s->eff_zero = (uint8_t)(z + 1);
    s->eff_nonzero = (uint8_t)(nz + 1);
  }
}

static void precondition(check_ctx *c, summary *s) {
  engine_program *p = c->p;
  int fi = c->fi;
  if (p->entry[fi] == ENTRY_HELD) { s->pre = PRE_HELD; s->wit_loc = c->fn->loc; s->wit_what = "@entry"; }
  else if (entry_is_released(p->entry[fi])) s->pre = PRE_RELEASED;
  else if (c->req_held && c->req_released) s->pre = PRE_CONFLICT;
  else if (c->req_held || (c->used_at_entry && !c->req_released)) {
    if (!c->req_held) { c->req_held_ev = c->used_at_entry_ev; c->req_wit_fn = c->used_at_entry_fn; }
    s->pre = PRE_HELD;
    const ir_event *e = walk_event(c, c->req_held_ev, NULL);
    if (e) {
      s->wit_loc = e->loc;
      s->wit_what = ev_name(e);
      if (e->kind == EV_CALL && e->callee_fn >= 0 && c->req_wit_fn >= 0) {
        s->wit_fn = e->callee_fn;
        s->wit_what = e->callee;
      }
    }
  } else if (c->req_released) s->pre = PRE_RELEASED;
}

static void effect(check_ctx *c, summary *s) {
  if (c->exits == 0 && c->approx_exits == 0) s->noreturn = true;
  else if (c->exits == 0 || c->ex_top > 0) s->effect = EFF_UNKNOWN;
  else if (c->ex_rel == c->exits) s->effect = EFF_RELEASES;
  else if (c->ex_acq == c->exits) s->effect = EFF_ACQUIRES;
  else if (c->ex_none == c->exits) s->effect = EFF_NONE;
  else s->effect = EFF_UNKNOWN;
  effect_by_return(c, s);
  if (c->fn->annot & ANNOT_RELEASES_GIL) s->effect = EFF_RELEASES;
  if (c->fn->annot & ANNOT_ACQUIRES_GIL) s->effect = EFF_ACQUIRES;
  if ((s->effect == EFF_RELEASES || s->effect == EFF_ACQUIRES) && !s->wit_loc.file) {
    const ir_event *e = walk_event(c, s->effect == EFF_RELEASES ? c->first_rel_ev : c->first_acq_ev, NULL);
    if (e) { s->wit_loc = e->loc; s->wit_what = ev_name(e); }
  }
}

bool engine_summarize(engine_program *p, int fi) {
  ir_func *fn = p->funcs[fi];
  summary old = p->sums[fi];
  summary s;
  memset(&s, 0, sizeof s);
  s.wit_fn = -1;
  if (fn->abandoned) {
    p->sums[fi] = s;
    return memcmp(&old, &s, sizeof s) != 0;
  }
  check_ctx c;
  ctx_init(&c, p, fi, false, NULL);
  if (p->obs && p->obs[fi]) {
    c.obs = p->obs[fi];
    memset(c.obs, 0, (size_t)p->nobs[fi]);
  }
  run(&c);
  if (c.gave_up) {
    ctx_free(&c);
    p->sums[fi] = s;
    return old.pre != s.pre || old.effect != s.effect || old.noreturn != s.noreturn;
  }
  precondition(&c, &s);
  effect(&c, &s);
  ft_summarized(&c);   /* free threading */
  ctx_free(&c);
  p->sums[fi] = s;
  return old.pre != s.pre || old.effect != s.effect || old.noreturn != s.noreturn ||
         old.wit_fn != s.wit_fn || old.eff_zero != s.eff_zero || old.eff_nonzero != s.eff_nonzero;
}

void engine_report(engine_program *p, int fi, gc_findings *out) {
  ir_func *fn = p->funcs[fi];
  if (fn->abandoned) {
    if (p->verbose)
      log_remark(fn->loc.file, fn->loc.line, fn->loc.col, "gilcheck gives up on '%s': %s", fn->name, fn->abandoned);
    return;
  }
  check_ctx c;
  ctx_init(&c, p, fi, true, NULL);
  gc_findings local = {0};
  c.out = &local;
  run(&c);
  if (c.gave_up) {
    /* too many paths: stay silent rather than report from a partial walk */
    diag_free(&local);
    if (p->verbose)
      log_remark(fn->loc.file, fn->loc.line, fn->loc.col, "gilcheck gives up on '%s': more than %d states",
                 fn->name, walk_node_limit(&c));
  } else {
    diag_move_all(out, &local);
  }
  ctx_free(&c);
}

void engine_dump_states(engine_program *p, int fi, FILE *out) {
  check_ctx c;
  ctx_init(&c, p, fi, false, NULL);
  c.dump = out;
  run(&c);
  if (c.gave_up) fprintf(out, "    (given up: more than %d states)\n", walk_node_limit(&c));
  ctx_free(&c);
}
