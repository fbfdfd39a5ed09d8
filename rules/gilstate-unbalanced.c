/* gilstate-unbalanced: a PyGILState_Ensure (or PyThreadState_Ensure) handle
 * not released on some path, handles released out of order, or a handle
 * released twice. */
#include "checker.h"

static const char *ensure_name(check_ctx *c, int ensure_event) {
  const ir_event *e = check_event_at(c, ensure_event);
  return e ? check_event_name(e) : "PyGILState_Ensure";
}

void gilstate_unbalanced_on_pre_call(check_ctx *c, const check_event *ev) {
  if (ev->fx != FX_ENSURE_RELEASE) return;
  const ir_event *e = ev->ev;
  const gstate *k = check_state(c);
  const gwhere *w = check_where(c);
  int a0 = e->nargs > 0 ? e->argvar[0] : -1;
  int slot = check_ensure_slot(c, a0);
  if (slot < 0) {
    if (a0 >= 0 && k->v[a0].ensure == EH_RELEASED) {
      gc_finding *f = check_report(c, e->loc, "the handle '%s' is released twice", check_var_name(c, a0));
      int from = w->hist[a0][0];
      if (f && from != NO_EVENT) check_note_event(c, f, from, "'%s' comes from here", check_var_name(c, a0));
    }
    return;
  }
  if (slot != k->ens.n - 1) {
    int top = w->ensure[k->ens.n - 1];
    const char *ens = ensure_name(c, top);
    gc_finding *f = check_report(c, e->loc, "'%s' is released out of order: the most recent '%s' must be released first",
                                 a0 >= 0 ? check_var_name(c, a0) : "handle", ens);
    if (f) check_note_event(c, f, top, "the most recent '%s' is here", ens);
  }
}

void gilstate_unbalanced_on_exit(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  const gwhere *w = check_where(c);
  for (int i = 0; i < k->ens.n; i++) {
    if (k->ens.escaped & (1u << i)) continue;   /* returned or stored: someone else releases it */
    const char *ens = ensure_name(c, w->ensure[i]);
    gc_finding *f;
    if (k->ens.var[i] >= 0)
      f = check_report(c, ev->block->term_loc, "the handle '%s' from '%s' is not released on this path",
                       check_var_name(c, k->ens.var[i]), ens);
    else
      f = check_report(c, ev->block->term_loc, "the state from '%s' is not released on this path", ens);
    if (!f) continue;
    check_note_event(c, f, w->ensure[i], "'%s' called here", ens);
    check_note_branches_since(c, f, w->ensure[i]);
  }
}
