/* diag.h: findings as the rest of the tool sees them — a rule id, a place,
 * a message and the notes that explain the path. Everything that prints,
 * filters, suppresses or baselines findings works on these structures only.
 * Strings are malloc'd and owned by the finding list. */
#ifndef GILCHECK_DIAG_H
#define GILCHECK_DIAG_H
#include <stdbool.h>
#include <stddef.h>

typedef struct gc_loc {
  const char *file;      /* path as given to the compiler, made absolute-free when possible */
  unsigned line, col;    /* 1-based; line 0 means "no location" */
} gc_loc;

typedef struct gc_note {
  gc_loc loc;
  char *msg;
} gc_note;

typedef enum gc_severity { GC_SEV_NOTE, GC_SEV_WARNING, GC_SEV_ERROR } gc_severity;

typedef struct gc_finding {
  char *rule;            /* rule id ("api-without-gil"), or "clang-diagnostic-error" */
  gc_severity severity;
  gc_loc loc;
  char *msg;
  char *function;        /* enclosing function, or NULL */
  char *snippet;         /* the source line, whitespace-trimmed (baselines), or NULL */
  gc_note *notes;
  int nnotes;
} gc_finding;

typedef struct gc_findings {
  gc_finding *v;
  int n, cap;
} gc_findings;

/* Appends a finding; copies every string it is given. Returns it so that
 * notes can be added. */
gc_finding *diag_add(gc_findings *fs, const char *rule, gc_severity sev, gc_loc loc,
                     const char *function, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void diag_note(gc_finding *f, gc_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_move_all(gc_findings *to, gc_findings *from); /* appends and empties 'from' */
void diag_sort_unique(gc_findings *fs);   /* by file, line, col, rule; drops exact duplicates */
void diag_free(gc_findings *fs);
void diag_free_one(gc_finding *f);
/* Fills f->snippet from the file on disk when it is not set yet. */
void diag_fill_snippets(gc_findings *fs);
const char *diag_severity_name(gc_severity s);

#endif
