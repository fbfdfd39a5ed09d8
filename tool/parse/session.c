/* clang_session.c: a libclang translation unit kept per open document, for
 * the language server (session.h).
 *
 * The first check parses with a precompiled preamble built at once
 * (CXTranslationUnit_PrecompiledPreamble | CreatePreambleOnFirstParse);
 * later checks call clang_reparseTranslationUnit with the editor's text as
 * an unsaved file, which reuses the preamble while the #include block and
 * the headers it was built from are unchanged (libclang compares their size
 * and modification time in seconds; the project's own headers are also
 * compared here to the nanosecond, and a change means a fresh parse).
 * Errors are not kept going past (no KeepGoing): a unit with errors is not
 * analysed, as on the command line. When a reparse fails the unit is
 * disposed of and the next check parses from scratch.
 *
 * Visiting a unit's top-level cursors also visits everything the preamble
 * holds: Python.h's declarations and its tens of thousands of macro
 * definitions and expansions, deserialised again on every check, which is
 * most of a re-check's time. The lowering only looks at project files, so
 * while the unit includes nothing but system and CPython headers the
 * session's index is made with excludeDeclarationsFromPCH, and libclang
 * visits only what the main file itself declares and expands. Once a
 * project header shows up among the inclusions (its functions are callees
 * the summaries need, with the macros they use), the session switches for
 * good to an index that visits everything, and parses again. */
#define _GNU_SOURCE
#include "session.h"
#include "cdb.h"
#include "parse.h"
#include "hash.h"
#include "xalloc.h"
#include <clang-c/Index.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "arena.h"
#include "ir.h"
#include "lower.h"

/* A project header the unit includes, as it was on disk at the last scan. */
typedef struct tracked_header {
  char *path;
  struct stat st;
} tracked_header;

struct gc_session {
  gc_job job;                   /* own copy */
  CXIndex index;
  bool all_decls;               /* the index visits the preamble's declarations too */
  bool scanned;                 /* the inclusions were scanned for this directive block */
  uint64_t block_hash;          /* of the leading directive block they were scanned for */
  tracked_header *headers;      /* the project headers the unit includes */
  int nheaders;
  CXTranslationUnit tu;         /* NULL before the first parse or after a failed reparse */
  gc_session_stats stats;
};


static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

gc_session *session_open(const gc_job *job) {
  gc_session *s = xcalloc(1, sizeof *s);
  cdb_job_copy(&s->job, job);
  s->index = clang_createIndex(1, 0);    /* excludeDeclarationsFromPCH: see above */
  return s;
}

static const char *parse_failure(enum CXErrorCode e) {
  switch (e) {
  case CXError_Crashed: return "libclang crashed while parsing it";
  case CXError_InvalidArguments: return "libclang rejected the arguments";
  case CXError_ASTReadError: return "libclang could not read it";
  default: return "libclang could not parse it";
  }
}

/* Parses or reparses; returns CXError_Success with s->tu set, or the
 * error with s->tu NULL. */
static enum CXErrorCode parse(gc_session *s, struct CXUnsavedFile *unsaved, unsigned nunsaved) {
  if (s->tu) {
    s->stats.reparsed = true;
    int rc = clang_reparseTranslationUnit(s->tu, nunsaved, unsaved, clang_defaultReparseOptions(s->tu));
    front_restore_cwd();
    if (rc == 0) return CXError_Success;
    clang_disposeTranslationUnit(s->tu);   /* unusable after a failed reparse */
    s->tu = NULL;
  }
  s->stats.reparsed = false;
  unsigned opts = CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_PrecompiledPreamble |
                  CXTranslationUnit_CreatePreambleOnFirstParse |
                  CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles;
  /* as the command line parses (parse.c): libclang's own clang as argv[0],
   * so that its resource directory does not depend on the current
   * directory, and no warnings */
  const char **args = xcalloc((size_t)s->job.nargs + 3, sizeof(char *));
  int nargs = 0;
  args[nargs++] = front_driver_path();
  for (int i = 0; i < s->job.nargs; i++) args[nargs++] = s->job.args[i];
  args[nargs++] = "-w";
  enum CXErrorCode err = clang_parseTranslationUnit2FullArgv(s->index, s->job.file, args, nargs, unsaved, nunsaved,
                                                             opts, &s->tu);
  front_restore_cwd();
  free(args);
  if (err != CXError_Success && s->tu) {
    clang_disposeTranslationUnit(s->tu);
    s->tu = NULL;
  }
  return err;
}

