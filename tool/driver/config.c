/* config.c: .gilcheck.yml, read with libyaml's document loader.
 *
 * The file is found by walking up from each analysed file's directory (the
 * first found wins), or given with --config-file. Keys (all optional):
 *
 *   checks: "-*,api-without-gil"    # --checks syntax: a string, or a list
 *   checks: ["-blocking-with-gil"]  #   of globs; applied over the defaults,
 *                                   #   before the command line's --checks
 *   severity:                       # rule id -> warning | error
 *     api-without-gil: error
 *   exclude:                        # fnmatch globs ('*' also matches '/'),
 *     - "third_party"               #   matched against the path relative to
 *     - "*_generated.c"             #   this file's directory and against the
 *                                   #   absolute path, or any leading
 *                                   #   directory of them ("third_party"
 *                                   #   excludes everything below it).
 *                                   #   Excluded files are analysed (their
 *                                   #   summaries still count) but not
 *                                   #   reported.
 *   api:                            # the project's own API, by function name
 *     needs-gil: [my_wrapper]       #   must be called holding the GIL
 *     no-gil: [my_pure_helper]      #   may be called without it
 *     releases: [my_release]        #   releases the GIL (needs it at entry)
 *     acquires: [my_acquire]        #   takes the GIL back
 *     blocking: [my_blocking_read]  #   may block: see blocking-with-gil
 *     callback-without-gil:         #   calls its argument 'arg' (0-based)
 *       - {name: run_later, arg: 1} #   back without the GIL
 *
 * An unknown key, a value of the wrong type, an unknown rule id in
 * 'severity' or an unknown severity is an error ("path:line:col: error:
 * ..."), with a suggestion when the rule id is nearly a known one; a glob
 * in 'checks' that matches no rule is a warning (with a suggestion too). 'api' facts of
 * every configuration loaded are given to the engine, whichever file they were
 * found for. */
#define _GNU_SOURCE
#include "config.h"
#include "log.h"
#include "xalloc.h"
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "api.h"
#include "cdb.h"
#include "output.h"



static void list_push(gc_name_list *l, const char *s) {
  l->v = xrealloc(l->v, sizeof(char *) * (size_t)(l->n + 1));
  l->v[l->n++] = xstrdup(s);
}

static void list_free(gc_name_list *l) {
  for (int i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
}

/* ---- --checks syntax ---- */

static void append_unmatched(char **u, const char *g, size_t n) {
  char *old = *u;
  *u = old ? xasprintf("%s,%.*s", old, (int)n, g) : xasprintf("%.*s", (int)n, g);
  free(old);
}

void checks_apply(bool rules[R_COUNT], const char *globs, char **unmatched) {
  if (unmatched) *unmatched = NULL;
  if (!globs) return;
  const char *p = globs;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != ',') e++;
    const char *t = e;
    while (t > p && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\n')) t--;
    bool on = true;
    const char *g = p;
    if (*g == '-') { on = false; g++; }
    char *glob = xstrndup(g, (size_t)(t - g));
    bool any = false;
    for (int r = 0; r < R_COUNT; r++)
      if (fnmatch(glob, rule_table[r].id, 0) == 0) { rules[r] = on; any = true; }
    if (!any && unmatched) append_unmatched(unmatched, p, (size_t)(t - p));
    free(glob);
    p = e;
  }
}

void config_rules(const gc_config *c, const char *cmdline_checks, bool rules[R_COUNT]) {
  for (int r = 0; r < R_COUNT; r++) rules[r] = rule_table[r].default_on;
  if (c)
    for (int i = 0; i < c->checks.n; i++) checks_apply(rules, c->checks.v[i], NULL);
  checks_apply(rules, cmdline_checks, NULL);
}

/* ---- reading the file ---- */

typedef struct loader {
  const char *path;
  yaml_document_t *doc;
  char *errs;               /* accumulated "path:l:c: error: ..." lines */
  gc_config *c;
} loader;

