/* entry.c: who calls each function, and so the state it starts in
 * (docs/entry-states.md).
 *
 * The lowering records where each function's address goes (EV_FNREF): to a
 * call, as a member of a struct passed to one, or into a variable or a
 * struct member. Once the program is linked:
 *
 * - a thread creator's start routine starts released (THREAD_CREATOR rows);
 * - a function the runtime or the OS calls back (REGISTRAR and HOOK rows:
 *   Py_AtExit, atexit, signal handlers, thread-key destructors,
 *   PyOS_InputHook) starts finalized, in a signal handler, or released;
 * - a function given to a C library (a function with no body in the
 *   program) is a callback of that library. Kept callbacks (a struct of
 *   operations; a registration, parameter or type named set, register,
 *   handler, destroy...) start in the join of the states at the registration
 *   and at every call into the library (the functions declared in the same
 *   header, or the same directory of a library's headers); callbacks run
 *   before the call returns (qsort; foreach, walk, sort...) start in the
 *   state of the call; with no evidence, the state of the registration. The
 *   states come from what the summaries' walks saw at each event (obs), and
 *   a state that is the caller's own entry is followed up the callers. Only
 *   "may be released" is used: such a callback starts released.
 *
 * Calls through a global or a struct member call the functions stored
 * there anywhere in the program (fn_set). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "entry.h"
#include "map.h"
#include "log.h"
#include "xalloc.h"

#define ENTRY_MAX_DEPTH 8       /* callers followed up when a state is the caller's entry */
#define ENTRY_MAX_LIBRARIES 64  /* libraries with kept callbacks, per program */

static int usr_index(const strmap *usrs, const char *usr) {
  return usr ? (int)(intptr_t)strmap_get(usrs, usr) - 1 : -1;
}

/* ---------- calls through pointers ---------- */

static void link_sets(engine_program *p, ir_tu *const *tus, int ntus, const strmap *usrs, arena *A) {
  strmap index = {0};   /* slot -> set index + 1 */
  VEC(fn_set) sets = {0};
  for (int t = 0; t < ntus; t++)
    for (int i = 0; i < tus[t]->nstores; i++) {
      const ir_fnstore *st = &tus[t]->stores[i];
      int fn = usr_index(usrs, st->fn_usr);
      if (fn < 0) continue;
      void **slot = strmap_at(&index, st->slot);
      if (!*slot) {
        fn_set s = {arena_strdup(A, st->slot), NULL, 0};
        vec_push(A, sets, s);
        *slot = (void *)(intptr_t)sets.n;
      }
      fn_set *s = &sets.v[(intptr_t)*slot - 1];
      bool dup = false;
      for (int k = 0; k < s->n; k++) dup |= s->fn[k] == fn;
      if (dup) continue;
      int *nv = arena_alloc(A, sizeof(int) * (size_t)(s->n + 1));
      if (s->n) memcpy(nv, s->fn, sizeof(int) * (size_t)s->n);
      nv[s->n++] = fn;
      s->fn = nv;
    }
  p->sets = sets.v;
  p->nsets = sets.n;
  for (int f = 0; f < p->nfuncs; f++) {
    ir_func *fn = p->funcs[f];
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        ir_event *e = &fn->blocks[b].ev[i];
        e->callee_set = e->kind == EV_CALL && e->slot ? (int)(intptr_t)strmap_get(&index, e->slot) - 1 : -1;
      }
  }
  strmap_free(&index);
}

/* ---------- registrations the runtime and the OS decide ---------- */

static const char *why_of(arena *A, const char *fmt, const char *name) {
  return arena_printf(A, fmt, name ? name : "?");
}

/* Gives FN entry KIND for REASON unless something else already says how it
 * is entered (a method table, a thread creator); a function entered two
 * ways is left to inference. */
static void give_entry(engine_program *p, int fn, uint8_t kind, entry_reason *reason, uint8_t *conflict) {
  if (fn < 0) return;
  if (conflict[fn]) return;
  if (p->entry[fn] == ENTRY_UNKNOWN && !p->entry_why[fn]) {
    p->entry[fn] = kind;
    p->entry_why[fn] = reason;
  } else if (p->entry[fn] != kind) {
    conflict[fn] = 1;
  }
}