/* Does the directory of PATH, or its parent, hold Python.h? The lowering's
 * test for a CPython header (clang_lower.c, file_of). */
static bool in_python_headers(const char *path) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf - 12) return false;
  memcpy(buf, path, n + 1);
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(buf, '/');
    if (!slash) return false;
    strcpy(slash + 1, "Python.h");
    struct stat st;
    if (stat(buf, &st) == 0) return true;
    *slash = 0;
  }
  return false;
}

static void forget_headers(gc_session *s) {
  for (int i = 0; i < s->nheaders; i++) free(s->headers[i].path);
  free(s->headers);
  s->headers = NULL;
  s->nheaders = 0;
}

static void visit_inclusion(CXFile f, CXSourceLocation *stack, unsigned depth, CXClientData data) {
  gc_session *s = data;
  if (depth == 0) return;                     /* the main file itself */
  if (clang_Location_isInSystemHeader(clang_getLocationForOffset(s->tu, f, 0))) return;
  CXString name = clang_getFileName(f);
  const char *n = clang_getCString(name);
  if (n && *n && !in_python_headers(n)) {
    char *path = n[0] != '/' && s->job.dir ? NULL : xstrdup(n);
    if (!path) path = xasprintf("%s/%s", s->job.dir, n);
    tracked_header *h = xrealloc(s->headers, sizeof *h * (size_t)(s->nheaders + 1));
    s->headers = h;
    h = &s->headers[s->nheaders++];
    h->path = path;
    if (stat(path, &h->st) != 0) memset(&h->st, 0, sizeof h->st);
  }
  clang_disposeString(name);
}

/* Finds the project headers the unit includes (neither system headers nor
 * CPython's), and how they are on disk now. */
static void scan_project_headers(gc_session *s) {
  forget_headers(s);
  clang_getInclusions(s->tu, visit_inclusion, s);
}

/* Has a project header changed on disk since the last scan? libclang
 * reuses a preamble when its files keep their size and their modification
 * time in whole seconds, so a header edited twice within a second to the
 * same size would go unnoticed; the time in nanoseconds does not. */
static bool headers_changed(const gc_session *s) {
  for (int i = 0; i < s->nheaders; i++) {
    const struct stat *was = &s->headers[i].st;
    struct stat st;
    if (stat(s->headers[i].path, &st) != 0) return was->st_ino != 0;
    if (st.st_ino != was->st_ino || st.st_dev != was->st_dev || st.st_size != was->st_size ||
        st.st_mtim.tv_sec != was->st_mtim.tv_sec || st.st_mtim.tv_nsec != was->st_mtim.tv_nsec)
      return true;
  }
  return false;
}

/* The length of TEXT's leading block of blank lines, comments and
 * preprocessor directives; clang's preamble lies within it. Wherever it is
 * unsure (a comment opened inside a directive, say) it errs on the long
 * side, so that a changed #include in the preamble is never missed. */
