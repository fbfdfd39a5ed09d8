/* units.c: which translation units a run parses, with which flags, and
 * which of them it reports (see units.h); then lowering them on a pool of
 * threads, cache first. */
#define _GNU_SOURCE
#include "units.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arena.h"
#include "cache.h"
#include "cdb.h"
#include "driver.h"
#include "ir.h"
#include "log.h"
#include "map.h"
#include "output.h"
#include "parse.h"
#include "xalloc.h"

char *identity(const char *path) {
  char real[PATH_MAX];
  if (realpath(path, real)) return xstrdup0(real);
  return cdb_absolute_path(path, NULL);
}

/* Why F cannot be analysed (malloc'd), or NULL when it is a readable
 * regular file. */
static char *unusable_why(const char *f) {
  struct stat st;
  if (stat(f, &st) != 0) return xstrdup(strerror(errno));
  if (S_ISDIR(st.st_mode)) return xstrdup("is a directory");
  if (!S_ISREG(st.st_mode)) return xstrdup("not a regular file");
  if (access(f, R_OK) != 0) return xstrdup(strerror(errno));
  return NULL;
}

static char **copy_args(char *const *a, int n, char *const *extra, int nextra) {
  char **v = xmalloc(sizeof(char *) * (size_t)(n + nextra + 1));
  for (int i = 0; i < n; i++) v[i] = xstrdup0(a[i]);
  for (int i = 0; i < nextra; i++) v[n + i] = xstrdup0(extra[i]);
  v[n + nextra] = NULL;
  return v;
}


/* ---- the set ---- */

static strmap *ids_of(unit_set *s) {
  if (!s->ids) s->ids = xcalloc(1, sizeof(strmap));
  return s->ids;
}

/* The unit of the file with identity ID, or -1. */
static int find_id(unit_set *s, const char *id) {
  return (int)(intptr_t)strmap_get(ids_of(s), id) - 1;
}

/* Adds a unit for FILE (its flags: ARGS then EXTRA, run in DIR). Returns
 * its index; a file already there keeps its first flags. */
static int add_unit(unit_set *s, const char *file, const char *dir, char *const *args, int nargs,
                    char *const *extra, int nextra, const char *how, bool from_db) {
  char *id = identity(file);
  int have = find_id(s, id);
  if (have >= 0) {
    free(id);
    return have;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->v = xrealloc(s->v, sizeof(unit) * (size_t)s->cap);
  }
  unit *u = &s->v[s->n];
  memset(u, 0, sizeof *u);
  u->job.file = xstrdup0(file);
  u->job.dir = dir ? xstrdup0(dir) : NULL;
  u->job.args = copy_args(args, nargs, extra, nextra);
  u->job.nargs = nargs + nextra;
  u->shown = path_display(file);
  u->id = id;
  u->how = xstrdup0(how);
  u->from_db = from_db;
  u->unusable = unusable_why(file);
  *strmap_at(ids_of(s), id) = (void *)(intptr_t)(s->n + 1);
  return s->n++;
}

/* ---- compilation databases ---- */

typedef struct loaded_db {
  char *dir;                 /* as found or given */
  char *shown;               /* its compile_commands.json, as shown */
  gc_job *jobs;
  int njobs;
  bool failed, added;
} loaded_db;

