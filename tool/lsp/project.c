/* project.c: a compilation database's units, lowered in the background and
 * kept for the language server (project.h).
 *
 * Entries: one per C file of the database (the first entry of a file wins,
 * as on the command line), each with its job, the unit last lowered from
 * disk, and a snapshot of every file that unit read (size, modification
 * time in nanoseconds, inode) so that a poll can tell when it must be
 * lowered again. A file changed while it was being parsed (modified after
 * the parse began) is recorded as unsure, and the next poll lowers it
 * again.
 *
 * Work: a queue of (entry, sequence number) items, lowered by persistent
 * worker threads through the result cache; results go to a list the main
 * thread takes in project_collect. A result whose sequence number is not
 * its entry's latest (the entry was queued again, or dropped from the
 * database) is thrown away.
 *
 * The gate: the API facts of configurations and the result cache's key are
 * process-wide and read while lowering; lowering_pause() closes the gate
 * and waits until no worker is inside it. cdb_load() also runs behind it,
 * since it redirects standard error for a moment. */
#define _GNU_SOURCE
#include "project.h"
#include "log.h"
#include "map.h"
#include "xalloc.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cache.h"
#include "cdb.h"
#include "parse.h"

/* ---- small helpers ---- */

char *file_identity(const char *path) {
  char real[PATH_MAX];
  if (realpath(path, real)) return xstrdup(real);
  return cdb_absolute_path(path, NULL);
}

static int64_t clock_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}




/* ---- snapshots of files ---- */

typedef struct snap {
  const char *path;       /* borrowed: the unit's deps, or the entry's file */
  int64_t mtime_ns, size;
  uint64_t ino, dev;
  bool missing;           /* stat failed */
  bool unsure;            /* modified while the unit was being parsed: treat as changed */
} snap;

static void snap_take(snap *s, const char *path) {
  struct stat st;
  memset(s, 0, sizeof *s);
  s->path = path;
  if (stat(path, &st) != 0) {
    s->missing = true;
    return;
  }
  s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  s->size = (int64_t)st.st_size;
  s->ino = (uint64_t)st.st_ino;
  s->dev = (uint64_t)st.st_dev;
}

static bool snap_same(const snap *was, const snap *now) {
  if (was->unsure) return false;
  if (was->missing || now->missing) return was->missing == now->missing;
  return was->mtime_ns == now->mtime_ns && was->size == now->size && was->ino == now->ino && was->dev == now->dev;
}

/* ---- the gate ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_inside;
static bool gate_closed;

static void gate_enter(void) {
  pthread_mutex_lock(&gate_mu);
  while (gate_closed) pthread_cond_wait(&gate_cv, &gate_mu);
  gate_inside++;
  pthread_mutex_unlock(&gate_mu);
}

static void gate_leave(void) {
  pthread_mutex_lock(&gate_mu);
  if (--gate_inside == 0) pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

void lowering_pause(void) {
  pthread_mutex_lock(&gate_mu);
  gate_closed = true;
  while (gate_inside > 0) pthread_cond_wait(&gate_cv, &gate_mu);
  pthread_mutex_unlock(&gate_mu);
}

void lowering_resume(void) {
  pthread_mutex_lock(&gate_mu);
  gate_closed = false;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

/* ---- entries, work and results ---- */

typedef struct entry {
  char *id;               /* file_identity(job.file) */
  gc_job job;
  gc_unit *disk;          /* lowered from disk (or a closed document's), or NULL */
  snap *snaps;            /* what disk's unit read, as it was; NULL: nothing known */
  int nsnaps;
  char *error;            /* why the last lowering failed, or NULL */
  unsigned seq, done;     /* the last work queued, and the last taken in */
  bool need;              /* must be lowered (again) */
  bool excluded;          /* by its .gilcheck.yml: never lowered, no unit */
  bool open;              /* open in the editor: open_unit stands in for disk */
  gc_unit *open_unit;     /* borrowed from the document; NULL when it does not parse */
} entry;

