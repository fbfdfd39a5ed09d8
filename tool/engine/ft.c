/* ft.c: the free-threading model — what the ft-* rules need beyond the GIL.
 *
 * Program-wide, built once the program is linked (ft_build):
 *   - the module graph: functions, the globals they name, the functions
 *     and globals a global's initializer names (method tables, type
 *     objects, module definitions, their slots);
 *   - each module definition and what it says of the GIL (a Py_mod_gil
 *     slot, PyUnstable_Module_SetGIL in the function that creates it), and
 *     the function that creates it for an import (a PyInit_, or one it
 *     calls);
 *   - where the ft-* rules are on by default: the functions a module that
 *     declares Py_MOD_GIL_NOT_USED reaches (its PyInit_, its definition and
 *     slots, everything they name or call), and, once some module of the
 *     program declares it, the function that creates each module for an
 *     import (a module that does not declare turns the GIL back on for the
 *     whole process);
 *   - which functions Python reaches (method tables, type slots, getters,
 *     annotated entries; through calls) and which only module
 *     initialisation does (PyInit_, Py_mod_exec, module teardown);
 *   - every use of every global, for notes;
 *   - project functions that only take a lock or only give one back.
 * Per path (ft_dom): the locks held, the containers this
 * function created and has not let escape; the objects critical sections
 * lock are the engine's cs_dom, their spelling the begin event's. */
#include "ft.h"
#include <stdlib.h>
#include <string.h>
#include "map.h"
#include "xalloc.h"

enum {
  FTF_PYROOT = 16,    /* named by a table or slot Python calls through */
  FTF_SCOPE = 1,      /* the ft-* rules are on here by default */
  FTF_PY = 2,         /* reached from Python */
  FTF_INIT = 4,       /* reached from module initialisation or teardown */
  FTF_PYINIT = 8,     /* a PyInit_ function, or one a PyInit_ calls */
};

typedef struct ft_use { int fn; const ir_event *e; } ft_use;

typedef struct ft_gvar {
  const ir_global *def;    /* its entry in the module graph, or NULL */
  uint8_t decl;            /* GK_MODULE_*: gil_decl, merged over the units */
  ft_use *uses;
  int nuses, cap;
  bool seen;               /* visited by the scope walk */
} ft_gvar;

struct ft_program {
  int nfuncs;
  uint8_t *fn;             /* FTF_* per function */
  int *py_from;            /* FTF_PY functions reached by a call: the caller that reaches them, else -1 */
  int8_t *locks;           /* per function: +1 takes a lock, -1 gives one back, 0 neither or both */
  bool *ret_fresh;         /* per function: every return returns a new container of its own, or NULL */
  uint8_t *calls_seen;     /* per function: CALLED_LOCKED, CALLED_UNLOCKED: how its callers' walks call it */
  strmap gvars;            /* key -> ft_gvar */
  strmap fnkeys;           /* function key -> index + 1 */
  check_module *mods;
  int nmods;
  bool any_declared;
  strmap changed;          /* container shape (shape_of) -> ft_use*: where the program changes one */
  strmap published;        /* container shapes handed to Python code (a module attribute) */
  /* the parameters of a static function, by what every call passes */
  ft_use **sites;          /* per function: the calls of it (caller, event) */
  int *nsites;
  bool *addr_taken;        /* per function: its address is taken (a pointer may call it) */
  uint8_t *pstable;        /* per function: bit i, every call passes a container held unchanged */
  uint8_t **seen;          /* per function, per event: SITE_FRESH/SITE_SHARED bits of each argument */
  bool *walked;            /* per function: a walk of it went to the end (its calls are all seen) */
};

#define SITE_FRESH(i) (1u << (i))         /* a walk passed a new container of the caller's as argument i */
#define SITE_SHARED(i) (1u << (4 + (i)))  /* ... passed something else */

/* ---------- container shapes ---------- */

#define SHAPE_MAX 160
#define SHAPE_LOOKBACK 16   /* events before a call searched for its arguments' globals */

