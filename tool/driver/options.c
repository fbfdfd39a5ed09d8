/* options.c: parsing gilcheck's command line, and its --help.
 *
 * Long options are --name, --name=value or --name value, and may be written
 * with one dash as clang-tidy users do (-checks=-*); an option whose value
 * is optional (--dump-cfg[=FUNCTION]) takes it only after '='. Short ones
 * are -v, -h, -p DIR, -j N and -o FILE (also -pDIR, -p=DIR). "--" ends the
 * options: what follows is compiler arguments. Every problem is a message
 * naming the option and status 2, before anything is analysed. */
#define _GNU_SOURCE
#include "options.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "xalloc.h"

void options_usage(FILE *out) {
  fputs(
      "usage: gilcheck [options] FILE... [-- COMPILER-ARGS...]\n"
      "       gilcheck [options] -p BUILD_DIR [FILE...] [-- EXTRA-ARGS...]\n"
      "       gilcheck --explain RULE\n"
      "       gilcheck --lsp [-v] [-p BUILD_DIR]\n"
      "\n"
      "Finds GIL and thread-state mistakes in CPython extension C code.\n"
      "\n"
      "Where the compiler flags come from:\n"
      "  FILE... -- ARGS      analyse FILEs with ARGS (like clang-tidy)\n"
      "  -p BUILD_DIR         read BUILD_DIR/compile_commands.json and analyse every\n"
      "                       C entry, or only the FILEs named (relative or absolute\n"
      "                       paths); ARGS after -- are added to every entry\n"
      "  FILE...              use the compile_commands.json found in FILE's directory,\n"
      "                       an ancestor, or an ancestor's build/ directory; without\n"
      "                       one, the include directories of the python3 on PATH\n"
      "With a compilation database, every C file it lists is parsed (or read back\n"
      "from the cache) for the summaries of its functions, whichever files are\n"
      "reported. A FILE it does not list borrows the flags of its nearest entry;\n"
      "a header is analysed through a file that includes it.\n"
      "\n"
      "Options:\n"
      "  --checks=GLOBS       enable or disable rules, left to right over the defaults:\n"
      "                       'name' or 'glob*' enables, '-name' disables, '-*' all\n"
      "  --list-rules         list the rules, on or off after --checks, and exit\n"
      "  --explain=RULE       print the documentation of RULE and exit\n"
      "  --config-file=FILE   use FILE instead of the .gilcheck.yml found above each file\n"
      "  --format=FORMAT      text (default), json, sarif or github\n"
      "  -o FILE              write the report to FILE instead of standard output\n"
      "  --color=WHEN         colour the text report: auto (the default: when it goes\n"
      "                       to a terminal, TERM is not 'dumb' and NO_COLOR is not\n"
      "                       set), always or never\n"
      "  --exit-zero          exit 0 even when findings are reported (2 still means\n"
      "                       that some input could not be analysed)\n"
      "  --fail-on=SEVERITY   exit 1 only for findings of SEVERITY or worse: warning\n"
      "                       (the default) or error (see 'severity' in .gilcheck.yml)\n"
      "  -j N                 parse N files at once (default: the number of cores)\n"
      "  --shard=I/N          report only the I-th of N slices of the files (1-based);\n"
      "                       the summaries still come from every file\n"
      "  --baseline=FILE      do not report the findings recorded in FILE\n"
      "  --write-baseline=FILE\n"
      "                       record today's findings in FILE instead of reporting them\n"
      "  --report-unused-suppressions\n"
      "                       report NOLINT comments naming a rule that suppress nothing\n"
      "  --verify             check findings against expected-* comments (for tests)\n"
      "  --dump-cfg[=FUNCTION]\n"
      "                       print the lowered control-flow graphs and GIL states of\n"
      "                       the functions of the files reported, or of FUNCTION\n"
      "  --cache-dir=DIR      keep the result cache in DIR (default: $GILCHECK_CACHE_DIR,\n"
      "                       else $XDG_CACHE_HOME/gilcheck, else ~/.cache/gilcheck)\n"
      "  --no-cache           parse every file; neither read nor write the cache\n"
      "  -v                   say which flags and configuration each file gets, how the\n"
      "                       cache fared, and where the engine gives up\n"
      "  --version            print gilcheck's and libclang's versions\n"
      "  --help               print this help\n"
      "  --lsp                run as a language server for editors (gilcheck --lsp --help)\n"
      "\n"
      "A text report ends with a summary on standard error: the files analysed, the\n"
      "findings, those the baseline hid, the files that could not be analysed, and\n"
      "a link to the page of each rule that fired.\n"
      "\n"
      "Exit status: 0 nothing reported, 1 findings reported, 2 gilcheck could not do\n"
      "its job: a bad option, a --checks glob that matches no rule, no rule on, an\n"
      "unreadable database, baseline or configuration, a database with nothing to\n"
      "analyse, a missing file, a file that does not parse.\n",
      out);
}

