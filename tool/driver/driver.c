/* driver.c: the command line (see usage() for the forms and options).
 *
 * The steps, in order: parse the options; build one job per source file
 * (flags from -p BUILD_DIR, from the arguments after "--", from a
 * compile_commands.json found above the file, or else the Python include
 * directories); sort the jobs by path and keep this shard's; find each
 * file's .gilcheck.yml and give the engine the union of the rules they
 * enable and their api facts; parse and lower the files on -j threads;
 * analyse; then filter the findings per file (its checks, its exclusions,
 * its severities), drop those a NOLINT comment or the baseline accounts
 * for, and print the rest in the chosen format. Output never depends on -j.
 *
 * Exit status: 2 when the tool could not do its job for some input (a bad
 * option, an unreadable database or configuration, a missing file, a file
 * that does not parse); the rest of the run still goes on and reports. Else 1
 * when something is reported, else 0. */
#define _GNU_SOURCE
#include "driver.h"
#include "log.h"
#include "xalloc.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "baseline.h"
#include "cache.h"
#include "cdb.h"
#include "config.h"
#include "output.h"
#include "program.h"
#include "rules.h"
#include "suppress.h"
#include "verify.h"

#ifndef GILCHECK_VERSION
#define GILCHECK_VERSION "unknown"
#endif

/* ---- options ---- */

typedef struct options {
  char **files;
  int nfiles;
  char **extra;              /* after "--" */
  int nextra;
  bool dashdash;
  const char *build_dir;     /* -p */
  char *checks;              /* --checks, several joined with ',' */
  bool list_rules, version, help, verify, dump_cfg, report_unused;
  out_format format;
  const char *output;        /* -o */
  int jobs;                  /* -j */
  int shard_i, shard_n;      /* --shard I/N, 1-based I; N == 0: none */
  const char *config_file, *baseline, *write_baseline;
  const char *cache_dir;      /* --cache-dir */
  bool no_cache;             /* --no-cache */
} options;

static void usage(FILE *out) {
  fputs(
      "usage: gilcheck [options] FILE... [-- COMPILER-ARGS...]\n"
      "       gilcheck [options] -p BUILD_DIR [FILE...] [-- EXTRA-ARGS...]\n"
      "\n"
      "Finds GIL and thread-state mistakes in CPython extension C code.\n"
      "\n"
      "Where the compiler flags come from:\n"
      "  FILE... -- ARGS      analyse FILEs with ARGS (like clang-tidy)\n"
      "  -p BUILD_DIR         read BUILD_DIR/compile_commands.json and analyse every\n"
      "                       C entry, or only the FILEs named (by absolute path);\n"
      "                       ARGS after -- are added to every entry\n"
      "  FILE...              use the compile_commands.json found in FILE's directory,\n"
      "                       an ancestor, or an ancestor's build/ directory; without\n"
      "                       one, the include directories of the python3 on PATH\n"
      "\n"
      "Options:\n"
      "  --checks=GLOBS       enable or disable rules, left to right over the defaults:\n"
      "                       'name' or 'glob*' enables, '-name' disables, '-*' all\n"
      "  --list-rules         list the rules, on or off after --checks, and exit\n"
      "  --config-file=FILE   use FILE instead of the .gilcheck.yml found above each file\n"
      "  --format=FORMAT      text (default), json, sarif or github\n"
      "  -o FILE              write the report to FILE instead of standard output\n"
      "  -j N                 parse N files at once (default: the number of cores)\n"
      "  --shard=I/N          analyse only the I-th of N slices of the files (1-based)\n"
      "  --baseline=FILE      do not report the findings recorded in FILE\n"
      "  --write-baseline=FILE\n"
      "                       record today's findings in FILE instead of reporting them\n"
      "  --report-unused-suppressions\n"
      "                       report NOLINT comments naming a rule that suppress nothing\n"
      "  --verify             check findings against expected-* comments (for tests)\n"
      "  --dump-cfg           print the lowered control-flow graphs and GIL states\n"
      "  --cache-dir=DIR      keep the result cache in DIR (default: $GILCHECK_CACHE_DIR,\n"
      "                       else $XDG_CACHE_HOME/gilcheck, else ~/.cache/gilcheck)\n"
      "  --no-cache           parse every file; neither read nor write the cache\n"
      "  -v                   say which flags and configuration each file gets\n"
      "  --version            print gilcheck's and libclang's versions\n"
      "  --help               print this help\n"
      "\n"
      "Exit status: 0 nothing reported, 1 findings reported, 2 some input could not\n"
      "be analysed (bad option, unreadable database, missing file, parse error).\n",
      out);
}