static size_t directive_block(const char *t, size_t n) {
  size_t i = 0, good = 0;
  bool in_comment = false;
  while (i < n) {
    bool directive = false, code = false, at_start = true;
    while (i < n && t[i] != '\n') {
      char c = t[i], d = i + 1 < n ? t[i + 1] : 0;
      if (in_comment) {
        if (c == '*' && d == '/') { in_comment = false; i += 2; } else i++;
      } else if (c == '/' && d == '*') {
        in_comment = true;
        i += 2;
      } else if (c == '/' && d == '/' && !directive) {
        while (i < n && t[i] != '\n') i++;    /* to the end of the line */
      } else if (c == '\\' && directive && (d == '\n' || (d == '\r' && i + 2 < n && t[i + 2] == '\n'))) {
        i += d == '\n' ? 2 : 3;                  /* a directive goes on */
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        i++;
      } else if (c == '#' && at_start) {
        directive = true;
        at_start = false;
        i++;
      } else if (directive) {
        at_start = false;
        i++;
      } else {
        code = true;
        break;
      }
    }
    if (code) break;
    if (i < n) i++;                           /* the newline */
    good = i;
  }
  return good;
}


/* Clang reports nothing after a fatal error (a missing #include) on the
 * command line, but a unit parsed for editing goes on and what follows is
 * noise: keep the errors up to the first fatal one. front_collect_errors
 * appends one finding per diagnostic of severity error or worse, in
 * libclang's order, from index FROM of ERRORS. */
static void drop_after_fatal(CXTranslationUnit tu, gc_findings *errors, int from) {
  unsigned nd = clang_getNumDiagnostics(tu);
  int k = 0;
  bool fatal = false;
  for (unsigned i = 0; i < nd && !fatal; i++) {
    CXDiagnostic d = clang_getDiagnostic(tu, i);
    enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
    clang_disposeDiagnostic(d);
    if (sev < CXDiagnostic_Error) continue;
    k++;
    fatal = sev == CXDiagnostic_Fatal;
  }
  if (!fatal) return;
  while (errors->n > from + k) diag_free_one(&errors->v[--errors->n]);
}

/* Where each included file is brought into the main file: the #include
 * line in the main file that leads to it. */
typedef struct include_site {
  char *name;                   /* as clang names the included file */
  unsigned line, col;           /* of the #include in the main file */
} include_site;

typedef struct include_sites {
  include_site *v;
  int n, cap;
} include_sites;

static void visit_site(CXFile f, CXSourceLocation *stack, unsigned depth, CXClientData data) {
  include_sites *sites = data;
  if (depth == 0) return;
  if (sites->n == sites->cap) {
    sites->cap = sites->cap ? sites->cap * 2 : 64;
    sites->v = xrealloc(sites->v, sizeof *sites->v * (size_t)sites->cap);
  }
  include_site *st = &sites->v[sites->n++];
  CXString name = clang_getFileName(f);
  st->name = xstrdup(clang_getCString(name) ? clang_getCString(name) : "");
  clang_disposeString(name);
  clang_getFileLocation(stack[depth - 1], NULL, &st->line, &st->col, NULL);
}

/* An error in an included file is shown where the user can act on it: at
 * the #include line of the main file that brings the file in, with a note
 * at the error's own place. */
static void move_to_include_lines(gc_session *s, gc_findings *errors, int from) {
  include_sites sites = {0};
  bool scanned = false;
  for (int i = from; i < errors->n; i++) {
    gc_finding *f = &errors->v[i];
    if (!f->loc.file || !f->loc.line || strcmp(f->loc.file, s->job.file) == 0) continue;
    if (!scanned) {
      clang_getInclusions(s->tu, visit_site, &sites);
      scanned = true;
    }
    const include_site *site = NULL;
    for (int k = 0; k < sites.n && !site; k++) {
      const char *n = sites.v[k].name;
      size_t dl = s->job.dir ? strlen(s->job.dir) : 0;
      if (strcmp(n, f->loc.file) == 0 ||
          (n[0] != '/' && dl && strncmp(f->loc.file, s->job.dir, dl) == 0 && f->loc.file[dl] == '/' &&
           strcmp(f->loc.file + dl + 1, n) == 0))
        site = &sites.v[k];
    }
    if (!site || !site->line) continue;
    /* the place it is moved to says where the file is included: not the
     * notes naming each #include (front_collect_errors), for the command line */
    for (int k = 0; k < f->nnotes; k++) { free(f->notes[k].msg); free((char *)f->notes[k].loc.file); }
    f->nnotes = 0;
    diag_note(f, f->loc, "%s", f->msg);
    char *msg = NULL;
    msg = xasprintf("in included file: %s", f->msg);
    free(f->msg);
    f->msg = msg;
    free((char *)f->loc.file);
    f->loc.file = xstrdup(s->job.file);
    f->loc.line = site->line;
    f->loc.col = site->col;
  }
  for (int k = 0; k < sites.n; k++) free(sites.v[k].name);
  free(sites.v);
}

