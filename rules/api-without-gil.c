/* api-without-gil: a C-API call, object-internals macro, or call to a
 * function that needs the GIL, on a path where the GIL is released.
 * Reported at the call; notes say where the GIL was released, which
 * branches led here, and for a helper, the chain down to the API use. */
#include <string.h>
#include "flow.h"

void rule_api_without_gil(flow_ctx *c, const ir_event *e, int callee_fn) {
  const char *what = e->callee;
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
  /* a call written inside the project's own macro: say which */
  if (e->kind == EV_CALL && e->macro && strcmp(e->macro, e->callee))
    diag_note(f, e->loc, "'%s' is called by the macro '%s' used here", e->callee, e->macro);
  flow_note_release_path(c, f);
  if (callee_fn >= 0) flow_note_chain(c, f, callee_fn);
}