enum { ARG_NONE, ARG_REQ, ARG_OPT };

typedef struct optdef {
  const char *name;          /* without leading dashes */
  int arg;
  int id;
} optdef;

enum {
  O_CHECKS, O_LIST_RULES, O_VERBOSE, O_VERSION, O_HELP, O_FORMAT, O_OUTPUT, O_JOBS, O_SHARD,
  O_CONFIG, O_BASELINE, O_WRITE_BASELINE, O_VERIFY, O_DUMP_CFG, O_UNUSED, O_BUILD_DIR,
  O_CACHE_DIR, O_NO_CACHE, O_COLOR, O_EXIT_ZERO, O_FAIL_ON, O_EXPLAIN
};

static const optdef long_opts[] = {
    {"checks", ARG_REQ, O_CHECKS},
    {"list-rules", ARG_NONE, O_LIST_RULES},
    {"version", ARG_NONE, O_VERSION},
    {"help", ARG_NONE, O_HELP},
    {"format", ARG_REQ, O_FORMAT},
    {"jobs", ARG_REQ, O_JOBS},
    {"shard", ARG_REQ, O_SHARD},
    {"config-file", ARG_REQ, O_CONFIG},
    {"baseline", ARG_REQ, O_BASELINE},
    {"write-baseline", ARG_REQ, O_WRITE_BASELINE},
    {"verify", ARG_NONE, O_VERIFY},
    {"dump-cfg", ARG_OPT, O_DUMP_CFG},
    {"report-unused-suppressions", ARG_NONE, O_UNUSED},
    {"output", ARG_REQ, O_OUTPUT},
    {"verbose", ARG_NONE, O_VERBOSE},
    {"cache-dir", ARG_REQ, O_CACHE_DIR},
    {"no-cache", ARG_NONE, O_NO_CACHE},
    {"color", ARG_REQ, O_COLOR},
    {"colour", ARG_REQ, O_COLOR},
    {"exit-zero", ARG_NONE, O_EXIT_ZERO},
    {"fail-on", ARG_REQ, O_FAIL_ON},
    {"explain", ARG_REQ, O_EXPLAIN},
    {NULL, 0, 0},
};

/* Short options: -v, -h; -p DIR, -j N, -o FILE (also -pDIR, -p=DIR). */
static const optdef short_opts[] = {
    {"v", ARG_NONE, O_VERBOSE}, {"h", ARG_NONE, O_HELP}, {"p", ARG_REQ, O_BUILD_DIR},
    {"j", ARG_REQ, O_JOBS},     {"o", ARG_REQ, O_OUTPUT}, {NULL, 0, 0},
};

static bool parse_positive(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < 1 || v > 100000) return false;
  *out = (int)v;
  return true;
}

