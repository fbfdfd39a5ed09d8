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

#endif