int session_lower(gc_session *s, const char *text, size_t len, gc_findings *errors, gc_unit **unit) {
  *unit = NULL;
  memset(&s->stats, 0, sizeof s->stats);
  struct CXUnsavedFile unsaved = {s->job.file, text, (unsigned long)len};
  double t0 = now_ms();
  if (s->tu && headers_changed(s)) {
    clang_disposeTranslationUnit(s->tu);     /* a fresh parse builds a fresh preamble */
    s->tu = NULL;
  }
  enum CXErrorCode err = parse(s, &unsaved, text ? 1 : 0);
  /* Scanning the inclusions costs tens of milliseconds: do it after a
   * fresh parse, and after a reparse only when the directive block at the
   * top (which holds the preamble) has changed. */
  if (err == CXError_Success) {
    uint64_t h = text ? gc_hash(text, directive_block(text, len)) : 0;
    if (!s->stats.reparsed || !text || !s->scanned || h != s->block_hash) scan_project_headers(s);
    s->block_hash = h;
    s->scanned = text != NULL;
  }
  if (err == CXError_Success && !s->all_decls && s->nheaders > 0) {
    /* A project header's functions are lowered too: visit everything from
     * now on, with a new index and a new parse. */
    clang_disposeTranslationUnit(s->tu);
    s->tu = NULL;
    clang_disposeIndex(s->index);
    s->index = clang_createIndex(0, 0);
    s->all_decls = true;
    err = parse(s, &unsaved, text ? 1 : 0);
  }
  s->stats.all_decls = s->all_decls;
  double t1 = now_ms();
  s->stats.parse_ms = t1 - t0;
  if (err != CXError_Success) {
    gc_loc floc = {s->job.file, 0, 0};
    diag_add(errors, "clang-diagnostic-error", GC_SEV_ERROR, floc, NULL, "%s: %s", s->job.file,
             parse_failure(err));
    return 2;
  }

  gc_unit *u = xcalloc(1, sizeof *u);
  int from = errors->n;
  int rc = front_collect_errors(s->tu, &s->job, &u->A, errors);
  if (rc != 0) {
    drop_after_fatal(s->tu, errors, from);
    move_to_include_lines(s, errors, from);
    unit_free(u);
    s->stats.lower_ms = now_ms() - t1;
    return rc;
  }
  u->tu.path = arena_strdup(&u->A, s->job.file);
  front_lower_cxtu(s->tu, s->job.dir, &u->A, &u->tu);
  s->stats.lower_ms = now_ms() - t1;
  *unit = u;
  return 0;
}

bool session_headers_changed(const gc_session *s) { return s->tu && headers_changed(s); }

void unit_free(gc_unit *u) {
  if (!u) return;
  arena_free(&u->A);
  free(u);
}

const gc_session_stats *session_stats(const gc_session *s) { return &s->stats; }

const gc_job *session_job(const gc_session *s) { return &s->job; }

void session_close(gc_session *s) {
  if (!s) return;
  if (s->tu) clang_disposeTranslationUnit(s->tu);
  clang_disposeIndex(s->index);
  forget_headers(s);
  cdb_job_clear(&s->job);
  free(s);
}
