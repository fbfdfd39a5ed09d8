/* lower.h: the lowering — a parsed unit's functions into the IR (ir.h),
 * with the entry hints found outside function bodies (unit.c; lower_int.h
 * says which file of tool/lower/ does what). */
#ifndef GILCHECK_LOWER_H
#define GILCHECK_LOWER_H
#include "arena.h"
#include "diag.h"
#include "ir.h"
#include "parse.h"
#include "program.h"

/* Lowers an already parsed unit (a CXTranslationUnit) into OUT. */
int front_lower_cxtu(void *cxtu, const char *workdir, arena *A, ir_tu *out);

#endif
