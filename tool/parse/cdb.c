/* clang_cdb.c: compile_commands.json through libclang's compilation-database
 * API, turned into gc_jobs the engine can parse, and the fall-back flags (the
 * Python include directories) for files that have no database.
 *
 * An entry's command is trimmed to what a parser needs: the compiler's name,
 * the source file, outputs (-o X, -c, -S, -E), dependency-file flags
 * (-M, -MD, -MF X, -MT X, ...), and flags that would turn warnings into
 * errors or that libclang's driver rejects for a parse-only run (-Werror,
 * -flto=auto) are dropped. The entry's directory becomes job->dir; search
 * paths (-I, -isystem, -include, ...) are made absolute against it, and
 * `-working-directory DIR` is added for any other relative path, so that the
 * command resolves files as it did in the build and every file name clang
 * reports is absolute (or relative to our own directory). */
#include "cdb.h"
#include "log.h"
#include "xalloc.h"
#include <clang-c/CXCompilationDatabase.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>






/* A CXString copied to the heap and disposed of at once. */
static char *take(CXString s) {
  const char *c = clang_getCString(s);
  char *r = xstrdup(c ? c : "");
  clang_disposeString(s);
  return r;
}

char *cdb_absolute_path(const char *path, const char *base) {
  char *joined;
  if (path[0] == '/') {
    joined = xstrdup(path);
  } else {
    char cwd[PATH_MAX];
    if (!base) base = getcwd(cwd, sizeof cwd) ? cwd : ".";
    if (base[0] != '/') {
      char *b = cdb_absolute_path(base, NULL);
      joined = xasprintf("%s/%s", b, path);
      free(b);
    } else {
      joined = xasprintf("%s/%s", base, path);
    }
  }
  /* Lexical clean-up: drop "." and empty parts, let ".." eat its parent. */
  size_t n = strlen(joined);
  char *out = xmalloc(n + 2);
  size_t w = 0;
  const char *p = joined;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 1 && p[0] == '.') {
      /* nothing */
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (w > 0 && out[w - 1] != '/') w--;
      if (w > 0) w--;
    } else {
      out[w++] = '/';
      memcpy(out + w, p, len);
      w += len;
    }
    p += len;
  }
  if (w == 0) out[w++] = '/';
  out[w] = 0;
  free(joined);
  return out;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_c_source(const char *f) {
  return ends_with(f, ".c") || ends_with(f, ".h") || ends_with(f, ".i");
}

static bool is_cxx_source(const char *f) {
  static const char *const ext[] = {".cc", ".cpp", ".cxx", ".C", ".c++", ".cp", ".CPP",
                                    ".hpp", ".hh", ".hxx", ".H", ".ii", ".mm"};
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
    if (ends_with(f, ext[i])) return true;
  return false;
}

/* Flags that take the next argument as their value and are dropped with it. */
static bool drops_with_value(const char *a) {
  static const char *const v[] = {"-o", "-MF", "-MT", "-MQ", "-MJ", NULL};
  for (int i = 0; v[i]; i++)
    if (strcmp(a, v[i]) == 0) return true;
  return false;
}

/* Flags dropped on their own. */
static bool drops_alone(const char *a) {
  static const char *const exact[] = {"-c", "-S", "-E", "-M", "-MM", "-MD", "-MMD", "-MP", "-MG",
                                      "-Werror", "-pedantic-errors", "-ffat-lto-objects",
                                      "-fno-fat-lto-objects", "-pipe", "-save-temps", NULL};
  for (int i = 0; exact[i]; i++)
    if (strcmp(a, exact[i]) == 0) return true;
  /* Joined forms: -oFILE, -MFfile, -MTtarget, -MQtarget, -MJfile, -Werror=foo, -flto=auto. */
  if (strncmp(a, "-o", 2) == 0 && a[2] && strncmp(a, "-obj", 4) != 0) return true;
  if (strncmp(a, "-MF", 3) == 0 || strncmp(a, "-MT", 3) == 0 || strncmp(a, "-MQ", 3) == 0 ||
      strncmp(a, "-MJ", 3) == 0)
    return true;
  if (strncmp(a, "-Werror=", 8) == 0) return true;
  if (strncmp(a, "-Wp,-M", 6) == 0) return true;        /* -Wp,-MD,dir/.foo.o.d (Kbuild) */
  if (strncmp(a, "-flto", 5) == 0 || strncmp(a, "-fno-lto", 8) == 0) return true;
  if (strncmp(a, "-save-temps=", 12) == 0) return true;
  return false;
}