/* The database in DIR, loaded once (an entry of s->dbs, which never moves). */
static loaded_db *load_db(unit_set *s, const char *dir, bool required) {
  loaded_db **dbs = s->dbs;
  for (int i = 0; i < s->ndbs; i++)
    if (strcmp(dbs[i]->dir, dir) == 0) return dbs[i];
  dbs = xrealloc(dbs, sizeof *dbs * (size_t)(s->ndbs + 1));
  s->dbs = dbs;
  loaded_db *db = dbs[s->ndbs++] = xcalloc(1, sizeof *db);
  db->dir = xstrdup0(dir);
  char *json = xasprintf("%s%scompile_commands.json", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/");
  db->shown = path_display(json);
  free(json);
  char *err = NULL;
  if (cdb_load(dir, &db->jobs, &db->njobs, &err) != 0) {
    if (required) {
      driver_error("%s", err);
    } else {
      char *shown = path_display(dir);
      log_warning("%s; ignoring the compilation database in %s", err, shown);
      free(shown);
    }
    free(err);
    db->failed = true;
  }
  return db;
}

/* Every entry of DB becomes a unit (reported or not, decided later). */
static void add_db_units(unit_set *s, loaded_db *db, const options *o) {
  if (db->added || db->failed) return;
  db->added = true;
  char *how = xasprintf("flags from %s", db->shown);
  for (int i = 0; i < db->njobs; i++) {
    const gc_job *e = &db->jobs[i];
    /* listed twice: the first entry's flags stay */
    int k = add_unit(s, e->file, e->dir, e->args, e->nargs, o->extra, o->nextra, how, true);
    s->v[k].listed++;
  }
  free(how);
}

/* The unit of the database entry for the file with identity ID, or -1. */
static int db_unit(unit_set *s, const char *id) {
  int k = find_id(s, id);
  return k >= 0 && s->v[k].from_db ? k : -1;
}

/* ---- the Python include flags, for files with no database ---- */

static void ensure_fallback(unit_set *s) {
  if (s->fallback_tried) return;
  s->fallback_tried = true;
  char *explain = NULL;
  if (cdb_fallback_args(&s->fallback, &s->nfallback, &explain) != 0) {
    log_warning("%s; analysing without Python include flags (give them after '--', or use -p)", explain);
    s->fallback = NULL;
    s->nfallback = 0;
  } else {
    log_verbose("files without a compilation database get %s", explain);
  }
  free(explain);
}

/* ---- named files ---- */

static void want_header(unit_set *s, const char *file) {
  char *real = identity(file);
  for (int i = 0; i < s->nhw; i++)
    if (strcmp(s->hw[i].real, real) == 0) { free(real); return; }
  s->hw = xrealloc(s->hw, sizeof *s->hw * (size_t)(s->nhw + 1));
  header_want *h = &s->hw[s->nhw++];
  memset(h, 0, sizeof *h);
  h->file = xstrdup0(file);
  h->shown = path_display(file);
  h->abs = cdb_absolute_path(file, NULL);
  h->real = real;
  h->includer = -1;
}

/* A named FILE that DB (may be NULL or failed) does not list. */
static void add_unlisted(unit_set *s, const char *file, loaded_db *db, const options *o) {
  const char *not_c = cdb_not_c(file);
  if (not_c && db && !db->failed) {
    driver_error("'%s': no C entry in %s (%s)", file, db->shown, not_c);
    s->named_missing++;
    s->status = 2;
    return;
  }
  if (cdb_is_header(file)) {
    want_header(s, file);
    return;
  }
  int k;
  if (db && !db->failed && db->njobs > 0) {
    int near = cdb_nearest(db->jobs, db->njobs, file);
    const gc_job *e = &db->jobs[near];
    char *nshown = path_display(e->file);
    char *how = xasprintf("no entry in %s; flags of its nearest entry, %s", db->shown, nshown);
    free(nshown);
    /* the entry's flags, its own file being left out already (cdb.c); the
     * path absolute, as the entry's -working-directory would otherwise
     * resolve it */
    char *abs = cdb_absolute_path(file, NULL);
    k = add_unit(s, abs, e->dir, e->args, e->nargs, o->extra, o->nextra, how, false);
    free(abs);
    free(how);
  } else {
    ensure_fallback(s);
    const char *why = !db           ? "no compile_commands.json in its directory or above"
                      : db->failed ? "its compilation database cannot be used"
                                   : "no entry in its empty compilation database";
    char *how = xasprintf("%s; Python include flags", why);
    k = add_unit(s, file, NULL, s->fallback, s->nfallback, NULL, 0, how, false);
    free(how);
  }
  s->v[k].report = true;
  s->v[k].named++;
}

/* Is the named FILE there? Says why not. */
static bool named_usable(unit_set *s, const char *file) {
  char *why = unusable_why(file);
  if (!why) return true;
  driver_error("'%s': %s", file, why);
  free(why);
  s->named_missing++;
  s->status = 2;
  return false;
}

static void name_unit(unit_set *s, int k) {
  s->v[k].report = true;
  s->v[k].named++;
}

static int cmp_units(const void *pa, const void *pb) {
  const unit *a = pa, *b = pb;
  int c = strcmp(a->shown, b->shown);
  return c ? c : strcmp(a->id, b->id);
}

static void sort_units(unit_set *s) {
  if (s->n > 1) qsort(s->v, (size_t)s->n, sizeof(unit), cmp_units);
  strmap_free(ids_of(s));
  for (int i = 0; i < s->n; i++) *strmap_at(ids_of(s), s->v[i].id) = (void *)(intptr_t)(i + 1);
}

void units_build(unit_set *s, const options *o) {
  s->verbose = log_is_verbose();
  if (o->build_dir) {
    loaded_db *db = load_db(s, o->build_dir, true);
    if (db->failed) { s->status = 2; return; }
    s->database = xstrdup0(db->shown);
    if (db->njobs == 0) {
      driver_error("%s has no C entries: nothing to analyse (was the build recorded? bear records only "
                   "the files the build compiles: rebuild them all, e.g. 'python3 setup.py build_ext --force')",
                   db->shown);
      s->status = 2;
      return;
    }
    add_db_units(s, db, o);
    if (o->nfiles == 0)
      for (int i = 0; i < s->n; i++) s->v[i].report = true;
    for (int f = 0; f < o->nfiles; f++) {
      const char *file = o->files[f];
      if (!named_usable(s, file)) continue;
      char *id = identity(file);
      int k = db_unit(s, id);
      free(id);
      if (k >= 0) name_unit(s, k);
      else add_unlisted(s, file, db, o);
    }
  } else if (o->dashdash) {
    for (int f = 0; f < o->nfiles; f++) {
      const char *file = o->files[f];
      if (!named_usable(s, file)) continue;
      int k = add_unit(s, file, NULL, o->extra, o->nextra, NULL, 0, "flags after '--'", false);
      name_unit(s, k);
    }
  } else {
    for (int f = 0; f < o->nfiles; f++) {
      const char *file = o->files[f];
      if (!named_usable(s, file)) continue;
      char *dir = cdb_find_for_file(file);
      loaded_db *db = dir ? load_db(s, dir, false) : NULL;
      free(dir);
      if (db) add_db_units(s, db, o);
      char *id = identity(file);
      int k = db && !db->failed ? db_unit(s, id) : -1;
      free(id);
      if (k >= 0) name_unit(s, k);
      else add_unlisted(s, file, db, o);
    }
  }
  sort_units(s);
}

unit *units_by_job_file(unit_set *s, const char *path) {
  if (!s->by_file) {
    s->by_file = xcalloc(1, sizeof(strmap));
    for (int i = 0; i < s->n; i++) *strmap_at(s->by_file, s->v[i].job.file) = &s->v[i];
  }
  return strmap_get(s->by_file, path);
}

/* ---- lowering on a pool of threads ---- */

typedef struct pool {
  unit_set *s;
  gc_program *prog;
  int *todo;                 /* indices of the units to lower */
  int ntodo;
  atomic_int next;
  pthread_mutex_t mu;
  bool progress;
} pool;

static const char *base_name(const char *p) {
  const char *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

/* What the lowered unit tells us before the program takes it: whether it
 * read Python.h and the headers wanted, and its functions' names. */
static void inspect(unit_set *s, unit *u, const ir_tu *tu) {
  if (s->nhw) u->reads = xcalloc((size_t)s->nhw, sizeof(bool));
  for (int i = 0; i < tu->ndeps; i++) {
    const char *dep = tu->deps[i];
    if (!dep) continue;
    const char *b = base_name(dep);
    if (strcmp(b, "Python.h") == 0) u->python = true;
    for (int h = 0; h < s->nhw; h++) {
      if (u->reads[h] || strcmp(b, base_name(s->hw[h].abs)) != 0) continue;
      char *abs = cdb_absolute_path(dep, u->job.dir);
      if (strcmp(abs, s->hw[h].abs) == 0) u->reads[h] = true;
      else {
        char *real = identity(abs);
        u->reads[h] = strcmp(real, s->hw[h].real) == 0;
        free(real);
      }
      free(abs);
    }
  }
  if (s->want_funcs && u->report) {
    u->funcs = xmalloc(sizeof(char *) * ((size_t)tu->nfuncs + 1));
    for (int i = 0; i < tu->nfuncs; i++) u->funcs[u->nfuncs++] = xstrdup0(tu->funcs[i]->name);
  }
}

static void lower_one(pool *p, unit *u) {
  arena A = {0};
  ir_tu tu;
  cache_ticket ticket;
  int rc = 0;
  if (!cache_lookup_said(&u->job, &A, &tu, &ticket, u->report)) {
    int nerrors = u->errs.n;
    rc = front_lower_job(&u->job, &A, &tu, &u->errs);
    if (rc == 0 && u->errs.n == nerrors) cache_store(&u->job, &tu, &ticket);
  }
  if (rc != 0) {
    arena_free(&A);
    return;
  }
  inspect(p->s, u, &tu);
  u->lowered = true;
  program_add_lowered(p->prog, &A, &tu);       /* takes the arena */
}

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    int i = atomic_fetch_add(&p->next, 1);
    if (i >= p->ntodo) break;
    unit *u = &p->s->v[p->todo[i]];
    if (p->progress) {
      pthread_mutex_lock(&p->mu);
      const char *sh = u->shown;
      size_t len = strlen(sh);
      fprintf(stderr, "\r\033[K[%d/%d] %s%s", i + 1, p->ntodo, len > 60 ? "..." : "", len > 60 ? sh + len - 57 : sh);
      fflush(stderr);
      pthread_mutex_unlock(&p->mu);
    }
    lower_one(p, u);
  }
  return NULL;
}

