/* interp-lifecycle: interpreters created, cleared, deleted or ended in the
 * wrong order, or ended from a thread state that is not current. */
#include <string.h>
#include "flow.h"

void lifecycle_history_notes(flow_ctx *c, gc_finding *f, const char *var, const int *h, int n);

void rule_interp_lifecycle(flow_ctx *c, enum lifecycle_problem p, gc_loc loc, const char *what,
                           const char *var, const int *h, int n) {
  const char *v = var ? var : "the interpreter";
  gc_finding *f = NULL;
  switch (p) {
  case LC_DELETE_BEFORE_CLEAR:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc,
                     "'%s' deletes '%s' before it is cleared with 'PyInterpreterState_Clear'", what, v);
    break;
  case LC_USE_AFTER_DELETE:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc, "'%s' uses '%s' after it was deleted or ended", what, v);
    break;
  case LC_DOUBLE_DELETE:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc, "'%s' deletes '%s' a second time", what, v);
    break;
  case LC_LEAK:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc, "the interpreter from '%s' ('%s') is never %s on this path", what, v,
                     !strcmp(what, "Py_NewInterpreter") ? "ended with 'Py_EndInterpreter'" : "deleted");
    break;
  case LC_CLEAR_WITHOUT_GIL:
  case LC_END_WITHOUT_GIL:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc, "'%s' called without holding the GIL (no attached thread state)", what);
    if (f) flow_note_release(c, f);
    break;
  case LC_END_NOT_CURRENT:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc,
                     "'%s' ends '%s', which is not the current thread state", what, v);
    break;
  default:
    f = flow_finding(c, R_INTERP_LIFECYCLE, loc, "'%s' misuses '%s'", what, v);
    break;
  }
  if (f) lifecycle_history_notes(c, f, var, h, n);
  if (p == LC_LEAK && n > 0) flow_note_branches_since(c, f, h[n - 1]);
}
