/* gilcheck.h: annotations for what gilcheck cannot infer.
 *
 * Include it (or copy it: it is public domain, see below) and put the
 * macros before a function's declaration or definition:
 *
 *   GILCHECK_REQUIRES_GIL  the function is called with the GIL held
 *   GILCHECK_NO_GIL        the function is entered without the GIL, e.g. a
 *                          callback a C library runs on its own thread
 *   GILCHECK_RELEASES_GIL  entered with the GIL, returns without it on every
 *                          path, having stored the thread state for a
 *                          matching GILCHECK_ACQUIRES_GIL function
 *   GILCHECK_ACQUIRES_GIL  entered without the GIL, returns with it
 *
 * gilcheck uses them in two ways: callers are checked against them, and the
 * body is checked against them too (an API call in a GILCHECK_NO_GIL
 * function is an api-without-gil finding; a GILCHECK_RELEASES_GIL function
 * that returns with the GIL held is an unbalanced-release finding).
 *
 * Under clang they expand to __attribute__((annotate("gilcheck:..."))),
 * which changes nothing in the generated code; elsewhere to nothing.
 *
 * This file is dedicated to the public domain (CC0): copy it freely. */
#ifndef GILCHECK_H
#define GILCHECK_H

#if defined(__clang__)
#define GILCHECK_ANNOTATE_(what) __attribute__((annotate("gilcheck:" what)))
#else
#define GILCHECK_ANNOTATE_(what)
#endif

#define GILCHECK_REQUIRES_GIL GILCHECK_ANNOTATE_("requires_gil")
#define GILCHECK_NO_GIL GILCHECK_ANNOTATE_("no_gil")
#define GILCHECK_RELEASES_GIL GILCHECK_ANNOTATE_("releases_gil")
#define GILCHECK_ACQUIRES_GIL GILCHECK_ANNOTATE_("acquires_gil")

#endif