static bool word(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'; }

/* How a container is held, from its spelling at event I of block B: a
 * member ("m:NAME" for x->NAME, x.NAME), a global ("g:NAME"), the result
 * of a call ("c:F" for F(...)). False for anything else: a local, a
 * parameter, an element. */
static bool shape_of(const ir_block *b, int i, const char *text, char *out, size_t cap) {
  if (!text || !text[0]) return false;
  size_t n = strlen(text);
  if (text[n - 1] == ')') {
    size_t k = 0;
    while (word(text[k])) k++;
    if (k == 0 || text[k] != '(' || k + 3 > cap) return false;
    snprintf(out, cap, "c:%.*s", (int)k, text);
    return true;
  }
  size_t k = n;
  while (k > 0 && word(text[k - 1])) k--;
  if (k == n) return false;
  if (k >= 2 && (text[k - 1] == '.' || (text[k - 1] == '>' && text[k - 2] == '-'))) {
    snprintf(out, cap, "m:%s", text + k);
    return true;
  }
  if (k != 0) return false;
  /* a plain name: a global when the arguments just lowered read one so named */
  for (int j = i - 1; j >= 0 && j >= i - SHAPE_LOOKBACK; j--)
    if (b->ev[j].kind == EV_GLOBAL && b->ev[j].callee && !strcmp(b->ev[j].callee, text)) {
      snprintf(out, cap, "g:%s", text);
      return true;
    }
  return false;
}

#define HELD_SHAPES 8

/* The shapes argument I is held as (ir_event.held, "I=S,S I=S"), copied
 * into OUT; -1 when the event says nothing of it. */
static int held_arg(const char *held, int i, char out[][SHAPE_MAX], int max) {
  if (!held) return -1;
  for (const char *p = held; *p;) {
    char *end;
    long a = strtol(p, &end, 10);
    if (end == p || *end != '=') return -1;
    p = end + 1;
    int n = 0;
    for (;;) {
      size_t k = 0;
      while (p[k] && p[k] != ',' && p[k] != ' ') k++;
      if (a == i && n < max && k < SHAPE_MAX) {
        memcpy(out[n], p, k);
        out[n++][k] = 0;
      } else if (a == i) {
        return -1;
      }
      p += k;
      if (*p != ',') break;
      p++;
    }
    if (a == i) return n;
    while (*p == ' ') p++;
  }
  return -1;
}

static bool init_only(const struct ft_program *ft, int f) { return (ft->fn[f] & (FTF_INIT | FTF_PY)) == FTF_INIT; }

/* ---------- building ---------- */

static ft_gvar *gvar(struct ft_program *ft, const char *key) {
  void **slot = strmap_at(&ft->gvars, key);
  if (!*slot) *slot = arena_alloc(&ft->gvars.A, sizeof(ft_gvar));
  return *slot;
}

static int fn_of(const struct ft_program *ft, const char *key) {
  return key ? (int)(intptr_t)strmap_get(&ft->fnkeys, key) - 1 : -1;
}

static bool is_pyinit(const ir_func *f) { return !strncmp(f->name, "PyInit_", 7); }

/* Functions reached from those marked FLAG in 'flags' by calls: FLAG too;
 * FROM (or NULL): the caller each was first reached from. */
static void reach_by_calls(const engine_program *p, uint8_t *flags, uint8_t flag, int *queue, int *from) {
  int head = 0, tail = 0;
  for (int f = 0; f < p->nfuncs; f++)
    if (flags[f] & flag) queue[tail++] = f;
  while (head < tail) {
    const ir_func *fn = p->funcs[queue[head++]];
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        const ir_event *e = &fn->blocks[b].ev[i];
        int g = e->kind == EV_CALL ? e->callee_fn : -1;   /* not a thread it starts */
        if (g >= 0 && !(flags[g] & flag)) {
          flags[g] |= flag;
          if (from) from[g] = queue[head - 1];
          queue[tail++] = g;
        }
      }
  }
}

/* The module graph from the declaring modules: functions call functions
 * and name globals; globals name functions and globals. */
typedef struct walk {
  struct ft_program *ft;
  const engine_program *p;
  int *fq, nf;
  ft_gvar **gq;
  int ng, capg;
} walk;

static void visit_fn(walk *w, int f) {
  if (f < 0 || (w->ft->fn[f] & FTF_SCOPE)) return;
  w->ft->fn[f] |= FTF_SCOPE;
  w->fq[w->nf++] = f;
}

static void visit_key(walk *w, const char *key) {
  int f = fn_of(w->ft, key);
  if (f >= 0) { visit_fn(w, f); return; }
  ft_gvar *g = strmap_get(&w->ft->gvars, key);
  if (!g || g->seen) return;
  g->seen = true;
  if (w->ng == w->capg) {
    w->capg = w->capg ? w->capg * 2 : 64;
    w->gq = xrealloc(w->gq, sizeof(ft_gvar *) * (size_t)w->capg);
  }
  w->gq[w->ng++] = g;
}

static void walk_scope(walk *w) {
  int fi = 0, gi = 0;
  while (fi < w->nf || gi < w->ng) {
    if (fi < w->nf) {
      const ir_func *fn = w->p->funcs[w->fq[fi++]];
      for (int b = 0; b < fn->nblocks; b++)
        for (int i = 0; i < fn->blocks[b].nev; i++) {
          const ir_event *e = &fn->blocks[b].ev[i];
          if ((e->kind == EV_CALL || e->kind == EV_FNREF) && e->callee_fn >= 0) visit_fn(w, e->callee_fn);
          else if (e->kind == EV_GLOBAL && e->callee_usr) visit_key(w, e->callee_usr);
        }
    } else {
      const ft_gvar *g = w->gq[gi++];
      if (g->def)
        for (int r = 0; r < g->def->nrefs; r++) visit_key(w, g->def->refs[r]);
    }
  }
}

/* Lock helpers: a function that calls only acquires (or only releases),
 * directly or through such helpers, to a fixed point. */
static void lock_helpers(const engine_program *p, struct ft_program *ft) {
  for (int round = 0; round < 8; round++) {
    bool changed = false;
    for (int f = 0; f < p->nfuncs; f++) {
      const ir_func *fn = p->funcs[f];
      int acq = 0, rel = 0;
      for (int b = 0; b < fn->nblocks; b++)
        for (int i = 0; i < fn->blocks[b].nev; i++) {
          const ir_event *e = &fn->blocks[b].ev[i];
          if (e->kind != EV_CALL) continue;
          const ft_lock_fact *lk = ft_lock_lookup(e->callee);
          int d = lk ? (lk->acquire ? 1 : -1)
                  : e->gflags & CF_LOCK_TAKE ? 1
                  : e->gflags & CF_LOCK_GIVE ? -1
                  : e->callee_fn >= 0 && e->callee_fn != f ? ft->locks[e->callee_fn] : 0;
          if (d > 0) acq++;
          else if (d < 0) rel++;
        }
      int8_t eff = acq && !rel ? 1 : rel && !acq ? -1 : 0;
      if (eff != ft->locks[f]) { ft->locks[f] = eff; changed = true; }
    }
    if (!changed) break;
  }
}

#define DECL_SEARCH_MAX 256   /* functions searched below a module's creator */