static entry_reason *reason(arena *A, gc_loc loc, const char *why, bool sentence) {
  entry_reason *r = arena_alloc(A, sizeof *r);
  r->loc = loc;
  r->why = why;
  r->sentence = sentence;
  return r;
}

/* The callbacks one EV_FNREF names: the function itself, or the members of
 * a global struct passed by address. */
static int callbacks_of(const ir_fnref *r, ir_tu *const *tus, int ntus, const strmap *usrs, int *out, int max) {
  int n = 0;
  if (r->how != FNREF_GLOBAL) {
    int fn = usr_index(usrs, r->fn_usr);
    if (fn >= 0) out[n++] = fn;
    return n;
  }
  for (int t = 0; t < ntus; t++)
    for (int i = 0; i < tus[t]->nstores && n < max; i++) {
      const ir_fnstore *st = &tus[t]->stores[i];
      if (!st->owner || strcmp(st->owner, r->slot)) continue;
      int fn = usr_index(usrs, st->fn_usr);
      if (fn >= 0) out[n++] = fn;
    }
  return n;
}

#define MAX_MEMBERS 256

void entry_link(engine_program *p, const entry_world *W) {
  ir_tu *const *tus = W->tus;
  int ntus = W->ntus;
  const strmap *usrs = W->usrs;
  arena *A = W->A;
  link_sets(p, tus, ntus, usrs, A);
  uint8_t *conflict = xcalloc((size_t)p->nfuncs + 1, 1);
  int members[MAX_MEMBERS];
  for (int f = 0; f < p->nfuncs; f++) {
    ir_func *fn = p->funcs[f];
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        const ir_event *e = &fn->blocks[b].ev[i];
        if (e->kind != EV_FNREF || !e->fnref) continue;
        const ir_fnref *r = e->fnref;
        if (r->how == FNREF_STORE) {
          const hook_fact *h = r->field && r->header ? hook_lookup(r->field) : NULL;
          int cb = usr_index(usrs, r->fn_usr);
          if (h) give_entry(p, cb, h->entry, reason(A, e->loc, h->why, true), conflict);
          continue;
        }
        if (usr_index(usrs, r->registrar_usr) >= 0) continue;   /* the program's own function */
        const thread_creator_fact *tc = thread_creator_lookup(r->registrar);
        const registrar_fact *rg = registrar_lookup(r->registrar);
        int n = callbacks_of(r, tus, ntus, usrs, members, MAX_MEMBERS);
        for (int k = 0; k < n; k++) {
          if (tc && tc->fn_arg == r->arg)
            give_entry(p, members[k], ENTRY_RELEASED,
                       reason(A, e->loc, why_of(A, "started by '%s'", r->registrar), false), conflict);
          else if (rg && rg->fn_arg == r->arg)
            give_entry(p, members[k], rg->entry, reason(A, e->loc, why_of(A, rg->why, r->registrar), true), conflict);
        }
      }
  }
  for (int f = 0; f < p->nfuncs; f++)
    if (conflict[f]) {
      p->entry[f] = ENTRY_UNKNOWN;
      p->entry_why[f] = NULL;
    }
  free(conflict);
}

/* ---------- callbacks of C libraries ---------- */

/* The part of the include tree a header belongs to: its directory when that
 * is a library's own under an include tree (/usr/include/curl,
 * .../glib-2.0/glib), else the header itself (/usr/include/sqlite3.h is the
 * whole of SQLite; a project's own file declaring a library's functions is
 * that library). */
static const char *library_of(arena *A, const char *header) {
  if (!header) return NULL;
  const char *slash = strrchr(header, '/');
  if (!slash || slash == header || !strstr(header, "/include/")) return header;
  size_t n = (size_t)(slash - header);
  const char *dir = header;
  const char *base = dir + n;
  while (base > dir && base[-1] != '/') base--;
  size_t blen = (size_t)(dir + n - base);
  bool generic = (blen == 7 && !strncmp(base, "include", 7)) || (blen >= 9 && strstr(base, "-linux-") && base < dir + n) ||
                 (blen == 3 && !strncmp(base, "sys", 3)) || (blen == 4 && !strncmp(base, "bits", 4));
  if (generic) return header;
  return arena_strndup(A, header, n);
}