static void problem(loader *L, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(loader *L, const yaml_node_t *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  char *line = xasprintf("%s:%zu:%zu: error: %s", L->path, n ? n->start_mark.line + 1 : 1,
                         n ? n->start_mark.column + 1 : 1, msg);
  free(msg);
  char *old = L->errs;
  L->errs = old ? xasprintf("%s\n%s", old, line) : xstrdup(line);
  free(old);
  free(line);
}

static yaml_node_t *node(loader *L, int i) { return yaml_document_get_node(L->doc, i); }

static const char *scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A plain empty, "~" or "null" scalar: the key is there with no value. */
static bool is_null(const yaml_node_t *n) {
  const char *s = scalar(n);
  return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static bool string_list(loader *L, const yaml_node_t *n, const char *what, gc_name_list *out) {
  if (is_null(n)) return true;
  if (!n || n->type != YAML_SEQUENCE_NODE) {
    problem(L, n, "'%s' must be a list of strings", what);
    return false;
  }
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
    yaml_node_t *item = node(L, *it);
    if (!scalar(item)) { problem(L, item, "'%s' must be a list of strings", what); return false; }
    list_push(out, scalar(item));
  }
  return true;
}

static const char *const top_keys[] = {"checks", "severity", "exclude", "api", NULL};
static const char *const api_keys[] = {"needs-gil", "no-gil", "releases", "acquires", "blocking",
                                       "callback-without-gil", NULL};

/* "Checks", "needs_gil", "NEEDS-GIL" for "checks", "needs-gil". */
static bool same_but_spelling(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = (char)tolower((unsigned char)*a), y = *b;
    if (x == '_') x = '-';
    if (x != y) return false;
  }
  return !*a && !*b;
}

static void unknown_key(loader *L, const yaml_node_t *k, const char *key, const char *const *known,
                        const char *where) {
  for (int i = 0; known[i]; i++)
    if (same_but_spelling(key, known[i])) {
      problem(L, k, "unknown key '%s'%s; did you mean '%s'?", key, where, known[i]);
      return;
    }
  char list[256] = "";
  for (int i = 0; known[i]; i++) {
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, known[i], sizeof list - strlen(list) - 1);
  }
  problem(L, k, "unknown key '%s'%s (known keys: %s)", key, where, list);
}

/* Is there an earlier key spelled the same in this mapping? */
static bool duplicate_key(loader *L, const yaml_node_t *map, yaml_node_pair_t *upto, const char *key) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
    const char *k = scalar(node(L, p->key));
    if (k && strcmp(k, key) == 0) return true;
  }
  return false;
}

char *checks_unmatched_message(const char *glob) {
  const char *name = glob[0] == '-' ? glob + 1 : glob;
  const char *near = output_rule_suggestion(name, false);
  if (near) return xasprintf("'%s' matches no rule; did you mean '%s%s'?", glob, glob[0] == '-' ? "-" : "", near);
  return xasprintf("'%s' matches no rule (see --list-rules)", glob);
}

static void check_globs_match(loader *L, const yaml_node_t *n, const char *globs) {
  bool scratch[R_COUNT] = {0};
  char *unmatched = NULL;
  checks_apply(scratch, globs, &unmatched);
  for (char *g = unmatched; g && *g;) {
    char *comma = strchr(g, ',');
    if (comma) *comma = 0;
    char *msg = checks_unmatched_message(g);
    log_at(L->path, (unsigned)n->start_mark.line + 1, (unsigned)n->start_mark.column + 1, "warning", "in 'checks': %s",
           msg);
    free(msg);
    g = comma ? comma + 1 : NULL;
  }
  free(unmatched);
}

static void read_checks(loader *L, yaml_node_t *v) {
  if (is_null(v)) return;
  if (scalar(v)) {
    list_push(&L->c->checks, scalar(v));
    check_globs_match(L, v, scalar(v));
    return;
  }
  if (v->type == YAML_SEQUENCE_NODE) {
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
      yaml_node_t *item = node(L, *it);
      if (!scalar(item)) { problem(L, item, "'checks' must be a string or a list of strings"); return; }
      list_push(&L->c->checks, scalar(item));
      check_globs_match(L, item, scalar(item));
    }
    return;
  }
  problem(L, v, "'checks' must be a string or a list of strings");
}

static bool known_rule(const char *id) {
  return rule_by_id(id) >= 0 || strcmp(id, RULE_NOLINT) == 0 || strcmp(id, RULE_UNUSED_SUPPRESSION) == 0;
}