/* What the functions FN calls (and they call) say of the GIL. */
static uint8_t declared_by_callees(const engine_program *p, int fn) {
  int queue[DECL_SEARCH_MAX];
  int n = 0, head = 0;
  uint8_t d = GIL_DECL_NONE;
  queue[n++] = fn;
  while (head < n && d != GIL_DECL_NOT_USED) {
    const ir_func *f = p->funcs[queue[head++]];
    if (f->gil_decl == GIL_DECL_NOT_USED || (f->gil_decl && !d)) d = f->gil_decl;
    for (int b = 0; b < f->nblocks; b++)
      for (int i = 0; i < f->blocks[b].nev && n < DECL_SEARCH_MAX; i++) {
        int g = f->blocks[b].ev[i].kind == EV_CALL ? f->blocks[b].ev[i].callee_fn : -1;
        bool seen = g < 0;
        for (int k = 0; k < n && !seen; k++) seen = queue[k] == g;
        if (!seen) queue[n++] = g;
      }
  }
  return d;
}

static void add_module(struct ft_program *ft, const engine_program *p, const char *key, ft_gvar *g) {
  check_module m;
  memset(&m, 0, sizeof m);
  m.name = g->def->name;
  m.loc = g->def->loc;
  m.decl = g->decl;
  m.creator = -1;
  for (int r = 0; r < g->def->nrefs; r++) {
    const ft_gvar *s = strmap_get(&ft->gvars, g->def->refs[r]);
    if (!s || !s->def || s->def->kind != GK_MODULE_SLOTS) continue;
    m.slots = s->def->name;
    m.slots_loc = s->def->loc;
    if (s->decl == GIL_DECL_NOT_USED || m.decl == GIL_DECL_NONE) m.decl = s->decl;
  }
  /* the functions that name it: a SetGIL call in one of them; the one
   * that creates it for the import */
  for (int u = 0; u < g->nuses; u++) {
    const ir_func *fn = p->funcs[g->uses[u].fn];
    if (fn->gil_decl == GIL_DECL_NOT_USED || (fn->gil_decl && m.decl == GIL_DECL_NONE)) m.decl = fn->gil_decl;
    const ir_event *e = g->uses[u].e;
    if (!(e->gflags & GF_CREATES_MODULE)) continue;
    bool better = m.creator < 0 || ((ft->fn[g->uses[u].fn] & FTF_PYINIT) && !(ft->fn[m.creator] & FTF_PYINIT));
    if (better) {
      m.creator = g->uses[u].fn;
      m.created_at = e;
      m.single_phase = (e->gflags & GF_SINGLE_PHASE) != 0;
    }
  }
  (void)key;
  if (m.creator >= 0 && m.decl != GIL_DECL_NOT_USED) {
    /* PyUnstable_Module_SetGIL in a helper the creator hands the module to */
    uint8_t d = declared_by_callees(p, m.creator);
    if (d == GIL_DECL_NOT_USED || (d && m.decl == GIL_DECL_NONE)) m.decl = d;
  }
  if (m.creator >= 0 && !(ft->fn[m.creator] & FTF_PYINIT)) m.creator = -1;   /* not for an import */
  if (m.slots) m.single_phase = false;
  ft->mods = xrealloc(ft->mods, sizeof(check_module) * (size_t)(ft->nmods + 1));
  ft->mods[ft->nmods++] = m;
}

static void mark_changed(struct ft_program *ft, const char *shape, int f, const ir_event *e) {
  /* module initialisation fills what no other thread sees yet, unless it
   * hands it to Python code too (a module attribute Python changes) */
  if (init_only(ft, f) && !strmap_get(&ft->published, shape)) return;
  void **slot = strmap_at(&ft->changed, shape);
  if (!*slot) {
    ft_use *u = arena_alloc(&ft->changed.A, sizeof *u);
    *u = (ft_use){f, e};
    *slot = u;
  }
}

typedef struct pmut { int fn, param; const ir_event *e; } pmut;

/* The shapes the containers that events E_ARG (ft_mutator_arg, or
 * ft_publish_arg) work on are held as: as written, or, for a local, what
 * it copies; for a parameter, what the calls pass there (to a fixed point
 * through the callers' own parameters). PUBLISH: into ft->published, else
 * ft->changed (where: the event). */
static void collect_shapes(const engine_program *p, struct ft_program *ft, int (*e_arg)(const char *), bool publish) {
  VEC(pmut) work = {0};
  arena A = {0};
  char sh[HELD_SHAPES][SHAPE_MAX];
#define NOTE(shape, f, e) \
  (publish ? (void)(*strmap_at(&ft->published, (shape)) = (void *)1) : mark_changed(ft, (shape), (f), (e)))
  for (int f = 0; f < p->nfuncs; f++) {
    const ir_func *fn = p->funcs[f];
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        const ir_event *e = &fn->blocks[b].ev[i];
        int a = (e->kind == EV_CALL || e->kind == EV_OBJMACRO) && !(e->gflags & CF_FILLS_NEW) ? e_arg(e->callee) : -1;
        if (a < 0 || a >= IR_MAX_ARGS) continue;
        char shape[SHAPE_MAX];
        if (shape_of(&fn->blocks[b], i, e->argtext[a], shape, sizeof shape)) NOTE(shape, f, e);
        int ns = held_arg(e->held, a, sh, HELD_SHAPES);
        for (int k = 0; k < ns; k++) {
          if (!strncmp(sh[k], "p:", 2)) vec_push(&A, work, ((pmut){f, atoi(sh[k] + 2), e}));
          else NOTE(sh[k], f, e);
        }
      }
  }
  /* through a parameter: what each call passes there, once per (function, parameter) */
  uint8_t *done = xcalloc((size_t)p->nfuncs + 1, 1);
  for (int w = 0; w < work.n; w++) {
    pmut m = work.v[w];
    if (m.param < 0 || m.param >= 8 || (done[m.fn] >> m.param) & 1u) continue;
    done[m.fn] |= (uint8_t)(1u << m.param);
    for (int s = 0; s < ft->nsites[m.fn]; s++) {
      const ft_use *u = &ft->sites[m.fn][s];
      int ns = held_arg(u->e->held, m.param, sh, HELD_SHAPES);
      for (int k = 0; k < ns; k++) {
        if (!strncmp(sh[k], "p:", 2)) vec_push(&A, work, ((pmut){u->fn, atoi(sh[k] + 2), u->e}));
        else NOTE(sh[k], u->fn, u->e);   /* where: the call that hands it over */
      }
    }
  }
