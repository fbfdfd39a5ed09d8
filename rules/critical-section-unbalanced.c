/* critical-section-unbalanced: a critical section (Py_BEGIN_CRITICAL_SECTION,
 * PyCriticalSection_Begin) left open by return, goto or break. */
#include "flow.h"

void rule_critical_section_leave(flow_ctx *c, const ir_event *e, const ir_region *r) {
  gc_finding *f = flow_finding(c, R_CRITICAL_SECTION_UNBALANCED, e->loc,
                               "'%s' leaves the critical section of '%s' without ending it", e->callee, r->macro);
  if (f) diag_note(f, r->loc, "the critical section begins here");
}

void rule_critical_section_exit(flow_ctx *c, gc_loc loc, int begin_event) {
  gc_finding *f = flow_finding(c, R_CRITICAL_SECTION_UNBALANCED, loc,
                               "'%s' returns with a critical section still open", flow_func(c)->name);
  if (f) flow_note_event(c, f, begin_event, "the critical section begins here");
  flow_note_branches_since(c, f, begin_event);
}
