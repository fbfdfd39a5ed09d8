/* uthash_gc.h: uthash (Debian's uthash-dev) as the tool uses it: hashed
 * with XXH3 (hash.h), its bucket tables allocated through xalloc. Include
 * this, never <uthash.h> directly. map.h wraps it for string and pair keys;
 * the engine keys its exploded graph with it directly. */
#ifndef GILCHECK_UTHASH_GC_H
#define GILCHECK_UTHASH_GC_H
#include <stdlib.h>
#include "hash.h"
#include "xalloc.h"

#define uthash_malloc(sz) xmalloc(sz)
#define uthash_free(ptr, sz) free(ptr)
#define uthash_fatal(msg) xalloc_die()
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = (unsigned)XXH3_64bits((keyptr), (size_t)(keylen)))
#include <uthash.h>

#endif
