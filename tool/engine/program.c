/* program.c: the whole program — translation units as they are lowered
 * (from any number of threads), linked by USR so calls reach the function
 * defined in another file, then summarised and reported. */
#include "program.h"
#include "xalloc.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "cache.h"
#include "engine.h"
#include "entry.h"
#include "ir.h"
#include "lower.h"
#include "map.h"

typedef struct tu_slot {
  arena A;
  ir_tu tu;
} tu_slot;

struct gc_program {
  gc_program_opts opts;
  pthread_mutex_t mu;
  tu_slot **tus;
  int ntus, cap;
  engine_program fp;
  strmap usrs;           /* function key (USR) -> index + 1 of its first definition, while linked */
  strmap defs;           /* a definition (key and place) -> index + 1 */
  strmap *unit_usrs;     /* per unit: the keys it defines -> index + 1 */
  int *unit_of;          /* per function: the unit it was first seen in */
  arena link;            /* what linking makes (entry reasons, pointer targets) */
  ir_tu **units;         /* the units, in link order */
  bool linked;
};

gc_program *program_new(const gc_program_opts *opts) {
  gc_program *p = xcalloc(1, sizeof *p);
  p->opts = *opts;
  pthread_mutex_init(&p->mu, NULL);
  return p;
}

static void add_slot(gc_program *p, tu_slot *s);

int program_add_tu(gc_program *p, const gc_job *job, gc_findings *errors) {
  tu_slot *s = xcalloc(1, sizeof *s);
  /* the result cache (cache.c): an unchanged unit is read back, not parsed */
  cache_ticket ticket;
  int rc = 0;
  if (!cache_lookup(job, &s->A, &s->tu, &ticket)) {
    int nerrors = errors->n;
    rc = front_lower_job(job, &s->A, &s->tu, errors);
    if (rc == 0 && errors->n == nerrors) cache_store(job, &s->tu, &ticket);
  }
  if (rc != 0) {
    arena_free(&s->A);
    free(s);
    return rc;
  }
  add_slot(p, s);
  return 0;
}

int program_add_lowered(gc_program *p, struct arena *A, struct ir_tu *tu) {
  tu_slot *s = xcalloc(1, sizeof *s);
  s->A = *A;
  s->tu = *tu;
  memset(A, 0, sizeof *A);
  add_slot(p, s);
  return 0;
}

/* Units come from several threads at once. */
static void add_slot(gc_program *p, tu_slot *s) {
  pthread_mutex_lock(&p->mu);
  if (p->ntus == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 16;
    p->tus = xrealloc(p->tus, sizeof(tu_slot *) * (size_t)p->cap);
  }
  p->tus[p->ntus++] = s;
  p->linked = false;
  pthread_mutex_unlock(&p->mu);
}

/* USRs to function indices (+1, so that an absent key reads 0). */
static int usr_get(const strmap *m, const char *k) {
  return k ? (int)(intptr_t)strmap_get(m, k) - 1 : -1;
}

static void usr_put(strmap *m, const char *k, int v) {
  void **slot = strmap_at(m, k);
  if (!*slot) *slot = (void *)(intptr_t)(v + 1);   /* first definition wins */
}

/* A definition: its key and where it is. */
static const char *def_key(arena *A, const ir_func *f) {
  return arena_printf(A, "%s\x1f%s:%u:%u", f->usr ? f->usr : "", f->loc.file ? f->loc.file : "", f->loc.line,
                      f->loc.col);
}

static int cmp_tu(const void *a, const void *b) {
  const tu_slot *x = *(tu_slot *const *)a, *y = *(tu_slot *const *)b;
  return strcmp(x->tu.path ? x->tu.path : "", y->tu.path ? y->tu.path : "");
}

static void free_linked(gc_program *p) {
  engine_program *fp = &p->fp;
  if (fp->obs)
    for (int i = 0; i < fp->nfuncs; i++) free(fp->obs[i]);
  free(fp->obs); free(fp->nobs);
  free(fp->funcs); free(fp->sums); free(fp->entry); free(fp->entry_why);
  strmap_free(&fp->rewalks);
  if (p->unit_usrs)
    for (int t = 0; t < p->ntus; t++) strmap_free(&p->unit_usrs[t]);
  free(p->unit_usrs);
  p->unit_usrs = NULL;
  free(p->unit_of);
  p->unit_of = NULL;
  free(p->units);
  p->units = NULL;
  arena_free(&p->link);
  strmap_free(&p->usrs);
  strmap_free(&p->defs);
}

static entry_world world_of(gc_program *p) {
  return (entry_world){p->units, p->ntus, &p->usrs, &p->link};
}

