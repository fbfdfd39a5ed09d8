/* lower.h: the front end's entry point — parse one translation unit with
 * libclang and lower its functions into the IR (clang_lower.c). */
#ifndef GILCHECK_LOWER_H
#define GILCHECK_LOWER_H
#include "arena.h"
#include "diag.h"
#include "ir.h"
#include "program.h"

/* Parses JOB and fills OUT (allocated in A). Clang errors become findings
 * "clang-diagnostic-error" in ERRORS. Returns 0, or 2 when the unit could not
 * be analysed (it does not parse, or libclang failed on it). */
int front_lower_job(const gc_job *job, arena *A, ir_tu *out, gc_findings *errors);

/* For a caller that keeps its own CXTranslationUnit (the language server):
 * lower an already parsed unit, and turn its errors into findings. */
int front_lower_cxtu(void *cxtu, const char *workdir, arena *A, ir_tu *out);
/* Every file the unit read, into out->deps (for the result cache). */
void front_collect_deps(void *cxtu, const char *dir, arena *A, ir_tu *out);
int front_collect_errors(void *cxtu, const gc_job *job, arena *A, gc_findings *errors);

/* libclang's version, e.g. "Debian clang version 19.1.7". */
const char *front_clang_version(void);

#endif
