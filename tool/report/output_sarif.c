/* output_sarif.c: --format=sarif, SARIF 2.1.0 for GitHub code scanning and
 * other viewers.
 *
 * One run. invocations[0] says whether the run succeeded (executionSuccessful
 * false when the exit status is 2, with a toolExecutionNotification per
 * error). tool.driver lists every rule (rules.def, then the driver's own
 * clang-diagnostic-error, gilcheck-nolint, gilcheck-unused-suppression) with
 * its summary, help page and default level; a rule off by default has
 * defaultConfiguration.enabled false. Each result has ruleId, ruleIndex,
 * level, message, one location, the notes as relatedLocations and, when there
 * are notes, one codeFlow whose single threadFlow steps through the notes in
 * order and ends at the finding, so viewers show the path. Paths below the
 * current directory are relative URIs against %SRCROOT% (declared in
 * originalUriBaseIds as the current directory); others are file:// URIs.
 * partialFingerprints["gilcheck/v1"] is the baseline key's hash plus ":N"
 * for the N-th finding with that key, stable across line moves. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "baseline.h"
#include "xalloc.h"
#include "output.h"
#include "rules.h"

#ifndef GILCHECK_VERSION
#define GILCHECK_VERSION "unknown"
#endif

static const char *const extra_rules[] = {RULE_CLANG_ERROR, RULE_NOLINT, RULE_UNUSED_SUPPRESSION};
#define N_EXTRA ((int)(sizeof extra_rules / sizeof *extra_rules))

static const char *rule_at(int i) { return i < R_COUNT ? rule_table[i].id : extra_rules[i - R_COUNT]; }

static int rule_index(const char *rule) {
  for (int i = 0; i < R_COUNT + N_EXTRA; i++)
    if (strcmp(rule_at(i), rule) == 0) return i;
  return -1;
}

static const char *level_of(gc_severity s) {
  return s == GC_SEV_ERROR ? "error" : s == GC_SEV_NOTE ? "note" : "warning";
}


static json_t *text_message(const char *s) {
  json_t *m = json_object();
  json_object_set_new(m, "text", output_json_string(s));
  return m;
}

static json_t *artifact_location(const char *file) {
  json_t *a = json_object();
  if (file[0] == '/') {
    char *enc = output_uri_encode(file);
    size_t n = strlen(enc) + 8;
    char *uri = xmalloc(n);
    snprintf(uri, n, "file://%s", enc);
    json_object_set_new(a, "uri", json_string(uri));
    free(uri);
    free(enc);
  } else {
    char *enc = output_uri_encode(file);
    json_object_set_new(a, "uri", json_string(enc));
    json_object_set_new(a, "uriBaseId", json_string("%SRCROOT%"));
    free(enc);
  }
  return a;
}

/* {"physicalLocation": {...}} for a place, with an optional message. */
static json_t *location(const gc_loc *l, const char *msg) {
  json_t *loc = json_object();
  if (l->file && l->file[0]) {
    json_t *phys = json_object();
    json_object_set_new(phys, "artifactLocation", artifact_location(l->file));
    if (l->line) {
      json_t *region = json_object();
      json_object_set_new(region, "startLine", json_integer(l->line));
      json_object_set_new(region, "startColumn", json_integer(l->col ? l->col : 1));
      json_object_set_new(phys, "region", region);
    }
    json_object_set_new(loc, "physicalLocation", phys);
  }
  if (msg) json_object_set_new(loc, "message", text_message(msg));
  return loc;
}

static json_t *driver_rules(void) {
  json_t *rules = json_array();
  for (int i = 0; i < R_COUNT + N_EXTRA; i++) {
    const char *id = rule_at(i);
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(id));
    json_object_set_new(r, "shortDescription", text_message(output_rule_summary(id)));
    if (strcmp(id, RULE_CLANG_ERROR) != 0) {
      size_t n = strlen(DOCS_RULES_URI) + strlen(id) + 4;
      char *uri = xmalloc(n);
      snprintf(uri, n, "%s%s.md", DOCS_RULES_URI, id);
      json_object_set_new(r, "helpUri", json_string(uri));
      free(uri);
    }
    json_t *conf = json_object();
    json_object_set_new(conf, "level", json_string(strcmp(id, RULE_CLANG_ERROR) == 0 ? "error" : "warning"));
    if (i < R_COUNT && !rule_table[i].default_on) json_object_set_new(conf, "enabled", json_false());
    json_object_set_new(r, "defaultConfiguration", conf);
    json_array_append_new(rules, r);
  }
  return rules;
}

/* The N-th finding (in output order) with a given key hash: sort the hashes
 * with their positions, then count within runs. */
typedef struct fp_slot { uint64_t h; int i; } fp_slot;

static int cmp_slot(const void *pa, const void *pb) {
  const fp_slot *a = pa, *b = pb;
  if (a->h != b->h) return a->h < b->h ? -1 : 1;
  return a->i - b->i;
}

static int *occurrences(const gc_findings *fs) {
  fp_slot *s = xmalloc(sizeof *s * ((size_t)fs->n + 1));
  int *occ = xmalloc(sizeof *occ * ((size_t)fs->n + 1));
  for (int i = 0; i < fs->n; i++) s[i] = (fp_slot){baseline_key_hash(&fs->v[i]), i};
  if (fs->n > 1) qsort(s, (size_t)fs->n, sizeof *s, cmp_slot);
  for (int k = 0; k < fs->n; k++)
    occ[s[k].i] = (k > 0 && s[k - 1].h == s[k].h) ? occ[s[k - 1].i] + 1 : 1;
  free(s);
  return occ;
}

