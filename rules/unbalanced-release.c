/* unbalanced-release: control leaves a released region with the GIL still
 * released (a return, goto, break or continue out of
 * Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS), or the function returns
 * released when it must return held. Reported at the statement that leaves. */
#include "flow.h"

void rule_unbalanced_release_leave(flow_ctx *c, const ir_event *e) {
  const ir_region *r = &flow_func(c)->regions[e->region];
  gc_finding *f = flow_finding(c, R_UNBALANCED_RELEASE, e->loc,
                               "'%s' leaves the '%s' block with the GIL still released", e->callee, r->macro);
  if (!f) return;
  flow_note_release_path(c, f);
}

void rule_unbalanced_release_exit(flow_ctx *c, gc_loc loc, bool lost, bool entry_held) {
  gc_finding *f;
  if (lost)
    f = flow_finding(c, R_UNBALANCED_RELEASE, loc,
                     "'%s' returns with the GIL released, and the saved thread state is lost",
                     flow_func(c)->name);
  else if (flow_entry_is_annotation(c))
    f = flow_finding(c, R_UNBALANCED_RELEASE, loc,
                     "'%s' returns with the GIL released, but its callers hold it (annotated GILCHECK_REQUIRES_GIL)",
                     flow_func(c)->name);
  else
    f = flow_finding(c, R_UNBALANCED_RELEASE, loc,
                     "'%s' returns to Python with the GIL released", flow_func(c)->name);
  if (!f) return;
  flow_note_release_path(c, f);
  (void)entry_held;
}

/* A function annotated GILCHECK_RELEASES_GIL (or _ACQUIRES_GIL) whose body
 * returns in the other state on some path. */
void rule_annotation_mismatch(flow_ctx *c, gc_loc loc, const char *annotation, const char *how) {
  gc_finding *f = flow_finding(c, R_UNBALANCED_RELEASE, loc, "'%s' is annotated %s but returns %s on this path",
                               flow_func(c)->name, annotation, how);
  if (f) diag_note(f, flow_func(c)->loc, "'%s' is declared here", flow_func(c)->name);
}
