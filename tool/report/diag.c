/* diag.c: building, ordering and freeing finding lists. */
#include "diag.h"
#include "xalloc.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static char *vfmt(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *p = xmalloc((size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

gc_finding *diag_add(gc_findings *fs, const char *rule, gc_severity sev, gc_loc loc,
                     const char *function, const char *fmt, ...) {
  if (fs->n == fs->cap) {
    fs->cap = fs->cap ? fs->cap * 2 : 16;
    fs->v = xrealloc(fs->v, sizeof(gc_finding) * (size_t)fs->cap);
  }
  gc_finding *f = &fs->v[fs->n++];
  memset(f, 0, sizeof *f);
  f->rule = xstrdup(rule);
  f->severity = sev;
  f->loc = loc;
  f->loc.file = xstrdup(loc.file);
  f->function = xstrdup(function);
  va_list ap;
  va_start(ap, fmt);
  f->msg = vfmt(fmt, ap);
  va_end(ap);
  return f;
}

void diag_note(gc_finding *f, gc_loc loc, const char *fmt, ...) {
  f->notes = xrealloc(f->notes, sizeof(gc_note) * (size_t)(f->nnotes + 1));
  gc_note *n = &f->notes[f->nnotes++];
  n->loc = loc;
  n->loc.file = xstrdup(loc.file);
  va_list ap;
  va_start(ap, fmt);
  n->msg = vfmt(fmt, ap);
  va_end(ap);
}

void diag_move_all(gc_findings *to, gc_findings *from) {
  for (int i = 0; i < from->n; i++) {
    if (to->n == to->cap) {
      to->cap = to->cap ? to->cap * 2 : 16;
      to->v = xrealloc(to->v, sizeof(gc_finding) * (size_t)to->cap);
    }
    to->v[to->n++] = from->v[i];
  }
  free(from->v);
  from->v = NULL;
  from->n = from->cap = 0;
}

static int strcmp0(const char *a, const char *b) {
  return strcmp(a ? a : "", b ? b : "");
}

static int cmp_finding(const void *pa, const void *pb) {
  const gc_finding *a = pa, *b = pb;
  int c = strcmp0(a->loc.file, b->loc.file);
  if (c) return c;
  if (a->loc.line != b->loc.line) return a->loc.line < b->loc.line ? -1 : 1;
  if (a->loc.col != b->loc.col) return a->loc.col < b->loc.col ? -1 : 1;
  if ((c = strcmp0(a->rule, b->rule))) return c;
  return strcmp0(a->msg, b->msg);
}

void diag_free_one(gc_finding *f) {
  free(f->rule); free(f->msg); free(f->function); free(f->snippet);
  free((char *)f->loc.file);
  for (int i = 0; i < f->nnotes; i++) { free(f->notes[i].msg); free((char *)f->notes[i].loc.file); }
  free(f->notes);
}

void diag_sort_unique(gc_findings *fs) {
  if (fs->n > 1) qsort(fs->v, (size_t)fs->n, sizeof(gc_finding), cmp_finding);
  int w = 0;
  for (int i = 0; i < fs->n; i++) {
    if (w > 0 && cmp_finding(&fs->v[w - 1], &fs->v[i]) == 0) { diag_free_one(&fs->v[i]); continue; }
    fs->v[w++] = fs->v[i];
  }
  fs->n = w;
}

void diag_free(gc_findings *fs) {
  for (int i = 0; i < fs->n; i++) diag_free_one(&fs->v[i]);
  free(fs->v);
  fs->v = NULL;
  fs->n = fs->cap = 0;
}

const char *diag_severity_name(gc_severity s) {
  return s == GC_SEV_ERROR ? "error" : s == GC_SEV_NOTE ? "note" : "warning";
}

void diag_fill_snippets(gc_findings *fs) {
  /* Findings are sorted by file, so each file is read once. */
  const char *cur = NULL;
  char *buf = NULL;
  size_t len = 0;
  for (int i = 0; i < fs->n; i++) {
    gc_finding *f = &fs->v[i];
    if (f->snippet || !f->loc.file || !f->loc.line) continue;
    if (!cur || strcmp(cur, f->loc.file) != 0) {
      free(buf); buf = NULL; len = 0;
      cur = f->loc.file;
      FILE *fp = fopen(cur, "rb");
      if (fp) {
        if (fseek(fp, 0, SEEK_END) == 0) {
          long sz = ftell(fp);
          if (sz >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
            buf = xmalloc((size_t)sz + 1);
            if (buf) { len = fread(buf, 1, (size_t)sz, fp); buf[len] = 0; }
          }
        }
        fclose(fp);
      }
    }
    if (!buf) continue;
    unsigned line = 1;
    size_t p = 0;
    while (p < len && line < f->loc.line) { if (buf[p++] == '\n') line++; }
    if (line != f->loc.line) continue;
    size_t e = p;
    while (e < len && buf[e] != '\n') e++;
    while (p < e && (buf[p] == ' ' || buf[p] == '\t')) p++;
    while (e > p && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r')) e--;
    f->snippet = xmalloc(e - p + 1);
    memcpy(f->snippet, buf + p, e - p);
    f->snippet[e - p] = 0;
  }
  free(buf);
}