typedef struct strvec { char **v; int n, cap; } strvec;

static void sv_push(strvec *s, char *x) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->v = xrealloc(s->v, sizeof(char *) * (size_t)s->cap);
  }
  s->v[s->n++] = x;
}

/* Is argument 'a' (from an entry run in 'dir') the entry's own source file? */
static bool is_the_source(const char *a, const char *file, const char *abs_file, const char *dir) {
  if (strcmp(a, file) == 0) return true;
  if (a[0] == '-') return false;
  char *abs = cdb_absolute_path(a, dir);
  bool same = strcmp(abs, abs_file) == 0;
  free(abs);
  return same;
}

/* A path argument relative to the entry's directory, made absolute (and
 * resolved through symlinks when it exists): clang names files found through
 * a relative -I relative to -working-directory, not to our own directory, so
 * every path the engine reports must come from absolute search paths. */
static char *absolute_arg(const char *path, const char *dir) {
  if (!path[0] || path[0] == '/' || path[0] == '=' || !dir) return xstrdup(path);
  char *joined = cdb_absolute_path(path, dir);
  char real[PATH_MAX];
  if (realpath(joined, real)) { free(joined); return xstrdup(real); }
  return joined;
}

/* Flags whose value is a path, given joined (-Ifoo) or as the next argument. */
static const char *const path_flags[] = {"-isystem", "-iquote", "-idirafter", "-include",
                                         "-imacros", "-isysroot", "--sysroot=", "--sysroot",
                                         "-I", "-F", NULL};

/* Returns the flag of path_flags that 'a' starts with, or NULL. */
static const char *path_flag(const char *a) {
  for (int i = 0; path_flags[i]; i++)
    if (strncmp(a, path_flags[i], strlen(path_flags[i])) == 0) return path_flags[i];
  return NULL;
}

static void job_from_command(CXCompileCommand cmd, gc_job *job) {
  char *dir = take(clang_CompileCommand_getDirectory(cmd));
  char *file = take(clang_CompileCommand_getFilename(cmd));
  char *abs_file = cdb_absolute_path(file, dir[0] ? dir : NULL);
  strvec args = {0};
  unsigned nargs = clang_CompileCommand_getNumArgs(cmd);
  bool after_dashdash = false;
  for (unsigned i = 1; i < nargs; i++) { /* 0 is the compiler */
    char *a = take(clang_CompileCommand_getArg(cmd, i));
    if (!after_dashdash && strcmp(a, "--") == 0) { after_dashdash = true; free(a); continue; }
    if (is_the_source(a, file, abs_file, dir[0] ? dir : NULL)) { free(a); continue; }
    if (!after_dashdash && drops_with_value(a)) {
      free(a);
      if (i + 1 < nargs) i++;
      continue;
    }
    if (!after_dashdash && drops_alone(a)) { free(a); continue; }
    const char *pf = after_dashdash ? NULL : path_flag(a);
    if (pf && dir[0]) {
      size_t fl = strlen(pf);
      if (a[fl]) {                       /* joined: -Iinclude, --sysroot=/x */
        char *v = absolute_arg(a + fl, dir);
        sv_push(&args, xasprintf("%s%s", pf, v));
        free(v);
        free(a);
        continue;
      }
      if (i + 1 < nargs) {               /* separate: -I include */
        sv_push(&args, a);
        char *v = take(clang_CompileCommand_getArg(cmd, ++i));
        sv_push(&args, absolute_arg(v, dir));
        free(v);
        continue;
      }
    }
    sv_push(&args, a);
  }
  if (dir[0]) {
    sv_push(&args, xstrdup("-working-directory"));
    sv_push(&args, xstrdup(dir));
  }
  free(file);
  job->file = abs_file;
  job->dir = dir[0] ? dir : (free(dir), NULL);
  job->args = args.v;
  job->nargs = args.n;
}