#undef NOTE
  free(done);
  arena_free(&A);
}

static bool eligible(const engine_program *p, const struct ft_program *ft, int f) {
  return f >= 0 && f < ft->nfuncs && p->funcs[f]->is_static && !(ft->fn[f] & FTF_PYROOT) && !ft->addr_taken[f] &&
         ft->nsites[f] > 0;
}

/* Is argument I of call E, made in function FN, held unchanged: every shape
 * assigned to it a member or global nothing changes, or a parameter of FN
 * that is itself held so? */
static bool held_unchanged(const struct ft_program *ft, int fn, const ir_event *e, int i) {
  char sh[HELD_SHAPES][SHAPE_MAX];
  int ns = held_arg(e->held, i, sh, HELD_SHAPES);
  if (ns <= 0) return false;
  for (int k = 0; k < ns; k++) {
    if (!strncmp(sh[k], "p:", 2)) {
      int j = atoi(sh[k] + 2);
      if (j < 0 || j >= IR_MAX_ARGS || !((ft->pstable[fn] >> j) & 1u)) return false;
    } else if (strmap_get(&ft->changed, sh[k])) {
      return false;
    }
  }
  return true;
}

/* Is every shape argument I of the call U passes held unchanged (or null)? */
static bool site_stable(const struct ft_program *ft, const ft_use *u, int i) {
  if (i < u->e->nargs && ((u->e->argnull >> i) & 1u)) return true;
  return held_unchanged(ft, u->fn, u->e, i);
}

/* The calls of each function, whose address is taken, and the parameters
 * every call passes an unchanged container in. */
static void params_build(const engine_program *p, struct ft_program *ft, ir_tu *const *units, int nunits) {
  int n = p->nfuncs;
  ft->sites = xcalloc((size_t)n + 1, sizeof(ft_use *));
  ft->nsites = xcalloc((size_t)n + 1, sizeof(int));
  ft->addr_taken = xcalloc((size_t)n + 1, sizeof(bool));
  ft->pstable = xcalloc((size_t)n + 1, 1);
  ft->seen = xcalloc((size_t)n + 1, sizeof(uint8_t *));
  ft->walked = xcalloc((size_t)n + 1, sizeof(bool));
  int *cap = xcalloc((size_t)n + 1, sizeof(int));
  for (int f = 0; f < n; f++) {
    const ir_func *fn = p->funcs[f];
    int nev = 0;
    for (int b = 0; b < fn->nblocks; b++) nev += fn->blocks[b].nev;
    ft->seen[f] = xcalloc((size_t)nev + 1, 1);
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        const ir_event *e = &fn->blocks[b].ev[i];
        int g = e->callee_fn;
        if (g < 0 || g >= n) continue;
        if (e->kind == EV_FNREF) { ft->addr_taken[g] = true; continue; }
        if (e->kind != EV_CALL) continue;
        if (ft->nsites[g] == cap[g]) {
          cap[g] = cap[g] ? cap[g] * 2 : 4;
          ft->sites[g] = xrealloc(ft->sites[g], sizeof(ft_use) * (size_t)cap[g]);
        }
        ft->sites[g][ft->nsites[g]++] = (ft_use){f, e};
      }
  }
  free(cap);
  /* named by a table or any initializer: called through a pointer */
  for (int t = 0; t < nunits; t++)
    for (int i = 0; i < units[t]->nglobals; i++)
      for (int r = 0; r < units[t]->globals[i].nrefs; r++) {
        int f = fn_of(ft, units[t]->globals[i].refs[r]);
        if (f >= 0) ft->addr_taken[f] = true;
      }
  collect_shapes(p, ft, ft_publish_arg, true);
  collect_shapes(p, ft, ft_mutator_arg, false);
  for (int round = 0; round < 8; round++) {
    bool moved = false;
    for (int f = 0; f < n; f++) {
      if (!eligible(p, ft, f)) continue;
      int np = p->funcs[f]->nparams < IR_MAX_ARGS ? p->funcs[f]->nparams : IR_MAX_ARGS;
      for (int i = 0; i < np; i++) {
        if ((ft->pstable[f] >> i) & 1u) continue;
        bool all = true;
        for (int s = 0; s < ft->nsites[f] && all; s++)
          all = init_only(ft, ft->sites[f][s].fn) || site_stable(ft, &ft->sites[f][s], i);
        if (all) { ft->pstable[f] |= (uint8_t)(1u << i); moved = true; }
      }
    }
    if (!moved) break;
  }
}

