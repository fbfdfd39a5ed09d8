/* session.h: one translation unit kept alive between checks, for the
 * language server. The first check parses the file and builds a
 * precompiled preamble (the #include block at the top); later checks
 * reparse with the editor's text and reuse the preamble, so re-checking on
 * save costs the file's own body, not Python.h again. Each check lowers the
 * unit into a fresh arena and runs a one-unit program, so findings never
 * depend on earlier checks. A session is used from one thread at a time. */
#ifndef GILCHECK_SESSION_H
#define GILCHECK_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include "diag.h"
#include "program.h"

typedef struct gc_session gc_session;

/* What the last check cost, for logs and measurements. */
typedef struct gc_session_stats {
  bool reparsed;          /* false: a full parse (the first check, or after a failed reparse) */
  bool all_decls;         /* the preamble's declarations are visited (a project header is included) */
  double parse_ms;        /* parse or reparse, preamble included */
  double lower_ms;        /* errors collected and functions lowered */
  double analyse_ms;      /* summaries and rules */
} gc_session_stats;

/* A session for JOB (copied; job->file is the name the text is checked
 * under). Parses nothing yet; never NULL. */
gc_session *session_open(const gc_job *job);

/* Checks the document whose current text is TEXT (LEN bytes; NULL: read
 * the file from disk) with the rules of OPTS. Appends the findings of the
 * rules to FINDINGS and clang's errors ("clang-diagnostic-error") to
 * ERRORS. Returns 0 when the unit was analysed, 2 when it could not be
 * (parse errors block analysis, as on the command line). Errors stop at
 * the first fatal one, as on the command line; an error in an included
 * file is placed at the #include line of the document that brings it in
 * ("in included file: ..."), with a note at its own place. */
int session_check(gc_session *s, const char *text, size_t len, const gc_program_opts *opts,
                  gc_findings *findings, gc_findings *errors);

const gc_session_stats *session_stats(const gc_session *s);
const gc_job *session_job(const gc_session *s);

void session_close(gc_session *s);

#endif