/* libclang prints its reasons for rejecting a database on stderr
 * ("YAML:1:3: error: Unexpected token..."). Catch them so that the error
 * names the file and says where: "build/compile_commands.json:1:3: not
 * a valid compilation database: unexpected token..." (the caller adds the
 * file name). Runs before any worker thread exists. */
static CXCompilationDatabase load_quietly(const char *dir, CXCompilationDatabase_Error *code,
                                          char **why) {
  *why = NULL;
  fflush(stderr);
  FILE *tmp = tmpfile();
  int saved = tmp ? dup(2) : -1;
  if (saved < 0 || dup2(fileno(tmp), 2) < 0) {
    if (saved >= 0) close(saved);
    if (tmp) fclose(tmp);
    return clang_CompilationDatabase_fromDirectory(dir, code);
  }
  CXCompilationDatabase db = clang_CompilationDatabase_fromDirectory(dir, code);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  rewind(tmp);
  char line[1024];
  while (!*why && fgets(line, sizeof line, tmp)) {
    line[strcspn(line, "\r\n")] = 0;
    unsigned l, c;
    int off = 0;
    if (sscanf(line, "YAML:%u:%u: error: %n", &l, &c, &off) == 2 && off > 0)
      *why = xasprintf(":%u:%u: not a valid compilation database: %s", l, c, line + off);
    else if (strncmp(line, "json-compilation-database: ", 27) == 0)
      *why = xstrdup(line + 27);
  }
  fclose(tmp);
  return db;
}

int cdb_load(const char *build_dir, gc_job **jobs, int *njobs, char **err) {
  *jobs = NULL;
  *njobs = 0;
  *err = NULL;
  size_t bl = strlen(build_dir);
  char *json = xasprintf("%s%scompile_commands.json", build_dir,
                         bl && build_dir[bl - 1] == '/' ? "" : "/");
  struct stat st;
  if (stat(build_dir, &st) != 0) {
    *err = xasprintf("%s: cannot open: %s", build_dir, strerror(errno));
    free(json);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = xasprintf("%s: not a directory (-p takes the build directory holding compile_commands.json)",
                     build_dir);
    free(json);
    return -1;
  }
  FILE *fp = fopen(json, "rb");
  if (!fp) {
    *err = xasprintf("%s: cannot open: %s", json, strerror(errno));
    free(json);
    return -1;
  }
  /* fopen succeeds on a directory; reading tells. */
  char probe[1];
  size_t got = fread(probe, 1, 1, fp);
  int rerr = ferror(fp) ? errno : 0;
  fclose(fp);
  if (rerr) {
    *err = xasprintf("%s: cannot read: %s", json, strerror(rerr));
    free(json);
    return -1;
  }
  if (got == 0) {
    *err = xasprintf("%s: not a valid compilation database (the file is empty)", json);
    free(json);
    return -1;
  }

  CXCompilationDatabase_Error code = CXCompilationDatabase_NoError;
  char *why = NULL;
  CXCompilationDatabase db = load_quietly(build_dir, &code, &why);
  if (code != CXCompilationDatabase_NoError || !db) {
    if (why && why[0] == ':')
      *err = xasprintf("%s%s", json, why);
    else
      *err = xasprintf("%s: not a valid compilation database%s%s", json, why ? ": " : "",
                       why ? why : "");
    free(why);
    if (db) clang_CompilationDatabase_dispose(db);
    free(json);
    return -1;
  }
  CXCompileCommands cmds = clang_CompilationDatabase_getAllCompileCommands(db);
  unsigned n = cmds ? clang_CompileCommands_getSize(cmds) : 0;
  gc_job *v = n ? xmalloc(sizeof(gc_job) * n) : NULL;
  int w = 0;
  for (unsigned i = 0; i < n; i++) {
    CXCompileCommand cmd = clang_CompileCommands_getCommand(cmds, i);
    char *file = take(clang_CompileCommand_getFilename(cmd));
    if (!is_c_source(file)) {
      log_verbose("skipping '%s' from %s: %s", file, json,
                  is_cxx_source(file) ? "C++ is not analysed" : "not a C source file");
      free(file);
      continue;
    }
    free(file);
    job_from_command(cmd, &v[w++]);
  }
  if (cmds) clang_CompileCommands_dispose(cmds);
  clang_CompilationDatabase_dispose(db);
  free(json);
  *jobs = v;
  *njobs = w;
  return 0;
}

