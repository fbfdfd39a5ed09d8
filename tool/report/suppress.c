/* suppress.c: NOLINT comments (see suppress.h for the spellings) and the
 * cache of source files they are read from; verify.c reads its expected-*
 * comments through the same cache.
 *
 * Comments are found with a small lexer that skips string and character
 * literals; a directive is the word NOLINT, NOLINTNEXTLINE, NOLINTBEGIN or
 * NOLINTEND inside a comment, not followed by an identifier character,
 * optionally followed by "(list)" closed on the same line (an unclosed list
 * means every rule, as in clang-tidy; "()" means none). BEGIN and END pair by
 * identical lists, innermost first. */
#include "suppress.h"
#include "xalloc.h"
#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "rules.h"



/* ---- source cache ---- */

typedef struct src_entry {
  src_file f;
  size_t *line_starts;     /* byte offset of each line's first character */
  unsigned nlines;
  int comments_cap;
  struct src_entry *next;
} src_entry;

#define SRC_BUCKETS 1024
static src_entry *src_table[SRC_BUCKETS];

static unsigned hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h % SRC_BUCKETS;
}

static char *read_whole(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (cap - n < 65536) {
      cap = cap ? cap * 2 : 65536;
      buf = xrealloc(buf, cap + 1);
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) break;
  }
  bool bad = ferror(fp);
  fclose(fp);
  if (bad) { free(buf); return NULL; }
  buf[n] = 0;
  *len = n;
  return buf;
}

static void add_comment(src_entry *e, size_t start, size_t end) {
  src_file *f = &e->f;
  if (f->ncomments == e->comments_cap) {
    e->comments_cap = e->comments_cap ? e->comments_cap * 2 : 16;
    f->comments = xrealloc(f->comments, sizeof(src_comment) * (size_t)e->comments_cap);
  }
  src_comment *c = &f->comments[f->ncomments++];
  source_line_col(f, start, &c->line, &c->col);
  c->text = f->text + start;
  c->len = end - start;
}

/* The lexer: comments, skipping "..." and '...' (which end at a newline if
 * unterminated, as a stray apostrophe in #error text would be). */
static void find_comments(src_entry *e) {
  const char *t = e->f.text;
  size_t n = e->f.len, i = 0;
  while (i < n) {
    char c = t[i];
    if (c == '/' && i + 1 < n && t[i + 1] == '/') {
      size_t s = i;
      i += 2;
      while (i < n && t[i] != '\n') {
        if (t[i] == '\\' && i + 1 < n && t[i + 1] == '\n') i++;      /* continued line */
        else if (t[i] == '\\' && i + 2 < n && t[i + 1] == '\r' && t[i + 2] == '\n') i += 2;
        i++;
      }
      add_comment(e, s, i);
    } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
      size_t s = i;
      const char *end = strstr(t + i + 2, "*/");   /* text is NUL-terminated */
      i = end ? (size_t)(end - t) + 2 : n;
      if (i > n) i = n;
      add_comment(e, s, i);
    } else if (c == '"' || c == '\'') {
      i++;
      while (i < n && t[i] != c && t[i] != '\n') i += (t[i] == '\\' && i + 1 < n) ? 2 : 1;
      if (i < n && t[i] == c) i++;
    } else {
      i++;
    }
  }
}

const src_file *source_get(const char *path) {
  unsigned b = hash_str(path);
  for (src_entry *e = src_table[b]; e; e = e->next)
    if (strcmp(e->f.path, path) == 0) return &e->f;
  src_entry *e = xcalloc(1, sizeof *e);
  e->f.path = xstrndup(path, strlen(path));
  e->f.text = read_whole(path, &e->f.len);
  if (e->f.text) {
    unsigned cap = 256;
    e->line_starts = xrealloc(NULL, sizeof(size_t) * cap);
    e->line_starts[e->nlines++] = 0;
    for (size_t i = 0; i < e->f.len; i++) {
      if (e->f.text[i] != '\n') continue;
      if (e->nlines == cap) { cap *= 2; e->line_starts = xrealloc(e->line_starts, sizeof(size_t) * cap); }
      e->line_starts[e->nlines++] = i + 1;
    }
    find_comments(e);
  }
  e->next = src_table[b];
  src_table[b] = e;
  return &e->f;
}