enum { ARG_NONE, ARG_REQ };

typedef struct optdef {
  const char *name;          /* without leading dashes */
  int arg;
  int id;
} optdef;

enum {
  O_CHECKS, O_LIST_RULES, O_VERBOSE, O_VERSION, O_HELP, O_FORMAT, O_OUTPUT, O_JOBS, O_SHARD,
  O_CONFIG, O_BASELINE, O_WRITE_BASELINE, O_VERIFY, O_DUMP_CFG, O_UNUSED, O_BUILD_DIR,
  O_CACHE_DIR, O_NO_CACHE
};

static const optdef long_opts[] = {
    {"checks", ARG_REQ, O_CHECKS},
    {"list-rules", ARG_NONE, O_LIST_RULES},
    {"version", ARG_NONE, O_VERSION},
    {"help", ARG_NONE, O_HELP},
    {"format", ARG_REQ, O_FORMAT},
    {"jobs", ARG_REQ, O_JOBS},
    {"shard", ARG_REQ, O_SHARD},
    {"config-file", ARG_REQ, O_CONFIG},
    {"baseline", ARG_REQ, O_BASELINE},
    {"write-baseline", ARG_REQ, O_WRITE_BASELINE},
    {"verify", ARG_NONE, O_VERIFY},
    {"dump-cfg", ARG_NONE, O_DUMP_CFG},
    {"report-unused-suppressions", ARG_NONE, O_UNUSED},
    {"output", ARG_REQ, O_OUTPUT},
    {"verbose", ARG_NONE, O_VERBOSE},
    {"cache-dir", ARG_REQ, O_CACHE_DIR},
    {"no-cache", ARG_NONE, O_NO_CACHE},
    {NULL, 0, 0},
};

/* Short options: -v, -h; -p DIR, -j N, -o FILE (also -pDIR, -p=DIR). */
static const optdef short_opts[] = {
    {"v", ARG_NONE, O_VERBOSE}, {"h", ARG_NONE, O_HELP}, {"p", ARG_REQ, O_BUILD_DIR},
    {"j", ARG_REQ, O_JOBS},     {"o", ARG_REQ, O_OUTPUT}, {NULL, 0, 0},
};

static bool parse_positive(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < 1 || v > 100000) return false;
  *out = (int)v;
  return true;
}

/* Returns 0, or 2 after printing what is wrong. */
static int apply_option(options *o, int id, const char *spelled, const char *val) {
  switch (id) {
  case O_CHECKS: {
    char *old = o->checks;
    o->checks = old ? xasprintf("%s,%s", old, val) : xstrdup0(val);
    free(old);
    break;
  }
  case O_LIST_RULES: o->list_rules = true; break;
  case O_VERBOSE: log_set_verbose(true); break;
  case O_VERSION: o->version = true; break;
  case O_HELP: o->help = true; break;
  case O_FORMAT: {
    int f = output_format_by_name(val);
    if (f < 0) {
      log_error("unknown format '%s' for '%s' (text, json, sarif, github)", val, spelled);
      return 2;
    }
    o->format = (out_format)f;
    break;
  }
  case O_OUTPUT: o->output = val; break;
  case O_JOBS:
    if (!parse_positive(val, &o->jobs)) {
      log_error("'%s' needs a positive number, not '%s'", spelled, val);
      return 2;
    }
    break;
  case O_SHARD: {
    const char *slash = strchr(val, '/');
    char *i_part = slash ? xstrndup(val, (size_t)(slash - val)) : NULL;
    bool ok = slash && i_part && parse_positive(i_part, &o->shard_i) && parse_positive(slash + 1, &o->shard_n) &&
              o->shard_i <= o->shard_n;
    free(i_part);
    if (!ok) {
      log_error("'%s' needs I/N with 1 <= I <= N (e.g. 2/4), not '%s'", spelled, val);
      return 2;
    }
    break;
  }
  case O_CONFIG: o->config_file = val; break;
  case O_BASELINE: o->baseline = val; break;
  case O_WRITE_BASELINE: o->write_baseline = val; break;
  case O_VERIFY: o->verify = true; break;
  case O_DUMP_CFG: o->dump_cfg = true; break;
  case O_UNUSED: o->report_unused = true; break;
  case O_CACHE_DIR: o->cache_dir = val; break;
  case O_NO_CACHE: o->no_cache = true; break;
  case O_BUILD_DIR: {
    /* "build/" and "build" name the same database in messages. */
    char *v = (char *)val;                       /* an argv string: ours to trim */
    size_t n = strlen(v);
    while (n > 1 && v[n - 1] == '/') v[--n] = 0;
    o->build_dir = v;
    break;
  }
  }
  return 0;
}