/* Returns 0, or 2 after printing what is wrong. */
static int apply_option(options *o, int id, const char *spelled, const char *val) {
  switch (id) {
  case O_CHECKS: {
    char *old = o->checks;
    o->checks = old ? xasprintf("%s,%s", old, val) : xstrdup0(val);
    free(old);
    break;
  }
  case O_LIST_RULES: o->list_rules = true; break;
  case O_VERBOSE: log_set_verbose(true); break;
  case O_VERSION: o->version = true; break;
  case O_HELP: o->help = true; break;
  case O_FORMAT: {
    int f = output_format_by_name(val);
    if (f < 0) {
      log_error("unknown format '%s' for '%s' (text, json, sarif, github)", val, spelled);
      return 2;
    }
    o->format = (out_format)f;
    break;
  }
  case O_OUTPUT: o->output = val; break;
  case O_JOBS:
    if (!parse_positive(val, &o->jobs)) {
      log_error("'%s' needs a positive number, not '%s'", spelled, val);
      return 2;
    }
    break;
  case O_SHARD: {
    const char *slash = strchr(val, '/');
    char *i_part = slash ? xstrndup(val, (size_t)(slash - val)) : NULL;
    bool ok = slash && i_part && parse_positive(i_part, &o->shard_i) && parse_positive(slash + 1, &o->shard_n) &&
              o->shard_i <= o->shard_n;
    free(i_part);
    if (!ok) {
      log_error("'%s' needs I/N with 1 <= I <= N (e.g. 2/4), not '%s'", spelled, val);
      return 2;
    }
    break;
  }
  case O_CONFIG: o->config_file = val; break;
  case O_BASELINE: o->baseline = val; break;
  case O_WRITE_BASELINE: o->write_baseline = val; break;
  case O_VERIFY: o->verify = true; break;
  case O_DUMP_CFG:
    if (val && !*val) {
      log_error("'%s=' needs a function name (or give '%s' alone for every function)", spelled, spelled);
      return 2;
    }
    o->dump_cfg = true;
    o->dump_function = val;
    break;
  case O_UNUSED: o->report_unused = true; break;
  case O_CACHE_DIR: o->cache_dir = val; break;
  case O_NO_CACHE: o->no_cache = true; break;
  case O_COLOR:
    if (strcmp(val, "auto") == 0) o->color = COLOR_AUTO;
    else if (strcmp(val, "always") == 0) o->color = COLOR_ALWAYS;
    else if (strcmp(val, "never") == 0) o->color = COLOR_NEVER;
    else {
      log_error("'%s' needs auto, always or never, not '%s'", spelled, val);
      return 2;
    }
    break;
  case O_EXIT_ZERO: o->exit_zero = true; break;
  case O_FAIL_ON:
    if (strcmp(val, "warning") == 0) o->fail_on = GC_SEV_WARNING;
    else if (strcmp(val, "error") == 0) o->fail_on = GC_SEV_ERROR;
    else {
      log_error("'%s' needs warning or error, not '%s'", spelled, val);
      return 2;
    }
    break;
  case O_EXPLAIN: o->explain = val; break;
  case O_BUILD_DIR: {
    /* "build/" and "build" name the same database in messages. */
    char *v = (char *)val;                       /* an argv string: ours to trim */
    size_t n = strlen(v);
    while (n > 1 && v[n - 1] == '/') v[--n] = 0;
    o->build_dir = v;
    break;
  }
  }
  return 0;
}

int options_parse(options *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  o->fail_on = GC_SEV_WARNING;
  o->files = xmalloc(sizeof(char *) * (size_t)argc);
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      o->dashdash = true;
      o->extra = argv + i + 1;
      o->nextra = argc - i - 1;
      break;
    }
    if (a[0] != '-' || a[1] == 0) {
      o->files[o->nfiles++] = a;
      continue;
    }
    /* --name, --name=value, --name value; -name as clang-tidy users write it. */
    const char *body = a[1] == '-' ? a + 2 : a + 1;
    const char *eq = strchr(body, '=');
    size_t nlen = eq ? (size_t)(eq - body) : strlen(body);
    const optdef *d = NULL;
    for (int k = 0; long_opts[k].name; k++)
      if (strlen(long_opts[k].name) == nlen && strncmp(long_opts[k].name, body, nlen) == 0) d = &long_opts[k];
    const char *val = NULL;
    char spelled[64];
    if (d) {
      snprintf(spelled, sizeof spelled, "--%s", d->name);
      if (d->arg == ARG_NONE && eq) {
        log_error("option '%s' takes no value", spelled);
        return 2;
      }
      if (d->arg != ARG_NONE) val = eq ? eq + 1 : NULL;
    } else if (a[1] != '-') {
      for (int k = 0; short_opts[k].name; k++)
        if (a[1] == short_opts[k].name[0]) d = &short_opts[k];
      if (d && d->arg == ARG_NONE && a[2]) d = NULL;     /* "-vx" is nothing we know */
      if (d) {
        snprintf(spelled, sizeof spelled, "-%s", d->name);
        if (d->arg == ARG_REQ && a[2]) val = a[2] == '=' ? a + 3 : a + 2;
      }
    }
    if (!d) {
      log_error("unknown option '%s'", a);
      fputs("gilcheck: note: see 'gilcheck --help' for the options\n", stderr);
      return 2;
    }
    if (d->arg == ARG_REQ && !val) {
      if (i + 1 >= argc || strcmp(argv[i + 1], "--") == 0) {
        log_error("option '%s' needs a value", spelled);
        return 2;
      }
      val = argv[++i];
    }
    if (apply_option(o, d->id, spelled, val)) return 2;
  }
  return 0;
}

void options_free(options *o) {
  free(o->files);
  free(o->checks);
  o->files = NULL;
  o->checks = NULL;
}
