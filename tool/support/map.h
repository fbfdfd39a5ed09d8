/* map.h: the one hash map of the tool. uthash tables (Debian's uthash-dev)
 * hashed with XXH3 (hash.h), whose entries live in the map's own arena, so
 * that freeing a map is one call. Two kinds of key:
 *
 *   strmap   a string (copied into the map)
 *   pairmap  two integers: a pointer and an offset, a tag and a hash
 *
 * Values are pointers; a slot that was never set reads NULL. Lookups only
 * read, so any number of threads may look up at once in a map nobody is
 * changing (api.c builds its tables once, then only reads them). */
#ifndef GILCHECK_MAP_H
#define GILCHECK_MAP_H
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"

typedef struct strmap_entry strmap_entry;
typedef struct strmap {
  strmap_entry *head;
  arena A;
  unsigned n;
} strmap;

void *strmap_get(const strmap *m, const char *key);     /* NULL when absent */
bool strmap_has(const strmap *m, const char *key);
void **strmap_at(strmap *m, const char *key);           /* inserts an empty slot when absent */
const char *strmap_key(strmap *m, const char *key);     /* the map's own copy (interning) */
/* Calls fn for every entry, in insertion order. */
void strmap_each(const strmap *m, void (*fn)(const char *key, void *val, void *ctx), void *ctx);
void strmap_free(strmap *m);

typedef struct pairmap_entry pairmap_entry;
typedef struct pairmap {
  pairmap_entry *head;
  arena A;
  unsigned n;
} pairmap;

void *pairmap_get(const pairmap *m, uintptr_t a, uint64_t b);
void **pairmap_at(pairmap *m, uintptr_t a, uint64_t b);
void pairmap_free(pairmap *m);

#endif
