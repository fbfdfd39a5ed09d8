/* baseline.c: --write-baseline and --baseline.
 *
 * The file (JSON):
 *   {"version": 2,
 *    "findings": [{"rule": "api-without-gil", "file": "src/mod.c",
 *                  "function": "spam_get", "snippet": "PyErr_SetString(...);",
 *                  "count": 1}, ...]}
 * "file" is relative to the baseline file's own directory ("../src/mod.c"
 * when the baseline lives in a sibling directory; absolute when the two
 * share no directory but "/"), so that a baseline written from anywhere
 * matches from anywhere. Version 1 files, whose paths are relative to the
 * directory gilcheck was run from, still load: their paths are matched
 * against the current directory, then against the baseline's directory.
 * "function" is "" when the finding has none,
 * "snippet" is the finding's source line with whitespace runs collapsed,
 * "count" how many findings share that key. Entries are sorted, so a
 * rewritten baseline diffs well. */
#define _GNU_SOURCE
#include "baseline.h"
#include "xalloc.h"
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cdb.h"
#include "output.h"

typedef struct bl_entry {
  uint64_t h;
  char *rule, *file, *function, *snippet;
  int count;            /* what is left to absorb */
} bl_entry;

struct gc_baseline {
  bl_entry *v;
  int n;
  int version;
  char *dir;            /* the baseline file's directory, absolute */
};

/* The directory of FILE, absolute. Malloc'd. */
static char *dir_of(const char *file) {
  char *abs = cdb_absolute_path(file, NULL);
  char *slash = strrchr(abs, '/');
  if (slash == abs) slash[1] = 0;
  else if (slash) *slash = 0;
  return abs;
}



char *baseline_normalise(const char *snippet) {
  if (!snippet) return xstrdup0("");
  char *out = xmalloc(strlen(snippet) + 1);
  size_t w = 0;
  bool space = false;
  for (const char *p = snippet; *p; p++) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\v' || *p == '\f') {
      space = w > 0;
      continue;
    }
    if (space) out[w++] = ' ';
    space = false;
    out[w++] = *p;
  }
  out[w] = 0;
  return out;
}

static uint64_t fnv(uint64_t h, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  h ^= 0xff;                 /* field separator: no valid UTF-8 byte */
  h *= 1099511628211ULL;
  return h;
}

static uint64_t key_hash(const char *rule, const char *file, const char *function, const char *snippet) {
  uint64_t h = 14695981039346656037ULL;
  h = fnv(h, rule);
  h = fnv(h, file);
  h = fnv(h, function ? function : "");
  return fnv(h, snippet);
}

/* The key parts of a finding, malloc'd: its file relative to BASE (an
 * absolute directory), or as shown when BASE is NULL. */
static void finding_key(const gc_finding *f, const char *base, char **file, char **snippet) {
  /* as the baseline file holds them: JSON strings are UTF-8 */
  char *shown;
  if (base && f->loc.file && f->loc.file[0]) {
    char *abs = cdb_absolute_path(f->loc.file, path_cwd());
    shown = path_relative_to(abs, base);
    free(abs);
  } else {
    shown = path_display(f->loc.file ? f->loc.file : "");
  }
  *file = output_utf8_clean(shown);
  free(shown);
  char *norm = baseline_normalise(f->snippet);
  *snippet = output_utf8_clean(norm);
  free(norm);
}

uint64_t baseline_key_hash(const gc_finding *f) {
  char *file, *snippet;
  finding_key(f, NULL, &file, &snippet);
  uint64_t h = key_hash(f->rule, file, f->function, snippet);
  free(file);
  free(snippet);
  return h;
}

static int cmp_entry_hash(const void *pa, const void *pb) {
  const bl_entry *a = pa, *b = pb;
  return a->h < b->h ? -1 : a->h > b->h;
}

static const char *get_str(json_t *o, const char *key, bool null_ok, bool *ok) {
  json_t *v = json_object_get(o, key);
  if (json_is_string(v)) return json_string_value(v);
  if (null_ok && (!v || json_is_null(v))) return "";
  *ok = false;
  return NULL;
}

gc_baseline *baseline_load(const char *path, char **err) {
  *err = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    *err = xasprintf("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  json_error_t je;
  json_t *root = json_loadf(fp, 0, &je);
  fclose(fp);
  if (!root) {
    *err = xasprintf("%s:%d:%d: not a valid baseline: %s", path, je.line, je.column, je.text);
    return NULL;
  }
  json_t *ver = json_object_get(root, "version");
  json_t *arr = json_object_get(root, "findings");
  if (!json_is_object(root) || !json_is_integer(ver) || !json_is_array(arr)) {
    *err = xasprintf("%s: not a valid baseline: expected {\"version\": 2, \"findings\": [...]} "
                     "as written by --write-baseline", path);
    json_decref(root);
    return NULL;
  }
  if (json_integer_value(ver) != 1 && json_integer_value(ver) != 2) {
    *err = xasprintf("%s: baseline version %lld is not supported (this gilcheck reads versions 1 and 2)",
                     path, (long long)json_integer_value(ver));
    json_decref(root);
    return NULL;
  }
  gc_baseline *b = xcalloc(1, sizeof *b);
  b->version = (int)json_integer_value(ver);
  b->dir = dir_of(path);
  size_t n = json_array_size(arr);
  b->v = xcalloc(n + 1, sizeof *b->v);
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(arr, i);
    bool ok = json_is_object(e);
    const char *rule = ok ? get_str(e, "rule", false, &ok) : NULL;
    const char *file = ok ? get_str(e, "file", false, &ok) : NULL;
    const char *function = ok ? get_str(e, "function", true, &ok) : NULL;
    const char *snippet = ok ? get_str(e, "snippet", true, &ok) : NULL;
    json_t *count = ok ? json_object_get(e, "count") : NULL;
    if (ok && count && (!json_is_integer(count) || json_integer_value(count) < 1)) ok = false;
    if (!ok) {
      *err = xasprintf("%s: not a valid baseline: findings[%zu] needs strings \"rule\", \"file\", "
                       "\"function\", \"snippet\" and a positive \"count\"", path, i);
      json_decref(root);
      baseline_free(b);
      return NULL;
    }
    bl_entry *be = &b->v[b->n++];
    be->rule = xstrdup0(rule);
    be->file = xstrdup0(file);
    be->function = xstrdup0(function);
    be->snippet = baseline_normalise(snippet);
    json_int_t cv = count ? json_integer_value(count) : 1;
    be->count = cv > INT_MAX ? INT_MAX : (int)cv;
    be->h = key_hash(be->rule, be->file, be->function, be->snippet);
  }
  json_decref(root);
  if (b->n > 1) qsort(b->v, (size_t)b->n, sizeof *b->v, cmp_entry_hash);
  return b;
}

