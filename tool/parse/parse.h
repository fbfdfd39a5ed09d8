/* parse.h: parse one translation unit with libclang and lower it
 * (parse.c), the way the command line and the result cache see it. */
#ifndef GILCHECK_PARSE_H
#define GILCHECK_PARSE_H
#include "arena.h"
#include "diag.h"
#include "ir.h"
#include "program.h"

/* Parses JOB and fills OUT (allocated in A). Clang errors become findings
 * "clang-diagnostic-error" in ERRORS. Returns 0, or 2 when the unit could not
 * be analysed (it does not parse, or libclang failed on it). */
int front_lower_job(const gc_job *job, arena *A, ir_tu *out, gc_findings *errors);

/* Every file the unit read, into out->deps (for the result cache). */
void front_collect_deps(void *cxtu, const char *dir, arena *A, ir_tu *out);
/* The unit's errors as findings; returns 2 when there is one, else 0. */
int front_collect_errors(void *cxtu, const gc_job *job, arena *A, gc_findings *errors);

/* The driver path given to libclang as argv[0]: <prefix>/bin/clang for the
 * libclang at <prefix>/lib, so that the resource directory (stddef.h) does
 * not depend on the current directory; "clang" when that is unknown. */
const char *front_driver_path(void);
/* Back to the current directory gilcheck started in: libclang 14 changes
 * the process's directory to a unit's -working-directory while parsing it.
 * Called after every parse and reparse. */
void front_restore_cwd(void);

/* libclang's version, e.g. "Debian clang version 19.1.7". */
const char *front_clang_version(void);

#endif
