/* xalloc.c: see xalloc.h. */
#define _GNU_SOURCE
#include "xalloc.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xalloc_die(void) {
  fputs("gilcheck: out of memory\n", stderr);
  abort();
}

static void *check(void *p) {
  if (!p) xalloc_die();
  return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1)); }
void *xcalloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1)); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }

char *xstrdup(const char *s) { return s ? check(strdup(s)) : NULL; }
char *xstrdup0(const char *s) { return check(strdup(s ? s : "")); }

char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
  char *p = NULL;
  if (vasprintf(&p, fmt, ap) < 0) p = NULL;
  return check(p);
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = xvasprintf(fmt, ap);
  va_end(ap);
  return p;
}
