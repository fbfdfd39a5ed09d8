/* cdb.h: compile_commands.json through libclang's compilation-database API,
 * and the fall-back flags when there is none. */
#ifndef GILCHECK_CDB_H
#define GILCHECK_CDB_H
#include "program.h"

/* Loads every entry of BUILD_DIR/compile_commands.json. On failure returns
 * -1 and sets *err to a malloc'd message naming the file and the problem. */
int cdb_load(const char *build_dir, gc_job **jobs, int *njobs, char **err);

/* Walks up from FILE's directory looking for compile_commands.json; returns
 * the malloc'd directory holding it, or NULL. */
char *cdb_find_for_file(const char *file);

void cdb_free_jobs(gc_job *jobs, int njobs);
/* One job: freed (and zeroed), copied deeply, compared field by field. */
void cdb_job_clear(gc_job *j);
void cdb_job_copy(gc_job *to, const gc_job *from);
bool cdb_job_equal(const gc_job *a, const gc_job *b);

/* For a FILE the database does not list: the index of the entry of JOBS
 * whose flags it should borrow, the way clangd interpolates a command. The
 * entries' files and FILE are compared as absolute paths: an entry in
 * FILE's own directory first, then the one sharing the most leading
 * directories with it; among equals, one with the same stem (foo.c for
 * foo.h), then the first. -1 when NJOBS is 0. */
int cdb_nearest(const gc_job *jobs, int njobs, const char *file);

/* Is FILE a C header (.h)? */
bool cdb_is_header(const char *file);

/* NULL when FILE is named like a C source (.c, .h, .i), else why it is not
 * analysed ("C++ is not analysed", "not a C source file"). */
const char *cdb_not_c(const char *file);


/* PATH made absolute against BASE (the current directory when NULL) and
 * cleaned lexically ("." and ".." parts resolved, no symlinks followed).
 * Returns a malloc'd string. */
char *cdb_absolute_path(const char *path, const char *base);

/* The flags for a file with no compilation database: the include
 * directories of the python3 on PATH, as `python3-config --includes` gives
 * them, or the newest /usr/include/python3.N holding Python.h. Sets *explain
 * to a malloc'd sentence saying what was chosen (or why nothing was); returns
 * 0, or -1 when no Python headers were found. */
int cdb_fallback_args(char ***args, int *nargs, char **explain);

#endif
