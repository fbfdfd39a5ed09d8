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

/* rules.def's 'on': off, on, or on only where a module declares
 * free-threading support (Py_MOD_GIL_NOT_USED) unless --checks or the
 * configuration asks for it everywhere (the ft-* rules). As a bool,
 * RULE_AUTO is on: the engine then decides where it reports. */
enum { RULE_OFF = 0, RULE_ON = 1, RULE_AUTO = 2 };

typedef struct rule_info {
  const char *id;
  unsigned char default_on;   /* RULE_OFF, RULE_ON or RULE_AUTO */
  const char *summary;
} rule_info;

extern const rule_info rule_table[R_COUNT];
int rule_by_id(const char *id);          /* index, or -1 */

#endif
