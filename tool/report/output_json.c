/* output_json.c: --format=json, a stable schema for scripts.
 *
 *   {
 *     "version": 1,
 *     "tool": {"name": "gilcheck", "version": "0.2.0"},
 *     "findings": [
 *       {"rule": "api-without-gil", "severity": "warning",
 *        "file": "src/mod.c", "line": 12, "column": 5,
 *        "function": "spam_get" | null,
 *        "message": "...",
 *        "notes": [{"file": "src/mod.c", "line": 10, "column": 5, "message": "..."}]}
 *     ]
 *   }
 *
 * Findings come sorted by file, line, column, rule. "file" is relative to the
 * current directory when below it, else absolute; "line" and "column" are
 * 1-based (0 when the finding has no location; "file" is then null). A new
 * key may be added within version 1; a removed or changed key bumps it. */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "xalloc.h"

#ifndef GILCHECK_VERSION
#define GILCHECK_VERSION "unknown"
#endif

/* S as valid UTF-8, malloc'd: bytes that are not (a Latin-1 comment, a
 * path) become U+FFFD. JSON can only carry this, so whatever is compared
 * with JSON read back (baselines) goes through it too. */
char *output_utf8_clean(const char *s) {
  size_t n = strlen(s);
  char *t = xmalloc(n * 3 + 1);
  size_t w = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) ok = ((unsigned char)s[i + k] >> 6) == 2;
    if (ok && len > 1) {             /* jansson's own check: overlongs, surrogates */
      json_t *probe = json_stringn(s + i, len);
      ok = probe != NULL;
      json_decref(probe);
    }
    if (ok) {
      memcpy(t + w, s + i, len);
      w += len;
      i += len;
    } else {
      memcpy(t + w, "\xef\xbf\xbd", 3);   /* U+FFFD */
      w += 3;
      i++;
    }
  }
  t[w] = 0;
  return t;
}

json_t *output_json_string(const char *s) {
  if (!s) return json_null();
  json_t *j = json_string(s);
  if (j) return j;
  char *t = output_utf8_clean(s);
  j = json_string(t);
  free(t);
  return j ? j : json_string("?");
}

static json_t *str_or_null(const char *s) { return output_json_string(s); }

static void put_loc(json_t *o, const gc_loc *l) {
  json_object_set_new(o, "file", str_or_null(l->file));
  json_object_set_new(o, "line", json_integer(l->line));
  json_object_set_new(o, "column", json_integer(l->line ? (l->col ? l->col : 1) : 0));
}

int output_json(FILE *out, const gc_findings *fs) {
  json_t *root = json_object();
  json_object_set_new(root, "version", json_integer(1));
  json_t *tool = json_object();
  json_object_set_new(tool, "name", json_string("gilcheck"));
  json_object_set_new(tool, "version", json_string(GILCHECK_VERSION));
  json_object_set_new(root, "tool", tool);
  json_t *arr = json_array();
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(f->rule));
    json_object_set_new(o, "severity", json_string(diag_severity_name(f->severity)));
    put_loc(o, &f->loc);
    json_object_set_new(o, "function", str_or_null(f->function));
    json_object_set_new(o, "message", json_string(f->msg));
    json_t *notes = json_array();
    for (int k = 0; k < f->nnotes; k++) {
      json_t *n = json_object();
      put_loc(n, &f->notes[k].loc);
      json_object_set_new(n, "message", json_string(f->notes[k].msg));
      json_array_append_new(notes, n);
    }
    json_object_set_new(o, "notes", notes);
    json_array_append_new(arr, o);
  }
  json_object_set_new(root, "findings", arr);
  int r = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', out);
  json_decref(root);
  return r == 0 ? 0 : -1;
}

/* RFC 3986: keep unreserved characters and '/', percent-encode the rest. */
char *output_uri_encode(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  char *out = xmalloc(strlen(s) * 3 + 1);
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("-._~/", c)) {
      out[w++] = (char)c;
    } else {
      out[w++] = '%';
      out[w++] = hex[c >> 4];
      out[w++] = hex[c & 15];
    }
  }
  out[w] = 0;
  return out;
}