typedef struct work {
  struct work *next;
  char *id;
  unsigned seq;
  gc_job job;
} work;

typedef struct result {
  struct result *next;
  char *id;
  unsigned seq;
  gc_unit *unit;          /* NULL: failed */
  char *error;
  snap *snaps;            /* paths into unit's deps; NULL path: the entry's file */
  int nsnaps;
  bool cached;
} result;

struct lsp_project {
  char *dir, *json;
  char *error;
  bool loaded;
  snap json_snap;
  entry **v;
  int n;
  strmap by_id;           /* id -> entry */

  void (*wake)(void *);
  void *ctx;
  int nworkers;
  pthread_t *threads;
  int nthreads;
  bool threads_tried;
  pthread_mutex_t mu;     /* guards queue, inflight, results, stop */
  pthread_cond_t cv;
  work *queue, **tail;
  int inflight;
  result *results;
  bool stop;

  bool changed;           /* units taken in since the last idle collect */
  int lowered, cached;
  int64_t sched_ns, last_ns;
  double build_ms;
};

static void entry_free(entry *e) {
  free(e->id);
  cdb_job_clear(&e->job);
  unit_free(e->disk);
  free(e->snaps);
  free(e->error);
  free(e);
}

static void work_free(work *w) {
  free(w->id);
  cdb_job_clear(&w->job);
  free(w);
}

static void result_free(result *r) {
  free(r->id);
  unit_free(r->unit);
  free(r->error);
  free(r->snaps);
  free(r);
}

static entry *find(const lsp_project *P, const char *id) { return id ? strmap_get(&P->by_id, id) : NULL; }

/* Takes over JOBS (and frees the array): entries kept when their job is
 * unchanged, updated and marked for lowering when it changed, added, and
 * dropped when gone. */
static void set_entries(lsp_project *P, gc_job *jobs, int njobs) {
  strmap old = P->by_id;
  entry **oldv = P->v;
  int oldn = P->n;
  memset(&P->by_id, 0, sizeof P->by_id);
  P->v = xcalloc((size_t)njobs + 1, sizeof(entry *));
  P->n = 0;
  for (int i = 0; i < njobs; i++) {
    char *id = file_identity(jobs[i].file);
    if (strmap_get(&P->by_id, id)) {              /* the first entry of a file wins */
      log_verbose("%s: compiled more than once in %s; using its first entry", jobs[i].file, P->json);
      free(id);
      cdb_job_clear(&jobs[i]);
      continue;
    }
    entry *e = strmap_get(&old, id);
    if (e) {
      *strmap_at(&old, id) = NULL;                 /* kept */
      free(id);
      if (!cdb_job_equal(&e->job, &jobs[i])) {
        cdb_job_clear(&e->job);
        e->job = jobs[i];
        e->need = true;
        free(e->snaps);                          /* they may point at the old job's file */
        e->snaps = NULL;
        e->nsnaps = 0;
      } else {
        cdb_job_clear(&jobs[i]);
      }
    } else {
      e = xcalloc(1, sizeof *e);
      e->id = id;
      e->job = jobs[i];
      e->need = true;
    }
    *strmap_at(&P->by_id, e->id) = e;
    P->v[P->n++] = e;
  }
  free(jobs);
  for (int i = 0; i < oldn; i++)
    if (strmap_get(&old, oldv[i]->id) == oldv[i]) entry_free(oldv[i]);   /* gone from the database */
  free(oldv);
  strmap_free(&old);
}

/* Reads the database (again). Returns PROJECT_DB_* bits. */
static int load(lsp_project *P) {
  gc_job *jobs = NULL;
  int njobs = 0;
  char *err = NULL;
  snap_take(&P->json_snap, P->json);
  lowering_pause();                               /* cdb_load redirects standard error */
  int rc = cdb_load(P->dir, &jobs, &njobs, &err);
  lowering_resume();
  if (rc != 0) {
    free(P->error);
    P->error = err;
    log_verbose("%s", err);
    return PROJECT_DB_CHANGED | PROJECT_DB_FAILED;
  }
  free(P->error);
  P->error = NULL;
  P->loaded = true;
  set_entries(P, jobs, njobs);
  log_verbose("%s: %d C file%s", P->json, P->n, P->n == 1 ? "" : "s");
  return PROJECT_DB_CHANGED;
}