static void read_severity(loader *L, yaml_node_t *v) {
  if (is_null(v)) return;
  if (v->type != YAML_MAPPING_NODE) {
    problem(L, v, "'severity' must be a map from rule id to 'warning' or 'error'");
    return;
  }
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(L, p->key), *val = node(L, p->value);
    const char *rule = scalar(k), *sev = scalar(val);
    if (!rule) { problem(L, k, "'severity' must be a map from rule id to 'warning' or 'error'"); continue; }
    if (!known_rule(rule)) {
      const char *near = output_rule_suggestion(rule, true);
      if (near) problem(L, k, "unknown rule '%s' in 'severity'; did you mean '%s'?", rule, near);
      else problem(L, k, "unknown rule '%s' in 'severity' (see --list-rules)", rule);
      continue;
    }
    gc_severity s;
    if (sev && strcmp(sev, "warning") == 0) s = GC_SEV_WARNING;
    else if (sev && strcmp(sev, "error") == 0) s = GC_SEV_ERROR;
    else { problem(L, val, "severity of '%s' must be 'warning' or 'error'", rule); continue; }
    gc_config *c = L->c;
    c->severity = xrealloc(c->severity, sizeof *c->severity * (size_t)(c->nseverity + 1));
    c->severity[c->nseverity++] = (gc_severity_override){xstrdup(rule), s};
  }
}

static void read_callbacks(loader *L, yaml_node_t *v) {
  if (is_null(v)) return;
  const char *shape = "'callback-without-gil' must be a list of {name: function, arg: N}";
  if (v->type != YAML_SEQUENCE_NODE) { problem(L, v, "%s", shape); return; }
  for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
    yaml_node_t *m = node(L, *it);
    if (!m || m->type != YAML_MAPPING_NODE) { problem(L, m, "%s", shape); continue; }
    const char *name = NULL;
    long arg = -1;
    bool ok = true;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
      yaml_node_t *k = node(L, p->key), *val = node(L, p->value);
      const char *key = scalar(k);
      if (key && strcmp(key, "name") == 0) {
        if (!scalar(val) || !*scalar(val)) { problem(L, val, "'name' must be a function name"); ok = false; }
        else name = scalar(val);
      } else if (key && strcmp(key, "arg") == 0) {
        const char *s = scalar(val);
        char *end = NULL;
        arg = s && *s ? strtol(s, &end, 10) : -1;
        if (!s || !*s || *end || arg < 0 || arg > 1000) {
          problem(L, val, "'arg' must be the 0-based index of the callback argument");
          ok = false;
        }
      } else {
        static const char *const cb_keys[] = {"name", "arg", NULL};
        unknown_key(L, k, key ? key : "?", cb_keys, " in 'callback-without-gil'");
        ok = false;
      }
    }
    if (ok && (!name || arg < 0)) {
      problem(L, m, "an entry of 'callback-without-gil' needs both 'name' and 'arg'");
      ok = false;
    }
    if (!ok) continue;
    gc_config *c = L->c;
    c->callbacks = xrealloc(c->callbacks, sizeof *c->callbacks * (size_t)(c->ncallbacks + 1));
    c->callbacks[c->ncallbacks++] = (gc_callback_fact){xstrdup(name), (int)arg};
  }
}

static void read_api(loader *L, yaml_node_t *v) {
  if (is_null(v)) return;
  if (v->type != YAML_MAPPING_NODE) {
    problem(L, v, "'api' must be a map with the keys needs-gil, no-gil, releases, acquires, "
                  "blocking, callback-without-gil");
    return;
  }
  gc_config *c = L->c;
  for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node(L, p->key), *val = node(L, p->value);
    const char *key = scalar(k);
    if (!key) { problem(L, k, "keys of 'api' must be strings"); continue; }
    if (duplicate_key(L, v, p, key)) { problem(L, k, "duplicate key '%s' in 'api'", key); continue; }
    char what[64];
    snprintf(what, sizeof what, "api: %s", key);
    if (strcmp(key, "needs-gil") == 0) string_list(L, val, what, &c->needs_gil);
    else if (strcmp(key, "no-gil") == 0) string_list(L, val, what, &c->no_gil);
    else if (strcmp(key, "releases") == 0) string_list(L, val, what, &c->releases);
    else if (strcmp(key, "acquires") == 0) string_list(L, val, what, &c->acquires);
    else if (strcmp(key, "blocking") == 0) string_list(L, val, what, &c->blocking);
    else if (strcmp(key, "callback-without-gil") == 0) read_callbacks(L, val);
    else unknown_key(L, k, key, api_keys, " in 'api'");
  }
}

/* Reads the configuration at OPEN (absolute, when found by a search), named
 * PATH in messages. */
