/* critical-section-unbalanced: a critical section (Py_BEGIN_CRITICAL_SECTION,
 * PyCriticalSection_Begin) left open by return, goto or break. */
#include "checker.h"

void critical_section_unbalanced_on_leave_region(check_ctx *c, const check_event *ev) {
  if (!ev->region->critical_section) return;
  gc_finding *f = check_report(c, ev->ev->loc, "'%s' leaves the critical section of '%s' without ending it",
                               ev->ev->callee, ev->region->macro);
  if (f) diag_note(f, ev->region->loc, "the critical section begins here");
}

void critical_section_unbalanced_on_exit(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  const gwhere *w = check_where(c);
  for (int i = 0; i < k->cs.n; i++) {
    gc_finding *f = check_report(c, ev->block->term_loc, "'%s' returns with a critical section still open",
                                 check_function(c)->name);
    if (!f) continue;
    check_note_event(c, f, w->cs[i], "the critical section begins here");
    check_note_branches_since(c, f, w->cs[i]);
  }
}