lsp_project *project_open(const char *dir, int nworkers, void (*wake)(void *), void *ctx) {
  lsp_project *P = xcalloc(1, sizeof *P);
  P->dir = xstrdup(dir);
  P->json = xasprintf("%s/compile_commands.json", strcmp(dir, "/") ? dir : "");
  P->wake = wake;
  P->ctx = ctx;
  P->nworkers = nworkers > 0 ? nworkers : 1;
  P->tail = &P->queue;
  pthread_mutex_init(&P->mu, NULL);
  pthread_cond_init(&P->cv, NULL);
  load(P);
  return P;
}

const char *project_dir(const lsp_project *P) { return P->dir; }
const char *project_error(const lsp_project *P) { return P->error; }
bool project_loaded(const lsp_project *P) { return P->loaded; }
int project_size(const lsp_project *P) { return P->n; }
const gc_job *project_job_at(const lsp_project *P, int i) { return &P->v[i]->job; }

void project_set_excluded(lsp_project *P, int i, bool excluded) {
  entry *e = P->v[i];
  if (e->excluded == excluded) return;
  e->excluded = excluded;
  if (excluded) {
    unit_free(e->disk);
    e->disk = NULL;
    free(e->snaps);
    e->snaps = NULL;
    e->nsnaps = 0;
  } else {
    e->need = true;
  }
}

const gc_job *project_job(const lsp_project *P, const char *id) {
  const entry *e = find(P, id);
  return e ? &e->job : NULL;
}

/* ---- the workers ---- */

/* A unit whose file was modified after this moment may not be what was
 * parsed (file systems stamp with a clock a few milliseconds behind). */
#define UNSURE_SLACK_NS 50000000LL

static result *lower_work(const work *w) {
  result *r = xcalloc(1, sizeof *r);
  r->id = xstrdup(w->id);
  r->seq = w->seq;
  gc_unit *u = xcalloc(1, sizeof *u);
  gc_findings errs = {0};
  int64_t start = clock_ns(CLOCK_REALTIME);
  gate_enter();
  cache_ticket t;
  int rc = 0;
  /* quietly: the editor's log would get a line per file of the database */
  r->cached = cache_lookup_said(&w->job, &u->A, &u->tu, &t, false);
  if (!r->cached) {
    rc = front_lower_job(&w->job, &u->A, &u->tu, &errs);
    if (rc == 0 && errs.n == 0) cache_store(&w->job, &u->tu, &t);
  }
  gate_leave();
  if (rc != 0) {
    const gc_finding *f = errs.n ? &errs.v[0] : NULL;
    if (f && f->loc.line)
      r->error = xasprintf("%s:%u:%u: %s", f->loc.file ? f->loc.file : w->job.file, f->loc.line, f->loc.col, f->msg);
    else
      r->error = xstrdup(f ? f->msg : "it could not be parsed");
    unit_free(u);
    u = NULL;
  }
  diag_free(&errs);
  r->unit = u;
  int64_t end = clock_ns(CLOCK_REALTIME);
  r->nsnaps = u ? u->tu.ndeps : 1;
  r->snaps = xcalloc((size_t)r->nsnaps + 1, sizeof(snap));
  for (int i = 0; i < r->nsnaps; i++) {
    snap_take(&r->snaps[i], u ? u->tu.deps[i] : w->job.file);
    if (!u) r->snaps[i].path = NULL;             /* the entry's own file, set when taken in */
    const snap *s = &r->snaps[i];
    if (!s->missing && s->mtime_ns >= start - UNSURE_SLACK_NS && s->mtime_ns <= end) r->snaps[i].unsure = true;
  }
  return r;
}

