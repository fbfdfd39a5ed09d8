/* project.h: the language server's picture of a project — one compilation
 * database, every C unit of it lowered in the background (worker threads,
 * through the result cache) and kept, so that an open document is analysed
 * with the summaries of the whole database behind it, as `gilcheck -p DIR`
 * would analyse it (project.c).
 *
 * Who does what: worker threads only parse and lower (the result cache makes
 * a later start cheap) and hand their units over; the server's main thread
 * does everything else — takes the units in (project_collect), analyses,
 * polls the files — so the units it keeps are never touched by two threads
 * and the analysis, which is not thread-safe, runs on one thread only.
 *
 * An entry whose file is open in the editor is not lowered from disk while
 * it is open: the document's own unit (from the editor's text) stands in for
 * it (project_set_open). */
#ifndef GILCHECK_LSP_PROJECT_H
#define GILCHECK_LSP_PROJECT_H
#include <stdbool.h>
#include "program.h"
#include "session.h"

typedef struct lsp_project lsp_project;

/* A project for the database in DIR (absolute), with NWORKERS threads to
 * lower its units; WAKE(CTX) is called from a worker thread whenever a unit
 * is ready for project_collect. The database is read at once (nothing is
 * queued until project_schedule); when it cannot be, the project is still
 * made, with no entries and project_error() saying why, and project_poll()
 * reads it again once it changes. */
lsp_project *project_open(const char *dir, int nworkers, void (*wake)(void *), void *ctx);
/* Stops its workers (each finishes the file in hand) and frees it; false
 * when a worker is still busy after SECONDS (then P is left as it is, for
 * the process to end without it). */
bool project_close(lsp_project *P, double seconds);

const char *project_dir(const lsp_project *P);
/* Why the database could not be read the last time, or NULL. */
const char *project_error(const lsp_project *P);
/* Has the database been read (now or at some earlier time)? */
bool project_loaded(const lsp_project *P);
/* The database's entry for the file whose identity (realpath) is ID, or NULL. */
const gc_job *project_job(const lsp_project *P, const char *id);
int project_size(const lsp_project *P);       /* entries */
const gc_job *project_job_at(const lsp_project *P, int i);
/* Entry I is excluded by its .gilcheck.yml (or no longer): never lowered,
 * no unit, so that calls into it are not followed, as on the command line. */
void project_set_excluded(lsp_project *P, int i, bool excluded);

/* An open document's unit replaces its entry's (U may be NULL: the document
 * does not parse now). Closing it (OPEN false) hands U over to the entry as
 * its provisional unit and lowers the file from disk again. No-op for a
 * file that has no entry. */
void project_set_open(lsp_project *P, const char *id, gc_unit *u, bool open);

/* Queues every entry that needs lowering and is not open; starts the
 * workers on first use. */
void project_schedule(lsp_project *P);

/* Takes the units the workers finished. Returns true when the picture
 * changed and nothing is left to do (the moment to re-check the open
 * documents). Main thread only. */
bool project_collect(lsp_project *P);
/* Is some entry queued, being lowered or waiting for project_collect? */
bool project_busy(lsp_project *P);

/* The units to analyse the document ID with: every entry's, the open
 * documents' in place of theirs, ID's own left out. *OUT is malloc'd.
 * Also says how many entries have no unit (not lowered yet, or failed). */
int project_units(lsp_project *P, const char *id, const gc_unit ***out, int *missing);

/* What project_poll found. */
enum {
  PROJECT_DB_CHANGED = 1,     /* the database was read again (entries may differ) */
  PROJECT_DB_FAILED = 2,      /* ... and could not be: project_error() says why */
  PROJECT_FILES_CHANGED = 4,  /* some files changed: units were queued again */
};

/* Looks for changes: the database (stat), every file each unit read
 * (size, modification time in nanoseconds, inode), and queues again the
 * entries whose files changed (and those that failed, whose missing header
 * may have appeared). Files for which SKIP(CTX, PATH) is true are left out
 * (the client watches them; SKIP may be NULL). Entries open in the editor
 * are not looked at: they are lowered again when closed. Queues nothing
 * itself: call project_schedule after (once open documents are marked, if
 * the database changed). Returns PROJECT_* bits, and in *LOOKED how many
 * files it looked at. */
int project_poll(lsp_project *P, bool (*skip)(void *ctx, const char *path), void *ctx, int *looked);

/* The failures of the last complete picture, for the user: how many entries
 * could not be lowered, and the first one's file and reason (borrowed until
 * the next collect). Returns 0 when none. */
int project_failures(lsp_project *P, const char **file, const char **why);

/* Memory the kept units take (their arenas), in bytes. */
size_t project_memory(lsp_project *P);

/* The units lowered since the project was opened, and how many of them came
 * from the result cache; milliseconds from the last schedule to the last
 * unit collected. For the -v log. */
void project_stats(lsp_project *P, int *lowered, int *cached, double *build_ms);

/* Analyses DOC together with OTHERS (borrowed), with OPTS's rules: the
 * findings of the functions DOC defines, with summaries from every unit. */
void project_analyze(const gc_unit *doc, const gc_unit *const *others, int nothers, const gc_program_opts *opts,
                     gc_findings *out);

/* The API facts of configurations and the result cache's key change how
 * units are lowered: change them only between lowering_pause() and
 * lowering_resume(), which wait for the units being lowered and hold the
 * workers back meanwhile. Main thread only. */
void lowering_pause(void);
void lowering_resume(void);

/* Marks every entry to be lowered again at the next project_schedule
 * (after the API facts changed). */
void project_relower_all(lsp_project *P);

/* The file's identity for comparisons: its real path when it exists, else
 * its absolute path cleaned lexically. Malloc'd. */
char *file_identity(const char *path);

#endif
