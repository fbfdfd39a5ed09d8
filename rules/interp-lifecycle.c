/* interp-lifecycle: interpreters created, cleared, deleted or ended in the
 * wrong order: deleted before cleared, used after deletion, deleted twice,
 * cleared or ended without the GIL, ended from a thread state that is not
 * current, or created and lost. Notes give the local's history. */
#include "checker.h"

static const char *name_of(check_ctx *c, int var) { return var >= 0 ? check_var_name(c, var) : "the interpreter"; }

void interp_lifecycle_on_pre_call(check_ctx *c, const check_event *ev) {
  const ir_event *e = ev->ev;
  const gstate *k = check_state(c);
  const char *what = check_event_name(e);
  gc_finding *f;
  /* a deleted interpreter passed to anything but a second delete */
  for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
    int v = e->argvar[i];
    if (v < 0 || k->v[v].interp != IS_DELETED || ev->fx == FX_INTERP_DELETE) continue;
    f = check_report(c, e->loc, "'%s' uses '%s' after it was deleted or ended", what, name_of(c, v));
    check_note_history(c, f, v);
  }
  int a0 = e->nargs > 0 ? e->argvar[0] : -1;
  switch (ev->fx) {
  case FX_INTERP_CLEAR:
  case FX_END_INTERPRETER:
    if (k->gil.state == GIL_RELEASED) {
      f = check_report(c, e->loc, "'%s' called without holding the GIL (no attached thread state)", what);
      check_note_release(c, f);
      check_note_history(c, f, a0);
      return;
    }
    if (ev->fx != FX_END_INTERPRETER || a0 < 0) return;
    /* a thread state deleted before is tstate-lifecycle's use after delete */
    if (k->v[a0].ts == TS_DELETED) return;
    if (k->v[a0].ts == TS_DETACHED || k->v[a0].ts == TS_NEW || k->v[a0].ts == TS_SAVED ||
        (k->cur_ts >= 0 && k->cur_ts != a0)) {
      f = check_report(c, e->loc, "'%s' ends '%s', which is not the current thread state", what, name_of(c, a0));
      check_note_history(c, f, a0);
    }
    return;
  case FX_INTERP_DELETE:
    if (a0 < 0) return;
    if (k->v[a0].interp == IS_DELETED)
      f = check_report(c, e->loc, "'%s' deletes '%s' a second time", what, name_of(c, a0));
    else if (k->v[a0].interp == IS_NEW)
      f = check_report(c, e->loc, "'%s' deletes '%s' before it is cleared with 'PyInterpreterState_Clear'", what,
                       name_of(c, a0));
    else return;
    check_note_history(c, f, a0);
    return;
  default:
    return;
  }
}

void interp_lifecycle_on_exit(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  const ir_func *fn = check_function(c);
  for (int v = 0; v < fn->nvars; v++) {
    const var_dom *x = &k->v[v];
    if (!x->owned || x->null == NULL_YES) continue;
    gc_finding *f;
    if (x->subinterp && x->ts != TS_DELETED)
      f = check_report(c, ev->block->term_loc,
                       "the interpreter from 'Py_NewInterpreter' ('%s') is never ended with 'Py_EndInterpreter' "
                       "on this path", check_var_name(c, v));
    else if (!x->subinterp && (x->interp == IS_NEW || x->interp == IS_CLEARED))
      f = check_report(c, ev->block->term_loc,
                       "the interpreter from 'PyInterpreterState_New' ('%s') is never deleted on this path",
                       check_var_name(c, v));
    else continue;
    if (!f) continue;
    check_note_history(c, f, v);
    int h[STATE_HISTORY];
    int n = state_history(check_where(c), v, h);
    if (n > 0) check_note_branches_since(c, f, h[n - 1]);
  }
}