static void *worker_main(void *arg) {
  lsp_project *P = arg;
  pthread_mutex_lock(&P->mu);
  while (!P->stop) {
    work *w = P->queue;
    if (!w) {
      pthread_cond_wait(&P->cv, &P->mu);
      continue;
    }
    P->queue = w->next;
    if (!P->queue) P->tail = &P->queue;
    P->inflight++;
    pthread_mutex_unlock(&P->mu);
    result *r = lower_work(w);
    work_free(w);
    pthread_mutex_lock(&P->mu);
    P->inflight--;
    r->next = P->results;
    P->results = r;
    pthread_mutex_unlock(&P->mu);
    P->wake(P->ctx);
    pthread_mutex_lock(&P->mu);
  }
  pthread_mutex_unlock(&P->mu);
  return NULL;
}

static void start_workers(lsp_project *P) {
  if (P->threads_tried) return;
  P->threads_tried = true;
  P->threads = xcalloc((size_t)P->nworkers, sizeof(pthread_t));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* Lowering recurses once per nesting level of the code, as on the
   * command line (driver.c): the same stack, reserved, not touched. */
  pthread_attr_setstacksize(&attr, (size_t)512 << 20);
  for (int i = 0; i < P->nworkers; i++) {
    int e = pthread_create(&P->threads[P->nthreads], &attr, worker_main, P);
    if (e == 0) P->nthreads++;
    else log_info("cannot start a worker thread: %s", strerror(e));
  }
  pthread_attr_destroy(&attr);
  log_verbose("%s: %d worker thread%s", P->json, P->nthreads, P->nthreads == 1 ? "" : "s");
}

/* Without any worker thread, lower on the calling thread. */
static void drain_here(lsp_project *P) {
  for (;;) {
    pthread_mutex_lock(&P->mu);
    work *w = P->queue;
    if (w) {
      P->queue = w->next;
      if (!P->queue) P->tail = &P->queue;
    }
    pthread_mutex_unlock(&P->mu);
    if (!w) return;
    result *r = lower_work(w);
    work_free(w);
    pthread_mutex_lock(&P->mu);
    r->next = P->results;
    P->results = r;
    pthread_mutex_unlock(&P->mu);
    P->wake(P->ctx);
  }
}

void project_schedule(lsp_project *P) {
  pthread_mutex_lock(&P->mu);
  bool was_idle = !P->queue && P->inflight == 0 && !P->results;
  /* a queued item of an entry queued again would be thrown away: drop it */
  for (work **pw = &P->queue; *pw;) {
    entry *e = find(P, (*pw)->id);
    if (!e || e->excluded || (e->need && !e->open)) {
      work *w = *pw;
      *pw = w->next;
      work_free(w);
    } else {
      pw = &(*pw)->next;
    }
  }
  P->tail = &P->queue;
  while (*P->tail) P->tail = &(*P->tail)->next;
  int queued = 0;
  for (int i = 0; i < P->n; i++) {
    entry *e = P->v[i];
    if (!e->need || e->open || e->excluded) continue;
    work *w = xcalloc(1, sizeof *w);
    w->id = xstrdup(e->id);
    w->seq = ++e->seq;
    cdb_job_copy(&w->job, &e->job);
    *P->tail = w;
    P->tail = &w->next;
    e->need = false;
    queued++;
  }
  if (queued) pthread_cond_broadcast(&P->cv);
  pthread_mutex_unlock(&P->mu);
  if (!queued) return;
  if (was_idle) P->sched_ns = clock_ns(CLOCK_MONOTONIC);
  log_verbose("%s: lowering %d file%s in the background", P->json, queued, queued == 1 ? "" : "s");
  start_workers(P);
  if (P->nthreads == 0) drain_here(P);
}