static void link_program(gc_program *p) {
  if (p->linked) return;
  engine_program *fp = &p->fp;
  free_linked(p);
  memset(fp, 0, sizeof *fp);
  memcpy(fp->rules, p->opts.rules, sizeof fp->rules);
  fp->verbose = p->opts.verbose;
  /* the same order whatever the order the threads finished in */
  if (p->ntus > 1) qsort(p->tus, (size_t)p->ntus, sizeof(tu_slot *), cmp_tu);
  int total = 0;
  for (int t = 0; t < p->ntus; t++) total += p->tus[t]->tu.nfuncs;
  strmap *m = &p->usrs;
  fp->funcs = xcalloc((size_t)total + 1, sizeof(ir_func *));
  p->unit_of = xcalloc((size_t)total + 1, sizeof(int));
  p->unit_usrs = xcalloc((size_t)p->ntus + 1, sizeof(strmap));
  int n = 0;
  /* One function per definition: a static inline of a header seen by
   * several units is one; two files defining the same non-static name (two
   * extension modules of one project) are two, and a unit's calls go to its
   * own. */
  for (int t = 0; t < p->ntus; t++)
    for (int i = 0; i < p->tus[t]->tu.nfuncs; i++) {
      ir_func *f = p->tus[t]->tu.funcs[i];
      const char *key = def_key(&p->link, f);
      int d = usr_get(&p->defs, key);
      if (d < 0) {
        d = n;
        usr_put(&p->defs, key, n);
        usr_put(m, f->usr, n);
        p->unit_of[n] = t;
        fp->funcs[n++] = f;
      }
      usr_put(&p->unit_usrs[t], f->usr, d);
    }
  fp->nfuncs = n;
  fp->sums = xcalloc((size_t)n + 1, sizeof(summary));
  fp->entry = xcalloc((size_t)n + 1, 1);
  fp->entry_why = xcalloc((size_t)n + 1, sizeof(entry_reason *));
  fp->obs = xcalloc((size_t)n + 1, sizeof(uint8_t *));
  fp->nobs = xcalloc((size_t)n + 1, sizeof(int));
  for (int i = 0; i < n; i++) {
    fp->sums[i].wit_fn = -1;
    int nev = 0;
    for (int b = 0; b < fp->funcs[i]->nblocks; b++) nev += fp->funcs[i]->blocks[b].nev;
    fp->obs[i] = xcalloc((size_t)nev + 1, 1);
    fp->nobs[i] = nev;
  }
  for (int t = 0; t < p->ntus; t++) {
    ir_tu *tu = &p->tus[t]->tu;
    for (int h = 0; h < tu->nhints; h++) {
      int f = usr_get(&p->unit_usrs[t], tu->hints[h].usr);
      if (f < 0) f = usr_get(m, tu->hints[h].usr);
      if (f < 0) continue;
      /* a function reached from Python and started as a thread is unknown */
      if (fp->entry[f] && fp->entry[f] != tu->hints[h].kind) { fp->entry[f] = 0xff; continue; }
      if (fp->entry[f] == 0xff) continue;
      fp->entry[f] = tu->hints[h].kind;
      if (!fp->entry_why[f]) {
        entry_reason *r = arena_alloc(&p->link, sizeof *r);
        r->loc = tu->hints[h].loc;
        r->why = tu->hints[h].why;
        r->annotation = r->why && !strncmp(r->why, "annotated", 9);
        fp->entry_why[f] = r;
      }
    }
  }
  for (int i = 0; i < n; i++)
    if (fp->entry[i] == 0xff) { fp->entry[i] = ENTRY_UNKNOWN; fp->entry_why[i] = NULL; }
  /* calls and function references to their definitions */
  for (int i = 0; i < n; i++) {
    ir_func *f = fp->funcs[i];
    for (int b = 0; b < f->nblocks; b++)
      for (int e = 0; e < f->blocks[b].nev; e++) {
        ir_event *ev = &f->blocks[b].ev[e];
        /* a definition in the program wins over the default for a name a
         * CPython header declares; built-in effects stay built in */
        if ((ev->kind == EV_CALL || ev->kind == EV_FNREF) && ev->callee_usr &&
            (!ev->api || !api_effect_acts(ev->api->effect))) {
          int own = usr_get(&p->unit_usrs[p->unit_of[i]], ev->callee_usr);
          ev->callee_fn = own >= 0 ? own : usr_get(m, ev->callee_usr);
        }
      }
  }
  p->units = xcalloc((size_t)p->ntus + 1, sizeof(ir_tu *));
  for (int t = 0; t < p->ntus; t++) p->units[t] = &p->tus[t]->tu;
  entry_world w = world_of(p);
  entry_link(fp, &w);
  p->linked = true;
}

#define ENTRY_ROUNDS 3   /* summaries, then callbacks' entries, again while they change */

static void summarize_all(gc_program *p) {
  summarize_program(&p->fp);
  entry_world w = world_of(p);
  for (int round = 0; round < ENTRY_ROUNDS && entry_update(&p->fp, &w); round++) summarize_program(&p->fp);
}

void program_analyze(gc_program *p, gc_findings *out) { program_analyze_filtered(p, NULL, NULL, out); }

void program_analyze_filtered(gc_program *p, program_unit_filter want, void *ctx, gc_findings *out) {
  link_program(p);
  summarize_all(p);
  /* a function is reported when some wanted unit defines it (a static
   * inline in a header is linked once, to the first unit by path) */
  bool *report = xcalloc((size_t)p->fp.nfuncs + 1, sizeof(bool));
  for (int t = 0; t < p->ntus; t++) {
    const ir_tu *tu = &p->tus[t]->tu;
    if (want && !want(ctx, tu->path)) continue;
    for (int i = 0; i < tu->nfuncs; i++) {
      int f = usr_get(&p->defs, def_key(&p->link, tu->funcs[i]));
      if (f >= 0) report[f] = true;
    }
  }
  for (int i = 0; i < p->fp.nfuncs; i++)
    if (report[i]) engine_report(&p->fp, i, out);
  free(report);
  diag_sort_unique(out);
}

int program_dump(gc_program *p, const char *function, FILE *out) {
  link_program(p);
  summarize_all(p);
  int n = 0;
  for (int i = 0; i < p->fp.nfuncs; i++)
    if (!function || !strcmp(function, p->fp.funcs[i]->name)) {
      engine_dump(&p->fp, i, out);
      n++;
    }
  return n;
}

void program_free(gc_program *p) {
  if (!p) return;
  for (int t = 0; t < p->ntus; t++) { arena_free(&p->tus[t]->A); free(p->tus[t]); }
  free(p->tus);
  free_linked(p);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

const char *program_clang_version(void) { return front_clang_version(); }
