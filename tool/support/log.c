/* log.c: see log.h. */
#include "log.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static const char *prefix = "gilcheck";
static atomic_bool verbose;

void log_set_prefix(const char *p) { prefix = p ? p : "gilcheck"; }
void log_set_verbose(bool on) { atomic_store(&verbose, on); }
bool log_is_verbose(void) { return atomic_load(&verbose); }

/* One line, one write. */
static void emit(const char *head, const char *kind, const char *fmt, va_list ap) {
  char buf[4096];
  int n = snprintf(buf, sizeof buf, "%s: %s%s", head, kind ? kind : "", kind ? ": " : "");
  if (n < 0 || (size_t)n >= sizeof buf) n = 0;
  vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  fprintf(stderr, "%s\n", buf);
}

#define EMIT(head, kind)      \
  do {                        \
    va_list ap;               \
    va_start(ap, fmt);        \
    emit(head, kind, fmt, ap); \
    va_end(ap);               \
  } while (0)

void log_error(const char *fmt, ...) { EMIT(prefix, "error"); }
void log_warning(const char *fmt, ...) { EMIT(prefix, "warning"); }
void log_info(const char *fmt, ...) { EMIT(prefix, NULL); }
void log_verbose(const char *fmt, ...) {
  if (log_is_verbose()) EMIT(prefix, NULL);
}

static void emit_at(const char *file, unsigned line, unsigned col, const char *kind, const char *fmt, va_list ap) {
  char head[2048];
  if (line) snprintf(head, sizeof head, "%s:%u:%u", file ? file : "?", line, col);
  else snprintf(head, sizeof head, "%s", file ? file : "?");
  emit(head, kind, fmt, ap);
}

void log_at(const char *file, unsigned line, unsigned col, const char *kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit_at(file, line, col, kind, fmt, ap);
  va_end(ap);
}

void log_remark(const char *file, unsigned line, unsigned col, const char *fmt, ...) {
  if (!log_is_verbose()) return;
  va_list ap;
  va_start(ap, fmt);
  emit_at(file, line, col, "remark", fmt, ap);
  va_end(ap);
}