bool project_busy(lsp_project *P) {
  pthread_mutex_lock(&P->mu);
  bool busy = P->queue || P->inflight > 0 || P->results;
  pthread_mutex_unlock(&P->mu);
  return busy;
}

static void take_in(lsp_project *P, result *r) {
  entry *e = find(P, r->id);
  if (!e || r->seq != e->seq || e->excluded) {    /* queued again since, gone, or excluded */
    result_free(r);
    return;
  }
  e->done = r->seq;
  unit_free(e->disk);
  e->disk = r->unit;
  r->unit = NULL;
  free(e->snaps);
  e->snaps = r->snaps;
  e->nsnaps = r->nsnaps;
  r->snaps = NULL;
  for (int i = 0; i < e->nsnaps; i++)
    if (!e->snaps[i].path) e->snaps[i].path = e->job.file;
  free(e->error);
  e->error = r->error;
  r->error = NULL;
  if (e->error) log_verbose("%s: not analysed (%s): calls into its functions are not followed", e->job.file, e->error);
  P->lowered++;
  P->cached += r->cached;
  P->changed = true;
  result_free(r);
}

bool project_collect(lsp_project *P) {
  pthread_mutex_lock(&P->mu);
  result *rs = P->results;
  P->results = NULL;
  pthread_mutex_unlock(&P->mu);
  if (!rs) return false;
  while (rs) {
    result *next = rs->next;
    take_in(P, rs);
    rs = next;
  }
  project_schedule(P);                            /* changed while it was being lowered */
  if (!P->changed || project_busy(P)) return false;
  P->changed = false;
  P->last_ns = clock_ns(CLOCK_MONOTONIC);
  P->build_ms = (double)(P->last_ns - P->sched_ns) / 1e6;
  return true;
}

int project_units(lsp_project *P, const char *id, const gc_unit ***out, int *missing) {
  const gc_unit **v = xcalloc((size_t)P->n + 1, sizeof *v);
  int n = 0, miss = 0;
  for (int i = 0; i < P->n; i++) {
    const entry *e = P->v[i];
    if (id && strcmp(e->id, id) == 0) continue;
    if (e->excluded) {
      miss++;
      continue;
    }
    const gc_unit *u = e->open ? e->open_unit : e->disk;
    if (u) v[n++] = u;
    else miss++;
  }
  *out = v;
  if (missing) *missing = miss;
  return n;
}

void project_set_open(lsp_project *P, const char *id, gc_unit *u, bool open) {
  entry *e = find(P, id);
  if (!e) {
    if (!open) unit_free(u);
    return;
  }
  if (open) {
    e->open = true;
    e->open_unit = u;
    return;
  }
  e->open = false;
  e->open_unit = NULL;
  if (u) {                     /* the document's last unit, until the file is lowered again */
    unit_free(e->disk);
    e->disk = u;
    free(e->snaps);
    e->snaps = NULL;
    e->nsnaps = 0;
    free(e->error);
    e->error = NULL;
  }
  e->need = true;
  project_schedule(P);
}

void project_relower_all(lsp_project *P) {
  for (int i = 0; i < P->n; i++) P->v[i]->need = true;
}

/* ---- polling ---- */

typedef struct poll_memo {
  strmap seen;            /* path -> snap (in the map's arena) */
} poll_memo;

static const snap *memo_stat(poll_memo *m, const char *path) {
  void **slot = strmap_at(&m->seen, path);
  if (!*slot) {
    snap *s = arena_alloc(&m->seen.A, sizeof *s);
    snap_take(s, path);
    *slot = s;
  }
  return *slot;
}

