/* rules.h: the rule ids and their table (rules.def). How a rule hears of
 * events and reports is tool/engine/checker.h. */
#ifndef GILCHECK_RULES_H
#define GILCHECK_RULES_H
#include <stdbool.h>
#include "diag.h"

typedef enum rule_id {
#define RULE(e, id, on, summary) e,
#include "rules.def"
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
