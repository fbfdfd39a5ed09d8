/* driver.c: a run of gilcheck from the command line (options.c reads the
 * options, units.c decides the translation units).
 *
 * The steps, in order: parse the options and check --checks; build the
 * units (with a compilation database, every C entry of it, the named files
 * or the whole database reported); drop the units .gilcheck.yml excludes,
 * before anything is parsed; keep this shard's reported units; give the
 * engine the union of the rules the reported files enable and the api facts
 * of every configuration; lower every unit on -j threads, cache first;
 * analyse the whole program and keep the findings of the reported units
 * (program_analyze_filtered), plus those in named headers through a unit
 * that includes them; filter them per file (its checks, exclusions and
 * severities), drop those a NOLINT comment or the baseline accounts for,
 * print the rest in the chosen format and, for text, the summary. Output
 * never depends on -j.
 *
 * Exit status: 2 when gilcheck could not do its whole job (a bad option or
 * configuration, --checks matching no rule, no rule on, an unreadable or
 * empty database, one with no file that includes Python.h, a missing file,
 * a reported file that does not parse); the rest of the run still goes on
 * and reports. Else 1 when a finding of --fail-on's severity or worse is
 * reported (0 with --exit-zero), else 0. A file of the database that is not
 * reported and does not parse only loses its summaries: -v names it and the
 * summary counts it. */
#define _GNU_SOURCE
#include "driver.h"
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "baseline.h"
#include "cache.h"
#include "cdb.h"
#include "config.h"
#include "explain.h"
#include "log.h"
#include "map.h"
#include "options.h"
#include "output.h"
#include "program.h"
#include "rules.h"
#include "suppress.h"
#include "units.h"
#include "verify.h"
#include "xalloc.h"

#ifndef GILCHECK_VERSION
#define GILCHECK_VERSION "unknown"
#endif

/* ---- errors of the run, kept for the report ---- */

static struct { char **v; int n; } run_errors;

static void keep_error(char *msg) {
  run_errors.v = xrealloc(run_errors.v, sizeof(char *) * (size_t)(run_errors.n + 1));
  run_errors.v[run_errors.n++] = msg;
}

void driver_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  log_error("%s", msg);
  keep_error(msg);
}

void driver_error_line(const char *line) {
  fprintf(stderr, "%s\n", line);
  keep_error(xstrdup0(line));
}

static void free_run_errors(void) {
  for (int i = 0; i < run_errors.n; i++) free(run_errors.v[i]);
  free(run_errors.v);
  run_errors.v = NULL;
  run_errors.n = 0;
}

/* ---- the run ---- */

typedef struct driver {
  options o;
  int status;                /* 2 once the tool failed somewhere */
  unit_set U;
  config_set *configs;
  struct { const gc_config *c; bool rules[R_COUNT]; } *rulesets;
  int nrulesets;
  bool *pass2;               /* per unit: analysed only for a named header */
} driver;

static void explain_job(const unit *u) {
  if (!log_is_verbose()) return;
  size_t len = 1;
  for (int i = 0; i < u->job.nargs; i++) len += strlen(u->job.args[i]) + 3;
  char *args = xmalloc(len);
  args[0] = 0;
  for (int i = 0; i < u->job.nargs; i++) {
    const char *a = u->job.args[i];
    bool q = strchr(a, ' ') != NULL;
    if (i) strcat(args, " ");
    if (q) strcat(args, "'");
    strcat(args, a);
    if (q) strcat(args, "'");
  }
  log_verbose("%s: %s: %s", u->shown, u->how, args[0] ? args : "(no flags)");
  free(args);
}

/* ---- configuration per file ---- */

static void config_error(driver *d, const char *err) {
  if (strstr(err, ": error: ")) {
    char *copy = xstrdup(err);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) driver_error_line(line);
    free(copy);
  } else {
    driver_error("%s", err);
  }
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

static bool rule_enabled_for(void *ctx, const char *file, const char *rule) {
  driver *d = ctx;
  int r = rule_by_id(rule);
  return r < 0 || rules_of(d, config_of(d, file))[r];
}

/* --checks globs that match no rule are errors, with a suggestion. */
static int check_checks(const char *checks) {
  bool scratch[R_COUNT] = {0};
  char *unmatched = NULL;
  checks_apply(scratch, checks, &unmatched);
  int bad = 0;
  for (char *g = unmatched; g && *g;) {
    char *comma = strchr(g, ',');
    if (comma) *comma = 0;
    char *msg = checks_unmatched_message(g);
    driver_error("--checks: %s", msg);
    free(msg);
    bad++;
    g = comma ? comma + 1 : NULL;
  }
  free(unmatched);
  return bad ? 2 : 0;
}

