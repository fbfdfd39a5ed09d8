/* baseline.h: recording today's findings so that only new ones are
 * reported. An entry is keyed by rule, file (relative to the baseline
 * file's directory), function and the source line with its whitespace
 * normalised, never by line number, so a baseline survives edits above a
 * finding and matches whichever directory gilcheck runs from. */
#ifndef GILCHECK_BASELINE_H
#define GILCHECK_BASELINE_H
#include <stdint.h>
#include "diag.h"

typedef struct gc_baseline gc_baseline;

/* Reads a baseline written by baseline_write. On failure returns NULL and
 * sets *err to a malloc'd message naming the file. */
gc_baseline *baseline_load(const char *path, char **err);

/* Drops the findings of 'fs' that the baseline accounts for, honouring the
 * counts: an entry with count 1 absorbs one of two identical findings.
 * Parse errors (clang-diagnostic-error) are never dropped. Fills snippets.
 * Returns how many findings it dropped. */
int baseline_filter(gc_baseline *b, gc_findings *fs);

/* Writes the findings of 'fs' (parse errors left out) as a baseline.
 * Returns the number of findings recorded, or -1 with *err set. Fills
 * snippets. */
int baseline_write(const char *path, gc_findings *fs, char **err);

void baseline_free(gc_baseline *b);

/* The snippet with runs of whitespace collapsed to one space and trimmed;
 * malloc'd ("" for NULL). */
char *baseline_normalise(const char *snippet);

/* A stable 64-bit hash of a finding's baseline key (rule, shown path,
 * function, normalised snippet); the snippet should be filled. */
uint64_t baseline_key_hash(const gc_finding *f);

#endif
