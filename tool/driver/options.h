/* options.h: gilcheck's command line (not --lsp, which lsp.c reads): what
 * the options are, how they are spelled, and the help that lists them. */
#ifndef GILCHECK_OPTIONS_H
#define GILCHECK_OPTIONS_H
#include <stdbool.h>
#include <stdio.h>
#include "diag.h"
#include "output.h"

typedef enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color_when;

typedef struct options {
  char **files;
  int nfiles;
  char **extra;              /* after "--" */
  int nextra;
  bool dashdash;
  const char *build_dir;     /* -p */
  char *checks;              /* --checks, several joined with ',' */
  bool list_rules, version, help, verify, report_unused;
  bool dump_cfg;             /* --dump-cfg[=FUNCTION] */
  const char *dump_function; /* its FUNCTION, or NULL */
  const char *explain;       /* --explain RULE */
  out_format format;
  const char *output;        /* -o */
  int jobs;                  /* -j */
  int shard_i, shard_n;      /* --shard I/N, 1-based I; N == 0: none */
  const char *config_file, *baseline, *write_baseline;
  const char *cache_dir;     /* --cache-dir */
  bool no_cache;             /* --no-cache */
  color_when color;          /* --color */
  bool exit_zero;            /* --exit-zero */
  gc_severity fail_on;       /* --fail-on: the least severity that makes status 1 */
} options;

/* Reads argv into O. Returns 0, or 2 after saying what is wrong. */
int options_parse(options *o, int argc, char **argv);
void options_usage(FILE *out);
void options_free(options *o);

#endif