/* What the words of NAME say: each part, split at '_', digits and case
 * changes, is looked up (CALLBACK_WORD rows); "set" may also begin a part
 * (setopt). A kept word wins over a run word. */
static callback_word_kind words_say(const char *name) {
  if (!name) return CB_NONE;
  callback_word_kind found = CB_NONE;
  char part[64];
  size_t n = 0;
  for (const char *s = name;; s++) {
    bool boundary = !*s || *s == '_' || isdigit((unsigned char)*s) || *s == ' ' || *s == '*' || *s == '(' ||
                    (n > 0 && isupper((unsigned char)*s) && islower((unsigned char)s[-1]));
    if (boundary && n > 0) {
      part[n] = 0;
      callback_word_kind k = api_callback_word(part);
      if (k == CB_NONE && n > 3 && !strncmp(part, "set", 3)) k = CB_KEPT;
      if (k == CB_KEPT) return CB_KEPT;
      if (k == CB_RUN) found = CB_RUN;
      n = 0;
    }
    if (!*s) break;
    if (isalpha((unsigned char)*s) && n + 1 < sizeof part) part[n++] = (char)tolower((unsigned char)*s);
  }
  return found;
}

typedef enum cb_fate { FATE_NONE, FATE_KEPT, FATE_RUN } cb_fate;

static cb_fate fate_of(const ir_fnref *r) {
  if (r->how == FNREF_STORE) return FATE_KEPT;   /* stored where the library reads it (rl_startup_hook) */
  if (api_runs_callbacks_before_return(r->registrar)) return FATE_RUN;
  if (r->how == FNREF_MEMBER || r->how == FNREF_GLOBAL) return FATE_KEPT;   /* a struct of operations */
  /* the parameter says most about this callback, then its type, then the
   * function (sqlite3changegroup_add_strm's xInput is read during the call) */
  callback_word_kind k = words_say(r->param);
  if (k == CB_NONE) k = words_say(r->param_type);
  if (k == CB_NONE) k = words_say(r->registrar);
  return k == CB_KEPT ? FATE_KEPT : k == CB_RUN ? FATE_RUN : FATE_NONE;
}

/* The call sites of every function: (caller, event id). */
typedef struct site { int fn, ev; } site;
typedef struct sites { site *v; int n, cap; } sites;

typedef struct resolver {
  engine_program *p;
  sites *callers;               /* per function */
  uint8_t *memo;                /* per function: resolved entry bits + 1, 0 not yet */
  site *memo_wit;               /* a call site that saw it released */
  uint8_t *busy;
} resolver;

static uint8_t obs_at(const engine_program *p, int fn, int ev) {
  return p->obs && p->obs[fn] && ev >= 0 && ev < p->nobs[fn] ? p->obs[fn][ev] : 0;
}

static uint8_t entry_bits(resolver *R, int fn, int depth, site *wit);

/* The GIL states at event EV of FN, the caller's entry followed up. */
static uint8_t state_at(resolver *R, int fn, int ev, int depth, site *wit) {
  uint8_t bits = obs_at(R->p, fn, ev);
  if ((bits & OBS_RELEASED) && wit && wit->fn < 0) *wit = (site){fn, ev};
  if (bits & OBS_AT_ENTRY) {
    bits = (uint8_t)(bits & ~OBS_AT_ENTRY);
    bits |= entry_bits(R, fn, depth + 1, wit);
  }
  return bits;
}

static uint8_t entry_bits(resolver *R, int fn, int depth, site *wit) {
  switch (R->p->entry[fn]) {
  case ENTRY_HELD: return OBS_HELD;
  case ENTRY_RELEASED: case ENTRY_FINALIZED: case ENTRY_SIGNAL: return OBS_RELEASED;
  default: break;
  }
  if (R->memo[fn]) {
    if (wit && wit->fn < 0 && R->memo_wit[fn].fn >= 0) *wit = R->memo_wit[fn];
    return (uint8_t)(R->memo[fn] - 1);
  }
  if (depth > ENTRY_MAX_DEPTH || R->busy[fn]) return OBS_UNKNOWN;
  R->busy[fn] = 1;
  uint8_t bits = 0;
  site w = {-1, -1};
  const sites *cs = &R->callers[fn];
  for (int i = 0; i < cs->n; i++) bits |= state_at(R, cs->v[i].fn, cs->v[i].ev, depth, &w);
  if (!cs->n) bits = OBS_UNKNOWN;
  R->busy[fn] = 0;
  R->memo[fn] = (uint8_t)(bits + 1);
  R->memo_wit[fn] = w;
  if (wit && wit->fn < 0) *wit = w;
  return bits;
}