static bool is_readable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

char *cdb_find_for_file(const char *file) {
  char *dir = cdb_absolute_path(file, NULL);
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (!slash) break;
    if (slash == dir) slash[1] = 0; else *slash = 0;   /* parent of what we had */
    const char *sep = strcmp(dir, "/") == 0 ? "" : "/";
    char *cand = xasprintf("%s%scompile_commands.json", dir, sep);
    if (is_readable_file(cand)) { free(cand); return dir; }
    free(cand);
    cand = xasprintf("%s%sbuild/compile_commands.json", dir, sep);
    if (is_readable_file(cand)) {
      free(cand);
      char *b = xasprintf("%s%sbuild", dir, sep);
      free(dir);
      return b;
    }
    free(cand);
    if (strcmp(dir, "/") == 0) break;
  }
  free(dir);
  return NULL;
}

void cdb_job_clear(gc_job *j) {
  free(j->file);
  free(j->dir);
  for (int i = 0; i < j->nargs; i++) free(j->args[i]);
  free(j->args);
  memset(j, 0, sizeof *j);
}

void cdb_job_copy(gc_job *to, const gc_job *from) {
  to->file = xstrdup(from->file);
  to->dir = xstrdup(from->dir);
  to->nargs = from->nargs;
  to->args = xcalloc((size_t)from->nargs + 1, sizeof(char *));
  for (int i = 0; i < from->nargs; i++) to->args[i] = xstrdup(from->args[i]);
}

bool cdb_job_equal(const gc_job *a, const gc_job *b) {
  if (strcmp(a->file, b->file) != 0 || a->nargs != b->nargs) return false;
  if ((a->dir == NULL) != (b->dir == NULL) || (a->dir && strcmp(a->dir, b->dir) != 0)) return false;
  for (int i = 0; i < a->nargs; i++)
    if (strcmp(a->args[i], b->args[i]) != 0) return false;
  return true;
}

void cdb_free_jobs(gc_job *jobs, int njobs) {
  for (int i = 0; i < njobs; i++) cdb_job_clear(&jobs[i]);
  free(jobs);
}

/* ---- borrowing the flags of the nearest entry ---- */

bool cdb_is_header(const char *file) { return ends_with(file, ".h"); }

const char *cdb_not_c(const char *file) {
  if (is_c_source(file)) return NULL;
  return is_cxx_source(file) ? "C++ is not analysed" : "not a C source file";
}

/* The length of the directory part of an absolute path ("/a/b/c.c": 4). */
static size_t dir_len(const char *abs) {
  const char *slash = strrchr(abs, '/');
  return slash ? (size_t)(slash - abs) : 0;
}

/* How many leading directories two directories (absolute, as lengths of
 * prefixes of a and b) have in common. */
static int common_dirs(const char *a, size_t an, const char *b, size_t bn) {
  int n = 0;
  size_t i = 0;
  for (;;) {
    bool a_end = i == an || a[i] == '/', b_end = i == bn || b[i] == '/';
    if (a_end && b_end) {
      if (i > 0) n++;
      if (i == an || i == bn) return n;
      i++;
      continue;
    }
    if (a_end || b_end || a[i] != b[i]) return n;
    i++;
  }
}