/* Each wanted header's includer: a reported unit that read it, else the
 * first unit that did. */
static void pick_includers(unit_set *s) {
  for (int h = 0; h < s->nhw; h++) {
    header_want *w = &s->hw[h];
    if (w->excluded) continue;
    for (int pass = 0; pass < 2 && w->includer < 0; pass++)
      for (int i = 0; i < s->n && w->includer < 0; i++) {
        unit *u = &s->v[i];
        if (u->lowered && u->reads && u->reads[h] && (pass == 1 || u->report)) w->includer = i;
      }
  }
}

void units_lower(unit_set *s, gc_program *prog, int nthreads, bool progress) {
  pool p = {.s = s, .prog = prog};
  p.todo = xmalloc(sizeof(int) * ((size_t)s->n + 1));
  /* the reported units first, so that a progress line shows them first */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < s->n; i++) {
      unit *u = &s->v[i];
      if (u->excluded || u->unusable || u->report != (pass == 0)) continue;
      u->tried = true;
      p.todo[p.ntodo++] = i;
    }
  atomic_init(&p.next, 0);
  pthread_mutex_init(&p.mu, NULL);
  p.progress = progress && p.ntodo > 1;
  if (nthreads > p.ntodo) nthreads = p.ntodo;
  if (nthreads < 1) nthreads = 1;
  pthread_t *t = xmalloc(sizeof(pthread_t) * (size_t)nthreads);
  bool *started = xmalloc(sizeof(bool) * (size_t)nthreads);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* clang's parser recurses once per nesting level, and so does lowering;
   * libclang parses on our thread (LIBCLANG_NOTHREADS, set in driver_main)
   * so this stack is what deeply nested code gets. Reserved, not touched. */
  pthread_attr_setstacksize(&attr, (size_t)512 << 20);
  int running = 0;
  for (int i = 0; i < nthreads; i++) {
    started[i] = pthread_create(&t[i], &attr, worker, &p) == 0;
    running += started[i];
  }
  pthread_attr_destroy(&attr);
  if (running == 0) worker(&p);                      /* no threads: do it here */
  for (int i = 0; i < nthreads; i++)
    if (started[i]) pthread_join(t[i], NULL);
  free(started);
  free(t);
  if (p.progress) { fputs("\r\033[K", stderr); fflush(stderr); }
  pthread_mutex_destroy(&p.mu);
  free(p.todo);
  pick_includers(s);
}

