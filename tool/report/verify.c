/* verify.c: --verify. Like clang's -verify: the test file says, in comments,
 * what gilcheck must report, and anything else fails.
 *
 *   PyErr_SetString(e, "x");  // expected-warning{{without holding the GIL}}
 *   // expected-warning@+1{{api-without-gil}}
 *   // expected-error@-2 2 {{...}}     (two findings; @N is an absolute line)
 *   Py_BEGIN_ALLOW_THREADS  // expected-note{{released here}}
 *   // expected-no-diagnostics         (the file must have no findings)
 *
 * A warning or error expectation matches a finding of that severity on that
 * line of that file whose "message [rule-id]" contains the text; every such
 * finding must be expected and every expectation met (a count N means N
 * findings). expected-note matches a note (of any finding) on that line whose
 * message contains the text; notes are checked only where expected:
 * unexpected notes are allowed. Several expectations may share a comment or
 * a line. An analysed file with no expectation and no
 * expected-no-diagnostics is itself an error, so a test cannot pass
 * vacuously. */
#include "verify.h"
#include "xalloc.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "suppress.h"

typedef enum exp_kind { EXP_WARNING, EXP_ERROR, EXP_NOTE } exp_kind;
static const char *const exp_name[] = {"warning", "error", "note"};

typedef struct expectation {
  const char *file;       /* owned by the source cache */
  exp_kind kind;
  unsigned line;          /* the line the finding must be on */
  unsigned at_line;       /* where the comment is */
  char *text;
  int want, seen;
} expectation;

typedef struct expectations {
  expectation *v;
  int n, cap;
  int failures;
  FILE *err;
} expectations;

static void push(expectations *E, expectation x) {
  if (E->n == E->cap) {
    E->cap = E->cap ? E->cap * 2 : 32;
    E->v = xrealloc(E->v, sizeof *E->v * (size_t)E->cap);
  }
  E->v[E->n++] = x;
}

static void fail(expectations *E, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(expectations *E, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(E->err, fmt, ap);
  va_end(ap);
  fputc('\n', E->err);
  E->failures++;
}

/* Parses the expected-* directives of one file; returns how many there
 * were (expected-no-diagnostics included) and sets *no_diags. */
static int parse_file(expectations *E, const src_file *f, bool *no_diags, unsigned *no_diags_line) {
  int found = 0;
  *no_diags = false;
  for (int i = 0; i < f->ncomments; i++) {
    const src_comment *c = &f->comments[i];
    const char *end = c->text + c->len;
    for (const char *p = c->text; p < end; p++) {
      if ((size_t)(end - p) < 9 || memcmp(p, "expected-", 9) != 0) continue;
      if (p > c->text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '-')) continue;
      unsigned line, col;
      source_line_col(f, (size_t)(p - f->text), &line, &col);
      const char *q = p + 9;
      if ((size_t)(end - q) >= 14 && memcmp(q, "no-diagnostics", 14) == 0) {
        *no_diags = true;
        *no_diags_line = line;
        found++;
        p = q + 13;
        continue;
      }
      exp_kind kind;
      if ((size_t)(end - q) >= 7 && memcmp(q, "warning", 7) == 0) { kind = EXP_WARNING; q += 7; }
      else if ((size_t)(end - q) >= 5 && memcmp(q, "error", 5) == 0) { kind = EXP_ERROR; q += 5; }
      else if ((size_t)(end - q) >= 4 && memcmp(q, "note", 4) == 0) { kind = EXP_NOTE; q += 4; }
      else {
        const char *w = q;
        while (w < end && (isalnum((unsigned char)*w) || *w == '-')) w++;
        fail(E, "%s:%u:%u: error: unknown directive 'expected-%.*s' (expected-warning, "
                "expected-error, expected-note, expected-no-diagnostics)",
             f->path, line, col, (int)(w - q), q);
        p = w - 1;
        continue;
      }
      long target = line;
      if (q < end && *q == '@') {
        q++;
        char *num_end;
        if (q < end && (*q == '+' || *q == '-')) {
          long off = strtol(q, &num_end, 10);
          if (num_end == q + 1) goto bad;
          target = (long)line + off;
        } else {
          target = strtol(q, &num_end, 10);
          if (num_end == q) goto bad;
        }
        q = num_end;
        if (target < 1) {
          fail(E, "%s:%u:%u: error: 'expected-%s@' names line %ld, before the start of the file",
               f->path, line, col, exp_name[kind], target);
          p = q - 1;
          continue;
        }
      }
      while (q < end && (*q == ' ' || *q == '\t')) q++;
      int want = 1;
      if (q < end && isdigit((unsigned char)*q)) {
        char *num_end;
        want = (int)strtol(q, &num_end, 10);
        q = num_end;
        while (q < end && (*q == ' ' || *q == '\t')) q++;
        if (want < 1) goto bad;
      }
      if ((size_t)(end - q) < 2 || memcmp(q, "{{", 2) != 0) goto bad;
      q += 2;
      const char *close = q;
      while (close + 1 < end && !(close[0] == '}' && close[1] == '}')) close++;
      if (close + 1 >= end) {
        fail(E, "%s:%u:%u: error: 'expected-%s' text has no closing '}}'", f->path, line, col,
             exp_name[kind]);
        p = end - 1;
        continue;
      }
      char *text = xstrndup(q, (size_t)(close - q));
      push(E, (expectation){f->path, kind, (unsigned)target, line, text, want, 0});
      found++;
      p = close + 1;
      continue;
    bad:
      fail(E, "%s:%u:%u: error: cannot read 'expected-%s': write expected-%s{{text}}, "
              "expected-%s@+N{{text}} or expected-%s N {{text}}",
           f->path, line, col, exp_name[kind], exp_name[kind], exp_name[kind], exp_name[kind]);
      p = q > p ? q - 1 : p;
    }
  }
  return found;
}

