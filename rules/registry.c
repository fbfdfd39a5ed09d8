/* registry.c: the rule table, built from rules.def. */
#include <string.h>
#include "rules.h"

const rule_info rule_table[R_COUNT] = {
#define RULE(e, id, on, summary) {id, on, summary},
#include "rules.def"
#undef RULE
};

int rule_by_id(const char *id) {
  for (int i = 0; i < R_COUNT; i++)
    if (!strcmp(rule_table[i].id, id)) return i;
  return -1;
}