static const ir_event *event_of_id(const ir_func *fn, int id) {
  for (int b = 0; b < fn->nblocks; b++) {
    if (id < fn->blocks[b].nev) return &fn->blocks[b].ev[id];
    id -= fn->blocks[b].nev;
  }
  return NULL;
}

/* Who calls whom: every direct call site, and calls through a pointer
 * that holds one function only (which of several is called where cannot
 * be told: a codec's decode member). */
static void index_callers(const engine_program *p, sites *callers) {
  for (int f = 0; f < p->nfuncs; f++) {
    const ir_func *fn = p->funcs[f];
    int id = 0;
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++, id++) {
        const ir_event *e = &fn->blocks[b].ev[i];
        int t = -1;
        if (e->kind == EV_CALL && e->callee_fn >= 0) t = e->callee_fn;
        else if (e->kind == EV_CALL && e->callee_set >= 0 && p->sets[e->callee_set].n == 1)
          t = p->sets[e->callee_set].fn[0];
        if (t < 0) continue;
        sites *s = &callers[t];
        if (s->n == s->cap) {
          s->cap = s->cap ? s->cap * 2 : 4;
          s->v = xrealloc(s->v, sizeof(site) * (size_t)s->cap);
        }
        s->v[s->n++] = (site){f, id};
      }
  }
}

/* The calls into each C library (scope -> sites), from every function. */
static void index_library_calls(const engine_program *p, arena *A, strmap *by_scope) {
  strmap scope_of = {0};   /* header -> scope, computed once per header */
  for (int f = 0; f < p->nfuncs; f++) {
    const ir_func *fn = p->funcs[f];
    int id = 0;
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++, id++) {
        const ir_event *c = &fn->blocks[b].ev[i];
        if (c->kind != EV_CALL || c->callee_fn >= 0 || c->slot || c->python_api || !c->callee_header) continue;
        void **sc = strmap_at(&scope_of, c->callee_header);
        if (!*sc) *sc = (void *)library_of(A, c->callee_header);
        void **slot = strmap_at(by_scope, *sc);
        if (!*slot) *slot = arena_alloc(A, sizeof(sites));
        sites *s = *slot;
        if (s->n == s->cap) {
          int nc = s->cap ? s->cap * 2 : 8;
          site *nv = arena_alloc(A, sizeof(site) * (size_t)nc);
          if (s->n) memcpy(nv, s->v, sizeof(site) * (size_t)s->n);
          s->v = nv;
          s->cap = nc;
        }
        s->v[s->n++] = (site){f, id};
      }
  }
  strmap_free(&scope_of);
}

/* The note of a callback that may be entered without the GIL. */
static entry_reason *callback_reason(const engine_program *p, arena *A, const ir_event *e, cb_fate fate,
                                     bool registered_released, site wit, site lib_wit) {
  const ir_fnref *r = e->fnref;
  entry_reason *why = arena_alloc(A, sizeof *why);
  why->loc = e->loc;
  why->sentence = true;
  const char *how = fate == FATE_KEPT ? "; the library keeps it and may call it back from any call into it"
                    : fate == FATE_RUN ? "; it calls it back before returning"
                                       : "";
  const char *verb = r->how == FNREF_STORE ? "stored in" : "registered with";
  const char *where = r->how == FNREF_STORE ? r->field : r->registrar;
  if (r->how == FNREF_STORE) how = ", which the library reads; it may call it back from any call into it";
  const ir_event *c = NULL;
  if (!registered_released && lib_wit.fn >= 0) {
    why->why = arena_printf(A, "%s '%s' here%s", verb, where, how);
    c = event_of_id(p->funcs[lib_wit.fn], lib_wit.ev);
    if (c)
      why->why2 = c->callee_fn >= 0 || c->slot
                      ? arena_printf(A, "'%s', which calls into the same library, is called here with the GIL released",
                                     c->callee ? c->callee : "?")
                      : arena_printf(A, "'%s' is called here with the GIL released, and may call it back",
                                     c->callee ? c->callee : "?");
  } else {
    why->why = arena_printf(A, "%s '%s' here, with the GIL released%s", verb, where, how);
    /* registered in a function called with the GIL released: where */
    c = wit.fn >= 0 ? event_of_id(p->funcs[wit.fn], wit.ev) : NULL;
    if (c && c != e) why->why2 = arena_printf(A, "'%s' is called here with the GIL released", c->callee ? c->callee : "?");
  }
  if (why->why2) why->loc2 = c->loc;
  return why;
}

