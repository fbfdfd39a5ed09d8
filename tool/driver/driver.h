/* driver.h: the command line. driver_main parses the options, builds the
 * units (from -p, from "--", from a compile_commands.json found above each
 * file, or from the Python headers), lowers them with a pool of threads,
 * analyses the whole program and reports the findings of the files asked
 * for, filtered (checks, exclusions, NOLINT, baseline). Returns the exit
 * status: 2 when gilcheck could not do its whole job, else 1 when something
 * is reported, else 0. */
#ifndef GILCHECK_DRIVER_H
#define GILCHECK_DRIVER_H

int driver_main(int argc, char **argv);

/* An error of the run: "gilcheck: error: ..." on standard error, kept for
 * the report (SARIF's toolExecutionNotifications), and exit status 2. */
void driver_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a message formatted already ("path:1:2: error: ..."),
 * printed as it is. */
void driver_error_line(const char *line);

#endif
