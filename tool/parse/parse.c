/* parse.c: parsing one translation unit with libclang — the unit's flags
 * as the compiler would get them, its errors as findings, every file it read
 * (for the result cache) — then handing it to the lowering (tool/lower/).
 * Everything libclang says about a unit as a whole lives here; what it says
 * about the code inside functions is the lowering's.
 *
 * Two flags of our own go to libclang's driver with the unit's:
 *
 *   argv[0]  the clang of libclang's own installation (<prefix>/bin/clang
 *            for <prefix>/lib/libclang.so), not a bare "clang": the driver
 *            finds its resource directory (stddef.h, stdarg.h) relative to
 *            argv[0], so a bare name made it relative to the current
 *            directory, which the parse then resolved against the unit's
 *            -working-directory: nothing parsed when gilcheck ran from /,
 *            /usr or /usr/lib/llvm-N.
 *   -w       no warnings: gilcheck reports only errors, and clang's
 *            analysis-based warnings build a control-flow graph of every
 *            function (7 % of a parse). A warning made an error by -Werror
 *            or -Werror=NAME (which cdb.c drops from databases) no longer
 *            stops the analysis; what the language makes an error still
 *            does.
 *
 * And one thing we undo: libclang 14's driver carries out -working-directory
 * (which cdb.c adds for a database's units) by changing the whole process's
 * current directory, and leaves it there. Every parse is followed by
 * front_restore_cwd(), so that relative paths the user gave (-o, a
 * baseline, a configuration found by its relative name) keep their meaning. */
#define _GNU_SOURCE
#include <clang-c/Index.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arena.h"
#include "lower.h"
#include "parse.h"
#include "xalloc.h"

static bool is_abs(const char *p) { return p && p[0] == '/'; }

typedef struct dep_walk { arena *A; const char *dir; VEC(const char *) v; } dep_walk;

static void add_inclusion(CXFile f, CXSourceLocation *stack, unsigned n, CXClientData d) {
  dep_walk *w = d;
  CXString name = clang_getFileName(f);
  const char *s = clang_getCString(name);
  if (s) {
    const char *p = s[0] == '/' || !w->dir ? arena_strdup(w->A, s) : arena_printf(w->A, "%s/%s", w->dir, s);
    vec_push(w->A, w->v, p);
  }
  clang_disposeString(name);
}

void front_collect_deps(void *cxtu, const char *dir, arena *A, ir_tu *out) {
  dep_walk w = {A, dir, {0}};
  clang_getInclusions((CXTranslationUnit)cxtu, add_inclusion, &w);
  out->deps = w.v.v;
  out->ndeps = w.v.n;
}

static const char *error_text(enum CXErrorCode e) {
  switch (e) {
  case CXError_Crashed: return "libclang crashed while parsing it";
  case CXError_InvalidArguments: return "libclang rejected the arguments";
  case CXError_ASTReadError: return "libclang could not read it";
  default: return "libclang could not parse it";
  }
}

static char driver_path[PATH_MAX] = "clang";
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
static int cwd_fd = -1;   /* the current directory before the first parse */

/* <prefix>/bin/clang for the libclang at <prefix>/lib (as libclang finds its
 * own resource directory); "clang" when the library's path is unknown. */
static void find_driver(void) {
  cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  Dl_info info;
  if (!dladdr((void *)(uintptr_t)clang_createIndex, &info) || !info.dli_fname || info.dli_fname[0] != '/') return;
  char lib[PATH_MAX];
  snprintf(lib, sizeof lib, "%s", info.dli_fname);
  for (int up = 0; up < 2; up++) {       /* the library's name, then lib/ */
    char *slash = strrchr(lib, '/');
    if (!slash) return;
    *slash = 0;
  }
  if (strlen(lib) + sizeof "/bin/clang" <= sizeof driver_path) snprintf(driver_path, sizeof driver_path, "%s/bin/clang", lib);
}

const char *front_driver_path(void) {
  pthread_once(&driver_once, find_driver);
  return driver_path;
}

void front_restore_cwd(void) {
  pthread_once(&driver_once, find_driver);
  if (cwd_fd >= 0 && fchdir(cwd_fd) != 0) { /* nothing better to do: paths stay as they were */ }
}