/* A registration with a C library (an EV_FNREF to a function the program
 * does not define), or NULL. */
static const ir_fnref *library_registration(const ir_event *e) {
  const ir_fnref *r = e->kind == EV_FNREF ? e->fnref : NULL;
  if (!r) return NULL;
  if (r->registrar_python) return NULL;       /* CPython's own registrations, and its hooks */
  if (r->how == FNREF_STORE)                  /* a library's variable; HOOK rows are entry_link's */
    return r->header && r->field && !hook_lookup(r->field) ? r : NULL;
  if (!r->registrar) return NULL;
  if (r->registrar_defined) return NULL;      /* its body is there to see (a static inline): not a library */
  if (thread_creator_lookup(r->registrar) || registrar_lookup(r->registrar)) return NULL;   /* entry_link's */
  return r;
}

bool entry_update(engine_program *p, const entry_world *W) {
  arena *A = W->A;
  int n = p->nfuncs;
  resolver R = {p, xcalloc((size_t)n + 1, sizeof(sites)), xcalloc((size_t)n + 1, 1),
                xcalloc((size_t)n + 1, sizeof(site)), xcalloc((size_t)n + 1, 1)};
  index_callers(p, R.callers);
  strmap library_calls = {0};
  bool indexed = false;
  bool changed = false;
  uint8_t *given = xcalloc((size_t)n + 1, 1);
  for (int f = 0; f < n; f++) {
    const ir_func *fn = p->funcs[f];
    int id = -1;
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        id++;
        const ir_event *e = &fn->blocks[b].ev[i];
        const ir_fnref *r = library_registration(e);
        if (!r) continue;
        if (usr_index(W->usrs, r->registrar_usr) >= 0) continue;   /* the program's own function */
        cb_fate fate = fate_of(r);
        site wit = {-1, -1}, lib_wit = {-1, -1};
        uint8_t bits = state_at(&R, f, id, 0, &wit);
        bool registered_released = (bits & OBS_RELEASED) != 0;
        if (fate == FATE_KEPT && !registered_released) {
          /* every call into the same library, wherever it is */
          if (!indexed) { index_library_calls(p, A, &library_calls); indexed = true; }
          const sites *calls = strmap_get(&library_calls, library_of(A, r->header));
          for (int k = 0; calls && k < calls->n && lib_wit.fn < 0; k++) {
            site w = {-1, -1};
            if (state_at(&R, calls->v[k].fn, calls->v[k].ev, 0, &w) & OBS_RELEASED)
              lib_wit = w.fn >= 0 ? w : calls->v[k];
          }
        }
        if (!registered_released && lib_wit.fn < 0) continue;
        int members[MAX_MEMBERS];
        int nm = callbacks_of(r, W->tus, W->ntus, W->usrs, members, MAX_MEMBERS);
        for (int k = 0; k < nm; k++) {
          int m = members[k];
          if (p->entry[m] != ENTRY_UNKNOWN && !given[m]) continue;   /* a table or a thread creator says so */
          if (p->entry[m] != ENTRY_RELEASED) changed = true;
          p->entry[m] = ENTRY_RELEASED;
          p->entry_why[m] = callback_reason(p, A, e, fate, registered_released, wit, lib_wit);
          given[m] = 1;
        }
      }
  }
  for (int f = 0; f < n; f++) free(R.callers[f].v);
  free(R.callers);
  free(R.memo);
  free(R.memo_wit);
  free(R.busy);
  free(given);
  strmap_free(&library_calls);
  return changed;
}