/* Does an entry with F's key, its file relative to BASE (NULL: as shown),
 * absorb F? */
static bool absorb(gc_baseline *b, const gc_finding *f, const char *base) {
  char *file, *snippet;
  finding_key(f, base, &file, &snippet);
  uint64_t h = key_hash(f->rule, file, f->function, snippet);
  bl_entry probe = {.h = h};
  bl_entry *hit = b->n ? bsearch(&probe, b->v, (size_t)b->n, sizeof *b->v, cmp_entry_hash) : NULL;
  bool absorbed = false;
  if (hit) {
    while (hit > b->v && hit[-1].h == h) hit--;
    for (; hit < b->v + b->n && hit->h == h; hit++) {
      if (hit->count > 0 && strcmp(hit->rule, f->rule) == 0 && strcmp(hit->file, file) == 0 &&
          strcmp(hit->function, f->function ? f->function : "") == 0 && strcmp(hit->snippet, snippet) == 0) {
        hit->count--;
        absorbed = true;
        break;
      }
    }
  }
  free(file);
  free(snippet);
  return absorbed;
}

int baseline_filter(gc_baseline *b, gc_findings *fs) {
  diag_fill_snippets(fs);
  int w = 0, hidden = 0;
  for (int i = 0; i < fs->n; i++) {
    gc_finding *f = &fs->v[i];
    bool absorbed = false;
    if (strcmp(f->rule, RULE_CLANG_ERROR) != 0)
      absorbed = b->version >= 2 ? absorb(b, f, b->dir) : absorb(b, f, NULL) || absorb(b, f, b->dir);
    if (absorbed) { diag_free_one(f); hidden++; }
    else fs->v[w++] = *f;
  }
  fs->n = w;
  return hidden;
}

void baseline_free(gc_baseline *b) {
  if (!b) return;
  for (int i = 0; i < b->n; i++) {
    free(b->v[i].rule); free(b->v[i].file); free(b->v[i].function); free(b->v[i].snippet);
  }
  free(b->v);
  free(b->dir);
  free(b);
}

static int cmp_entry_key(const void *pa, const void *pb) {
  const bl_entry *a = pa, *b = pb;
  int c;
  if ((c = strcmp(a->file, b->file))) return c;
  if ((c = strcmp(a->function, b->function))) return c;
  if ((c = strcmp(a->rule, b->rule))) return c;
  return strcmp(a->snippet, b->snippet);
}

int baseline_write(const char *path, gc_findings *fs, char **err) {
  *err = NULL;
  diag_fill_snippets(fs);
  char *base = dir_of(path);
  bl_entry *v = xcalloc((size_t)fs->n + 1, sizeof *v);
  int n = 0, recorded = 0;
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    if (strcmp(f->rule, RULE_CLANG_ERROR) == 0) continue;
    bl_entry *e = &v[n++];
    finding_key(f, base, &e->file, &e->snippet);
    e->rule = xstrdup0(f->rule);
    e->function = xstrdup0(f->function);
    e->count = 1;
    recorded++;
  }
  if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_entry_key);
  json_t *arr = json_array();
  for (int i = 0; i < n;) {
    int j = i + 1;
    while (j < n && cmp_entry_key(&v[i], &v[j]) == 0) j++;
    json_t *o = json_object();
    json_object_set_new(o, "rule", output_json_string(v[i].rule));
    json_object_set_new(o, "file", output_json_string(v[i].file));
    json_object_set_new(o, "function", output_json_string(v[i].function));
    json_object_set_new(o, "snippet", output_json_string(v[i].snippet));
    json_object_set_new(o, "count", json_integer(j - i));
    json_array_append_new(arr, o);
    i = j;
  }
  for (int i = 0; i < n; i++) {
    free(v[i].rule); free(v[i].file); free(v[i].function); free(v[i].snippet);
  }
  free(v);
  free(base);
  json_t *root = json_object();
  json_object_set_new(root, "version", json_integer(2));
  json_object_set_new(root, "findings", arr);
  FILE *fp = fopen(path, "wb");
  if (!fp) {
    *err = xasprintf("%s: cannot write: %s", path, strerror(errno));
    json_decref(root);
    return -1;
  }
  int r = json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', fp);
  json_decref(root);
  if (r != 0 || ferror(fp)) {
    int e = errno;
    fclose(fp);
    *err = xasprintf("%s: cannot write: %s", path, strerror(e));
    return -1;
  }
  if (fclose(fp) != 0) {
    *err = xasprintf("%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  return recorded;
}
