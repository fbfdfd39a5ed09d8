/* driver.h: the command line. driver_main parses the options, builds the
 * jobs (from -p, from "--", from a compile_commands.json found above each
 * file, or from the Python headers), runs the engine over them with a pool
 * of threads, filters the findings (checks, exclusions, NOLINT, baseline)
 * and prints them. Returns the exit status: 2 when some input could not be
 * analysed, else 1 when something is reported, else 0. */
#ifndef GILCHECK_DRIVER_H
#define GILCHECK_DRIVER_H

int driver_main(int argc, char **argv);

#endif
