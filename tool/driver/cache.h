/* cache.h: the result cache. A translation unit whose inputs have not
 * changed since an earlier run is not parsed again: its lowered IR (ir.h)
 * is read back from disk, and the whole-program analysis runs on cached and
 * fresh units alike, so the findings are the same as without the cache.
 *
 * The IR is cached, not the findings, because findings depend on the other
 * files of the program (cross-file summaries).
 *
 * Like ccache's "direct mode": an entry is named by a hash of what decides
 * how a unit is parsed — gilcheck's version and the cache format, libclang's
 * version, the api facts of the configurations, the job's file, directory
 * and arguments — and records every file the preprocessor read (size, mtime,
 * ctime and a hash of the bytes). An entry is used only when each of those
 * files is still there with the same bytes, and when it was written by the
 * same gilcheck executable (a hash of its bytes). Anything else — a missing,
 * truncated, corrupt or foreign entry — is a miss, never an error.
 *
 * Entries are written to a temporary file and renamed into place, so that
 * threads and concurrent gilcheck processes can share one directory. There
 * is one entry per (file, flags, version): editing a file replaces its entry.
 * Nothing is ever evicted; removing the directory empties the cache. */
#ifndef GILCHECK_CACHE_H
#define GILCHECK_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "ir.h"
#include "program.h"

struct gc_config;

/* Turns the cache on for this process, in DIR (NULL: cache_default_dir()),
 * created if missing. CONFIGS are the configurations whose api facts were
 * handed to api.c (they change how units are lowered). Call once, before
 * any thread calls cache_lookup. Returns false when the directory cannot be
 * used: the cache stays off, which is said under VERBOSE (and as a warning
 * when DIR was given explicitly). */
bool cache_enable(const char *dir, const struct gc_config *const *configs, int nconfigs, bool verbose);

/* Turns the cache off again; under verbose, says how many units it saved. */
void cache_disable(void);

/* $GILCHECK_CACHE_DIR, else $XDG_CACHE_HOME/gilcheck, else
 * $HOME/.cache/gilcheck; malloc'd, or NULL when none can be named. */
char *cache_default_dir(void);

/* What cache_lookup learnt for cache_store. */
typedef struct cache_ticket {
  bool on;               /* the cache is on */
  uint64_t key;          /* the entry's name */
  int64_t start_ns;      /* when the parse started (wall clock) */
  bool quiet;            /* nothing said about this unit under verbose */
} cache_ticket;

/* Before parsing JOB: true when its unit was read from the cache into OUT
 * (allocated in A, which must be empty). Otherwise A and OUT are left empty
 * and T is filled for cache_store. Thread-safe; does nothing (false) when
 * the cache is off. */
bool cache_lookup(const gc_job *job, arena *A, ir_tu *out, cache_ticket *t);
/* The same; under verbose, says how it went (and later why cache_store
 * gave up) only when SAY: units outside the files reported (lowered for
 * their summaries only) are looked up quietly. */
bool cache_lookup_said(const gc_job *job, arena *A, ir_tu *out, cache_ticket *t, bool say);

/* After JOB was parsed and lowered into TU without errors: writes its entry.
 * Gives up silently (says why under verbose) when a file it read changed
 * during or just before the parse, or when the entry cannot be written.
 * Thread-safe. */
void cache_store(const gc_job *job, const ir_tu *tu, const cache_ticket *t);

/* The 64-bit hash used for keys, file contents and entry checksums
 * (XXH3, see hash.h). */
uint64_t cache_hash(const void *data, size_t n, uint64_t seed);

#endif