void source_line_col(const src_file *f, size_t off, unsigned *line, unsigned *col) {
  const src_entry *e = (const src_entry *)f;     /* f is the first member */
  unsigned lo = 0, hi = e->nlines;                /* last start <= off */
  while (hi - lo > 1) {
    unsigned mid = lo + (hi - lo) / 2;
    if (e->line_starts[mid] <= off) lo = mid; else hi = mid;
  }
  *line = lo + 1;
  *col = e->nlines ? (unsigned)(off - e->line_starts[lo]) + 1 : 1;
}

void source_cache_free(void) {
  for (int b = 0; b < SRC_BUCKETS; b++) {
    for (src_entry *e = src_table[b], *nx; e; e = nx) {
      nx = e->next;
      free(e->f.path);
      free(e->f.text);
      free(e->f.comments);
      free(e->line_starts);
      free(e);
    }
    src_table[b] = NULL;
  }
}

/* ---- directives ---- */

typedef enum nolint_kind { NL_LINE, NL_NEXTLINE, NL_BEGIN, NL_END } nolint_kind;

static const char *const kind_name[] = {"NOLINT", "NOLINTNEXTLINE", "NOLINTBEGIN", "NOLINTEND"};

typedef struct nolint {
  nolint_kind kind;
  unsigned line, col;
  bool all;               /* no list: every rule */
  char *list;             /* the list as written, blanks removed ("" when none or "()") */
  char **globs;
  bool *glob_used;
  int nglobs;
  bool used;              /* for 'all' */
  unsigned end_line;      /* NL_BEGIN: the line of the matching END, 0 when unmatched */
  bool matched;           /* NL_BEGIN / NL_END paired */
} nolint;

typedef struct file_nolints {
  const char *path;       /* owned by the source cache */
  nolint *v;
  int n;
} file_nolints;

static bool is_ident(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void parse_list(nolint *d, const char *s, size_t n) {
  d->list = xrealloc(NULL, n + 1);
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (!isspace((unsigned char)s[i])) d->list[w++] = s[i];
  d->list[w] = 0;
  for (char *p = d->list; *p;) {
    char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len) {
      d->globs = xrealloc(d->globs, sizeof(char *) * (size_t)(d->nglobs + 1));
      d->globs[d->nglobs++] = xstrndup(p, len);
    }
    p += len + (comma ? 1 : 0);
  }
  d->glob_used = xcalloc((size_t)d->nglobs + 1, sizeof(bool));
}

static void scan_file(file_nolints *fn, const src_file *f) {
  int cap = 0;
  for (int i = 0; i < f->ncomments; i++) {
    const src_comment *c = &f->comments[i];
    const char *end = c->text + c->len;
    for (const char *p = c->text; p + 6 <= end; p++) {
      if (memcmp(p, "NOLINT", 6) != 0 || (p > c->text && is_ident(p[-1]))) continue;
      const char *q = p + 6;
      nolint d = {.kind = NL_LINE};
      if (end - q >= 8 && memcmp(q, "NEXTLINE", 8) == 0) { d.kind = NL_NEXTLINE; q += 8; }
      else if (end - q >= 5 && memcmp(q, "BEGIN", 5) == 0) { d.kind = NL_BEGIN; q += 5; }
      else if (end - q >= 3 && memcmp(q, "END", 3) == 0) { d.kind = NL_END; q += 3; }
      if (q < end && is_ident(*q)) continue;
      d.all = true;
      if (q < end && *q == '(') {
        const char *close = q + 1;
        while (close < end && *close != ')' && *close != '\n') close++;
        if (close < end && *close == ')') {
          d.all = false;
          parse_list(&d, q + 1, (size_t)(close - q - 1));
          q = close + 1;
        }
      }
      if (d.all) parse_list(&d, "", 0);
      source_line_col(f, (size_t)(p - f->text), &d.line, &d.col);
      if (fn->n == cap) {
        cap = cap ? cap * 2 : 8;
        fn->v = xrealloc(fn->v, sizeof(nolint) * (size_t)cap);
      }
      fn->v[fn->n++] = d;
      p = q - 1;
    }
  }
  /* Pair BEGIN and END: an END closes the innermost open BEGIN with the same list. */
  int *open = xrealloc(NULL, sizeof(int) * (size_t)(fn->n + 1));
  int nopen = 0;
  for (int i = 0; i < fn->n; i++) {
    nolint *d = &fn->v[i];
    if (d->kind == NL_BEGIN) open[nopen++] = i;
    if (d->kind != NL_END) continue;
    for (int k = nopen - 1; k >= 0; k--) {
      nolint *b = &fn->v[open[k]];
      if (b->all == d->all && strcmp(b->list, d->list) == 0) {
        b->matched = d->matched = true;
        b->end_line = d->line;
        memmove(&open[k], &open[k + 1], sizeof(int) * (size_t)(nopen - k - 1));
        nopen--;
        break;
      }
    }
  }
  free(open);
}