struct ft_program *ft_build(const engine_program *p, ir_tu *const *units, int nunits) {
  struct ft_program *ft = xcalloc(1, sizeof *ft);
  int n = p->nfuncs;
  ft->nfuncs = n;
  ft->fn = xcalloc((size_t)n + 1, 1);
  ft->locks = xcalloc((size_t)n + 1, 1);
  ft->ret_fresh = xcalloc((size_t)n + 1, sizeof(bool));
  ft->calls_seen = xcalloc((size_t)n + 1, 1);
  for (int f = 0; f < n; f++) {
    void **slot = strmap_at(&ft->fnkeys, p->funcs[f]->usr ? p->funcs[f]->usr : "");
    if (!*slot) *slot = (void *)(intptr_t)(f + 1);
  }
  /* globals: their entries in the module graph, their uses */
  for (int t = 0; t < nunits; t++)
    for (int i = 0; i < units[t]->nglobals; i++) {
      const ir_global *d = &units[t]->globals[i];
      ft_gvar *g = gvar(ft, d->usr);
      if (!g->def) g->def = d;
      if (d->gil_decl == GIL_DECL_NOT_USED || (d->gil_decl && !g->decl)) g->decl = d->gil_decl;
    }
  for (int f = 0; f < n; f++) {
    const ir_func *fn = p->funcs[f];
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        const ir_event *e = &fn->blocks[b].ev[i];
        if (e->kind != EV_GLOBAL || !e->callee_usr) continue;
        ft_gvar *g = gvar(ft, e->callee_usr);
        if (g->nuses == g->cap) {
          g->cap = g->cap ? g->cap * 2 : 4;
          g->uses = xrealloc(g->uses, sizeof(ft_use) * (size_t)g->cap);
        }
        g->uses[g->nuses++] = (ft_use){f, e};
      }
  }
  /* roots: Python (entry hints), initialisation (PyInit_, the functions
   * module definitions and their slots name: Py_mod_exec, m_free, ...) */
  for (int f = 0; f < n; f++)
    if (is_pyinit(p->funcs[f])) ft->fn[f] |= FTF_INIT | FTF_PYINIT;
  for (int t = 0; t < nunits; t++)
    for (int i = 0; i < units[t]->nglobals; i++) {
      const ir_global *d = &units[t]->globals[i];
      if (d->kind == GK_PLAIN) continue;
      for (int r = 0; r < d->nrefs; r++) {
        int f = fn_of(ft, d->refs[r]);
        if (f >= 0) ft->fn[f] |= FTF_INIT;
      }
    }
  /* Python calls what its tables and slots name (entry hints held); a C
   * thread's start routine is not Python's, and raced before as after */
  for (int t = 0; t < nunits; t++)
    for (int h = 0; h < units[t]->nhints; h++) {
      int f = fn_of(ft, units[t]->hints[h].usr);
      if (f >= 0 && units[t]->hints[h].kind == ENTRY_HELD && !(ft->fn[f] & FTF_INIT)) ft->fn[f] |= FTF_PY | FTF_PYROOT;
    }
  int *queue = xmalloc(sizeof(int) * ((size_t)n + 1));
  ft->py_from = xmalloc(sizeof(int) * ((size_t)n + 1));
  for (int f = 0; f < n; f++) ft->py_from[f] = -1;
  reach_by_calls(p, ft->fn, FTF_PY, queue, ft->py_from);
  reach_by_calls(p, ft->fn, FTF_INIT, queue, NULL);
  reach_by_calls(p, ft->fn, FTF_PYINIT, queue, NULL);
  /* module definitions, and the scope of those that declare */
  walk w = {ft, p, queue, 0, NULL, 0, 0};
  for (int t = 0; t < nunits; t++)
    for (int i = 0; i < units[t]->nglobals; i++) {
      const ir_global *d = &units[t]->globals[i];
      ft_gvar *g = strmap_get(&ft->gvars, d->usr);
      if (d->kind != GK_MODULE_DEF || !g || g->def != d) continue;
      add_module(ft, p, d->usr, g);
      if (ft->mods[ft->nmods - 1].decl != GIL_DECL_NOT_USED) continue;
      ft->any_declared = true;
      visit_key(&w, d->usr);
      for (int u = 0; u < g->nuses; u++) visit_fn(&w, g->uses[u].fn);
    }
  walk_scope(&w);
  free(w.gq);
  free(queue);
  /* once one module declares, every module's creator: one that does not
   * turns the GIL back on for the whole process */
  if (ft->any_declared)
    for (int i = 0; i < ft->nmods; i++)
      if (ft->mods[i].creator >= 0) ft->fn[ft->mods[i].creator] |= FTF_SCOPE;
  lock_helpers(p, ft);
  /* containers the program changes, by how they are held; not module
   * initialisation, which runs before any other thread sees them */
  params_build(p, ft, units, nunits);
  return ft;
}

static void free_uses(const char *key, void *val, void *ctx) {
  (void)key; (void)ctx;
  free(((ft_gvar *)val)->uses);
}

void ft_free(struct ft_program *ft) {
  if (!ft) return;
  strmap_each(&ft->gvars, free_uses, NULL);
  strmap_free(&ft->gvars);
  strmap_free(&ft->fnkeys);
  strmap_free(&ft->changed);
  strmap_free(&ft->published);
  for (int f = 0; f < ft->nfuncs; f++) {
    if (ft->sites) free(ft->sites[f]);
    if (ft->seen) free(ft->seen[f]);
  }
  free(ft->sites);
  free(ft->nsites);
  free(ft->addr_taken);
  free(ft->pstable);
  free(ft->seen);
  free(ft->walked);
  free(ft->fn);
  free(ft->py_from);
  free(ft->locks);
  free(ft->ret_fresh);
  free(ft->calls_seen);
  free(ft->mods);
  free(ft);
}

bool ft_rule_applies(const engine_program *p, int rule, int fn) {
  if (rule < 0 || rule >= R_COUNT || rule_table[rule].default_on != RULE_AUTO || p->rules_everywhere[rule]) return true;
  return p->ft && fn >= 0 && fn < p->ft->nfuncs && (p->ft->fn[fn] & FTF_SCOPE);
}