/* The file name without its directory and its last extension. */
static void stem(const char *abs, const char **s, size_t *n) {
  const char *slash = strrchr(abs, '/');
  *s = slash ? slash + 1 : abs;
  const char *dot = strrchr(*s, '.');
  *n = dot && dot > *s ? (size_t)(dot - *s) : strlen(*s);
}

int cdb_nearest(const gc_job *jobs, int njobs, const char *file) {
  char *abs = cdb_absolute_path(file, NULL);
  size_t fd = dir_len(abs);
  const char *fs;
  size_t fsn;
  stem(abs, &fs, &fsn);
  int best = -1, best_same = 0, best_common = -1, best_stem = 0;
  for (int i = 0; i < njobs; i++) {
    char *e = cdb_absolute_path(jobs[i].file, jobs[i].dir);
    size_t ed = dir_len(e);
    int same = ed == fd && strncmp(e, abs, fd) == 0;
    int common = common_dirs(abs, fd, e, ed);
    const char *es;
    size_t esn;
    stem(e, &es, &esn);
    int same_stem = esn == fsn && strncmp(es, fs, fsn) == 0;
    free(e);
    if (best < 0 || same > best_same || (same == best_same && common > best_common) ||
        (same == best_same && common == best_common && same_stem > best_stem)) {
      best = i;
      best_same = same;
      best_common = common;
      best_stem = same_stem;
    }
  }
  free(abs);
  return best;
}

/* ---- fall-back flags: the Python headers of the python3 on PATH ---- */

static char *run_line(const char *cmd) {
  FILE *p = popen(cmd, "r");
  if (!p) return NULL;
  char buf[PATH_MAX + 16];
  char *r = NULL;
  if (fgets(buf, sizeof buf, p)) {
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    if (n) r = xstrdup(buf);
  }
  int status = pclose(p);
  if (status != 0) { free(r); r = NULL; }
  return r;
}

static bool has_python_h(const char *dir) {
  char *f = xasprintf("%s/Python.h", dir);
  bool ok = is_readable_file(f);
  free(f);
  return ok;
}

/* Newest /usr/include/python3.N (or /usr/local/include) holding Python.h. */
static char *guess_include_dir(void) {
  static const char *const roots[] = {"/usr/local/include", "/usr/include"};
  for (size_t r = 0; r < 2; r++) {
    for (int minor = 40; minor >= 0; minor--) {
      static const char *const tags[] = {"", "t", "d", "m"};
      for (size_t t = 0; t < 4; t++) {
        char *d = xasprintf("%s/python3.%d%s", roots[r], minor, tags[t]);
        if (has_python_h(d)) return d;
        free(d);
      }
    }
  }
  return NULL;
}

int cdb_fallback_args(char ***args, int *nargs, char **explain) {
  strvec v = {0};
  char *inc = run_line("python3 -c \"import sysconfig; print(sysconfig.get_paths()['include'])\" 2>/dev/null");
  char *cfg = NULL;
  if (inc) {
    char *h = run_line("python3 -c \"import sysconfig; print(sysconfig.get_config_h_filename())\" 2>/dev/null");
    if (h) {
      char *slash = strrchr(h, '/');
      if (slash) { *slash = 0; if (strcmp(h, inc) != 0) cfg = xstrdup(h); }
      free(h);
    }
    if (!has_python_h(inc)) {
      *explain = xasprintf("python3 on PATH names %s, which has no Python.h "
                           "(is the python3-dev package installed?)", inc);
      free(inc);
      free(cfg);
      return -1;
    }
    *explain = xasprintf("the include directories of python3 on PATH: -I%s%s%s", inc,
                         cfg ? " -I" : "", cfg ? cfg : "");
  } else {
    inc = guess_include_dir();
    if (!inc) {
      *explain = xasprintf("no python3 on PATH and no Python.h under /usr/include/python3.*");
      return -1;
    }
    *explain = xasprintf("no python3 on PATH; using -I%s", inc);
  }
  sv_push(&v, xasprintf("-I%s", inc));
  if (cfg) sv_push(&v, xasprintf("-I%s", cfg));
  free(inc);
  free(cfg);
  *args = v.v;
  *nargs = v.n;
  return 0;
}