static void free_nolints(file_nolints *fn) {
  for (int i = 0; i < fn->n; i++) {
    for (int k = 0; k < fn->v[i].nglobs; k++) free(fn->v[i].globs[k]);
    free(fn->v[i].globs);
    free(fn->v[i].glob_used);
    free(fn->v[i].list);
  }
  free(fn->v);
}

/* Does directive d cover rule on a finding at 'line'? Marks what matched. */
static bool covers(nolint *d, unsigned line, const char *rule) {
  switch (d->kind) {
  case NL_LINE: if (d->line != line) return false; break;
  case NL_NEXTLINE: if (d->line + 1 != line) return false; break;
  case NL_BEGIN: if (!d->matched || line < d->line || line > d->end_line) return false; break;
  case NL_END: return false;
  }
  if (d->all) { d->used = true; return true; }
  bool hit = false;
  for (int k = 0; k < d->nglobs; k++)
    if (fnmatch(d->globs[k], rule, 0) == 0) { d->glob_used[k] = true; hit = true; }
  return hit;
}

/* Does a glob name a gilcheck rule? */
static bool glob_names_rule(const char *glob) {
  for (int r = 0; r < R_COUNT; r++)
    if (fnmatch(glob, rule_table[r].id, 0) == 0) return true;
  return false;
}

static bool concerns_gilcheck(const nolint *d) {
  if (d->all) return true;
  for (int k = 0; k < d->nglobs; k++)
    if (glob_names_rule(d->globs[k])) return true;
  return false;
}

