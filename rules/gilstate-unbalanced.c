/* gilstate-unbalanced: a PyGILState_Ensure (or PyThreadState_Ensure) handle
 * not released on some path, handles released out of order, or a handle
 * released twice. */
#include "flow.h"

void rule_gilstate_unbalanced(flow_ctx *c, enum gilstate_problem p, gc_loc loc, const char *var,
                              int ensure_event) {
  gc_finding *f = NULL;
  const ir_event *e = flow_event(c, ensure_event);
  const char *ens = e ? (e->macro ? e->macro : e->callee) : "PyGILState_Ensure";
  switch (p) {
  case GS_NOT_RELEASED:
    if (var)
      f = flow_finding(c, R_GILSTATE_UNBALANCED, loc, "the handle '%s' from '%s' is not released on this path",
                       var, ens);
    else
      f = flow_finding(c, R_GILSTATE_UNBALANCED, loc, "the state from '%s' is not released on this path", ens);
    if (f) flow_note_event(c, f, ensure_event, "'%s' called here", ens);
    flow_note_branches_since(c, f, ensure_event);
    break;
  case GS_OUT_OF_ORDER:
    f = flow_finding(c, R_GILSTATE_UNBALANCED, loc,
                     "'%s' is released out of order: the most recent '%s' must be released first",
                     var ? var : "handle", ens);
    if (f) flow_note_event(c, f, ensure_event, "the most recent '%s' is here", ens);
    break;
  case GS_RELEASED_TWICE:
    f = flow_finding(c, R_GILSTATE_UNBALANCED, loc, "the handle '%s' is released twice", var ? var : "?");
    if (f) flow_note_event(c, f, ensure_event, "'%s' comes from here", var ? var : "it");
    break;
  }
}