static int parse_args(options *o, int argc, char **argv) {
  o->files = xmalloc(sizeof(char *) * (size_t)argc);
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      o->dashdash = true;
      o->extra = argv + i + 1;
      o->nextra = argc - i - 1;
      break;
    }
    if (a[0] != '-' || a[1] == 0) {
      o->files[o->nfiles++] = a;
      continue;
    }
    /* --name, --name=value, --name value; -name as clang-tidy users write it. */
    const char *body = a[1] == '-' ? a + 2 : a + 1;
    const char *eq = strchr(body, '=');
    size_t nlen = eq ? (size_t)(eq - body) : strlen(body);
    const optdef *d = NULL;
    for (int k = 0; long_opts[k].name; k++)
      if (strlen(long_opts[k].name) == nlen && strncmp(long_opts[k].name, body, nlen) == 0) d = &long_opts[k];
    const char *val = NULL;
    char spelled[64];
    if (d) {
      snprintf(spelled, sizeof spelled, "--%s", d->name);
      if (d->arg == ARG_NONE && eq) {
        log_error("option '%s' takes no value", spelled);
        return 2;
      }
      if (d->arg == ARG_REQ) val = eq ? eq + 1 : NULL;
    } else if (a[1] != '-') {
      for (int k = 0; short_opts[k].name; k++)
        if (a[1] == short_opts[k].name[0]) d = &short_opts[k];
      if (d && d->arg == ARG_NONE && a[2]) d = NULL;     /* "-vx" is nothing we know */
      if (d) {
        snprintf(spelled, sizeof spelled, "-%s", d->name);
        if (d->arg == ARG_REQ && a[2]) val = a[2] == '=' ? a + 3 : a + 2;
      }
    }
    if (!d) {
      log_error("unknown option '%s'", a);
      fputs("gilcheck: note: see 'gilcheck --help' for the options\n", stderr);
      return 2;
    }
    if (d->arg == ARG_REQ && !val) {
      if (i + 1 >= argc || strcmp(argv[i + 1], "--") == 0) {
        log_error("option '%s' needs a value", spelled);
        return 2;
      }
      val = argv[++i];
    }
    if (apply_option(o, d->id, spelled, val)) return 2;
  }
  return 0;
}

/* ---- jobs ---- */

typedef struct job_list {
  gc_job *v;
  int n, cap;
} job_list;

static gc_job *job_push(job_list *l) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->v = xrealloc(l->v, sizeof(gc_job) * (size_t)l->cap);
  }
  gc_job *j = &l->v[l->n++];
  memset(j, 0, sizeof *j);
  return j;
}

static char **copy_args(char *const *a, int n, char *const *extra, int nextra) {
  char **v = xmalloc(sizeof(char *) * (size_t)(n + nextra + 1));
  for (int i = 0; i < n; i++) v[i] = xstrdup0(a[i]);
  for (int i = 0; i < nextra; i++) v[n + i] = xstrdup0(extra[i]);
  v[n + nextra] = NULL;
  return v;
}

static char *join_args(char *const *a, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(a[i]) + 3;
  char *s = xmalloc(len);
  s[0] = 0;
  for (int i = 0; i < n; i++) {
    if (i) strcat(s, " ");
    bool q = strchr(a[i], ' ') != NULL;
    if (q) strcat(s, "'");
    strcat(s, a[i]);
    if (q) strcat(s, "'");
  }
  return s;
}

/* Is the named input a readable regular file? Says why not. */
static bool usable_file(const char *f) {
  struct stat st;
  if (stat(f, &st) != 0) { log_error("'%s': %s", f, strerror(errno)); return false; }
  if (S_ISDIR(st.st_mode)) { log_error("'%s': is a directory", f); return false; }
  if (!S_ISREG(st.st_mode)) { log_error("'%s': not a regular file", f); return false; }
  if (access(f, R_OK) != 0) { log_error("'%s': %s", f, strerror(errno)); return false; }
  return true;
}

/* The path used to tell whether two names are the same file. */
static char *identity(const char *path) {
  char real[PATH_MAX];
  if (realpath(path, real)) return xstrdup0(real);
  return cdb_absolute_path(path, NULL);
}

