/* ft.h: the free-threading model's transfer functions, for engine.c (the
 * questions the rules ask are in checker.h, the program-wide part in
 * engine.h). */
#ifndef GILCHECK_FT_H
#define GILCHECK_FT_H
#include "walk.h"

/* After a call without a built-in effect: a lock taken or given back (a
 * known lock, or a project function that only takes or only gives one), a
 * new container in its result, and the arguments that escape (all but the
 * container a PyDict_/PyList_/... function works on). */
void ft_after_call(check_ctx *c, pstate *s, const ir_event *e);
/* After an assignment to a tracked local: a copy of a new container is one
 * too; anything else is not. */
void ft_after_assign(pstate *s, const ir_event *e);
/* A return (apply_exit), and the end of a summary walk: a function each of
 * whose returns returns a container it made (or NULL) gives its caller a
 * new container, as PyDict_New does. */
void ft_at_exit(check_ctx *c, const pstate *s, const ir_block *b);
void ft_summarized(check_ctx *c);
/* The start of a walk that reports: a parameter of a static function every
 * call passes a new container of the caller's (or one held unchanged) in
 * holds one the function may borrow from, as a new container of its own. */
void ft_at_entry(check_ctx *c, pstate *s);
/* The tracked local a critical section's begin locks, or -1. */
int ft_cs_object_var(const ir_event *e);

#endif
