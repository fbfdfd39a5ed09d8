/* registry.c: the rule table and the engine's subscriptions, both built
 * from rules.def. */
#include <string.h>
#include "checker.h"
#include "rules.h"

const rule_info rule_table[R_COUNT] = {
#define RULE(e, id, on, summary) {id, on, summary},
#include "rules.def"
};

int rule_by_id(const char *id) {
  for (int i = 0; i < R_COUNT; i++)
    if (!strcmp(rule_table[i].id, id)) return i;
  return -1;
}

/* Each callback, declared from its row. */
#define ON(e, event, fn) void fn(check_ctx *c, const check_event *ev);
#include "rules.def"

const check_subscription check_subscriptions[] = {
#define ON(e, event, fn) {e, event, fn},
#include "rules.def"
};

const int check_nsubscriptions = (int)(sizeof check_subscriptions / sizeof check_subscriptions[0]);
