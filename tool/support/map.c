/* map.c: see map.h. */
#include "map.h"
#include <string.h>
#include "hash.h"
#include "xalloc.h"

#include "uthash_gc.h"

struct strmap_entry {
  const char *key;
  void *val;
  UT_hash_handle hh;
};

static strmap_entry *str_find(const strmap *m, const char *key) {
  strmap_entry *e = NULL;
  if (key && m->head) HASH_FIND(hh, m->head, key, strlen(key), e);
  return e;
}

void *strmap_get(const strmap *m, const char *key) {
  strmap_entry *e = str_find(m, key);
  return e ? e->val : NULL;
}

bool strmap_has(const strmap *m, const char *key) { return str_find(m, key) != NULL; }

static strmap_entry *str_add(strmap *m, const char *key) {
  strmap_entry *e = str_find(m, key);
  if (e) return e;
  e = arena_alloc(&m->A, sizeof *e);
  e->key = arena_strdup(&m->A, key);
  HASH_ADD_KEYPTR(hh, m->head, e->key, strlen(e->key), e);
  m->n++;
  return e;
}

void **strmap_at(strmap *m, const char *key) { return &str_add(m, key)->val; }
const char *strmap_key(strmap *m, const char *key) { return str_add(m, key)->key; }

void strmap_each(const strmap *m, void (*fn)(const char *key, void *val, void *ctx), void *ctx) {
  for (const strmap_entry *e = m->head; e; e = e->hh.next) fn(e->key, e->val, ctx);
}

void strmap_free(strmap *m) {
  HASH_CLEAR(hh, m->head);
  arena_free(&m->A);
  m->n = 0;
}

typedef struct pair_key { uintptr_t a; uint64_t b; } pair_key;

struct pairmap_entry {
  pair_key key;
  void *val;
  UT_hash_handle hh;
};

void *pairmap_get(const pairmap *m, uintptr_t a, uint64_t b) {
  pair_key k;
  memset(&k, 0, sizeof k);
  k.a = a;
  k.b = b;
  pairmap_entry *e = NULL;
  if (m->head) HASH_FIND(hh, m->head, &k, sizeof k, e);
  return e ? e->val : NULL;
}

void **pairmap_at(pairmap *m, uintptr_t a, uint64_t b) {
  pair_key k;
  memset(&k, 0, sizeof k);
  k.a = a;
  k.b = b;
  pairmap_entry *e = NULL;
  if (m->head) HASH_FIND(hh, m->head, &k, sizeof k, e);
  if (!e) {
    e = arena_alloc(&m->A, sizeof *e);
    e->key = k;
    HASH_ADD(hh, m->head, key, sizeof k, e);
    m->n++;
  }
  return &e->val;
}

void pairmap_free(pairmap *m) {
  HASH_CLEAR(hh, m->head);
  arena_free(&m->A);
  m->n = 0;
}
