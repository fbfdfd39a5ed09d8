/* output.c: the text and GitHub formats, the choice of format, and how
 * paths are shown. JSON and SARIF live in output_json.c and output_sarif.c.
 *
 * text (clang style):
 *   path:line:col: warning: message [rule-id]
 *   path:line:col: note: message
 * github (workflow commands, one line per finding):
 *   ::warning file=PATH,line=L,col=C,title=RULE::MESSAGE%0Anote: path:line:col: message
 */
#include "output.h"
#include "xalloc.h"
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cdb.h"
#include "rules.h"

int output_format_by_name(const char *name) {
  if (strcmp(name, "text") == 0) return OUT_TEXT;
  if (strcmp(name, "json") == 0) return OUT_JSON;
  if (strcmp(name, "sarif") == 0) return OUT_SARIF;
  if (strcmp(name, "github") == 0) return OUT_GITHUB;
  return -1;
}

int output_write(FILE *out, out_format fmt, const gc_findings *fs, const output_run *run) {
  int r;
  switch (fmt) {
  case OUT_JSON: r = output_json(out, fs); break;
  case OUT_SARIF: r = output_sarif(out, fs, run); break;
  case OUT_GITHUB: r = output_github(out, fs); break;
  default: r = output_text(out, fs, run && run->color); break;
  }
  if (fflush(out) != 0 || ferror(out)) r = -1;
  return r;
}

const char *output_rule_summary(const char *rule) {
  int r = rule_by_id(rule);
  if (r >= 0) return rule_table[r].summary;
  if (strcmp(rule, RULE_CLANG_ERROR) == 0) return "clang could not parse the file";
  if (strcmp(rule, RULE_NOLINT) == 0)
    return "a NOLINTBEGIN without its NOLINTEND, or a NOLINTEND without its NOLINTBEGIN";
  if (strcmp(rule, RULE_UNUSED_SUPPRESSION) == 0)
    return "a NOLINT comment naming a gilcheck rule suppresses no finding";
  return "";
}

/* The optimal string alignment distance (Levenshtein with transpositions)
 * between A and B, capped at CAP + 1. */
static int edit_distance(const char *a, const char *b, int cap) {
  size_t n = strlen(a), m = strlen(b);
  if ((n > m ? n - m : m - n) > (size_t)cap) return cap + 1;
  int *prev2 = xcalloc(m + 1, sizeof(int)), *prev = xcalloc(m + 1, sizeof(int)), *cur = xcalloc(m + 1, sizeof(int));
  for (size_t j = 0; j <= m; j++) prev[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= m; j++) {
      int cost = a[i - 1] != b[j - 1];
      int v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v) v = prev2[j - 2] + 1;
      cur[j] = v;
    }
    int *t = prev2; prev2 = prev; prev = cur; cur = t;
  }
  int d = prev[m];
  free(prev2);
  free(prev);
  free(cur);
  return d > cap ? cap + 1 : d;
}

const char *output_rule_suggestion(const char *name, bool with_own) {
  if (!name || !*name || strpbrk(name, "*?[")) return NULL;
  char *norm = xstrdup(name);
  for (char *p = norm; *p; p++) *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
  static const char *const own[] = {RULE_NOLINT, RULE_UNUSED_SUPPRESSION};
  const char *best = NULL;
  int best_d = 0;
  for (int i = 0; i < R_COUNT + (with_own ? 2 : 0); i++) {
    const char *id = i < R_COUNT ? rule_table[i].id : own[i - R_COUNT];
    if (strcmp(id, name) == 0) { best = NULL; break; }          /* not a misspelling */
    /* a few edits, and never more than a quarter of the id */
    int cap = (int)strlen(id) / 4;
    if (cap > 3) cap = 3;
    int d = edit_distance(norm, id, cap);
    if (d <= cap && (!best || d < best_d)) { best = id; best_d = d; }
  }
  free(norm);
  return best;
}

/* ---- paths ---- */

const char *path_cwd(void) {
  static char cwd[PATH_MAX];
  if (!cwd[0] && !getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
  return cwd;
}

char *path_below(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0) n = 0;
  if (strncmp(path, dir, n) != 0 || path[n] != '/' || !path[n + 1]) return NULL;
  return xstrdup(path + n + 1);
}

