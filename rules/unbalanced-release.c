/* unbalanced-release: control leaves a released region with the GIL still
 * released (a return, goto, break or continue out of
 * Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS), or the function returns
 * released when it must return held. Reported at the statement that leaves.
 *
 * A function returns released rightly when it was entered released, when
 * PyGILState_Release gave back a state from before its Ensure, or when it is
 * a helper that keeps the saved thread state where its caller restores it
 * (its summary says "releases"); wrongly when the thread state it saved is
 * lost (only in a local, or thrown away by a function entered from Python),
 * or when its callers hold the GIL (method tables, slots, annotations). */
#include <string.h>
#include "checker.h"

void unbalanced_release_on_leave_region(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  const ir_event *e = ev->ev;
  if (k->gil.state != GIL_RELEASED || k->gil.region != e->region) return;
  if (k->gil.how != RH_SAVED_LOCAL && k->gil.how != RH_LOST && k->gil.how != RH_STORED) return;
  gc_finding *f = check_report(c, e->loc, "'%s' leaves the '%s' block with the GIL still released", e->callee,
                               ev->region->macro);
  check_note_release_path(c, f);
}

/* A function annotated GILCHECK_RELEASES_GIL (or _ACQUIRES_GIL) whose body
 * returns in the other state on some path. */
static void annotation_mismatch(check_ctx *c, gc_loc loc, const char *annotation, const char *how) {
  const ir_func *fn = check_function(c);
  gc_finding *f = check_report(c, loc, "'%s' is annotated %s but returns %s on this path", fn->name, annotation, how);
  if (f) diag_note(f, fn->loc, "'%s' is declared here", fn->name);
}

static bool entry_is_annotation(check_ctx *c) {
  const entry_reason *h = check_entry_hint(c);
  return h && h->annotation;
}

void unbalanced_release_on_exit(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  const ir_func *fn = check_function(c);
  gc_loc loc = ev->block->term_loc;
  bool entry_held = check_entry_kind(c) == ENTRY_HELD;
  if (k->gil.state == GIL_RELEASED && !check_entered_released(c)) {
    /* A dropped PyEval_SaveThread result is lost only if nobody else has
     * the thread state; a helper entered from C may detach a state its
     * caller keeps (a slot passed in), so only a function entered from
     * Python is sure to have lost it. */
    gc_finding *f = NULL;
    if (k->gil.how == RH_SAVED_LOCAL || (k->gil.how == RH_LOST && entry_held))
      f = check_report(c, loc, "'%s' returns with the GIL released, and the saved thread state is lost", fn->name);
    else if (entry_held && !(fn->annot & ANNOT_RELEASES_GIL) &&
             (k->gil.how == RH_STORED || k->gil.how == RH_CALLEE)) {
      if (entry_is_annotation(c))
        f = check_report(c, loc, "'%s' returns with the GIL released, but its callers hold it "
                         "(annotated GILCHECK_REQUIRES_GIL)", fn->name);
      else
        f = check_report(c, loc, "'%s' returns to Python with the GIL released", fn->name);
    }
    check_note_release_path(c, f);
  }
  if ((fn->annot & ANNOT_RELEASES_GIL) && k->gil.state == GIL_HELD)
    annotation_mismatch(c, loc, "GILCHECK_RELEASES_GIL", "with the GIL held");
  if ((fn->annot & ANNOT_ACQUIRES_GIL) && k->gil.state == GIL_RELEASED)
    annotation_mismatch(c, loc, "GILCHECK_ACQUIRES_GIL", "without the GIL");
}