/* A loaded compile_commands.json, for files whose database was found by
 * walking up from them. */
typedef struct found_db {
  char *dir;
  gc_job *jobs;
  int njobs;
  char **ids;                /* identity() of each job's file */
  bool failed;
} found_db;

typedef struct driver {
  options o;
  int status;                /* 2 once the tool failed somewhere */
  job_list jobs;
  found_db *dbs;
  int ndbs;
  char **fallback;           /* Python include flags */
  int nfallback;
  bool fallback_tried;
  config_set *configs;
  struct { const gc_config *c; bool rules[R_COUNT]; } *rulesets;
  int nrulesets;
} driver;

static found_db *db_for_dir(driver *d, const char *dir) {
  for (int i = 0; i < d->ndbs; i++)
    if (strcmp(d->dbs[i].dir, dir) == 0) return &d->dbs[i];
  d->dbs = xrealloc(d->dbs, sizeof *d->dbs * (size_t)(d->ndbs + 1));
  found_db *db = &d->dbs[d->ndbs++];
  memset(db, 0, sizeof *db);
  db->dir = xstrdup0(dir);
  char *err = NULL;
  if (cdb_load(dir, &db->jobs, &db->njobs, &err) != 0) {
    char *shown = path_display(dir);
    log_warning("%s; ignoring the compilation database in %s", err, shown);
    free(shown);
    free(err);
    db->failed = true;
    return db;
  }
  db->ids = xmalloc(sizeof(char *) * (size_t)(db->njobs + 1));
  for (int i = 0; i < db->njobs; i++) db->ids[i] = identity(db->jobs[i].file);
  return db;
}

static void free_dbs(driver *d) {
  for (int i = 0; i < d->ndbs; i++) {
    found_db *db = &d->dbs[i];
    if (db->ids)
      for (int k = 0; k < db->njobs; k++) free(db->ids[k]);
    free(db->ids);
    cdb_free_jobs(db->jobs, db->njobs);
    free(db->dir);
  }
  free(d->dbs);
}

static void explain_job(const gc_job *j, const char *where) {
  if (!log_is_verbose()) return;
  char *args = join_args(j->args, j->nargs);
  char *shown = path_display(j->file);
  log_verbose("%s: %s: %s", shown, where, args[0] ? args : "(no flags)");
  free(shown);
  free(args);
}

/* Jobs from -p BUILD_DIR: every entry, or the named files. */
static void jobs_from_database(driver *d) {
  options *o = &d->o;
  gc_job *all;
  int nall;
  char *err = NULL;
  if (cdb_load(o->build_dir, &all, &nall, &err) != 0) {
    log_error("%s", err);
    free(err);
    d->status = 2;
    return;
  }
  char *where = xasprintf("flags from %s/compile_commands.json", o->build_dir);
  if (nall == 0) log_warning("%s/compile_commands.json has no C entries", o->build_dir);
  if (o->nfiles == 0) {
    for (int i = 0; i < nall; i++) {
      /* an entry whose file is gone is said to be gone, like a named file */
      if (!usable_file(all[i].file)) { d->status = 2; continue; }
      gc_job *j = job_push(&d->jobs);
      j->file = xstrdup0(all[i].file);
      j->dir = all[i].dir ? xstrdup0(all[i].dir) : NULL;
      j->args = copy_args(all[i].args, all[i].nargs, o->extra, o->nextra);
      j->nargs = all[i].nargs + o->nextra;
      explain_job(j, where);
    }
  } else {
    char **ids = xmalloc(sizeof(char *) * (size_t)(nall + 1));
    for (int i = 0; i < nall; i++) ids[i] = identity(all[i].file);
    for (int f = 0; f < o->nfiles; f++) {
      if (!usable_file(o->files[f])) { d->status = 2; continue; }
      char *id = identity(o->files[f]);
      int hit = -1;
      for (int i = 0; i < nall && hit < 0; i++)
        if (strcmp(ids[i], id) == 0) hit = i;
      free(id);
      if (hit < 0) {
        log_error("'%s': no C entry in %s/compile_commands.json", o->files[f], o->build_dir);
        d->status = 2;
        continue;
      }
      gc_job *j = job_push(&d->jobs);
      j->file = xstrdup0(all[hit].file);
      j->dir = all[hit].dir ? xstrdup0(all[hit].dir) : NULL;
      j->args = copy_args(all[hit].args, all[hit].nargs, o->extra, o->nextra);
      j->nargs = all[hit].nargs + o->nextra;
      explain_job(j, where);
    }
    for (int i = 0; i < nall; i++) free(ids[i]);
    free(ids);
  }
  free(where);
  cdb_free_jobs(all, nall);
}

