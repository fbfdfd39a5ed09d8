/* log.h: the one way gilcheck talks to its user on standard error, apart
 * from findings. Every message is one line written in one call, so lines
 * from worker threads never mix.
 *
 *   log_error    "gilcheck: error: ..."     always
 *   log_warning  "gilcheck: warning: ..."   always
 *   log_info     "gilcheck: ..."            always
 *   log_verbose  "gilcheck: ..."            with -v only
 *   log_at       "FILE:LINE:COL: KIND: ..."  always (a place in an input)
 *   log_remark   "FILE:LINE:COL: remark: ..." with -v only (the engine's
 *                remarks: a function given up on, a summary it could not get)
 *
 * The prefix is "gilcheck" unless set (the language server says
 * "gilcheck-lsp"). */
#ifndef GILCHECK_LOG_H
#define GILCHECK_LOG_H
#include <stdbool.h>

void log_set_prefix(const char *prefix);
void log_set_verbose(bool on);
bool log_is_verbose(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_at(const char *file, unsigned line, unsigned col, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void log_remark(const char *file, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
