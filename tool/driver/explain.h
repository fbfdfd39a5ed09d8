/* explain.h: --explain RULE, the rule's documentation on standard output. */
#ifndef GILCHECK_EXPLAIN_H
#define GILCHECK_EXPLAIN_H

/* Prints RULE's page. Returns the exit status: 0, or 2 after saying why
 * (an unknown or misspelt rule, with a suggestion; a page not found). */
int explain_rule(const char *rule);

#endif
