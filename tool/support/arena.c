/* arena.c: a chain of chunks; allocations are zeroed and 16-byte aligned. */
#include "arena.h"
#include "xalloc.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
  arena_chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};


void *arena_alloc(arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!a->head || a->head->size - a->head->used < n) {
    size_t sz = n > 60000 ? n : 64 * 1024 - sizeof(arena_chunk);
    arena_chunk *c = xmalloc(sizeof(arena_chunk) + sz);
    c->next = a->head; c->size = sz; c->used = 0;
    a->head = c;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += n;
  a->used_total += n;
  memset(p, 0, n);
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *arena_strdup(arena *a, const char *s) {
  return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(arena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = arena_alloc(a, (size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

void arena_free(arena *a) {
  arena_chunk *c = a->head;
  while (c) { arena_chunk *n = c->next; free(c); c = n; }
  a->head = NULL;
  a->used_total = 0;
}