/* ---------- transfer functions ---------- */

int ft_cs_object_var(const ir_event *e) {
  int i = ft_cs_object_arg(e->callee);
  return i >= 0 && i < e->nargs && i < IR_MAX_ARGS ? e->argvar[i] : -1;
}

/* The argument a container API works on (PyDict_SetItem(d, ...): d), which
 * does not escape by being passed; -1 for other calls. */
static int container_arg(const ir_event *e) {
  static const char *const prefixes[] = {"PyDict_", "PyList_", "PyTuple_", "PySet_", "PyFrozenSet_", "PyAnySet_",
                                         "PySequence_", "PyMapping_", "PyObject_GetItem", "PyObject_SetItem",
                                         "PyObject_DelItem", "PyObject_Length", "PyObject_Size", NULL};
  if (!e->callee || !e->python_api) return -1;
  for (int i = 0; prefixes[i]; i++)
    if (!strncmp(e->callee, prefixes[i], strlen(prefixes[i]))) return 0;
  return -1;
}

enum { CALLED_LOCKED = 1, CALLED_UNLOCKED = 2 };

void ft_after_call(check_ctx *c, pstate *s, const ir_event *e) {
  gstate *k = &s->k;
  struct ft_program *ft = c->p->ft;
  /* how callers call a project function: with a lock held or not */
  if (ft && e->callee_fn >= 0 && e->callee_fn < ft->nfuncs && !k->approx)
    ft->calls_seen[e->callee_fn] |= k->ft.locks || k->cs.n ? CALLED_LOCKED : CALLED_UNLOCKED;
  /* and with a new container of their own or not, argument by argument */
  if (ft && e->kind == EV_CALL && e->callee_fn >= 0 && e->callee_fn < ft->nfuncs && !c->report && c->fi >= 0 &&
      c->fi < ft->nfuncs) {
    /* the event's index: from the block being walked, else by looking */
    int id = 0, b0 = 0;
    if (c->cur && c->ev_base) {
      const ir_block *bl = &c->fn->blocks[c->cur->block];
      if (bl->nev > 0 && e >= bl->ev && e < bl->ev + bl->nev) { b0 = c->cur->block; id = c->ev_base[b0]; }
    }
    for (int b = b0; b < c->fn->nblocks; b++) {
      const ir_block *bl = &c->fn->blocks[b];
      if (bl->nev > 0 && e >= bl->ev && e < bl->ev + bl->nev) {
        id += (int)(e - bl->ev);
        uint8_t bits = 0;
        for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
          int v = e->argvar[i];
          bool fresh = !k->approx && v >= 0 && ((k->ft.fresh >> v) & 1u);
          bits |= (uint8_t)(fresh ? SITE_FRESH(i) : SITE_SHARED(i));
        }
        ft->seen[c->fi][id] |= bits;
        break;
      }
      id += bl->nev;
    }
  }
  if (e->result_var >= 0) k->ft.fresh &= ~(1u << e->result_var);
  if (e->api && api_effect_acts(e->api->effect)) return;   /* GIL and thread-state calls: nothing more */
  const ft_lock_fact *lk = ft_lock_lookup(e->callee);
  int d = lk ? (lk->acquire ? 1 : -1)
          : e->gflags & CF_LOCK_TAKE ? 1
          : e->gflags & CF_LOCK_GIVE ? -1
          : e->callee_fn >= 0 && c->p->ft && e->callee_fn < c->p->ft->nfuncs ? c->p->ft->locks[e->callee_fn] : 0;
  if (d > 0 && k->ft.locks < STATE_MAX_LOCKS) k->ft.locks++;
  else if (d < 0 && k->ft.locks > 0) k->ft.locks--;
  int keep = container_arg(e);
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++)
    if (e->argvar[i] >= 0 && i != keep) k->ft.fresh &= ~(1u << e->argvar[i]);
  bool made = ft_is_fresh(e->callee) ||
              (e->callee_fn >= 0 && c->p->ft && e->callee_fn < c->p->ft->nfuncs && c->p->ft->ret_fresh[e->callee_fn]);
  if (e->result_var >= 0 && made) k->ft.fresh |= 1u << e->result_var;
}

/* Does the block return the result of its last call, a new container
 * ('return PyList_New(n);', 'return make_list();')? */
static bool returns_new(const check_ctx *c, const ir_block *b) {
  for (int i = b->nev - 1; i >= 0; i--) {
    const ir_event *e = &b->ev[i];
    if (e->kind != EV_CALL) continue;
    if (e->result_to != RES_RETURN) return false;
    const struct ft_program *ft = c->p->ft;
    return ft_is_fresh(e->callee) || (ft && e->callee_fn >= 0 && e->callee_fn < ft->nfuncs && ft->ret_fresh[e->callee_fn]);
  }
  return false;
}

void ft_at_exit(check_ctx *c, const pstate *s, const ir_block *b) {
  if (s->k.approx) return;
  c->ft_exits++;
  if (b->ret_const == RET_ZERO || (b->ret_var >= 0 && ((s->k.ft.fresh >> b->ret_var) & 1u)) ||
      (b->ret_var < 0 && returns_new(c, b)))
    c->ft_fresh_exits++;
}

void ft_summarized(check_ctx *c) {
  struct ft_program *ft = c->p->ft;
  if (!ft || c->fi < 0 || c->fi >= ft->nfuncs || c->args) return;
  ft->walked[c->fi] = true;
  ft->ret_fresh[c->fi] = c->fn->ret_kind == RK_POINTER && c->ft_exits > 0 && c->ft_exits == c->ft_fresh_exits &&
                         c->ft_fresh_exits > 0;
}

