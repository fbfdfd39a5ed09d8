/* api-without-gil: a C-API call, object-internals macro, or call to a
 * function that needs the GIL, on a path where the GIL is released.
 * Reported at the call; notes say where the GIL was released, which
 * branches led here, and for a helper, the chain down to the API use. */
#include "flow.h"

void rule_api_without_gil(flow_ctx *c, const ir_event *e, int callee_fn) {
  const char *what = e->kind == EV_OBJMACRO ? e->callee : e->macro && e->kind == EV_CALL && callee_fn < 0 &&
                     e->python_api ? e->macro : e->callee;
  gc_finding *f;
  if (e->kind == EV_OBJMACRO)
    f = flow_finding(c, R_API_WITHOUT_GIL, e->loc,
                     "'%s' used without holding the GIL (no attached thread state)", what);
  else if (callee_fn >= 0)
    f = flow_finding(c, R_API_WITHOUT_GIL, e->loc,
                     "call to '%s', which needs the GIL, without holding it (no attached thread state)", what);
  else
    f = flow_finding(c, R_API_WITHOUT_GIL, e->loc,
                     "call to '%s' without holding the GIL (no attached thread state)", what);
  if (!f) return;
  flow_note_release_path(c, f);
  if (callee_fn >= 0) flow_note_chain(c, f, callee_fn);
}
