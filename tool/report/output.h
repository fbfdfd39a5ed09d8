/* output.h: printing findings in the formats gilcheck offers (text, json,
 * sarif, github), and how paths are shown in all of them. */
#ifndef GILCHECK_OUTPUT_H
#define GILCHECK_OUTPUT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "diag.h"

typedef enum out_format { OUT_TEXT, OUT_JSON, OUT_SARIF, OUT_GITHUB } out_format;

/* "text", "json", "sarif", "github" -> format; -1 for anything else. */
int output_format_by_name(const char *name);

/* What a report says about the run besides its findings. */
typedef struct output_run {
  bool color;             /* text: clang's colours (bold places, magenta warnings, red errors) */
  bool failed;            /* the exit status is 2: gilcheck could not do its whole job */
  int exit_status;
  char *const *errors;    /* what went wrong, one message each (SARIF's notifications) */
  int nerrors;
} output_run;

/* Writes every finding of 'fs' (sorted) to 'out'. RUN may be NULL (a
 * successful run, no colour). Returns 0, or -1 when writing failed. */
int output_write(FILE *out, out_format fmt, const gc_findings *fs, const output_run *run);
int output_text(FILE *out, const gc_findings *fs, bool color);
int output_json(FILE *out, const gc_findings *fs);
int output_sarif(FILE *out, const gc_findings *fs, const output_run *run);
int output_github(FILE *out, const gc_findings *fs);

/* The summary that ends a text run, on standard error:
 *   gilcheck: 2 files analysed, 1 could not be; 3 findings, 1 hidden by the baseline
 * then a line per rule that fired, with the link to its page. */
typedef struct output_summary {
  int analysed;           /* files reported on that were analysed */
  int failed;             /* files reported on that could not be analysed */
  int excluded;           /* files named but excluded by .gilcheck.yml */
  int skipped_headers;    /* headers named that no file includes */
  int summary_units;      /* units lowered for their summaries (all of them) */
  int summaries_missing;  /* units not reported that could not be lowered */
  int hidden;             /* findings the baseline hid */
  const char *recorded;   /* --write-baseline: the file the findings went to */
  const char *shard;      /* "2/4" */
  int shard_empty_of;     /* the shard holds none of this many files (when > 0) */
} output_summary;
void output_write_summary(FILE *to, const output_summary *sum, const gc_findings *fs);

/* A jansson string for S (null for NULL), with bytes that are not UTF-8
 * replaced by U+FFFD so that nothing is lost silently. */
struct json_t;
struct json_t *output_json_string(const char *s);
/* S with bytes that are not UTF-8 replaced by U+FFFD, malloc'd. */
char *output_utf8_clean(const char *s);
/* S percent-encoded for a URI (RFC 3986: unreserved characters and '/'
 * kept), malloc'd: SARIF's artifact locations and the LSP's file:// URIs. */
char *output_uri_encode(const char *s);

/* Rule ids the driver reports on its own, beside those of rules.def. */
#define RULE_CLANG_ERROR "clang-diagnostic-error"
#define RULE_NOLINT "gilcheck-nolint"
#define RULE_UNUSED_SUPPRESSION "gilcheck-unused-suppression"

/* A rule's one-line summary, for rules.def ids and the driver's own. */
const char *output_rule_summary(const char *rule);

/* The rule id NAME is likely a misspelling of (a few edits apart, case and
 * '_' for '-' aside), or NULL. Among the ids of rules.def, and with
 * WITH_OWN also gilcheck-nolint and gilcheck-unused-suppression. */
const char *output_rule_suggestion(const char *name, bool with_own);

/* The documentation base: a rule's page is DOCS_RULES_URI "<id>.md". */
#define DOCS_RULES_URI "https://github.com/gilcheck/gilcheck/blob/main/docs/rules/"
#define GILCHECK_HOME_URI "https://github.com/gilcheck/gilcheck"

/* How a path is shown: relative to the current directory when it lies
 * below it, else absolute, "." and ".." parts resolved. Malloc'd. */
char *path_display(const char *file);

/* PATH (absolute) relative to DIR (absolute) when below it, else NULL.
 * Malloc'd. */
char *path_below(const char *path, const char *dir);

/* The current directory, absolute (getcwd), cached. */
const char *path_cwd(void);

/* PATH (absolute) relative to DIR (absolute), with ".." parts when it is
 * not below DIR; PATH itself when the two share no directory but "/".
 * Malloc'd. */
char *path_relative_to(const char *path, const char *dir);

#endif