char *path_relative_to(const char *path, const char *dir) {
  /* the longest common directory prefix */
  size_t common = 0;
  for (size_t i = 0;; i++) {
    bool pe = path[i] == 0 || path[i] == '/', de = dir[i] == 0 || dir[i] == '/';
    if (pe && de) {
      common = i;
      if (!path[i] || !dir[i]) break;
      continue;
    }
    if (path[i] != dir[i]) break;
  }
  if (common == 0 && strcmp(dir, "/") != 0) return xstrdup(path);   /* only "/" in common */
  if (strcmp(dir, "/") == 0) common = 0;
  /* one ".." per directory of DIR below the common part */
  size_t ups = 0;
  for (const char *p = dir + common; *p; p++)
    if (*p == '/' && p[1] && p[1] != '/') ups++;
  const char *rest = path + common;
  while (*rest == '/') rest++;
  size_t len = ups * 3 + strlen(rest) + 2;
  char *out = xmalloc(len);
  out[0] = 0;
  for (size_t i = 0; i < ups; i++) strcat(out, i + 1 < ups || *rest ? "../" : "..");
  strcat(out, rest);
  if (!out[0]) strcpy(out, ".");
  return out;
}

char *path_display(const char *file) {
  if (!file || !file[0]) return xstrdup(file ? file : "");
  char *abs = cdb_absolute_path(file, path_cwd());
  char *rel = path_below(abs, path_cwd());
  if (rel) { free(abs); return rel; }
  return abs;
}

/* ---- text ---- */

/* clang's colours: the place in bold, then the severity in bold magenta
 * (warning), red (error) or black (note), then the message in bold for a
 * warning or an error. */
#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"

static const char *severity_color(gc_severity s) {
  return s == GC_SEV_ERROR ? "\033[0;1;31m" : s == GC_SEV_NOTE ? "\033[0;1;30m" : "\033[0;1;35m";
}

static void text_loc(FILE *out, const gc_loc *l, bool color) {
  if (!l->file) return;
  if (color) fputs(C_BOLD, out);
  if (l->line) fprintf(out, "%s:%u:%u: ", l->file, l->line, l->col ? l->col : 1);
  else fprintf(out, "%s: ", l->file);
  if (color) fputs(C_RESET, out);
}

int output_text(FILE *out, const gc_findings *fs, bool color) {
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    text_loc(out, &f->loc, color);
    if (color)
      fprintf(out, "%s%s: " C_RESET C_BOLD "%s [%s]" C_RESET "\n", severity_color(f->severity),
              diag_severity_name(f->severity), f->msg, f->rule);
    else
      fprintf(out, "%s: %s [%s]\n", diag_severity_name(f->severity), f->msg, f->rule);
    for (int k = 0; k < f->nnotes; k++) {
      text_loc(out, &f->notes[k].loc, color);
      if (color) fprintf(out, "%snote: " C_RESET "%s\n", severity_color(GC_SEV_NOTE), f->notes[k].msg);
      else fprintf(out, "note: %s\n", f->notes[k].msg);
    }
  }
  return 0;
}

/* ---- the summary of a text run ---- */

typedef struct rule_count { const char *rule; int n; } rule_count;

static int cmp_rule_count(const void *pa, const void *pb) {
  const rule_count *a = pa, *b = pb;
  if (a->n != b->n) return a->n > b->n ? -1 : 1;
  return strcmp(a->rule, b->rule);
}

