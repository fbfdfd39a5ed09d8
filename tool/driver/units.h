/* units.h: the translation units of one run, with their flags, and which of
 * them are reported.
 *
 * With a compilation database (-p, or one found above a named file), every
 * C entry of it is a unit: those named on the command line (or all, when
 * none is named) are reported; the others are parsed, or read back from the
 * result cache, only so that their functions' summaries are known
 * ("whole-database summaries"). A named file the database does not list
 * borrows the flags of its nearest entry (cdb_nearest); a named header it
 * does not list is analysed through a unit that includes it. Without a
 * database, each named file is a reported unit with the flags after "--",
 * or the Python include flags.
 *
 * units_lower parses and lowers every unit that is not excluded, on N
 * threads, cache first, and hands the lowered units to a gc_program. */
#ifndef GILCHECK_UNITS_H
#define GILCHECK_UNITS_H
#include <stdbool.h>
#include "diag.h"
#include "options.h"
#include "program.h"

typedef struct unit {
  gc_job job;
  char *shown;            /* the path as shown */
  char *id;               /* identity(): the same file has the same id */
  char *how;              /* where its flags came from, for -v */
  char *unusable;         /* why the file cannot be read, or NULL */
  bool report;            /* its functions' findings are reported */
  bool from_db;           /* an entry of a compilation database */
  bool excluded;          /* by .gilcheck.yml: never parsed */
  int named;              /* how many times it was named on the command line */
  int listed;             /* how many entries of a database list it */
  /* after units_lower */
  bool lowered;           /* parsed (or read from the cache) and lowered */
  bool tried;             /* units_lower tried (not excluded, not unusable) */
  gc_findings errs;       /* clang's errors, when it did not parse */
  bool python;            /* it read a Python.h */
  bool *reads;            /* per header wanted: it read that header */
  char **funcs;           /* the functions it defines (for --dump-cfg) */
  int nfuncs;
} unit;

/* A header named on the command line that no database lists: its
 * findings come from a unit that includes it. */
typedef struct header_want {
  char *file, *shown, *abs, *real;
  int includer;           /* unit index, or -1 when none includes it */
  bool excluded;
} header_want;

typedef struct unit_set {
  unit *v;
  int n, cap;
  header_want *hw;
  int nhw;
  char *database;         /* -p's compile_commands.json as shown, or NULL */
  int named_missing;      /* named files that are not there */
  int status;             /* 2 once some input could not be used */
  bool want_funcs;        /* collect function names (--dump-cfg) */
  bool verbose;
  /* private */
  void *dbs;
  int ndbs;
  char **fallback;
  int nfallback;
  bool fallback_tried;
  void *ids, *by_file;
} unit_set;

/* Builds the units for O's files, database and flags, sorted by shown path.
 * Errors (an unreadable database, a missing file) are said as they are met
 * (driver_error) and set s->status. */
void units_build(unit_set *s, const options *o);

/* Parses and lowers every unit that is neither excluded nor unusable into
 * PROG, on NTHREADS threads (a progress line on standard error when
 * PROGRESS), then picks each wanted header's includer. */
void units_lower(unit_set *s, gc_program *prog, int nthreads, bool progress);

/* The unit whose job file is PATH (as in the job), or NULL. */
unit *units_by_job_file(unit_set *s, const char *path);

void units_free(unit_set *s);

/* The path used to tell whether two names are the same file: the real
 * path, or the absolute one when it does not exist. Malloc'd. */
char *identity(const char *path);

#endif
