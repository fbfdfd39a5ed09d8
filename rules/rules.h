/* rules.h: the rule registry (rules.def) and the interface between the
 * flow engine and the rules. The engine walks paths and detects each
 * situation; a rule decides the message and which notes explain it. */
#ifndef GILCHECK_RULES_H
#define GILCHECK_RULES_H
#include <stdbool.h>
#include "diag.h"

typedef enum rule_id {
#define RULE(e, id, on, summary) e,
#include "rules.def"
#undef RULE
  R_COUNT
} rule_id;

typedef struct rule_info {
  const char *id;
  bool default_on;
  const char *summary;
} rule_info;

extern const rule_info rule_table[R_COUNT];
int rule_by_id(const char *id);          /* index, or -1 */

#endif