static int list_rules(driver *d) {
  const bool *on = rules_of(d, config_of(d, "_"));
  size_t w = 0;
  for (int r = 0; r < R_COUNT; r++)
    if (strlen(rule_table[r].id) > w) w = strlen(rule_table[r].id);
  for (int r = 0; r < R_COUNT; r++)
    printf("  %-*s  %-5s  %s\n", (int)w, rule_table[r].id, on[r] ? "[on]" : "[off]", rule_table[r].summary);
  return d->status;
}

/* ---- which units are reported ---- */

/* .gilcheck.yml's exclude: the unit is never parsed. */
static void apply_exclusions(driver *d, output_summary *sum) {
  unit_set *U = &d->U;
  for (int i = 0; i < U->n; i++) {
    unit *u = &U->v[i];
    const gc_config *c = config_of(d, u->job.file);
    if (!c || !config_excludes(c, u->job.file)) continue;
    u->excluded = true;
    if (u->report) {
      sum->excluded++;
      log_verbose("%s: excluded by %s; not analysed", u->shown, c->path);
    }
  }
  for (int h = 0; h < U->nhw; h++) {
    header_want *w = &U->hw[h];
    const gc_config *c = config_of(d, w->abs);
    if (!c || !config_excludes(c, w->abs)) continue;
    w->excluded = true;
    sum->excluded++;
    log_verbose("%s: excluded by %s; not analysed", w->shown, c->path);
  }
}

/* --shard I/N: the I-th slice of the reported files, in path order. */
static void apply_shard(driver *d, output_summary *sum) {
  options *o = &d->o;
  if (!o->shard_n) return;
  int index = 0, mine = 0;
  for (int i = 0; i < d->U.n; i++) {
    unit *u = &d->U.v[i];
    if (!u->report || u->excluded) continue;
    if (index % o->shard_n != o->shard_i - 1) u->report = false;
    else mine++;
    index++;
  }
  static char shard[32];
  snprintf(shard, sizeof shard, "%d/%d", o->shard_i, o->shard_n);
  sum->shard = shard;
  if (mine == 0 && index > 0) sum->shard_empty_of = index;
  log_verbose("shard %d/%d: %d of %d files", o->shard_i, o->shard_n, mine, index);
}

/* What -v says about the reported units, and the missing ones. */
static void say_units(driver *d, output_summary *sum) {
  unit_set *U = &d->U;
  for (int i = 0; i < U->n; i++) {
    unit *u = &U->v[i];
    if (u->excluded) continue;
    if (u->unusable) {
      if (u->report) {
        driver_error("'%s': %s", u->job.file, u->unusable);
        sum->failed++;
        d->status = 2;
      } else {
        log_verbose("summaries of '%s' are missing: %s", u->shown, u->unusable);
        sum->summaries_missing++;
      }
      continue;
    }
    if (!u->report) continue;
    explain_job(u);
    if (u->named > 1 || u->listed > 1)
      log_verbose("%s: named more than once; analysing it once, with its first flags", u->shown);
    if (log_is_verbose() && !d->o.config_file) {
      const gc_config *c = config_of(d, u->job.file);
      if (c) log_verbose("%s: configuration from %s", u->shown, c->path);
    }
  }
}

/* The rules the engine runs: those any reported file wants. */
static bool engine_rules(driver *d, bool rules[R_COUNT]) {
  memset(rules, 0, sizeof(bool) * R_COUNT);
  bool any_file = false;
  unit_set *U = &d->U;
  for (int i = 0; i < U->n; i++) {
    unit *u = &U->v[i];
    if (!u->report || u->excluded) continue;
    const bool *r = rules_of(d, config_of(d, u->job.file));
    for (int k = 0; k < R_COUNT; k++) rules[k] |= r[k];
    any_file = true;
  }
  for (int h = 0; h < U->nhw; h++) {
    if (U->hw[h].excluded) continue;
    const bool *r = rules_of(d, config_of(d, U->hw[h].abs));
    for (int k = 0; k < R_COUNT; k++) rules[k] |= r[k];
    any_file = true;
  }
  if (!any_file) {
    const bool *r = rules_of(d, config_of(d, NULL));
    memcpy(rules, r, sizeof(bool) * R_COUNT);
  }
  for (int k = 0; k < R_COUNT; k++)
    if (rules[k]) return true;
  return false;
}

