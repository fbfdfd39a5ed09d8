/* tstate-lifecycle: thread states created, cleared, made current and
 * deleted in the wrong order. Notes give the value's history. */
#include "flow.h"

static void history(flow_ctx *c, gc_finding *f, const char *var, const int *h, int n) {
  for (int i = 0; i < n; i++) {
    const ir_event *e = flow_event(c, h[i]);
    if (!e) continue;
    flow_note_event(c, f, h[i], "'%s' %s by '%s' here", var ? var : "it",
                    e->api && e->api->effect == FX_TSTATE_NEW ? "created" :
                    e->api && e->api->effect == FX_TSTATE_CLEAR ? "cleared" :
                    e->api && (e->api->effect == FX_TSTATE_DELETE || e->api->effect == FX_TSTATE_DELETE_CURRENT) ? "deleted" :
                    e->api && (e->api->effect == FX_ACQUIRE || e->api->effect == FX_TSTATE_SWAP) ? "made current" :
                    e->api && e->api->effect == FX_NEW_INTERPRETER ? "created" :
                    e->api && e->api->effect == FX_RELEASE ? "detached" : "used",
                    e->macro ? e->macro : e->callee);
  }
}

void lifecycle_history_notes(flow_ctx *c, gc_finding *f, const char *var, const int *h, int n) {
  history(c, f, var, h, n);
}

void rule_tstate_lifecycle(flow_ctx *c, enum lifecycle_problem p, gc_loc loc, const char *what,
                           const char *var, const int *h, int n) {
  const char *v = var ? var : "the thread state";
  gc_finding *f = NULL;
  switch (p) {
  case LC_DELETE_BEFORE_CLEAR:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc, "'%s' deletes '%s' before it is cleared with 'PyThreadState_Clear'", what, v);
    break;
  case LC_DELETE_CURRENT:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc,
                     "'%s' deletes '%s' while it is the current thread state (use 'PyThreadState_DeleteCurrent')", what, v);
    break;
  case LC_USE_AFTER_DELETE:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc, "'%s' uses '%s' after it was deleted", what, v);
    break;
  case LC_DOUBLE_DELETE:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc, "'%s' deletes '%s' a second time", what, v);
    break;
  case LC_LEAK:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc, "the thread state '%s' from '%s' is never deleted on this path", v, what);
    break;
  case LC_CLEAR_WITHOUT_GIL:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc, "'%s' called without holding the GIL (no attached thread state)", what);
    if (f) flow_note_release(c, f);
    break;
  default:
    f = flow_finding(c, R_TSTATE_LIFECYCLE, loc, "'%s' misuses '%s'", what, v);
    break;
  }
  if (f) history(c, f, var, h, n);
}