/* "message [rule-id]" contains text? */
static bool finding_matches(const gc_finding *f, const char *text) {
  if (strstr(f->msg, text)) return true;
  size_t n = strlen(f->msg) + strlen(f->rule) + 4;
  char *full = xmalloc(n);
  snprintf(full, n, "%s [%s]", f->msg, f->rule);
  bool hit = strstr(full, text) != NULL;
  free(full);
  return hit;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int verify_findings(const gc_findings *fs, char *const *files, int nfiles, FILE *err) {
  expectations E = {.err = err};
  /* The files to read: the analysed sources first (they must say something),
   * then those that findings are in. */
  const char **paths = xmalloc(sizeof(char *) * (size_t)(nfiles + fs->n + 1));
  int npaths = 0;
  for (int i = 0; i < nfiles; i++) paths[npaths++] = files[i];
  for (int i = 0; i < fs->n; i++)
    if (fs->v[i].loc.file) paths[npaths++] = fs->v[i].loc.file;
  if (npaths > 1) qsort(paths, (size_t)npaths, sizeof *paths, cmp_str);
  int w = 0;
  for (int i = 0; i < npaths; i++)
    if (!w || strcmp(paths[w - 1], paths[i])) paths[w++] = paths[i];
  npaths = w;

  for (int i = 0; i < npaths; i++) {
    bool analysed = false;
    for (int k = 0; k < nfiles && !analysed; k++) analysed = strcmp(files[k], paths[i]) == 0;
    const src_file *f = source_get(paths[i]);
    if (!f->text) {
      if (analysed) fail(&E, "%s: error: cannot read the file to find its expected-* comments", paths[i]);
      continue;
    }
    bool no_diags = false;
    unsigned nd_line = 0;
    int before = E.n;
    int found = parse_file(&E, f, &no_diags, &nd_line);
    if (no_diags && E.n > before)
      fail(&E, "%s:%u: error: 'expected-no-diagnostics' together with expected-* comments", f->path, nd_line);
    if (analysed && found == 0)
      fail(&E, "%s: error: no expected-* comments (write 'expected-no-diagnostics' for a file "
               "that must have no findings)", f->path);
  }

  /* Findings against warning/error expectations. */
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    if (f->severity == GC_SEV_NOTE) continue;
    exp_kind kind = f->severity == GC_SEV_ERROR ? EXP_ERROR : EXP_WARNING;
    bool matched = false;
    for (int k = 0; k < E.n && !matched; k++) {
      expectation *x = &E.v[k];
      if (x->kind != kind || x->seen >= x->want || x->line != f->loc.line || !f->loc.file ||
          strcmp(x->file, f->loc.file) != 0 || !finding_matches(f, x->text))
        continue;
      x->seen++;
      matched = true;
    }
    if (matched) continue;
    if (f->loc.file && f->loc.line)
      fail(&E, "%s:%u:%u: error: unexpected %s: %s [%s]", f->loc.file, f->loc.line,
           f->loc.col ? f->loc.col : 1, exp_name[kind], f->msg, f->rule);
    else
      fail(&E, "%s: error: unexpected %s: %s [%s]", f->loc.file ? f->loc.file : "gilcheck",
           exp_name[kind], f->msg, f->rule);
  }
  /* Notes against note expectations. */
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    for (int n = 0; n < f->nnotes; n++) {
      const gc_note *no = &f->notes[n];
      if (!no->loc.file) continue;
      for (int k = 0; k < E.n; k++) {
        expectation *x = &E.v[k];
        if (x->kind == EXP_NOTE && x->seen < x->want && x->line == no->loc.line &&
            strcmp(x->file, no->loc.file) == 0 && strstr(no->msg, x->text)) {
          x->seen++;
          break;
        }
      }
    }
  }
  for (int k = 0; k < E.n; k++) {
    expectation *x = &E.v[k];
    if (x->seen >= x->want) continue;
    if (x->want > 1)
      fail(&E, "%s:%u: error: expected %s not produced: %d of %d {{%s}}", x->file, x->line,
           exp_name[x->kind], x->want - x->seen, x->want, x->text);
    else
      fail(&E, "%s:%u: error: expected %s not produced: {{%s}}", x->file, x->line, exp_name[x->kind],
           x->text);
  }
  for (int k = 0; k < E.n; k++) free(E.v[k].text);
  free(E.v);
  free(paths);
  return E.failures ? 1 : 0;
}