static bool anything_to_report(driver *d) {
  for (int i = 0; i < d->U.n; i++)
    if (d->U.v[i].report && !d->U.v[i].excluded && !d->U.v[i].unusable) return true;
  for (int h = 0; h < d->U.nhw; h++)
    if (!d->U.hw[h].excluded) return true;
  return false;
}

static bool want_reported(void *ctx, const char *path) {
  unit *u = units_by_job_file(&((driver *)ctx)->U, path);
  return u && u->report;
}

static bool want_pass2(void *ctx, const char *path) {
  driver *d = ctx;
  unit *u = units_by_job_file(&d->U, path);
  return u && d->pass2[u - d->U.v];
}

/* Is the finding in one of the named headers analysed through an includer
 * that is not reported itself? */
static bool in_pass2_header(driver *d, const gc_finding *f) {
  if (!f->loc.file) return false;
  char *abs = cdb_absolute_path(f->loc.file, NULL);
  bool hit = false;
  for (int h = 0; h < d->U.nhw && !hit; h++) {
    header_want *w = &d->U.hw[h];
    if (w->excluded || w->includer < 0 || !d->pass2[w->includer]) continue;
    if (strcmp(abs, w->abs) == 0) hit = true;
    else {
      char *real = identity(abs);
      hit = strcmp(real, w->real) == 0;
      free(real);
    }
  }
  free(abs);
  return hit;
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
    driver_error("'%s': cannot write: %s", d->o.output, strerror(errno));
    d->status = 2;
  }
  return out;
}

/* --color: clang's colours when the text report goes to a terminal. */
static bool use_color(const options *o, FILE *out) {
  if (o->format != OUT_TEXT || !out || o->color == COLOR_NEVER) return false;
  if (o->color == COLOR_ALWAYS) return true;
  const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
  if (no_color && *no_color) return false;
  if (!term || !*term || strcmp(term, "dumb") == 0) return false;
  return isatty(fileno(out));
}

/* --dump-cfg: FUNCTION's graphs, or those of every function of the
 * reported units (each name once, in the order of the units). */
static void dump_cfg(driver *d, gc_program *prog, FILE *dump) {
  if (d->o.dump_function) {
    if (program_dump(prog, d->o.dump_function, dump) == 0) {
      driver_error("--dump-cfg: no function named '%s' in the files parsed", d->o.dump_function);
      d->status = 2;
    }
    return;
  }
  strmap done = {0};
  for (int i = 0; i < d->U.n; i++) {
    unit *u = &d->U.v[i];
    if (!u->report || !u->lowered) continue;
    for (int k = 0; k < u->nfuncs; k++) {
      void **slot = strmap_at(&done, u->funcs[k]);
      if (*slot) continue;
      *slot = u;
      program_dump(prog, u->funcs[k], dump);
    }
  }
  strmap_free(&done);
  fflush(dump);
}

/* ---- after lowering ---- */

/* What was analysed and what was not: the errors of the reported units
 * that did not parse go to ALL; the others only lose their summaries (-v
 * says which). Returns whether a reported unit did not parse. */
static bool take_lowering(driver *d, output_summary *sum, gc_findings *all) {
  bool parse_failed = false;
  for (int i = 0; i < d->U.n; i++) {
    unit *u = &d->U.v[i];
    if (!u->tried) continue;
    if (u->lowered) {
      sum->summary_units++;
      if (u->report) sum->analysed++;
      continue;
    }
    if (u->report) {
      parse_failed = true;
      sum->failed++;
      diag_move_all(all, &u->errs);
      keep_error(xasprintf("'%s' could not be analysed: it does not parse (see its clang-diagnostic-error results)",
                           u->shown));
      continue;
    }
    sum->summaries_missing++;
    const gc_finding *e = u->errs.n ? &u->errs.v[0] : NULL;
    if (e && e->loc.file && e->loc.line) {
      char *where = path_display(e->loc.file);
      log_verbose("summaries of '%s' are missing: it does not parse (%s:%u:%u: %s)", u->shown, where, e->loc.line,
                  e->loc.col, e->msg);
      free(where);
    } else {
      log_verbose("summaries of '%s' are missing: it does not parse%s%s", u->shown, e ? ": " : "", e ? e->msg : "");
    }
  }
  return parse_failed;
}

