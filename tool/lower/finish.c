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

/* How often each local's truth is tested where it matters. */
static void count_tests(lower *L, const char *relevant) {
  for (int i = 0; i < L->vars.n; i++) L->vars.v[i].ntests = 0;
  for (int i = 0; i < L->conds.n; i++)
    if (relevant[i] && L->rconds.v[i].var >= 0) L->vars.v[L->rconds.v[i].var].ntests++;
}

/* Tracked locals: never address-taken, and worth a place in the state —
 * they meet a GIL or lifecycle API, their tests can correlate (tested
 * twice, or tested after a constant, or given the value of a condition
 * written elsewhere too), or they are parameters whose value a caller's
 * argument decides. */
static void choose_locals(lower *L, const char *keyed, ir_func *fn) {
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
      bool worth = pass == 0 ? v->interesting || v->ntests >= 2 || (v->ntests >= 1 && (v->const_assigned || keyed[i]))
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

static bool count_key(strmap *counts, const char *k) {
  void **slot = strmap_at(counts, k);
  if (!*slot) {
    keycount *kc = arena_alloc(&counts->A, sizeof(keycount));
    kc->bit = -1;
    *slot = kc;
  }
  keycount *kc = *slot;
  return ++kc->count >= 2;
}

/* The keys of the conditions that matter, counted; and of the expressions
 * whose values go to locals tested where it matters (int needs_api =
 * NEEDS_API(d); ... if (needs_api && ...)). True when some key is shared.
 * KEYED: per raw local, whether it is given such a shared key's value. */
static bool count_keys(lower *L, const char *relevant, strmap *counts, char *keyed) {
  bool shared = false;
  for (int i = 0; i < L->conds.n; i++) {
    if (!relevant[i]) continue;
    const char *k = key_of(L, &L->rconds.v[i]);
    if (k && count_key(counts, k)) shared = true;
  }
  for (int i = 0; i < L->sites.n; i++) {
    store_site *st = &L->sites.v[i];
    if (!st->to_local || L->vars.v[st->var].ntests < 1 || L->vars.v[st->var].addr_taken) continue;
    const char *k = key_of(L, &st->cond);
    if (k && count_key(counts, k)) shared = true;
  }
  for (int i = 0; shared && i < L->sites.n; i++) {
    store_site *st = &L->sites.v[i];
    keycount *kc = st->to_local && st->cond.key ? strmap_get(counts, st->cond.key) : NULL;
    if (kc && kc->count >= 2) keyed[st->var] = 1;
  }
  return shared;
}

typedef struct kills_out {
  uint32_t *var_kills;   /* per raw local: the keys a store to it makes stale */
  uint32_t *site_kills;  /* per site: the keys a store to memory makes stale */
  int8_t *site_key;      /* per site: the key bit of a local's value, or -1 */
  uint32_t memory_keys;  /* the keys that read memory (SITE_ANY_MEMORY makes them stale) */
} kills_out;

/* Does a store to memory (site ST) write what condition RC reads? */
static bool store_hits(const store_site *st, const raw_cond *rc) {
  if (st->deref && rc->reads_deref) return true;
  for (int i = 0; i < st->nnames; i++)
    for (int j = 0; j < rc->nreads; j++)
      if (!strcmp(st->names[i], rc->reads[j])) return true;
  return false;
}

/* Conditions on tracked locals, and conditions correlated by key: side-effect
 * free, written at least twice where they matter (or once, and given to a
 * tracked local that is tested). A key is built only for a condition that
 * matters, and for the others only when some key is shared. A key is made
 * stale by a store to a local it names, or to a member or global it reads
 * (in its own text or in the pure accessors it calls), or through a pointer
 * when it reads through one; not by calls. */
static kills_out correlate(lower *L, const char *relevant, strmap *counts, bool shared) {
  int nkeys = 0;
  const raw_cond *bit_rc[IR_MAX_KEYS];
  kills_out ko;
  ko.var_kills = arena_alloc(L->A, sizeof(uint32_t) * (size_t)(L->vars.n + 1));
  ko.site_kills = arena_alloc(L->A, sizeof(uint32_t) * (size_t)(L->sites.n + 1));
  ko.site_key = arena_alloc(L->A, (size_t)(L->sites.n + 1));
  uint32_t *var_kills = ko.var_kills;
  for (int i = 0; i < L->conds.n; i++) {
    raw_cond *rc = &L->rconds.v[i];
    ir_cond *c = &L->conds.v[i];
    if (c->kind == COND_GIL || c->kind == COND_CALL || c->kind == COND_RUNTIME) continue;
    keycount *kc = shared && key_of(L, rc) ? strmap_get(counts, rc->key) : NULL;
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
      bit_rc[kc->bit] = rc;
      for (int d = 0; d < rc->ndeps; d++) var_kills[rc->deps[d]] |= 1u << kc->bit;
    }
    c->kind = COND_KEY;
    c->key = (int8_t)kc->bit;
  }
  /* locals given a key's value: the key's bit, for the engine to tie them */
  for (int i = 0; i < L->sites.n; i++) {
    store_site *st = &L->sites.v[i];
    ko.site_key[i] = -1;
    if (!shared || !st->to_local || L->vars.v[st->var].tracked < 0 || !st->cond.key) continue;
    keycount *kc = strmap_get(counts, st->cond.key);
    if (!kc || kc->count < 2) continue;
    if (kc->bit < 0) {
      if (nkeys >= IR_MAX_KEYS) continue;
      kc->bit = nkeys++;
      bit_rc[kc->bit] = &st->cond;
      for (int d = 0; d < st->cond.ndeps; d++) var_kills[st->cond.deps[d]] |= 1u << kc->bit;
    }
    ko.site_key[i] = (int8_t)kc->bit;
  }
  /* stores to memory: the keys that read what they write */
  ko.memory_keys = 0;
  for (int b = 0; b < nkeys; b++)
    if (bit_rc[b]->nreads || bit_rc[b]->reads_deref) ko.memory_keys |= 1u << b;
  for (int i = 0; i < L->sites.n; i++) {
    ko.site_kills[i] = 0;
    if (L->sites.v[i].to_local) continue;
    for (int b = 0; b < nkeys; b++)
      if (store_hits(&L->sites.v[i], bit_rc[b])) ko.site_kills[i] |= 1u << b;
  }
  return ko;
}

