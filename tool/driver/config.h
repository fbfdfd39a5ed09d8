/* config.h: .gilcheck.yml, and the --checks glob syntax it shares with the
 * command line. See config.c for the keys. */
#ifndef GILCHECK_CONFIG_H
#define GILCHECK_CONFIG_H
#include <stdbool.h>
#include "diag.h"
#include "rules.h"

typedef struct gc_severity_override {
  char *rule;
  gc_severity severity;
} gc_severity_override;

typedef struct gc_callback_fact {
  char *name;
  int arg;                      /* 0-based */
} gc_callback_fact;

typedef struct gc_name_list {
  char **v;
  int n;
} gc_name_list;

typedef struct gc_config {
  char *path;                   /* the file, as found (shown in messages) */
  char *file;                   /* the file, absolute */
  char *dir;                    /* its directory, absolute */
  gc_name_list checks;          /* globs in --checks syntax, applied in order */
  gc_severity_override *severity;
  int nseverity;
  gc_name_list exclude;         /* fnmatch globs */
  gc_name_list needs_gil, no_gil, releases, acquires, blocking;
  gc_callback_fact *callbacks;
  int ncallbacks;
} gc_config;

/* Parses a configuration file. On error returns NULL and sets *err to a
 * malloc'd "path:line:col: error: ..." message (several lines when there
 * are several problems). */
gc_config *config_load(const char *path, char **err);
void config_free(gc_config *c);

/* Applies a comma-separated list of globs in --checks syntax to 'rules',
 * left to right: "-*" turns every rule off, "-glob" turns matching rules
 * off, "glob" turns them on. Globs that match no rule are collected in
 * *unmatched (a malloc'd comma-separated list, or NULL). */
void checks_apply(bool rules[R_COUNT], const char *globs, char **unmatched);
/* What to say about GLOB (as written, maybe with its '-') matching no rule:
 * "'x' matches no rule; did you mean 'y'?" or "... (see --list-rules)".
 * Malloc'd. */
char *checks_unmatched_message(const char *glob);
/* The rules on by default (rules.def), then the config's checks, then the
 * command line's --checks (may be NULL). */
void config_rules(const gc_config *c, const char *cmdline_checks, bool rules[R_COUNT]);

/* Is FILE (as shown, or absolute) excluded by the config's exclude globs? */
bool config_excludes(const gc_config *c, const char *file);

/* The configured severity of RULE, or 'dflt'. */
gc_severity config_severity(const gc_config *c, const char *rule, gc_severity dflt);

/* Hands the api: facts to tool/api.c (before analysis). */
void config_apply_api(const gc_config *c);

/* Finding the configuration of a file: the --config-file when one was
 * given, else the first .gilcheck.yml in the file's directory or its
 * ancestors. Lookups are cached per directory and each file is parsed once;
 * a file that does not parse is reported once (through *err, malloc'd) and
 * then treated as absent. */
typedef struct config_set config_set;
config_set *config_set_new(const char *forced_path);
const gc_config *config_for(config_set *cs, const char *file, char **err);
/* Every configuration loaded so far, for config_apply_api. */
int config_set_all(config_set *cs, const gc_config ***out);
void config_set_free(config_set *cs);

#endif