static void ensure_fallback(driver *d) {
  if (d->fallback_tried) return;
  d->fallback_tried = true;
  char *explain = NULL;
  if (cdb_fallback_args(&d->fallback, &d->nfallback, &explain) != 0) {
    log_warning("%s; analysing without Python include flags (give them after '--', or use -p)", explain);
    d->fallback = NULL;
    d->nfallback = 0;
  } else {
    log_verbose("files without a compilation database get %s", explain);
  }
  free(explain);
}

/* Jobs for named files without -p. */
static void jobs_from_files(driver *d) {
  options *o = &d->o;
  for (int f = 0; f < o->nfiles; f++) {
    const char *file = o->files[f];
    if (!usable_file(file)) { d->status = 2; continue; }
    if (o->dashdash) {
      gc_job *j = job_push(&d->jobs);
      j->file = xstrdup0(file);
      j->args = copy_args(o->extra, o->nextra, NULL, 0);
      j->nargs = o->nextra;
      explain_job(j, "flags after '--'");
      continue;
    }
    char *dbdir = cdb_find_for_file(file);
    if (dbdir) {
      found_db *db = db_for_dir(d, dbdir);
      char *shown = path_display(dbdir);
      int hit = -1;
      if (!db->failed) {
        char *id = identity(file);
        for (int i = 0; i < db->njobs && hit < 0; i++)
          if (strcmp(db->ids[i], id) == 0) hit = i;
        free(id);
      }
      if (hit >= 0) {
        gc_job *j = job_push(&d->jobs);
        const gc_job *src = &db->jobs[hit];
        j->file = xstrdup0(src->file);
        j->dir = src->dir ? xstrdup0(src->dir) : NULL;
        j->args = copy_args(src->args, src->nargs, NULL, 0);
        j->nargs = src->nargs;
        char *where = xasprintf("flags from %s/compile_commands.json", shown);
        explain_job(j, where);
        free(where);
        free(shown);
        free(dbdir);
        continue;
      }
      if (!db->failed) log_verbose("%s: no entry in %s/compile_commands.json", file, shown);
      free(shown);
      free(dbdir);
    } else {
      log_verbose("%s: no compile_commands.json in its directory or above", file);
    }
    ensure_fallback(d);
    gc_job *j = job_push(&d->jobs);
    j->file = xstrdup0(file);
    j->args = copy_args(d->fallback, d->nfallback, NULL, 0);
    j->nargs = d->nfallback;
    explain_job(j, "Python include flags");
  }
}

static void free_job(gc_job *j) {
  free(j->file);
  free(j->dir);
  for (int k = 0; k < j->nargs; k++) free(j->args[k]);
  free(j->args);
}

typedef struct keyed_job { char *key; int pos; gc_job job; } keyed_job;

static int cmp_keyed(const void *pa, const void *pb) {
  const keyed_job *a = pa, *b = pb;
  int c = strcmp(a->key, b->key);
  return c ? c : a->pos - b->pos;
}

/* Sorts the jobs by shown path, drops repeated files (a database may
 * compile one file twice: the first entry wins), and keeps this shard's. */
static void sort_and_shard(driver *d) {
  int n = d->jobs.n;
  keyed_job *k = xmalloc(sizeof *k * (size_t)(n + 1));
  for (int i = 0; i < n; i++) k[i] = (keyed_job){path_display(d->jobs.v[i].file), i, d->jobs.v[i]};
  if (n > 1) qsort(k, (size_t)n, sizeof *k, cmp_keyed);
  int w = 0, index = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && strcmp(k[i].key, k[i - 1].key) == 0) {
      log_verbose("%s: named more than once; analysing it once, with its first flags", k[i].key);
      free_job(&k[i].job);
      continue;
    }
    bool mine = d->o.shard_n == 0 || index % d->o.shard_n == d->o.shard_i - 1;
    index++;
    if (mine) d->jobs.v[w++] = k[i].job;
    else free_job(&k[i].job);
  }
  for (int i = 0; i < n; i++) free(k[i].key);
  free(k);
  if (d->o.shard_n) log_verbose("shard %d/%d: %d of %d files", d->o.shard_i, d->o.shard_n, w, index);
  d->jobs.n = w;
}

/* ---- configuration per file ---- */

