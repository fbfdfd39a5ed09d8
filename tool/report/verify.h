/* verify.h: --verify, clang's -verify for gilcheck's own tests. */
#ifndef GILCHECK_VERIFY_H
#define GILCHECK_VERIFY_H
#include <stdio.h>
#include "diag.h"

/* Checks 'fs' against the expected-* comments of 'files' (the analysed
 * sources, as shown) and of the files the findings are in. Prints each
 * mismatch to 'err'. Returns 0 when everything matched, 1 otherwise. */
int verify_findings(const gc_findings *fs, char *const *files, int nfiles, FILE *err);

#endif