void units_free(unit_set *s) {
  for (int i = 0; i < s->n; i++) {
    unit *u = &s->v[i];
    cdb_job_clear(&u->job);
    free(u->shown);
    free(u->id);
    free(u->how);
    free(u->unusable);
    diag_free(&u->errs);
    free(u->reads);
    for (int k = 0; k < u->nfuncs; k++) free(u->funcs[k]);
    free(u->funcs);
  }
  free(s->v);
  for (int i = 0; i < s->nhw; i++) {
    free(s->hw[i].file);
    free(s->hw[i].shown);
    free(s->hw[i].abs);
    free(s->hw[i].real);
  }
  free(s->hw);
  loaded_db **dbs = s->dbs;
  for (int i = 0; i < s->ndbs; i++) {
    free(dbs[i]->dir);
    free(dbs[i]->shown);
    cdb_free_jobs(dbs[i]->jobs, dbs[i]->njobs);
    free(dbs[i]);
  }
  free(dbs);
  for (int i = 0; i < s->nfallback; i++) free(s->fallback[i]);
  free(s->fallback);
  free(s->database);
  if (s->ids) {
    strmap_free(s->ids);
    free(s->ids);
  }
  if (s->by_file) {
    strmap_free(s->by_file);
    free(s->by_file);
  }
  memset(s, 0, sizeof *s);
}