int front_lower_job(const gc_job *job, arena *A, ir_tu *out, gc_findings *errors) {
  memset(out, 0, sizeof *out);
  out->path = arena_strdup(A, job->file);
  CXIndex idx = clang_createIndex(0, 0);
  const char **args = xcalloc((size_t)job->nargs + 3, sizeof(char *));
  int nargs = 0;
  args[nargs++] = front_driver_path();
  for (int i = 0; i < job->nargs; i++) args[nargs++] = job->args[i];
  args[nargs++] = "-w";
  CXTranslationUnit tu = NULL;
  unsigned opts = CXTranslationUnit_DetailedPreprocessingRecord;
  enum CXErrorCode err = clang_parseTranslationUnit2FullArgv(idx, job->file, args, nargs, NULL, 0, opts, &tu);
  front_restore_cwd();
  free(args);
  gc_loc floc = {job->file, 0, 0};
  if (err != CXError_Success || !tu) {
    diag_add(errors, "clang-diagnostic-error", GC_SEV_ERROR, floc, NULL, "%s: %s", job->file, error_text(err));
    clang_disposeIndex(idx);
    return 2;
  }
  int rc = front_collect_errors(tu, job, A, errors);
  if (rc == 0) {
    front_lower_cxtu(tu, job->dir, A, out);
    front_collect_deps(tu, job->dir, A, out);
  }
  clang_disposeTranslationUnit(tu);
  clang_disposeIndex(idx);
  return rc;
}

/* The chain of #include directives that brought a file into the unit
 * (clang's "In file included from"): the first is the #include of the
 * file itself, the last one is in the main file. */
typedef struct include_chain {
  CXFile target;
  CXSourceLocation *stack;
  unsigned n;
} include_chain;

static void find_chain(CXFile f, CXSourceLocation *stack, unsigned n, CXClientData d) {
  include_chain *c = d;
  if (c->stack || !clang_File_isEqual(f, c->target) || n == 0) return;
  c->stack = xmalloc(sizeof *stack * n);
  memcpy(c->stack, stack, sizeof *stack * n);
  c->n = n;
}

/* A file name from libclang, absolute against the job's directory. */
static const char *job_path(arena *A, const gc_job *job, const char *name) {
  if (name && !is_abs(name) && job->dir && strcmp(job->dir, "."))
    return arena_printf(A, "%s/%s", job->dir, name);
  return name ? arena_strdup(A, name) : NULL;
}

static const char *base_name(const char *p) {
  const char *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

/* Notes naming the files that include F, innermost first:
 *   net.c:3:10: note: 'errors.h' is included here */
static void note_includers(CXTranslationUnit tu, CXFile f, const gc_job *job, arena *A, gc_finding *finding) {
  include_chain c = {f, NULL, 0};
  clang_getInclusions(tu, find_chain, &c);
  CXFile included = f;
  for (unsigned k = 0; k < c.n; k++) {
    CXFile by = NULL;
    unsigned line = 0, col = 0, off = 0;
    clang_getFileLocation(c.stack[k], &by, &line, &col, &off);
    CXString inc_name = clang_getFileName(included), by_name = by ? clang_getFileName(by) : (CXString){0};
    const char *in = clang_getCString(inc_name), *bn = by ? clang_getCString(by_name) : NULL;
    gc_loc loc = {job_path(A, job, bn), line, col};
    diag_note(finding, loc, "'%s' is included here", base_name(in ? in : "?"));
    clang_disposeString(inc_name);
    if (by) clang_disposeString(by_name);
    included = by;
    if (!by) break;
  }
  free(c.stack);
}

int front_collect_errors(void *cxtu, const gc_job *job, arena *A, gc_findings *errors) {
  CXTranslationUnit tu = cxtu;
  int rc = 0;
  unsigned nd = clang_getNumDiagnostics(tu);
  CXFile main_file = clang_getFile(tu, job->file);
  for (unsigned i = 0; i < nd; i++) {
    CXDiagnostic d = clang_getDiagnostic(tu, i);
    enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
    if (sev >= CXDiagnostic_Error) {
      CXFile f = NULL;
      unsigned line = 0, col = 0, off = 0;
      clang_getFileLocation(clang_getDiagnosticLocation(d), &f, &line, &col, &off);
      gc_loc loc = {job->file, line, col};
      CXString fname = f ? clang_getFileName(f) : (CXString){0};
      const char *fn = f ? clang_getCString(fname) : NULL;
      if (fn && *fn) loc.file = job_path(A, job, fn);
      CXString msg = clang_getDiagnosticSpelling(d);
      gc_finding *e = diag_add(errors, "clang-diagnostic-error", GC_SEV_ERROR, loc, NULL, "%s", clang_getCString(msg));
      /* an error in a header says which file brought it in */
      if (f && !(main_file && clang_File_isEqual(f, main_file))) note_includers(tu, f, job, A, e);
      clang_disposeString(msg);
      if (f) clang_disposeString(fname);
      rc = 2;
    }
    clang_disposeDiagnostic(d);
  }
  return rc;
}

const char *front_clang_version(void) {
  static char buf[256];
  static int done;
  if (!done) {
    CXString v = clang_getClangVersion();
    snprintf(buf, sizeof buf, "%s", clang_getCString(v));
    clang_disposeString(v);
    done = 1;
  }
  return buf;
}
