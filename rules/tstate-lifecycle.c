/* tstate-lifecycle: thread states created, cleared, made current and
 * deleted in the wrong order: deleted before cleared, deleted while
 * current, used after deletion, deleted twice, cleared without the GIL, or
 * created and lost. Notes give the local's history. */
#include "checker.h"

static void history(check_ctx *c, gc_finding *f, int var) { check_note_history(c, f, var); }

static const char *name_of(check_ctx *c, int var) { return var >= 0 ? check_var_name(c, var) : "the thread state"; }

void tstate_lifecycle_on_pre_call(check_ctx *c, const check_event *ev) {
  const ir_event *e = ev->ev;
  const gstate *k = check_state(c);
  const char *what = check_event_name(e);
  gc_finding *f;
  /* a deleted thread state passed to anything but a second delete */
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
    int v = e->argvar[i];
    if (v < 0 || k->v[v].ts != TS_DELETED || ev->fx == FX_TSTATE_DELETE) continue;
    f = check_report(c, e->loc, "'%s' uses '%s' after it was deleted", what, name_of(c, v));
    history(c, f, v);
  }
  int a0 = e->nargs > 0 ? e->argvar[0] : -1;
  if (ev->fx == FX_TSTATE_CLEAR && k->gil.state == GIL_RELEASED) {
    f = check_report(c, e->loc, "'%s' called without holding the GIL (no attached thread state)", what);
    check_note_release(c, f);
    history(c, f, a0);
  }
  if (ev->fx != FX_TSTATE_DELETE || a0 < 0) return;
  const var_dom *x = &k->v[a0];
  if (x->ts == TS_DELETED)
    f = check_report(c, e->loc, "'%s' deletes '%s' a second time", what, name_of(c, a0));
  else if (x->ts == TS_CURRENT || (k->cur_ts == a0 && k->gil.state == GIL_HELD))
    f = check_report(c, e->loc, "'%s' deletes '%s' while it is the current thread state (use "
                     "'PyThreadState_DeleteCurrent')", what, name_of(c, a0));
  else if ((x->ts == TS_NEW || x->ts == TS_DETACHED || x->ts == TS_SAVED) && !x->cleared)
    f = check_report(c, e->loc, "'%s' deletes '%s' before it is cleared with 'PyThreadState_Clear'", what,
                     name_of(c, a0));
  else return;
  history(c, f, a0);
}

void tstate_lifecycle_on_exit(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  const ir_func *fn = check_function(c);
  for (int v = 0; v < fn->nvars; v++) {
    const var_dom *x = &k->v[v];
    if (!x->owned || x->null == NULL_YES || x->subinterp) continue;
    if (x->ts != TS_NEW && x->ts != TS_DETACHED && x->ts != TS_CURRENT) continue;
    gc_finding *f = check_report(c, ev->block->term_loc,
                                 "the thread state '%s' from 'PyThreadState_New' is never deleted on this path",
                                 check_var_name(c, v));
    if (!f) continue;
    history(c, f, v);
    int h[STATE_HISTORY];
    int n = state_history(check_where(c), v, h);
    if (n > 0) check_note_branches_since(c, f, h[n - 1]);
  }
}