/* Appends to a malloc'd string. */
static void appendf(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(char **s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *more = xvasprintf(fmt, ap);
  va_end(ap);
  char *joined = xasprintf("%s%s", *s ? *s : "", more);
  free(*s);
  free(more);
  *s = joined;
}

static const char *s_if(int n) { return n == 1 ? "" : "s"; }

void output_write_summary(FILE *to, const output_summary *sum, const gc_findings *fs) {
  rule_count *rc = xcalloc((size_t)fs->n + 1, sizeof *rc);
  int nrc = 0, nfindings = 0;
  for (int i = 0; i < fs->n; i++) {
    const char *r = fs->v[i].rule;
    if (strcmp(r, RULE_CLANG_ERROR) == 0) continue;
    nfindings++;
    int k = 0;
    while (k < nrc && strcmp(rc[k].rule, r) != 0) k++;
    if (k == nrc) rc[nrc++] = (rule_count){r, 0};
    rc[k].n++;
  }
  char *line = NULL;
  if (sum->shard_empty_of > 0) {
    appendf(&line, "shard %s holds none of the %d files: nothing analysed", sum->shard, sum->shard_empty_of);
  } else {
    appendf(&line, "%d file%s analysed", sum->analysed, s_if(sum->analysed));
    bool more = sum->summary_units > sum->analysed;
    if (sum->shard && more)
      appendf(&line, " (shard %s; summaries of %d file%s)", sum->shard, sum->summary_units, s_if(sum->summary_units));
    else if (sum->shard) appendf(&line, " (shard %s)", sum->shard);
    else if (more) appendf(&line, " (summaries of %d file%s)", sum->summary_units, s_if(sum->summary_units));
    if (sum->failed) appendf(&line, ", %d could not be", sum->failed);
    if (sum->excluded) appendf(&line, ", %d excluded by .gilcheck.yml", sum->excluded);
    if (sum->skipped_headers)
      appendf(&line, ", %d header%s skipped (no file includes %s)", sum->skipped_headers, s_if(sum->skipped_headers),
              sum->skipped_headers == 1 ? "it" : "them");
  }
  if (sum->recorded) appendf(&line, "; %d finding%s recorded in %s", nfindings, s_if(nfindings), sum->recorded);
  else if (nfindings == 0) appendf(&line, "; no findings");
  else appendf(&line, "; %d finding%s", nfindings, s_if(nfindings));
  if (sum->hidden) appendf(&line, ", %d hidden by the baseline", sum->hidden);
  if (sum->summaries_missing)
    appendf(&line, "; %d other file%s could not be analysed, so %s functions' summaries are missing (-v names %s)",
            sum->summaries_missing, s_if(sum->summaries_missing), sum->summaries_missing == 1 ? "its" : "their",
            sum->summaries_missing == 1 ? "it" : "them");
  fprintf(to, "gilcheck: %s\n", line);
  free(line);
  if (!sum->recorded && nrc) {
    if (nrc > 1) qsort(rc, (size_t)nrc, sizeof *rc, cmp_rule_count);
    size_t w = 0;
    for (int k = 0; k < nrc; k++)
      if (strlen(rc[k].rule) > w) w = strlen(rc[k].rule);
    for (int k = 0; k < nrc; k++)
      fprintf(to, "gilcheck: %5d %-*s  %s%s.md\n", rc[k].n, (int)w, rc[k].rule, DOCS_RULES_URI, rc[k].rule);
  }
  fflush(to);
  free(rc);
}

/* ---- github ---- */

/* Workflow-command escaping: % CR LF everywhere; also : and , in properties. */
static void gh_escape(FILE *out, const char *s, bool property) {
  for (; *s; s++) {
    switch (*s) {
    case '%': fputs("%25", out); break;
    case '\r': fputs("%0D", out); break;
    case '\n': fputs("%0A", out); break;
    case ':': if (property) fputs("%3A", out); else fputc(':', out); break;
    case ',': if (property) fputs("%2C", out); else fputc(',', out); break;
    default: fputc(*s, out);
    }
  }
}

int output_github(FILE *out, const gc_findings *fs) {
  for (int i = 0; i < fs->n; i++) {
    const gc_finding *f = &fs->v[i];
    fprintf(out, "::%s ", f->severity == GC_SEV_ERROR ? "error" : f->severity == GC_SEV_NOTE ? "notice" : "warning");
    if (f->loc.file) {
      fputs("file=", out);
      gh_escape(out, f->loc.file, true);
      if (f->loc.line) fprintf(out, ",line=%u,col=%u", f->loc.line, f->loc.col ? f->loc.col : 1);
      fputc(',', out);
    }
    fputs("title=", out);
    gh_escape(out, f->rule, true);
    fputs("::", out);
    gh_escape(out, f->msg, false);
    fputs(" [", out);
    gh_escape(out, f->rule, false);
    fputc(']', out);
    for (int k = 0; k < f->nnotes; k++) {
      const gc_note *n = &f->notes[k];
      fputs("%0Anote: ", out);
      if (n->loc.file && n->loc.line) {
        gh_escape(out, n->loc.file, false);
        fprintf(out, ":%u:%u: ", n->loc.line, n->loc.col ? n->loc.col : 1);
      }
      gh_escape(out, n->msg, false);
    }
    fputc('\n', out);
  }
  return 0;
}
