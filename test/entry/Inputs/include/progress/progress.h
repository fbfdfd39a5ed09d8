/* A C library the extension links against (test/entry): a database whose
 * step function calls back the progress handler it keeps. */
typedef struct pdb pdb;
typedef int (*pdb_progress_fn)(void *ctx);
int pdb_progress_handler(pdb *db, int every, pdb_progress_fn fn, void *ctx);
int pdb_step(pdb *db);
int pdb_close(pdb *db);
void pdb_foreach_row(pdb *db, void (*visit)(void *row, void *ctx), void *ctx);