static void config_error(driver *d, const char *err) {
  if (strstr(err, ": error: ")) fprintf(stderr, "%s\n", err);
  else log_error("%s", err);
  d->status = 2;
}

static const gc_config *config_of(driver *d, const char *file) {
  char *err = NULL;
  const gc_config *c = config_for(d->configs, file ? file : "_", &err);
  if (err) { config_error(d, err); free(err); }
  return c;
}

static const bool *rules_of(driver *d, const gc_config *c) {
  for (int i = 0; i < d->nrulesets; i++)
    if (d->rulesets[i].c == c) return d->rulesets[i].rules;
  d->rulesets = xrealloc(d->rulesets, sizeof *d->rulesets * (size_t)(d->nrulesets + 1));
  d->rulesets[d->nrulesets].c = c;
  config_rules(c, d->o.checks, d->rulesets[d->nrulesets].rules);
  return d->rulesets[d->nrulesets++].rules;
}

/* Free threading: the rules on by default only where a module declares
 * free-threading support (rules.def's 2) that the configuration or --checks
 * turns on by name or glob report everywhere. */
static void rules_forced(driver *d, const gc_config *c, bool forced[R_COUNT]) {
  memset(forced, 0, sizeof(bool) * R_COUNT);
  if (c)
    for (int i = 0; i < c->checks.n; i++) checks_apply(forced, c->checks.v[i], NULL);
  checks_apply(forced, d->o.checks, NULL);
}

static bool rule_enabled_for(void *ctx, const char *file, const char *rule) {
  driver *d = ctx;
  int r = rule_by_id(rule);
  return r < 0 || rules_of(d, config_of(d, file))[r];
}

static void check_globs(const char *checks) {
  bool scratch[R_COUNT] = {0};
  char *unmatched = NULL;
  checks_apply(scratch, checks, &unmatched);
  if (unmatched) log_warning("--checks: '%s' matches no rule (see --list-rules)", unmatched);
  free(unmatched);
}

static int list_rules(driver *d) {
  const gc_config *c = config_of(d, "_");
  const bool *on = rules_of(d, c);
  bool forced[R_COUNT];
  rules_forced(d, c, forced);
  size_t w = 0;
  for (int r = 0; r < R_COUNT; r++)
    if (strlen(rule_table[r].id) > w) w = strlen(rule_table[r].id);
  for (int r = 0; r < R_COUNT; r++)
    printf("  %-*s  %-6s  %s\n", (int)w, rule_table[r].id,
           !on[r] ? "[off]" : rule_table[r].default_on == RULE_AUTO && !forced[r] ? "[auto]" : "[on]",
           rule_table[r].summary);
  return d->status;
}

/* ---- running the engine on a pool of threads ---- */

typedef struct pool {
  driver *d;
  gc_program *prog;
  char **shown;              /* each job's path as shown */
  gc_findings *errs;         /* per job, so that the order never depends on -j */
  int *rc;
  atomic_int next;
  pthread_mutex_t mu;
  bool progress;
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    int i = atomic_fetch_add(&p->next, 1);
    if (i >= p->d->jobs.n) break;
    if (p->progress) {
      pthread_mutex_lock(&p->mu);
      const char *s = p->shown[i];
      size_t len = strlen(s);
      fprintf(stderr, "\r\033[K[%d/%d] %s%s", i + 1, p->d->jobs.n, len > 60 ? "..." : "",
              len > 60 ? s + len - 57 : s);
      fflush(stderr);
      pthread_mutex_unlock(&p->mu);
    }
    p->rc[i] = program_add_tu(p->prog, &p->d->jobs.v[i], &p->errs[i]);
  }
  return NULL;
}

static void run_pool(pool *p, int nthreads) {
  int n = p->d->jobs.n;
  if (nthreads > n) nthreads = n;
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
    started[i] = pthread_create(&t[i], &attr, worker, p) == 0;
    running += started[i];
  }
  pthread_attr_destroy(&attr);
  if (running == 0) worker(p);                      /* no threads: do it here */
  for (int i = 0; i < nthreads; i++)
    if (started[i]) pthread_join(t[i], NULL);
  free(started);
  free(t);
  if (p->progress) { fputs("\r\033[K", stderr); fflush(stderr); }
}

/* ---- after the analysis ---- */

static void replace_path(const char **slot) {
  if (!*slot) return;
  char *shown = path_display(*slot);
  free((char *)*slot);
  *slot = shown;
}

static void show_paths(gc_findings *fs) {
  for (int i = 0; i < fs->n; i++) {
    replace_path(&fs->v[i].loc.file);
    for (int k = 0; k < fs->v[i].nnotes; k++) replace_path(&fs->v[i].notes[k].loc.file);
  }
}