/* The named headers: each analysed through its includer, or skipped. An
 * includer that is not reported itself is analysed in a second pass. */
static void take_headers(driver *d, output_summary *sum) {
  d->pass2 = xcalloc((size_t)d->U.n + 1, sizeof(bool));
  for (int h = 0; h < d->U.nhw; h++) {
    header_want *w = &d->U.hw[h];
    if (w->excluded) continue;
    if (w->includer < 0) {
      sum->skipped_headers++;
      log_verbose("%s: no file parsed includes it; skipped", w->shown);
      continue;
    }
    unit *inc = &d->U.v[w->includer];
    log_verbose("%s: analysed through %s, which includes it", w->shown, inc->shown);
    sum->analysed++;
    if (!inc->report) d->pass2[w->includer] = true;
  }
}

/* Whole-program summaries, then the findings of the reported units and
 * those in the named headers analysed through another unit. */
static void analyse(driver *d, gc_program *prog, gc_findings *all) {
  bool any_report = false, any_pass2 = false;
  for (int i = 0; i < d->U.n; i++) {
    any_report |= d->U.v[i].report && d->U.v[i].lowered;
    any_pass2 |= d->pass2[i];
  }
  gc_findings found = {0};
  if (any_report) program_analyze_filtered(prog, want_reported, d, &found);
  diag_move_all(all, &found);
  if (!any_pass2) return;
  program_analyze_filtered(prog, want_pass2, d, &found);
  /* only the findings in those headers: the includers are not reported */
  int w = 0;
  for (int i = 0; i < found.n; i++) {
    if (in_pass2_header(d, &found.v[i])) found.v[w++] = found.v[i];
    else diag_free_one(&found.v[i]);
  }
  found.n = w;
  diag_move_all(all, &found);
}

/* A database in which no file includes Python.h is not the extension's
 * (only a build system's configure probes were recorded). */
static void check_database(driver *d) {
  if (!d->o.build_dir) return;
  int lowered = 0, python = 0, failed = 0;
  for (int i = 0; i < d->U.n; i++) {
    const unit *u = &d->U.v[i];
    if (!u->from_db || !u->tried) continue;
    if (u->lowered) lowered++, python += u->python;
    else failed++;
  }
  if (lowered == 0 || failed > 0 || python > 0) return;
  driver_error("%s: no file it lists includes Python.h (%d C file%s analysed): nothing to check (is it the "
               "extension's build? bear records only the files the build compiles: rebuild them all, e.g. "
               "'python3 setup.py build_ext --force')",
               d->U.database, lowered, lowered == 1 ? "" : "s");
  d->status = 2;
}

static void driver_free(driver *d) {
  units_free(&d->U);
  config_set_free(d->configs);
  free(d->rulesets);
  free(d->pass2);
  options_free(&d->o);
  source_cache_free();
  free_run_errors();
}

