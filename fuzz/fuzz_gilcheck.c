/* fuzz_gilcheck.c: a libFuzzer harness for the whole pipeline. Each input
 * is written to a .c file and goes through what the command line does with
 * one file: program_add_tu (libclang parse, lowering to the control-flow
 * graph), program_analyze (summaries, flow, rules) and the frees, with every
 * rule on (the default-off ones too) and the CPython headers on the include
 * path.
 *
 * Parsing <Python.h> costs far more than the input itself, so by default the
 * harness first saves <Python.h> as a precompiled header with libclang and
 * gives every input `-include-pch` for it: the input's own #include
 * <Python.h> then costs nothing (the header guard is already defined). A
 * crash found that way is usually also a crash of
 *     gilcheck CRASH-FILE -- -I<python include dir>
 * and it is that command that the regression test under test/hostile/ runs.
 *
 * Environment:
 *   GILCHECK_FUZZ_PYINC=DIR   CPython include directory (default: the one
 *                             CMake found, GILCHECK_FUZZ_PYTHON_INCLUDE)
 *   GILCHECK_FUZZ_NO_PCH=1    parse <Python.h> again for every input, as
 *                             the command line does (slower, exact)
 *   GILCHECK_FUZZ_VERBOSE=1   the engine's -v notes and the parse errors on
 *                             stderr
 *
 * Built by CMake with -DGILCHECK_FUZZ=ON (see fuzz/CMakeLists.txt); run by
 * fuzz/run; see docs/fuzzing.md. */
#include <clang-c/Index.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "program.h"

#ifndef GILCHECK_FUZZ_PYTHON_INCLUDE
#define GILCHECK_FUZZ_PYTHON_INCLUDE "/usr/include/python3.11"
#endif

static char workdir[4096];       /* private directory for the input file and the PCH */
static char input_path[4200];
static char pch_path[4200];
static char pch_header[4200];    /* kept: clang checks a PCH's inputs when loading it */
static char pyinc_flag[4200];
static const char *args[8];
static int nargs;
static gc_program_opts opts;

static void die(const char *what) {
  fprintf(stderr, "fuzz_gilcheck: %s\n", what);
  exit(1);
}

static void remove_workdir(void) {
  unlink(input_path);
  if (pch_path[0]) unlink(pch_path);
  if (pch_header[0]) unlink(pch_header);
  rmdir(workdir);
}

/* Saves <Python.h> as an AST file that -include-pch accepts. Returns 0, or
 * -1 (the harness then parses the header for every input). */
static int make_pch(const char *pyinc) {
  char *header = pch_header;
  snprintf(pch_header, sizeof pch_header, "%s/pch.h", workdir);
  FILE *f = fopen(header, "w");
  if (!f) return -1;
  fputs("#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n", f);
  fclose(f);
  snprintf(pch_path, sizeof pch_path, "%s/python.pch", workdir);
  const char *pargs[] = {"-x", "c-header", pyinc_flag};
  CXIndex idx = clang_createIndex(0, 0);
  CXTranslationUnit tu = NULL;
  enum CXErrorCode err = clang_parseTranslationUnit2(
      idx, header, pargs, 3, NULL, 0,
      CXTranslationUnit_ForSerialization | CXTranslationUnit_Incomplete, &tu);
  int rc = -1;
  if (err == CXError_Success && tu &&
      clang_saveTranslationUnit(tu, pch_path, clang_defaultSaveOptions(tu)) == CXSaveError_None)
    rc = 0;
  if (tu) clang_disposeTranslationUnit(tu);
  clang_disposeIndex(idx);
  if (rc != 0) {
    fprintf(stderr, "fuzz_gilcheck: could not save <Python.h> from %s as a PCH; parsing it for every input\n",
            pyinc);
    unlink(pch_path);
    pch_path[0] = 0;
  }
  (void)pyinc;
  return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *tmp = getenv("TMPDIR");
  /* tmpfs when there is one: an input is written for every run */
  struct stat st;
  if (!tmp || !*tmp) tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
  snprintf(workdir, sizeof workdir, "%s/fuzz_gilcheck.XXXXXX", tmp);
  if (!mkdtemp(workdir)) die("cannot make a temporary directory");
  snprintf(input_path, sizeof input_path, "%s/input.c", workdir);
  atexit(remove_workdir);

  const char *pyinc = getenv("GILCHECK_FUZZ_PYINC");
  if (!pyinc || !*pyinc) pyinc = GILCHECK_FUZZ_PYTHON_INCLUDE;
  snprintf(pyinc_flag, sizeof pyinc_flag, "-I%s", pyinc);
  args[nargs++] = pyinc_flag;
  const char *no_pch = getenv("GILCHECK_FUZZ_NO_PCH");
  if (!(no_pch && *no_pch && strcmp(no_pch, "0") != 0) && make_pch(pyinc) == 0) {
    args[nargs++] = "-include-pch";
    args[nargs++] = pch_path;
  }
  const char *v = getenv("GILCHECK_FUZZ_VERBOSE");
  opts.verbose = v && *v && strcmp(v, "0") != 0;
  for (int r = 0; r < R_COUNT; r++) opts.rules[r] = true;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(input_path, "wb");
  if (!f) die("cannot write the input file");
  if (size && fwrite(data, 1, size, f) != size) die("cannot write the input file");
  if (fclose(f) != 0) die("cannot write the input file");

  gc_job job = {input_path, NULL, (char **)args, nargs};
  gc_program *p = program_new(&opts);
  gc_findings errors = {0}, found = {0};
  program_add_tu(p, &job, &errors);
  if (opts.verbose)
    for (int i = 0; i < errors.n; i++)
      fprintf(stderr, "fuzz_gilcheck: %s:%u:%u: %s\n", errors.v[i].loc.file ? errors.v[i].loc.file : "?",
              errors.v[i].loc.line, errors.v[i].loc.col, errors.v[i].msg);
  /* also when the unit was not added: an empty program must analyse too */
  program_analyze(p, &found);
  /* What the driver does next with the findings, minus printing. */
  diag_fill_snippets(&found);
  diag_sort_unique(&errors);
  diag_free(&errors);
  diag_free(&found);
  program_free(p);
  return 0;
}