/* Each file's checks, exclusions and severities. Parse errors always stay. */
static void filter_per_file(driver *d, gc_findings *fs) {
  int w = 0;
  for (int i = 0; i < fs->n; i++) {
    gc_finding *f = &fs->v[i];
    bool keep = true;
    if (strcmp(f->rule, RULE_CLANG_ERROR) != 0) {
      const gc_config *c = config_of(d, f->loc.file);
      int r = rule_by_id(f->rule);
      if (r >= 0 && !rules_of(d, c)[r]) keep = false;
      else if (f->loc.file && config_excludes(c, f->loc.file)) keep = false;
      else f->severity = config_severity(c, f->rule, f->severity);
    }
    if (keep) fs->v[w++] = *f;
    else diag_free_one(f);
  }
  fs->n = w;
}

static FILE *open_output(driver *d) {
  if (!d->o.output || strcmp(d->o.output, "-") == 0) return stdout;
  FILE *out = fopen(d->o.output, "w");
  if (!out) {
    log_error("'%s': cannot write: %s", d->o.output, strerror(errno));
    d->status = 2;
  }
  return out;
}

static void driver_free(driver *d) {
  for (int i = 0; i < d->jobs.n; i++) free_job(&d->jobs.v[i]);
  free(d->jobs.v);
  free_dbs(d);
  for (int i = 0; i < d->nfallback; i++) free(d->fallback[i]);
  free(d->fallback);
  config_set_free(d->configs);
  free(d->rulesets);
  free(d->o.files);
  free(d->o.checks);
  source_cache_free();
}

