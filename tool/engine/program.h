/* program.h: the analysis as the driver sees it. Translation units are
 * parsed and lowered one by one (from several threads at once if wanted),
 * then the whole program is summarised to a fixed point and reported. */
#ifndef GILCHECK_PROGRAM_H
#define GILCHECK_PROGRAM_H
#include <stdbool.h>
#include <stdio.h>
#include "diag.h"
#include "rules.h"

/* One translation unit to analyse: the source file and the compiler
 * arguments as they would be given to clang (without the compiler's name
 * and without the source file; -c, -o and the like are tolerated). */
typedef struct gc_job {
  char *file;            /* as written in the database or on the command line */
  char *dir;             /* working directory for relative paths, or NULL */
  char **args;
  int nargs;
} gc_job;

typedef struct gc_program gc_program;

typedef struct gc_program_opts {
  bool verbose;          /* -v: say which functions were given up on, and why */
  bool rules[R_COUNT];   /* which rules report */
  bool rules_everywhere[R_COUNT];  /* free threading: rules on by default only where a module declares
                                      free-threading support, asked for everywhere (--checks=ft-*) */
} gc_program_opts;

gc_program *program_new(const gc_program_opts *opts);

/* Parses and lowers one translation unit. Safe to call from several threads
 * at once. Clang errors become findings with rule "clang-diagnostic-error"
 * (severity error) in 'errors'; a file that cannot be parsed at all gives one
 * such finding naming the file and the reason. Returns 0 when the unit was
 * lowered, 2 when it could not be analysed. */
int program_add_tu(gc_program *p, const gc_job *job, gc_findings *errors);

/* Adds a unit lowered elsewhere (front_lower_cxtu); takes over the arena
 * holding it (A is left empty). An empty A lends the unit instead: it stays
 * the caller's, must outlive P, and linking writes call targets into it. */
struct arena;
struct ir_tu;
int program_add_lowered(gc_program *p, struct arena *A, struct ir_tu *tu);

/* Whole-program summaries to a fixed point, then the findings of every
 * function added so far, sorted and without duplicates. */
void program_analyze(gc_program *p, gc_findings *out);

/* The same, but findings only for the functions some unit that WANT accepts
 * (by the unit's path, as in its job) defines; the summaries still come from
 * every unit added. For named files, shards and the open document, with the
 * whole database's summaries behind them. */
typedef bool (*program_unit_filter)(void *ctx, const char *unit_path);
void program_analyze_filtered(gc_program *p, program_unit_filter want, void *ctx, gc_findings *out);

/* Prints the lowered graph and the states the engine reaches at each block,
 * for every function added so far, or only those named FUNCTION (--dump-cfg,
 * --dump-cfg=FUNCTION). Returns how many functions it printed. */
int program_dump(gc_program *p, const char *function, FILE *out);

void program_free(gc_program *p);

/* libclang's version string, for --version. */
const char *program_clang_version(void);

#endif