static bool is_blocking(const gc_findings *fs, gc_severity fail_on) {
  for (int i = 0; i < fs->n; i++)
    if (strcmp(fs->v[i].rule, RULE_CLANG_ERROR) != 0 && fs->v[i].severity >= fail_on) return true;
  return false;
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
  if (options_parse(o, argc, argv)) {
    driver_free(d);
    return 2;
  }
  if (o->help) {
    options_usage(stdout);
    driver_free(d);
    return 0;
  }
  if (o->version) {
    printf("gilcheck version %s\n%s\n", GILCHECK_VERSION, program_clang_version());
    driver_free(d);
    return 0;
  }
  if (o->explain) {
    int st = explain_rule(o->explain);
    driver_free(d);
    return st;
  }
  if (o->checks && check_checks(o->checks)) {
    driver_free(d);
    return 2;
  }
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

  /* The units, those excluded, this shard's. */
  output_summary sum = {0};
  d->U.want_funcs = o->dump_cfg && !o->dump_function;
  units_build(&d->U, o);
  if (d->U.status) d->status = 2;
  apply_exclusions(d, &sum);
  apply_shard(d, &sum);
  say_units(d, &sum);
  sum.failed += d->U.named_missing;

  /* The rules: those any reported file wants; none at all is a mistake. */
  gc_program_opts popts = {.verbose = log_is_verbose()};
  if (!engine_rules(d, popts.rules)) {
    if (o->checks) driver_error("no rule is on after --checks='%s': nothing would be reported", o->checks);
    else driver_error("no rule is on (see 'checks' in .gilcheck.yml and --list-rules): nothing would be reported");
    baseline_free(baseline);
    driver_free(d);
    return 2;
  }
  const gc_config **all_configs;
  int nconfigs = config_set_all(d->configs, &all_configs);
  for (int i = 0; i < nconfigs; i++) config_apply_api(all_configs[i]);
  /* the result cache (cache.c): after the api facts, which it fingerprints */
  if (!o->no_cache && d->U.n > 0) cache_enable(o->cache_dir, all_configs, nconfigs, log_is_verbose());

  FILE *out = o->verify || o->write_baseline ? NULL : open_output(d);
  if (!o->verify && !o->write_baseline && !out) {
    baseline_free(baseline);
    driver_free(d);
    return 2;
  }

  /* Parse and lower every unit on -j threads, cache first; nothing when
   * nothing is to be reported (every file named excluded, an empty shard). */
  gc_program *prog = program_new(&popts);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (anything_to_report(d))
    units_lower(&d->U, prog, o->jobs ? o->jobs : (cores > 0 ? (int)cores : 1),
                isatty(STDERR_FILENO) && !log_is_verbose());

  gc_findings all = {0};
  bool parse_failed = take_lowering(d, &sum, &all);
  take_headers(d, &sum);
  analyse(d, prog, &all);
  if (o->dump_cfg && sum.summary_units) dump_cfg(d, prog, out && o->format == OUT_TEXT ? out : stderr);
  program_free(prog);
  cache_disable();
  check_database(d);

  /* Filter: NOLINT comments, then each file's configuration, then the baseline. */
  show_paths(&all);
  for (int i = 0; i < all.n; i++)
    if (strcmp(all.v[i].rule, RULE_CLANG_ERROR) == 0) parse_failed = true;
  int nreported = 0;
  char **reported = xmalloc(sizeof(char *) * ((size_t)d->U.n + (size_t)d->U.nhw + 1));
  for (int i = 0; i < d->U.n; i++)
    if (d->U.v[i].report && d->U.v[i].tried) reported[nreported++] = d->U.v[i].shown;
  for (int h = 0; h < d->U.nhw; h++)
    if (!d->U.hw[h].excluded && d->U.hw[h].includer >= 0) reported[nreported++] = d->U.hw[h].shown;
  suppress_opts so = {o->report_unused, rule_enabled_for, d};
  suppress_apply(&all, reported, nreported, &so);
  filter_per_file(d, &all);
  diag_fill_snippets(&all);

  /* Nothing analysed, and not because the files were excluded, or the shard
   * or the headers named had nothing: the run did not do its job. */
  if (sum.analysed == 0 && sum.failed == 0 && sum.excluded == 0 && sum.skipped_headers == 0 && !sum.shard_empty_of &&
      !d->status) {
    driver_error("nothing was analysed");
    d->status = 2;
  }

  int status;
  if (o->write_baseline && !o->verify) {
    char *err = NULL;
    int n = baseline_write(o->write_baseline, &all, &err);
    if (n < 0) {
      driver_error("%s", err);
      free(err);
      d->status = 2;
    } else {
      sum.recorded = o->write_baseline;
    }
    status = d->status || parse_failed ? 2 : 0;
    output_write_summary(stderr, &sum, &all);
  } else if (o->verify) {
    if (baseline) baseline_filter(baseline, &all);
    int v = verify_findings(&all, reported, nreported, stderr);
    status = d->status ? 2 : v;
  } else {
    if (baseline) {
      sum.hidden = baseline_filter(baseline, &all);
      log_verbose("the baseline accounts for %d finding%s", sum.hidden, sum.hidden == 1 ? "" : "s");
    }
    bool failed = d->status || parse_failed;
    status = failed ? 2 : is_blocking(&all, o->fail_on) && !o->exit_zero ? 1 : 0;
    output_run run = {use_color(o, out), failed, status, run_errors.v, run_errors.n};
    if (output_write(out, o->format, &all, &run) != 0) {
      log_error("'%s': cannot write: %s", o->output ? o->output : "standard output", strerror(errno));
      status = 2;
    }
    if (o->format == OUT_TEXT) output_write_summary(stderr, &sum, &all);
  }
  if (out && out != stdout && fclose(out) != 0) {
    log_error("'%s': cannot write: %s", o->output, strerror(errno));
    status = 2;
  }
  free(reported);
  diag_free(&all);
  baseline_free(baseline);
  driver_free(d);
  return status;
}