int driver_main(int argc, char **argv) {
  driver D = {0};
  driver *d = &D;
  options *o = &d->o;
  path_cwd();                                   /* cached before any thread starts */
  /* Parse on the worker threads, whose stacks are large, instead of
   * libclang's own 8 MB thread: deeply nested code overflows that. Crash
   * recovery still turns a libclang crash into an error for that file. */
  setenv("LIBCLANG_NOTHREADS", "1", 0);
  if (parse_args(o, argc, argv)) {
    driver_free(d);
    return 2;
  }
  if (o->help) {
    usage(stdout);
    driver_free(d);
    return 0;
  }
  if (o->version) {
    printf("gilcheck version %s\n%s\n", GILCHECK_VERSION, program_clang_version());
    driver_free(d);
    return 0;
  }
  if (o->checks) check_globs(o->checks);
  d->configs = config_set_new(o->config_file);
  if (o->config_file) {
    config_of(d, NULL);                          /* a bad --config-file is like a bad option */
    if (d->status) { driver_free(d); return 2; }
    log_verbose("configuration from %s", o->config_file);
  }
  if (o->list_rules) {
    int st = list_rules(d);
    driver_free(d);
    return st;
  }
  if (o->nfiles == 0 && !o->build_dir) {
    log_error("no input files (give FILE... or -p BUILD_DIR)");
    fputs("gilcheck: note: see 'gilcheck --help' for the options\n", stderr);
    driver_free(d);
    return 2;
  }
  if (o->verify && o->write_baseline) log_warning("--write-baseline is ignored with --verify");
  else if (o->baseline && o->write_baseline)
    log_warning("--baseline is ignored with --write-baseline, which records every finding");

  /* A bad baseline is like a bad option: say so before the long part. */
  gc_baseline *baseline = NULL;
  if (o->baseline && (!o->write_baseline || o->verify)) {
    char *err = NULL;
    baseline = baseline_load(o->baseline, &err);
    if (!baseline) {
      log_error("%s", err);
      free(err);
      driver_free(d);
      return 2;
    }
  }

  /* Jobs. */
  if (o->build_dir) jobs_from_database(d);
  else jobs_from_files(d);
  sort_and_shard(d);

  /* Configuration: the rules the engine must run are those any file wants. */
  gc_program_opts popts = {.verbose = log_is_verbose()};
  if (d->jobs.n == 0) {
    const bool *r = rules_of(d, NULL);
    memcpy(popts.rules, r, sizeof popts.rules);
  }
  char **shown = xmalloc(sizeof(char *) * (size_t)(d->jobs.n + 1));
  for (int i = 0; i < d->jobs.n; i++) {
    shown[i] = path_display(d->jobs.v[i].file);
    const gc_config *c = config_of(d, d->jobs.v[i].file);
    if (c && log_is_verbose() && !o->config_file) log_verbose("%s: configuration from %s", shown[i], c->path);
    const bool *r = rules_of(d, c);
    for (int k = 0; k < R_COUNT; k++) popts.rules[k] |= r[k];
    bool forced[R_COUNT];   /* free threading: asked for everywhere */
    rules_forced(d, c, forced);
    for (int k = 0; k < R_COUNT; k++) popts.rules_everywhere[k] |= forced[k] && r[k];
  }
  const gc_config **all_configs;
  int nconfigs = config_set_all(d->configs, &all_configs);
  for (int i = 0; i < nconfigs; i++) config_apply_api(all_configs[i]);
  /* the result cache (cache.c): after the api facts, which it fingerprints */
  if (!o->no_cache && d->jobs.n > 0) cache_enable(o->cache_dir, all_configs, nconfigs, log_is_verbose());

  FILE *out = o->verify || o->write_baseline ? NULL : open_output(d);
  if (!o->verify && !o->write_baseline && !out) {
    baseline_free(baseline);
    for (int i = 0; i < d->jobs.n; i++) free(shown[i]);
    free(shown);
    driver_free(d);
    return 2;
  }

  /* Parse and lower on -j threads, then analyse. */
  gc_program *prog = program_new(&popts);
  pool p = {.d = d, .prog = prog, .shown = shown};
  p.errs = xcalloc((size_t)d->jobs.n + 1, sizeof(gc_findings));
  p.rc = xcalloc((size_t)d->jobs.n + 1, sizeof(int));
  atomic_init(&p.next, 0);
  pthread_mutex_init(&p.mu, NULL);
  p.progress = isatty(STDERR_FILENO) && !log_is_verbose() && d->jobs.n > 1;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  run_pool(&p, o->jobs ? o->jobs : (cores > 0 ? (int)cores : 1));
  pthread_mutex_destroy(&p.mu);

  gc_findings all = {0};
  bool parse_failed = false, lowered = false;
  for (int i = 0; i < d->jobs.n; i++) {
    if (p.rc[i] != 0) parse_failed = true;
    else lowered = true;
    diag_move_all(&all, &p.errs[i]);
  }
  free(p.errs);
  free(p.rc);
  gc_findings found = {0};
  if (lowered) program_analyze(prog, &found);    /* nothing to analyse otherwise */
  diag_move_all(&all, &found);
  if (o->dump_cfg && lowered) {
    FILE *dump = out && o->format == OUT_TEXT ? out : stderr;
    program_dump(prog, NULL, dump);
    fflush(dump);
  }
  program_free(prog);
  cache_disable();

  /* Filter: NOLINT comments, then each file's configuration, then the baseline. */
  show_paths(&all);
  for (int i = 0; i < all.n; i++)
    if (strcmp(all.v[i].rule, RULE_CLANG_ERROR) == 0) parse_failed = true;
  suppress_opts so = {o->report_unused, rule_enabled_for, d};
  suppress_apply(&all, shown, d->jobs.n, &so);
  filter_per_file(d, &all);
  diag_fill_snippets(&all);

  int status;
  if (o->write_baseline && !o->verify) {
    char *err = NULL;
    int n = baseline_write(o->write_baseline, &all, &err);
    if (n < 0) {
      log_error("%s", err);
      free(err);
      d->status = 2;
    } else {
      log_info("recorded %d finding%s in %s", n, n == 1 ? "" : "s", o->write_baseline);
    }
    status = d->status || parse_failed ? 2 : 0;
  } else {
    if (baseline) {
      int before = all.n;
      baseline_filter(baseline, &all);
      log_verbose("the baseline accounts for %d finding%s", before - all.n, before - all.n == 1 ? "" : "s");
    }
    if (o->verify) {
      int v = verify_findings(&all, shown, d->jobs.n, stderr);
      status = d->status ? 2 : v;
    } else {
      if (output_write(out, o->format, &all) != 0) {
        log_error("'%s': cannot write: %s", o->output ? o->output : "standard output", strerror(errno));
        d->status = 2;
      }
      status = d->status || parse_failed ? 2 : all.n > 0 ? 1 : 0;
    }
  }
  if (out && out != stdout && fclose(out) != 0) {
    log_error("'%s': cannot write: %s", o->output, strerror(errno));
    status = 2;
  }
  diag_free(&all);
  baseline_free(baseline);
  for (int i = 0; i < d->jobs.n; i++) free(shown[i]);
  free(shown);
  driver_free(d);
  return status;
}