/* The index of event E among its function's. */
static int event_index(const ir_func *fn, const ir_event *e) {
  int id = 0;
  for (int b = 0; b < fn->nblocks; b++) {
    const ir_block *bl = &fn->blocks[b];
    if (bl->nev > 0 && e >= bl->ev && e < bl->ev + bl->nev) return id + (int)(e - bl->ev);
    id += fn->blocks[b].nev;
  }
  return -1;
}

/* Does every call of F pass, as argument I, a new container of the
 * caller's that it has not let escape, or one held unchanged (a walk of
 * each caller went to the end: every path's call is seen)? */
static bool param_unshared(const engine_program *p, const struct ft_program *ft, int f, int i) {
  if (!eligible(p, ft, f) || i < 0 || i >= IR_MAX_ARGS) return false;
  if ((ft->pstable[f] >> i) & 1u) return true;
  for (int s = 0; s < ft->nsites[f]; s++) {
    const ft_use *u = &ft->sites[f][s];
    if (init_only(ft, u->fn) || site_stable(ft, u, i)) continue;
    int id = ft->walked[u->fn] ? event_index(p->funcs[u->fn], u->e) : -1;
    uint8_t bits = id >= 0 ? ft->seen[u->fn][id] : 0;
    if (!(bits & SITE_FRESH(i)) || (bits & SITE_SHARED(i))) return false;
  }
  return true;
}

void ft_at_entry(check_ctx *c, pstate *s) {
  const struct ft_program *ft = c->p->ft;
  if (!ft || !c->report || c->args || c->fi < 0 || c->fi >= ft->nfuncs) return;
  for (int i = 0; i < c->fn->nparams && i < IR_MAX_ARGS; i++) {
    int v = c->fn->param_var[i];
    if (v >= 0 && v < IR_MAX_VARS && param_unshared(c->p, ft, c->fi, i)) s->k.ft.fresh |= 1u << v;
  }
}

void ft_after_assign(pstate *s, const ir_event *e) {
  gstate *k = &s->k;
  if (e->var < 0) return;
  bool copy = e->val == VAL_COPY && e->src_var >= 0 && (k->ft.fresh >> e->src_var) & 1u;
  k->ft.fresh &= ~(1u << e->var);
  if (copy) k->ft.fresh |= 1u << e->var;
}

/* ---------- questions ---------- */

static uint8_t flags_of(check_ctx *c) {
  const struct ft_program *ft = c->p->ft;
  return ft && c->fi >= 0 && c->fi < ft->nfuncs ? ft->fn[c->fi] : 0;
}

bool check_python_reachable(check_ctx *c) { return (flags_of(c) & FTF_PY) != 0; }
int check_python_caller(check_ctx *c) {
  const struct ft_program *ft = c->p->ft;
  return ft && c->fi >= 0 && c->fi < ft->nfuncs ? ft->py_from[c->fi] : -1;
}
bool check_init_only(check_ctx *c) { return (flags_of(c) & (FTF_INIT | FTF_PY)) == FTF_INIT; }
bool check_called_locked(check_ctx *c) {
  const struct ft_program *ft = c->p->ft;
  if (!ft || c->fi < 0 || c->fi >= ft->nfuncs || (ft->fn[c->fi] & FTF_PYROOT)) return false;
  return ft->calls_seen[c->fi] == CALLED_LOCKED;
}

bool check_program_declares_free_threading(check_ctx *c) { return c->p->ft && c->p->ft->any_declared; }

/* An object's spelling without spaces, casts and outer parentheses:
 * "(PyObject *) self" and "self" are one. */
