/* hash.h: the one hash function of the tool, xxHash's XXH3 (Debian's
 * libxxhash), for hash tables, cache keys and content checks. Not for the
 * baseline's and SARIF's fingerprints, which are part of the interface and
 * keep their own documented hash (report/baseline.c). */
#ifndef GILCHECK_HASH_H
#define GILCHECK_HASH_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <xxhash.h>

static inline uint64_t gc_hash(const void *p, size_t n) { return XXH3_64bits(p, n); }
static inline uint64_t gc_hash_seed(const void *p, size_t n, uint64_t seed) {
  return XXH3_64bits_withSeed(p, n, seed);
}
static inline uint64_t gc_hash_str(const char *s) { return XXH3_64bits(s, strlen(s)); }

#endif
