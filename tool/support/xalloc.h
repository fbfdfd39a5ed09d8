/* xalloc.h: allocation that cannot fail quietly. Out of memory is a message
 * and abort(), everywhere, so no caller checks for NULL. */
#ifndef GILCHECK_XALLOC_H
#define GILCHECK_XALLOC_H
#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* NULL stays NULL */
char *xstrdup0(const char *s);         /* NULL becomes "" */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Says "gilcheck: out of memory" and aborts: for other libraries' failures
 * that can only mean that (yaml_parser_initialize). */
void xalloc_die(void) __attribute__((noreturn));

#endif