/* invocations[0]: whether gilcheck did its whole job (exit status 2 says it
 * did not), and what went wrong, so that a failed run never looks clean. */
static json_t *invocations(const output_run *run) {
  json_t *inv = json_object();
  bool ok = !run || !run->failed;
  json_object_set_new(inv, "executionSuccessful", json_boolean(ok));
  if (run) json_object_set_new(inv, "exitCode", json_integer(run->exit_status));
  if (run && run->nerrors) {
    json_t *notes = json_array();
    for (int i = 0; i < run->nerrors; i++) {
      json_t *n = json_object();
      json_object_set_new(n, "level", json_string("error"));
      json_object_set_new(n, "message", text_message(run->errors[i]));
      json_array_append_new(notes, n);
    }
    json_object_set_new(inv, "toolExecutionNotifications", notes);
  }
  json_t *arr = json_array();
  json_array_append_new(arr, inv);
  return arr;
}

int output_sarif(FILE *out, const gc_findings *fs, const output_run *how) {
  json_t *root = json_object();
  json_object_set_new(root, "$schema", json_string("https://json.schemastore.org/sarif-2.1.0.json"));
  json_object_set_new(root, "version", json_string("2.1.0"));
  json_t *run = json_object();

  json_t *drv = json_object();
  json_object_set_new(drv, "name", json_string("gilcheck"));
  json_object_set_new(drv, "version", json_string(GILCHECK_VERSION));
  json_object_set_new(drv, "semanticVersion", json_string(GILCHECK_VERSION));
  json_object_set_new(drv, "informationUri", json_string(GILCHECK_HOME_URI));
  json_object_set_new(drv, "rules", driver_rules());
  json_t *tool = json_object();
  json_object_set_new(tool, "driver", drv);
  json_object_set_new(run, "tool", tool);
  json_object_set_new(run, "invocations", invocations(how));

  /* %SRCROOT% is the current directory, as a file:// URI ending in '/'. */
  char *enc = output_uri_encode(path_cwd());
  size_t n = strlen(enc) + 10;
  char *root_uri = xmalloc(n);
  snprintf(root_uri, n, "file://%s%s", enc, strcmp(path_cwd(), "/") == 0 ? "" : "/");
  json_t *base = json_object(), *srcroot = json_object();
  json_object_set_new(srcroot, "uri", json_string(root_uri));
  json_object_set_new(base, "%SRCROOT%", srcroot);
  json_object_set_new(run, "originalUriBaseIds", base);
  free(root_uri);
  free(enc);

  int *occ = occurrences(fs);
  json_t *results = json_array();
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    json_t *res = json_object();
    json_object_set_new(res, "ruleId", json_string(f->rule));
    int ri = rule_index(f->rule);
    if (ri >= 0) json_object_set_new(res, "ruleIndex", json_integer(ri));
    json_object_set_new(res, "level", json_string(level_of(f->severity)));
    json_object_set_new(res, "message", text_message(f->msg));
    json_t *locs = json_array();
    if (f->loc.file && f->loc.file[0]) json_array_append_new(locs, location(&f->loc, NULL));
    json_object_set_new(res, "locations", locs);
    if (f->nnotes) {
      json_t *rel = json_array();
      json_t *steps = json_array();
      for (int k = 0; k < f->nnotes; k++) {
        json_t *l = location(&f->notes[k].loc, f->notes[k].msg);
        json_object_set_new(l, "id", json_integer(k));
        json_array_append_new(rel, l);
        json_t *step = json_object();
        json_object_set_new(step, "location", location(&f->notes[k].loc, f->notes[k].msg));
        json_object_set_new(step, "nestingLevel", json_integer(0));
        json_array_append_new(steps, step);
      }
      json_t *last = json_object();
      json_object_set_new(last, "location", location(&f->loc, f->msg));
      json_object_set_new(last, "nestingLevel", json_integer(0));
      json_object_set_new(last, "importance", json_string("essential"));
      json_array_append_new(steps, last);
      json_object_set_new(res, "relatedLocations", rel);
      json_t *tf = json_object();
      json_object_set_new(tf, "locations", steps);
      json_t *tfs = json_array();
      json_array_append_new(tfs, tf);
      json_t *cf = json_object();
      json_object_set_new(cf, "threadFlows", tfs);
      json_t *cfs = json_array();
      json_array_append_new(cfs, cf);
      json_object_set_new(res, "codeFlows", cfs);
    }
    char fp[40];
    snprintf(fp, sizeof fp, "%016llx:%d", (unsigned long long)baseline_key_hash(f), occ[i]);
    json_t *fps = json_object();
    json_object_set_new(fps, "gilcheck/v1", json_string(fp));
    json_object_set_new(res, "partialFingerprints", fps);
    json_array_append_new(results, res);
  }
  free(occ);
  json_object_set_new(run, "results", results);
  json_t *runs = json_array();
  json_array_append_new(runs, run);
  json_object_set_new(root, "runs", runs);
  int r = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', out);
  json_decref(root);
  return r == 0 ? 0 : -1;
}