int project_poll(lsp_project *P, bool (*skip)(void *ctx, const char *path), void *ctx, int *looked) {
  int bits = 0;
  snap now;
  snap_take(&now, P->json);
  if (!snap_same(&P->json_snap, &now)) bits |= load(P);
  poll_memo m = {{0}};
  bool any = false;
  for (int i = 0; i < P->n; i++) {
    entry *e = P->v[i];
    if (e->open || e->need || e->excluded || !e->snaps || e->seq != e->done) continue;
    for (int k = 0; k < e->nsnaps; k++) {
      const snap *s = &e->snaps[k];
      if (skip && !s->unsure && skip(ctx, s->path)) continue;
      if (!snap_same(s, memo_stat(&m, s->path))) {
        log_verbose("%s changed: %s is lowered again", s->path, e->job.file);
        e->need = true;
        any = true;
        break;
      }
    }
  }
  *looked = (int)m.seen.n + 1;                    /* and the database */
  strmap_free(&m.seen);
  if (any) {
    bits |= PROJECT_FILES_CHANGED;
    for (int i = 0; i < P->n; i++)                /* a missing header may be there now */
      if (P->v[i]->error && !P->v[i]->open && P->v[i]->seq == P->v[i]->done) P->v[i]->need = true;
  }
  return bits;
}

/* ---- what the user is told ---- */

int project_failures(lsp_project *P, const char **file, const char **why) {
  int n = 0;
  *file = *why = NULL;
  for (int i = 0; i < P->n; i++) {
    const entry *e = P->v[i];
    if (e->open || e->excluded || !e->error) continue;
    if (!n) {
      *file = e->job.file;
      *why = e->error;
    }
    n++;
  }
  return n;
}

size_t project_memory(lsp_project *P) {
  size_t n = 0;
  for (int i = 0; i < P->n; i++)
    if (P->v[i]->disk) n += P->v[i]->disk->A.used_total;
  return n;
}

void project_stats(lsp_project *P, int *lowered, int *cached, double *build_ms) {
  *lowered = P->lowered;
  *cached = P->cached;
  *build_ms = P->build_ms;
}

/* ---- analysis ---- */

static bool is_doc_unit(void *ctx, const char *unit_path) { return unit_path && strcmp(unit_path, ctx) == 0; }

void project_analyze(const gc_unit *doc, const gc_unit *const *others, int nothers, const gc_program_opts *opts,
                     gc_findings *out) {
  gc_program *p = program_new(opts);
  for (int i = 0; i < nothers; i++) {
    arena lent = {0};                             /* an empty arena lends the unit */
    ir_tu tu = others[i]->tu;
    program_add_lowered(p, &lent, &tu);
  }
  arena lent = {0};
  ir_tu tu = doc->tu;
  program_add_lowered(p, &lent, &tu);
  program_analyze_filtered(p, is_doc_unit, (void *)doc->tu.path, out);
  program_free(p);
}

/* ---- the end ---- */

bool project_close(lsp_project *P, double seconds) {
  if (!P) return true;
  pthread_mutex_lock(&P->mu);
  P->stop = true;
  pthread_cond_broadcast(&P->cv);
  pthread_mutex_unlock(&P->mu);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  int64_t ns = until.tv_nsec + (int64_t)(seconds * 1e9);
  until.tv_sec += (time_t)(ns / 1000000000LL);
  until.tv_nsec = (long)(ns % 1000000000LL);
  while (P->nthreads > 0) {
    int e = pthread_timedjoin_np(P->threads[P->nthreads - 1], NULL, &until);
    if (e == ETIMEDOUT) {
      if (seconds > 0) log_info("%s: a worker is still parsing a file after %.0f s; not waiting for it", P->json, seconds);
      return false;
    }
    P->nthreads--;
  }
  free(P->threads);
  while (P->queue) {
    work *w = P->queue;
    P->queue = w->next;
    work_free(w);
  }
  while (P->results) {
    result *r = P->results;
    P->results = r->next;
    result_free(r);
  }
  for (int i = 0; i < P->n; i++) entry_free(P->v[i]);
  free(P->v);
  strmap_free(&P->by_id);
  pthread_mutex_destroy(&P->mu);
  pthread_cond_destroy(&P->cv);
  free(P->dir);
  free(P->json);
  free(P->error);
  free(P);
  return true;
}