static gc_config *load_from(const char *open, const char *path, char **err) {
  *err = NULL;
  FILE *fp = fopen(open, "rb");
  if (!fp) {
    *err = xasprintf("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
    *err = xasprintf("%s: is a directory", path);
    fclose(fp);
    return NULL;
  }
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) xalloc_die();
  yaml_parser_set_input_file(&parser, fp);
  if (!yaml_parser_load(&parser, &doc)) {
    const yaml_mark_t *m = parser.problem_mark.line || parser.problem_mark.column ? &parser.problem_mark
                                                                                : &parser.context_mark;
    *err = xasprintf("%s:%zu:%zu: error: not valid YAML: %s%s%s", path, m->line + 1, m->column + 1,
                     parser.problem ? parser.problem : "syntax error",
                     parser.context ? " " : "", parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    fclose(fp);
    return NULL;
  }
  yaml_parser_delete(&parser);
  fclose(fp);

  gc_config *c = xcalloc(1, sizeof *c);
  c->path = xstrdup(path);
  char *abs = cdb_absolute_path(open, NULL);
  c->file = xstrdup(abs);
  char *slash = strrchr(abs, '/');
  if (slash == abs) slash[1] = 0; else *slash = 0;
  c->dir = abs;

  loader L = {path, &doc, NULL, c};
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root && !is_null(root)) {
    if (root->type != YAML_MAPPING_NODE) {
      problem(&L, root, "expected a map of keys (checks, severity, exclude, api)");
    } else {
      for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(&L, p->key), *v = node(&L, p->value);
        const char *key = scalar(k);
        if (!key) { problem(&L, k, "keys must be strings"); continue; }
        if (duplicate_key(&L, root, p, key)) { problem(&L, k, "duplicate key '%s'", key); continue; }
        if (strcmp(key, "checks") == 0) read_checks(&L, v);
        else if (strcmp(key, "severity") == 0) read_severity(&L, v);
        else if (strcmp(key, "exclude") == 0) string_list(&L, v, "exclude", &c->exclude);
        else if (strcmp(key, "api") == 0) read_api(&L, v);
        else unknown_key(&L, k, key, top_keys, "");
      }
    }
  }
  yaml_document_delete(&doc);
  if (L.errs) {
    *err = L.errs;
    config_free(c);
    return NULL;
  }
  return c;
}

gc_config *config_load(const char *path, char **err) { return load_from(path, path, err); }

void config_free(gc_config *c) {
  if (!c) return;
  free(c->path);
  free(c->file);
  free(c->dir);
  list_free(&c->checks);
  for (int i = 0; i < c->nseverity; i++) free(c->severity[i].rule);
  free(c->severity);
  list_free(&c->exclude);
  list_free(&c->needs_gil);
  list_free(&c->no_gil);
  list_free(&c->releases);
  list_free(&c->acquires);
  list_free(&c->blocking);
  for (int i = 0; i < c->ncallbacks; i++) free(c->callbacks[i].name);
  free(c->callbacks);
  free(c);
}

bool config_excludes(const gc_config *c, const char *file) {
  if (!c || !c->exclude.n || !file) return false;
  char *abs = cdb_absolute_path(file, NULL);
  char *rel = path_below(abs, c->dir);
  bool hit = false;
  for (int i = 0; i < c->exclude.n && !hit; i++) {
    const char *g = c->exclude.v[i];
    if (strncmp(g, "./", 2) == 0) g += 2;
    hit = (rel && fnmatch(g, rel, FNM_LEADING_DIR) == 0) || fnmatch(g, abs, FNM_LEADING_DIR) == 0;
  }
  free(rel);
  free(abs);
  return hit;
}

gc_severity config_severity(const gc_config *c, const char *rule, gc_severity dflt) {
  if (c)
    for (int i = 0; i < c->nseverity; i++)
      if (strcmp(c->severity[i].rule, rule) == 0) return c->severity[i].severity;
  return dflt;
}

void config_apply_api(const gc_config *c) {
  for (int i = 0; i < c->needs_gil.n; i++) api_add_extra(c->needs_gil.v[i], true, FX_NONE);
  for (int i = 0; i < c->no_gil.n; i++) api_add_extra(c->no_gil.v[i], false, FX_NONE);
  for (int i = 0; i < c->releases.n; i++) api_add_extra(c->releases.v[i], true, FX_RELEASE);
  for (int i = 0; i < c->acquires.n; i++) api_add_extra(c->acquires.v[i], false, FX_ACQUIRE);
  for (int i = 0; i < c->blocking.n; i++) api_add_blocking(c->blocking.v[i]);
  for (int i = 0; i < c->ncallbacks; i++) api_add_callback_without_gil(c->callbacks[i].name, c->callbacks[i].arg);
}

