/* tstate-lifecycle: thread states created, cleared, made current and
 * deleted in the wrong order. Notes give the value's history. */
#include <string.h>
#include "flow.h"

/* What an event did to the value named 'var', in a few words. */
static const char *verb(flow_ctx *c, const ir_event *e, const char *var) {
  api_effect fx = e->api ? e->api->effect : FX_NONE;
  const ir_func *fn = flow_func(c);
  bool is_arg0 = e->nargs > 0 && e->argvar[0] >= 0 && var && !strcmp(fn->var_names[e->argvar[0]], var);
  switch (fx) {
  case FX_TSTATE_NEW: case FX_INTERP_NEW: case FX_NEW_INTERPRETER:
    return is_arg0 ? "used" : "created";
  case FX_TSTATE_CLEAR: case FX_INTERP_CLEAR: return "cleared";
  case FX_TSTATE_DELETE: case FX_TSTATE_DELETE_CURRENT: case FX_INTERP_DELETE: return "deleted";
  case FX_END_INTERPRETER: return "ended";
  case FX_ACQUIRE: return "made current";
  case FX_TSTATE_SWAP: return is_arg0 ? "made current" : "swapped out";
  case FX_TSTATE_GET: return "obtained as the current thread state";
  case FX_RELEASE_KEEP: return "detached";
  case FX_RELEASE: return is_arg0 || e->result_var < 0 ? "detached" : "saved";
  default: return "used";
  }
}

static void history(flow_ctx *c, gc_finding *f, const char *var, const int *h, int n) {
  for (int i = 0; i < n; i++) {
    const ir_event *e = flow_event(c, h[i]);
    if (!e) continue;
    flow_note_event(c, f, h[i], "'%s' %s by '%s' here", var ? var : "it", verb(c, e, var),
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
  if (p == LC_LEAK && n > 0) flow_note_branches_since(c, f, h[n - 1]);
}
