/* suppress.h: NOLINT comments, and the source files they are read from.
 *
 * Spellings (clang-tidy's family), in // or block comments:
 *   NOLINT                     this line, every gilcheck rule
 *   NOLINT(rule[,rule...])     this line, the rules named (globs: *, ?)
 *   NOLINTNEXTLINE[(...)]      the next line
 *   NOLINTBEGIN[(...)] ... NOLINTEND[(...)]
 *                              every line from the BEGIN comment to the END
 *                              comment with the same list
 * A name that is not a gilcheck rule (another tool's check) suppresses
 * nothing here; one a few edits from a rule id is reported as a misspelling
 * (gilcheck-nolint, "did you mean ..."). Parse errors (clang-diagnostic-error) and the findings about
 * suppressions themselves are never suppressed. */
#ifndef GILCHECK_SUPPRESS_H
#define GILCHECK_SUPPRESS_H
#include <stdbool.h>
#include <stddef.h>
#include "diag.h"

/* ---- source files, each read once ---- */

typedef struct src_comment {
  unsigned line, col;     /* where the comment starts (the first slash of the opener) */
  const char *text;       /* the whole comment, delimiters included */
  size_t len;
} src_comment;

typedef struct src_file {
  char *path;
  char *text;             /* NULL when the file could not be read */
  size_t len;
  src_comment *comments;
  int ncomments;
} src_file;

/* The file at PATH (read and its comments found on first use); never NULL,
 * but ->text is NULL when it cannot be read. Not thread-safe. */
const src_file *source_get(const char *path);
/* 1-based line and column of byte offset OFF in F. */
void source_line_col(const src_file *f, size_t off, unsigned *line, unsigned *col);
void source_cache_free(void);

/* ---- suppressions ---- */

/* Asks whether RULE is enabled for findings in FILE (used to tell which
 * NOLINT names could have suppressed something). */
typedef bool (*suppress_enabled_fn)(void *ctx, const char *file, const char *rule);

typedef struct suppress_opts {
  bool report_unused;     /* --report-unused-suppressions */
  suppress_enabled_fn enabled;
  void *ctx;
} suppress_opts;

/* Drops the suppressed findings of 'fs'. Reads the files the findings are
 * in, plus 'files' (the analysed sources), and adds findings of rule
 * gilcheck-nolint for an unmatched NOLINTBEGIN or NOLINTEND in any of them
 * (when its list concerns gilcheck), and with report_unused, findings of
 * rule gilcheck-unused-suppression for NOLINT names matching a gilcheck rule
 * that suppressed nothing. Leaves 'fs' sorted. */
void suppress_apply(gc_findings *fs, char *const *files, int nfiles, const suppress_opts *o);

#endif