/* ---- finding the configuration of a file ---- */

typedef struct dir_entry {
  char *dir;
  const gc_config *c;       /* may be NULL: none above, or a bad file */
  struct dir_entry *next;
} dir_entry;

typedef struct loaded {
  char *path;
  gc_config *c;             /* NULL when it did not parse */
} loaded;

#define DIR_BUCKETS 512

struct config_set {
  char *forced;
  loaded *files;
  int nfiles;
  dir_entry *dirs[DIR_BUCKETS];
  const gc_config **all;
};

config_set *config_set_new(const char *forced_path) {
  config_set *cs = xcalloc(1, sizeof *cs);
  if (forced_path) cs->forced = xstrdup(forced_path);
  return cs;
}

/* Loads (once) the configuration at PATH. */
static const gc_config *load_once(config_set *cs, const char *open, const char *path, char **err) {
  for (int i = 0; i < cs->nfiles; i++)
    if (strcmp(cs->files[i].path, path) == 0) return cs->files[i].c;
  cs->files = xrealloc(cs->files, sizeof *cs->files * (size_t)(cs->nfiles + 1));
  loaded *l = &cs->files[cs->nfiles++];
  l->path = xstrdup(path);
  l->c = load_from(open, path, err);
  return l->c;
}

static unsigned hash_dir(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h % DIR_BUCKETS;
}

static dir_entry *dir_lookup(config_set *cs, const char *dir) {
  for (dir_entry *e = cs->dirs[hash_dir(dir)]; e; e = e->next)
    if (strcmp(e->dir, dir) == 0) return e;
  return NULL;
}

static void dir_remember(config_set *cs, const char *dir, const gc_config *c) {
  dir_entry *e = xmalloc(sizeof *e);
  e->dir = xstrdup(dir);
  e->c = c;
  unsigned b = hash_dir(dir);
  e->next = cs->dirs[b];
  cs->dirs[b] = e;
}

static bool regular_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A path shown relative to the current directory, for messages. */
static char *shown(const char *abs) { return path_display(abs); }

const gc_config *config_for(config_set *cs, const char *file, char **err) {
  *err = NULL;
  if (cs->forced) return load_once(cs, cs->forced, cs->forced, err);
  char *abs = cdb_absolute_path(file, NULL);
  char *slash = strrchr(abs, '/');
  if (slash == abs) slash[1] = 0; else *slash = 0;     /* the file's directory */
  /* Walk up until a directory we know or one holding .gilcheck.yml. */
  char *dir = abs;
  const gc_config *found = NULL;
  char **visited = NULL;
  int nvisited = 0;
  for (;;) {
    dir_entry *e = dir_lookup(cs, dir);
    if (e) { found = e->c; break; }
    visited = xrealloc(visited, sizeof(char *) * (size_t)(nvisited + 1));
    visited[nvisited++] = xstrdup(dir);
    char *cand = xasprintf("%s%s.gilcheck.yml", dir, strcmp(dir, "/") == 0 ? "" : "/");
    if (regular_file(cand)) {
      char *pretty = shown(cand);
      found = load_once(cs, cand, pretty, err);   /* opened by its absolute name */
      free(pretty);
      free(cand);
      break;
    }
    free(cand);
    if (strcmp(dir, "/") == 0) break;
    slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0; else *slash = 0;
  }
  for (int i = 0; i < nvisited; i++) { dir_remember(cs, visited[i], found); free(visited[i]); }
  free(visited);
  free(abs);
  return found;
}

int config_set_all(config_set *cs, const gc_config ***out) {
  free(cs->all);
  cs->all = xmalloc(sizeof *cs->all * (size_t)(cs->nfiles + 1));
  int n = 0;
  for (int i = 0; i < cs->nfiles; i++)
    if (cs->files[i].c) cs->all[n++] = cs->files[i].c;
  *out = cs->all;
  return n;
}

void config_set_free(config_set *cs) {
  if (!cs) return;
  for (int i = 0; i < cs->nfiles; i++) { free(cs->files[i].path); config_free(cs->files[i].c); }
  free(cs->files);
  for (int b = 0; b < DIR_BUCKETS; b++)
    for (dir_entry *e = cs->dirs[b], *nx; e; e = nx) { nx = e->next; free(e->dir); free(e); }
  free(cs->all);
  free(cs->forced);
  free(cs);
}
