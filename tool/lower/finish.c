/* finish.c: after a function's body is lowered — which conditions guard
 * anything that matters, which locals are worth tracking, which conditions
 * correlate — and the events rewritten from raw locals to tracked ones. */
#include <string.h>
#include "lower_int.h"

/* Does a branch do anything the engine cares about? Correlating a
 * condition only pays where one of its branches does: `if (x & 4) acc += 4;`
 * repeated 40 times would otherwise give 2^40 states for nothing. A branch is
 * its first block, the branches nested in it, and an empty block's one
 * successor (goto out;), never the other branch's target (the join). */
static bool event_relevant(const ir_event *e) {
  if (e->kind == EV_OBJMACRO || e->kind == EV_LEAVE_REGION || e->kind == EV_ESCAPE) return true;
  return e->kind == EV_CALL && (e->python_api || e->callee_usr || e->noreturn || (e->api && api_effect_acts(e->api->effect)));
}

#define BRANCH_DEPTH 2   /* nested branches looked into for something relevant */

static bool branch_relevant(lower *L, int b, int other, int depth) {
  if (b == other) return false;
  const ir_block *bl = &L->blocks.v[b];
  if (bl->term != TERM_EDGES) return true;
  for (int i = 0; i < bl->nev; i++)
    if (event_relevant(&bl->ev[i])) return true;
  if (depth <= 0) return false;
  for (int i = 0; i < bl->nsucc; i++)
    if (bl->succ[i].cond >= 0 && branch_relevant(L, bl->succ[i].to, other, depth - 1)) return true;
  if (bl->nev == 0 && bl->nsucc == 1) return branch_relevant(L, bl->succ[0].to, other, depth - 1);
  return false;
}

static bool falls_into(lower *L, int b, int target) {
  const ir_block *bl = &L->blocks.v[b];
  return bl->nsucc == 1 && bl->succ[0].to == target;
}

/* Which conditions guard something that matters. */
static char *relevant_conds(lower *L) {
  char *relevant = arena_alloc(L->A, (size_t)L->conds.n + 1);
  for (int b = 0; b < L->blocks.n; b++) {
    const ir_block *bl = &L->blocks.v[b];
    if (bl->nsucc != 2 || bl->succ[0].cond < 0 || bl->succ[0].cond != bl->succ[1].cond) continue;
    int c = bl->succ[0].cond, t = bl->succ[0].to, f = bl->succ[1].to;
    if (relevant[c]) continue;
    /* an if without else: the body falls straight into the other target,
     * the join, whose code runs either way */
    if (falls_into(L, t, f)) relevant[c] = branch_relevant(L, t, f, BRANCH_DEPTH);
    else if (falls_into(L, f, t)) relevant[c] = branch_relevant(L, f, t, BRANCH_DEPTH);
    else relevant[c] = branch_relevant(L, t, f, BRANCH_DEPTH) || branch_relevant(L, f, t, BRANCH_DEPTH);
  }
  return relevant;
}

/* Tracked locals: never address-taken, and worth a place in the state —
 * they meet a GIL or lifecycle API, their tests can correlate (tested
 * twice, or tested after a constant), or they are parameters whose value a
 * caller's argument decides. */
static void choose_locals(lower *L, const char *relevant, ir_func *fn) {
  for (int i = 0; i < L->vars.n; i++) L->vars.v[i].ntests = 0;
  for (int i = 0; i < L->conds.n; i++)
    if (relevant[i] && L->rconds.v[i].var >= 0) L->vars.v[L->rconds.v[i].var].ntests++;
  VEC(const char *) names = {0};
  for (int i = 0; i < L->vars.n; i++) L->vars.v[i].tracked = -1;
  /* first what the function's own paths turn on; then, while there is
   * room, parameters whose value only a caller knows: tested once, or
   * handed on to another function of the project (what a caller passes may
   * decide the path: a helper that raises only for some status, or only
   * given a NULL errmsg) */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < L->vars.n; i++) {
      raw_var *v = &L->vars.v[i];
      bool worth = pass == 0 ? v->interesting || v->ntests >= 2 || (v->ntests >= 1 && v->const_assigned)
                             : v->param && (v->ntests >= 1 || v->passed_on);
      if (worth && v->tracked < 0 && !v->addr_taken && names.n < IR_MAX_VARS) {
        v->tracked = names.n;
        vec_push(L->A, names, v->name);
      }
    }
  fn->var_names = names.v;
  fn->nvars = names.n;
}

typedef struct keycount { int count, bit; } keycount;

static const char *key_of(lower *L, raw_cond *rc) {
  if (!rc->key_done) {
    rc->key = cond_key(L, rc);
    rc->key_done = true;
  }
  return rc->key;
}

/* Conditions on tracked locals, and conditions correlated by key: side-effect
 * free, written at least twice where they matter. A key is built only for a
 * condition that matters, and for the others only when some key is shared.
 * Returns, per raw local, the keys a store to it makes stale. */
