/* session.h: one translation unit kept alive between checks, for the
 * language server. The first check parses the file and builds a
 * precompiled preamble (the #include block at the top); later checks
 * reparse with the editor's text and reuse the preamble, so re-checking on
 * save costs the file's own body, not Python.h again. Each check lowers the
 * unit into a fresh arena and hands it over (a gc_unit), so that the server
 * can analyse it together with the other units of the project (project.h)
 * and keep it until the next check. A session is used from one thread at a
 * time. */
#ifndef GILCHECK_SESSION_H
#define GILCHECK_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include "arena.h"
#include "diag.h"
#include "ir.h"
#include "program.h"

typedef struct gc_session gc_session;

/* A lowered translation unit and the arena that holds it. */
typedef struct gc_unit {
  arena A;
  ir_tu tu;
} gc_unit;

void unit_free(gc_unit *u);

/* What the last check cost, for logs and measurements. */
typedef struct gc_session_stats {
  bool reparsed;          /* false: a full parse (the first check, or after a failed reparse) */
  bool all_decls;         /* the preamble's declarations are visited (a project header is included) */
  double parse_ms;        /* parse or reparse, preamble included */
  double lower_ms;        /* errors collected and functions lowered */
} gc_session_stats;

/* A session for JOB (copied; job->file is the name the text is checked
 * under). Parses nothing yet; never NULL. */
gc_session *session_open(const gc_job *job);

/* Parses (or reparses) the document whose current text is TEXT (LEN bytes;
 * NULL: read the file from disk) and lowers it. Returns 0 with the unit in
 * *UNIT (the caller's, freed with unit_free), or 2 when it could not be
 * lowered (parse errors block analysis, as on the command line), with
 * clang's errors ("clang-diagnostic-error") appended to ERRORS and *UNIT
 * NULL. Errors stop at the first fatal one, as on the command line; an
 * error in an included file is placed at the #include line of the document
 * that brings it in ("in included file: ..."), with a note at its own
 * place. The unit's path is the job's file. */
int session_lower(gc_session *s, const char *text, size_t len, gc_findings *errors, gc_unit **unit);

/* Has one of the project headers the unit includes changed on disk since
 * the last check (so that the next check parses afresh)? */
bool session_headers_changed(const gc_session *s);

const gc_session_stats *session_stats(const gc_session *s);
const gc_job *session_job(const gc_session *s);

void session_close(gc_session *s);

#endif
