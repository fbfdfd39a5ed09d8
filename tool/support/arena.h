/* arena.h: bump allocation for everything that lives as long as one
 * translation unit or one analysis run; freed in one go, never piecemeal. */
#ifndef GILCHECK_ARENA_H
#define GILCHECK_ARENA_H
#include <stddef.h>

typedef struct arena_chunk arena_chunk;
typedef struct arena {
  arena_chunk *head;
  size_t used_total;
} arena;

void *arena_alloc(arena *a, size_t n);          /* zeroed memory */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(arena *a);

/* A growable array in an arena: T *v; int n, cap. */
#define VEC(T) struct { T *v; int n, cap; }
#define vec_push(A, vec, x) do {                                             \
    if ((vec).n == (vec).cap) {                                              \
      int nc_ = (vec).cap ? (vec).cap * 2 : 8;                               \
      void *nv_ = arena_alloc((A), sizeof(*(vec).v) * (size_t)nc_);          \
      if ((vec).n) memcpy(nv_, (vec).v, sizeof(*(vec).v) * (size_t)(vec).n); \
      (vec).v = nv_; (vec).cap = nc_;                                        \
    }                                                                        \
    (vec).v[(vec).n++] = (x);                                                \
  } while (0)

#endif