static uint32_t *correlate(lower *L, const char *relevant) {
  strmap counts = {0};   /* key -> keycount */
  bool shared = false;
  for (int i = 0; i < L->conds.n; i++) {
    if (!relevant[i]) continue;
    const char *k = key_of(L, &L->rconds.v[i]);
    if (!k) continue;
    void **slot = strmap_at(&counts, k);
    if (!*slot) *slot = arena_alloc(&counts.A, sizeof(keycount));
    keycount *kc = *slot;
    kc->count++;
    kc->bit = -1;
    if (kc->count >= 2) shared = true;
  }
  int nkeys = 0;
  uint32_t *var_kills = arena_alloc(L->A, sizeof(uint32_t) * (size_t)(L->vars.n + 1));
  for (int i = 0; i < L->conds.n; i++) {
    raw_cond *rc = &L->rconds.v[i];
    ir_cond *c = &L->conds.v[i];
    if (c->kind == COND_GIL || c->kind == COND_CALL || c->kind == COND_RUNTIME) continue;
    keycount *kc = shared && key_of(L, rc) ? strmap_get(&counts, rc->key) : NULL;
    if (kc && kc->count < 2) kc = NULL;
    /* a tracked local's truth, or its comparison with a constant; but the
     * engine keeps only equalities (x == k, x != k) of a value, so an
     * ordering written twice (n > 1000 ... n > 1000) correlates by its key */
    if (rc->var >= 0 && L->vars.v[rc->var].tracked >= 0 && !(rc->cmp && c->cmp_op > CMP_NE && kc)) {
      c->kind = rc->cmp ? COND_CMP : COND_VAR;
      c->var = (int16_t)L->vars.v[rc->var].tracked;
      continue;
    }
    if (!kc) continue;
    if (kc->bit < 0) {
      if (nkeys >= IR_MAX_KEYS) continue;
      kc->bit = nkeys++;
      for (int d = 0; d < rc->ndeps; d++) var_kills[rc->deps[d]] |= 1u << kc->bit;
    }
    c->kind = COND_KEY;
    c->key = (int8_t)kc->bit;
  }
  strmap_free(&counts);
  return var_kills;
}

/* Events rewritten from raw locals to tracked ones; stores to untracked
 * locals that kill no condition are dropped. */
static void rewrite_events(lower *L, const uint32_t *var_kills) {
  for (int b = 0; b < L->blocks.n; b++) {
    ir_block *bl = &L->blocks.v[b];
    int w = 0;
    for (int i = 0; i < bl->nev; i++) {
      ir_event *e = &bl->ev[i];
#define TRACK(x) ((x) >= 0 ? (int16_t)L->vars.v[(x)].tracked : (int16_t)(x))
      if (e->kind == EV_ASSIGN) {
        e->kills = e->var >= 0 ? var_kills[e->var] : 0;
        e->var = TRACK(e->var);
        if (e->val == VAL_COPY) { e->src_var = TRACK(e->src_var); if (e->src_var < 0) e->val = VAL_UNKNOWN; }
        if (e->var < 0 && !e->kills) continue;
        if (e->src_var == SRC_SET_BY_CALL && e->var >= 0) continue;   /* the call event sets it */
      } else if (e->kind == EV_ESCAPE) {
        e->var = TRACK(e->var);
        if (e->var < 0) continue;
      } else if (e->kind == EV_CALL || e->kind == EV_OBJMACRO) {   /* objmacros: free threading's arguments */
        if (e->result_var >= 0) e->kills = var_kills[e->result_var];
        e->result_var = TRACK(e->result_var);
        for (int a = 0; a < IR_MAX_ARGS; a++) e->argvar[a] = TRACK(e->argvar[a]);
      }
#undef TRACK
      if (e->loc.file == LOC_LATER) e->loc = node_loc(L, (int)e->loc.line);
      bl->ev[w++] = *e;
    }
    bl->nev = w;
    if (bl->ret_var >= 0) bl->ret_var = (int16_t)L->vars.v[bl->ret_var].tracked;
  }
}

void finish_function(lower *L) {
  ir_func *fn = L->fn;
  const char *relevant = relevant_conds(L);
  choose_locals(L, relevant, fn);
  uint32_t *var_kills = correlate(L, relevant);
  rewrite_events(L, var_kills);
  fn->blocks = L->blocks.v;
  fn->nblocks = L->blocks.n;
  fn->conds = L->conds.v;
  fn->nconds = L->conds.n;
  fn->regions = L->regions.v;
  fn->nregions = L->regions.n;
  fn->abandoned = L->abandon;
  /* the parameters' tracked locals, for a caller's facts (engine.c's
   * call_needs_gil) */
  fn->nparams = (uint8_t)(L->nparams < IR_MAX_ARGS ? L->nparams : IR_MAX_ARGS);
  for (int i = 0; i < fn->nparams; i++) fn->param_var[i] = (int16_t)L->vars.v[i].tracked;
  fn->py_version = L->py_version;
}