static void norm(const char *in, char *out, size_t cap) {
  size_t n = 0;
  for (const char *p = in; *p && n + 1 < cap; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n') out[n++] = *p;
  out[n] = 0;
  for (int round = 0; round < 8; round++) {
    size_t len = strlen(out);
    if (!strncmp(out, "_PyObject_CAST(", 15) && len > 16 && out[len - 1] == ')') {
      memmove(out, out + 15, len - 15);
      out[len - 16] = 0;
      continue;
    }
    if (out[0] != '(') break;
    /* the parenthesis that closes the first */
    int depth = 0;
    size_t close = 0;
    for (size_t i = 0; i < len; i++) {
      if (out[i] == '(') depth++;
      else if (out[i] == ')' && --depth == 0) { close = i; break; }
    }
    if (!close) break;
    if (close == len - 1) {                 /* (x) */
      memmove(out, out + 1, len - 2);
      out[len - 2] = 0;
    } else if (memchr(out, '*', close)) {    /* (T *)x */
      memmove(out, out + close + 1, len - close);
    } else {
      break;
    }
  }
}

/* Does the section's object LOCKED protect the object OBJ: the same, or
 * OBJ is a member of it ('self' protects 'self->dict', 'self.x'). */
static bool protects(const char *locked, const char *obj) {
  char a[256], b[256];
  norm(locked, a, sizeof a);
  norm(obj, b, sizeof b);
  size_t la = strlen(a);
  if (!la) return false;
  if (!strcmp(a, b)) return true;
  return !strncmp(a, b, la) && (!strncmp(b + la, "->", 2) || b[la] == '.');
}

const char *check_cs_object(check_ctx *c, int i) {
  if (!c->s || i < 0 || i >= c->s->k.cs.n) return NULL;
  const ir_event *b = walk_event(c, c->s->w.cs[i], NULL);
  if (!b) return NULL;
  int a = ft_cs_object_arg(b->callee);
  if (a < 0 && b->macro) a = ft_cs_object_arg(b->macro);
  return a >= 0 && a < IR_MAX_ARGS ? b->argtext[a] : NULL;
}

bool check_cs_locks(check_ctx *c, const char *text, int var) {
  if (!c->s) return false;
  const gstate *k = &c->s->k;
  for (int i = 0; i < k->cs.n; i++) {
    if (var >= 0 && k->cs.var[i] == var) return true;
    const ir_event *b = walk_event(c, c->s->w.cs[i], NULL);
    if (!b) return true;   /* not known: precision before recall */
    int a = ft_cs_object_arg(b->callee);
    if (a < 0) return true;   /* a mutex form: it protects what the user means it to */
    /* Py_BEGIN_CRITICAL_SECTION2(a, b): both */
    bool two = strstr(b->callee, "2") != NULL;
    for (int j = a; j <= a + (two ? 1 : 0) && j < IR_MAX_ARGS; j++) {
      if (!b->argtext[j]) return true;
      if (text && protects(b->argtext[j], text)) return true;
      if (var >= 0 && b->argvar[j] == var) return true;
    }
  }
  return false;
}

int check_container_changed(check_ctx *c, const char *text, int ev_id, check_access *where) {
  int b = -1;
  if (!walk_event(c, ev_id, &b) || !c->p->ft) return -1;
  char shape[SHAPE_MAX];
  if (!shape_of(&c->fn->blocks[b], ev_id - c->ev_base[b], text, shape, sizeof shape)) return -1;
  const ft_use *u = strmap_get(&c->p->ft->changed, shape);
  if (!u) return 0;
  if (where) *where = (check_access){u->fn, u->e};
  return 1;
}

bool check_container_held_unchanged(check_ctx *c, const ir_event *e, int arg) {
  const struct ft_program *ft = c->p->ft;
  if (!ft || !e || c->fi < 0 || c->fi >= ft->nfuncs) return false;
  return held_unchanged(ft, c->fi, e, arg);
}

int check_modules_created(check_ctx *c, const check_module **out, int max) {
  const struct ft_program *ft = c->p->ft;
  int n = 0;
  for (int i = 0; ft && i < ft->nmods && n < max; i++)
    if (ft->mods[i].creator == c->fi) out[n++] = &ft->mods[i];
  return n;
}

int check_global_uses(check_ctx *c, const char *key, check_access *out, int max) {
  const struct ft_program *ft = c->p->ft;
  const ft_gvar *g = ft && key ? strmap_get(&ft->gvars, key) : NULL;
  int n = 0;
  if (!g) return 0;
  /* writes in other functions, then reads elsewhere */
  for (int pass = 0; pass < 2; pass++)
    for (int u = 0; u < g->nuses && n < max; u++) {
      const ir_event *e = g->uses[u].e;
      if (g->uses[u].fn == c->fi) continue;
      bool write = e->gaccess == GA_WRITE;
      if (pass == 0 ? !write : write || e->gaccess != GA_READ) continue;
      bool dup = false;
      for (int j = 0; j < n; j++)
        if (out[j].fn == g->uses[u].fn && out[j].e->gaccess == e->gaccess) dup = true;
      if (dup) continue;
      out[n++] = (check_access){g->uses[u].fn, e};
    }
  return n;
}

#define PATH_SCAN_NODES 256

/* Does the condition's text, when it is TRUE (or false), say that NAME is
 * unset: '!g', 'g == NULL', 'g == 0' true; 'g', 'g != NULL' false? */
static bool says_unset(const char *text, const char *name, bool truth) {
  char t[256];
  size_t n = 0;
  for (const char *p = text; *p && n + 1 < sizeof t; p++)
    if (*p != ' ' && *p != '\t') t[n++] = *p;
  t[n] = 0;
  while (n >= 2 && t[0] == '(' && t[n - 1] == ')') { memmove(t, t + 1, n - 2); n -= 2; t[n] = 0; }
  size_t ln = strlen(name);
  char buf[300];
  static const char *const unset_forms[] = {"!%s", "%s==NULL", "%s==0", "NULL==%s", "0==%s", "!(%s)", NULL};
  static const char *const set_forms[] = {"%s", "%s!=NULL", "%s!=0", "NULL!=%s", "0!=%s", NULL};
  if (ln > 200) return false;
  for (int i = 0; unset_forms[i]; i++) {
    snprintf(buf, sizeof buf, unset_forms[i], name);
    if (!strcmp(t, buf)) return truth;
  }
  for (int i = 0; set_forms[i]; i++) {
    snprintf(buf, sizeof buf, set_forms[i], name);
    if (!strcmp(t, buf)) return !truth;
  }
  return false;
}

const ir_cond *check_path_tested_unset(check_ctx *c, const char *name) {
  if (!name) return NULL;
  int steps = 0;
  for (node *x = c->cur; x && x->pred && steps < PATH_SCAN_NODES; x = x->pred, steps++) {
    if (x->edge_cond < 0) continue;
    const ir_cond *cd = &c->fn->conds[x->edge_cond];
    if (cd->text && says_unset(cd->text, name, x->edge_sense != cd->text_negated)) return cd;
  }
  return NULL;
}

/* ---------- the dump ---------- */

void ft_state_print(FILE *out, const gstate *k, const char *const *names, int nvars) {
  if (k->ft.locks) fprintf(out, " locks=%u", k->ft.locks);
  bool any = false;
  for (int v = 0; v < nvars && v < IR_MAX_VARS; v++)
    if ((k->ft.fresh >> v) & 1u) {
      fprintf(out, "%s%s", any ? " " : " fresh=[", names[v]);
      any = true;
    }
  if (any) fputc(']', out);
}