/* Events rewritten from raw locals to tracked ones; stores to untracked
 * locals that kill no condition are dropped. */
static void rewrite_events(lower *L, const kills_out *ko) {
  const uint32_t *var_kills = ko->var_kills;
  for (int b = 0; b < L->blocks.n; b++) {
    ir_block *bl = &L->blocks.v[b];
    int w = 0;
    for (int i = 0; i < bl->nev; i++) {
      ir_event *e = &bl->ev[i];
#define TRACK(x) ((x) >= 0 ? (int16_t)L->vars.v[(x)].tracked : (int16_t)(x))
      if (e->kind == EV_ASSIGN) {
        e->kills = e->var >= 0 ? var_kills[e->var] : 0;
        if (e->site >= 0) {
          e->kills |= ko->site_kills[e->site];
          e->key_src = ko->site_key[e->site];
        } else if (e->site == SITE_ANY_MEMORY) {
          e->kills |= ko->memory_keys;
        }
        e->site = -1;
        e->var = TRACK(e->var);
        if (e->var < 0) e->key_src = -1;
        if (e->val == VAL_COPY) { e->src_var = TRACK(e->src_var); if (e->src_var < 0) e->val = VAL_UNKNOWN; }
        if (e->var < 0 && !e->kills) continue;
        if (e->src_var == SRC_SET_BY_CALL && e->var >= 0 && e->key_src < 0) continue;   /* the call event sets it */
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
  count_tests(L, relevant);
  strmap counts = {0};   /* key -> keycount */
  char *keyed = arena_alloc(L->A, (size_t)L->vars.n + 1);
  bool shared = count_keys(L, relevant, &counts, keyed);
  choose_locals(L, keyed, fn);
  kills_out ko = correlate(L, relevant, &counts, shared);
  strmap_free(&counts);
  rewrite_events(L, &ko);
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
