/* explain.c: `gilcheck --explain RULE` prints the rule's page,
 * docs/rules/RULE.md, as ruff's --explain and clang-tidy's documentation do.
 *
 * The pages are looked for, in order: installed beside the binary
 * (BIN/../share/doc/gilcheck/rules, whatever prefix it was installed
 * under), in the directory the build was configured to install them to,
 * and in the source tree the binary was built from (for a binary run from
 * its build directory). -v says which file was printed. */
#define _GNU_SOURCE
#include "explain.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "output.h"
#include "rules.h"
#include "xalloc.h"

#ifndef GILCHECK_REL_RULES_DIR
#define GILCHECK_REL_RULES_DIR "../share/doc/gilcheck/rules"
#endif

/* Rules with a page: rules.def's and gilcheck's own two. */
static bool has_page(const char *rule) {
  return rule_by_id(rule) >= 0 || strcmp(rule, RULE_NOLINT) == 0 || strcmp(rule, RULE_UNUSED_SUPPRESSION) == 0;
}

/* The directories to look in, most specific first; NULL-terminated. */
static int rules_dirs(char *dirs[4]) {
  int n = 0;
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) {
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) {
      *slash = 0;
      dirs[n++] = xasprintf("%s/%s", exe, GILCHECK_REL_RULES_DIR);
    }
  }
#ifdef GILCHECK_INSTALL_RULES_DIR
  dirs[n++] = xstrdup(GILCHECK_INSTALL_RULES_DIR);
#endif
#ifdef GILCHECK_SOURCE_RULES_DIR
  dirs[n++] = xstrdup(GILCHECK_SOURCE_RULES_DIR);
#endif
  dirs[n] = NULL;
  return n;
}

int explain_rule(const char *rule) {
  if (!has_page(rule)) {
    const char *near = output_rule_suggestion(rule, true);
    if (near) log_error("--explain: unknown rule '%s'; did you mean '%s'?", rule, near);
    else log_error("--explain: unknown rule '%s' (see --list-rules)", rule);
    return 2;
  }
  char *dirs[4];
  int ndirs = rules_dirs(dirs);
  FILE *page = NULL;
  char *path = NULL;
  for (int i = 0; i < ndirs && !page; i++) {
    free(path);
    path = xasprintf("%s/%s.md", dirs[i], rule);
    page = fopen(path, "r");
  }
  int status = 0;
  if (!page) {
    log_error("--explain: the page of '%s' is not installed (looked for %s.md in %s%s%s%s%s); it is at %s%s.md",
              rule, rule, ndirs > 0 ? dirs[0] : "", ndirs > 1 ? ", " : "", ndirs > 1 ? dirs[1] : "",
              ndirs > 2 ? ", " : "", ndirs > 2 ? dirs[2] : "", DOCS_RULES_URI, rule);
    status = 2;
  } else {
    char *real = realpath(path, NULL);
    log_verbose("--explain: %s", real ? real : path);
    free(real);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, page)) > 0)
      if (fwrite(buf, 1, n, stdout) != n) break;
    if (ferror(page) || fflush(stdout) != 0 || ferror(stdout)) {
      log_error("--explain: cannot print %s", path);
      status = 2;
    }
    fclose(page);
  }
  free(path);
  for (int i = 0; i < ndirs; i++) free(dirs[i]);
  return status;
}