static bool suppressible(const char *rule) {
  return strcmp(rule, RULE_CLANG_ERROR) != 0 && strcmp(rule, RULE_NOLINT) != 0 &&
         strcmp(rule, RULE_UNUSED_SUPPRESSION) != 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void spelling(char *buf, size_t n, const nolint *d) {
  if (d->all) snprintf(buf, n, "%s", kind_name[d->kind]);
  else snprintf(buf, n, "%s(%s)", kind_name[d->kind], d->list);
}

void suppress_apply(gc_findings *fs, char *const *files, int nfiles, const suppress_opts *o) {
  diag_sort_unique(fs);
  /* Every file to look at: the analysed sources and the files with findings. */
  int npaths = 0;
  const char **paths = xrealloc(NULL, sizeof(char *) * (size_t)(nfiles + fs->n + 1));
  for (int i = 0; i < nfiles; i++) paths[npaths++] = files[i];
  for (int i = 0; i < fs->n; i++)
    if (fs->v[i].loc.file && (i == 0 || !fs->v[i - 1].loc.file || strcmp(fs->v[i - 1].loc.file, fs->v[i].loc.file)))
      paths[npaths++] = fs->v[i].loc.file;
  if (npaths > 1) qsort(paths, (size_t)npaths, sizeof *paths, cmp_str);
  int w = 0;
  for (int i = 0; i < npaths; i++)
    if (w == 0 || strcmp(paths[w - 1], paths[i]) != 0) paths[w++] = paths[i];
  npaths = w;

  file_nolints *fn = xcalloc((size_t)npaths + 1, sizeof *fn);
  for (int i = 0; i < npaths; i++) {
    const src_file *f = source_get(paths[i]);
    fn[i].path = f->path;
    if (f->text) scan_file(&fn[i], f);
  }

  /* Drop what is suppressed. Findings are sorted by file. */
  w = 0;
  int fi = 0;
  for (int i = 0; i < fs->n; i++) {
    gc_finding *f = &fs->v[i];
    bool drop = false;
    if (f->loc.file && f->loc.line && suppressible(f->rule)) {
      while (fi < npaths && strcmp(fn[fi].path, f->loc.file) < 0) fi++;
      if (fi < npaths && strcmp(fn[fi].path, f->loc.file) == 0)
        for (int k = 0; k < fn[fi].n; k++)
          if (covers(&fn[fi].v[k], f->loc.line, f->rule)) drop = true;
    }
    if (drop) diag_free_one(f);
    else fs->v[w++] = *f;
  }
  fs->n = w;

  /* Report unmatched BEGIN/END, and with report_unused, names that did nothing. */
  for (int i = 0; i < npaths; i++) {
    for (int k = 0; k < fn[i].n; k++) {
      nolint *d = &fn[i].v[k];
      gc_loc loc = {fn[i].path, d->line, d->col};
      char sp[512];
      spelling(sp, sizeof sp, d);
      if ((d->kind == NL_BEGIN || d->kind == NL_END) && !d->matched && concerns_gilcheck(d)) {
        const char *other = d->kind == NL_BEGIN ? "NOLINTEND" : "NOLINTBEGIN";
        char want[512];
        if (d->all) snprintf(want, sizeof want, "%s", other);
        else snprintf(want, sizeof want, "%s(%s)", other, d->list);
        if (d->kind == NL_BEGIN)
          diag_add(fs, RULE_NOLINT, GC_SEV_WARNING, loc, NULL,
                   "unmatched '%s': no '%s' follows it", sp, want);
        else
          diag_add(fs, RULE_NOLINT, GC_SEV_WARNING, loc, NULL,
                   "unmatched '%s': no '%s' comes before it", sp, want);
        continue;
      }
      /* A name that is no rule of gilcheck's but nearly one: a misspelling
       * that suppresses nothing (other tools' names are left alone). */
      if (d->kind != NL_END)
        for (int g = 0; g < d->nglobs; g++) {
          const char *near = glob_names_rule(d->globs[g]) ? NULL : output_rule_suggestion(d->globs[g], false);
          if (near)
            diag_add(fs, RULE_NOLINT, GC_SEV_WARNING, loc, NULL, "unknown rule '%s' in %s; did you mean '%s'?",
                     d->globs[g], sp, near);
        }
      if (!o->report_unused || d->kind == NL_END || (d->kind == NL_BEGIN && !d->matched)) continue;
      for (int g = 0; g < d->nglobs; g++) {
        const char *glob = d->globs[g];
        if (d->glob_used[g] || strcmp(glob, "*") == 0) continue;
        bool could = false;
        for (int r = 0; r < R_COUNT && !could; r++)
          if (fnmatch(glob, rule_table[r].id, 0) == 0 &&
              (!o->enabled || o->enabled(o->ctx, fn[i].path, rule_table[r].id)))
            could = true;
        if (could)
          diag_add(fs, RULE_UNUSED_SUPPRESSION, GC_SEV_WARNING, loc, NULL,
                   "'%s' in %s suppresses no finding", glob, sp);
      }
    }
  }
  for (int i = 0; i < npaths; i++) free_nolints(&fn[i]);
  free(fn);
  free(paths);
  diag_sort_unique(fs);
}
