/* api-without-gil: a C-API call, an object-internals macro, or a call to a
 * function that needs the GIL, on a path where the GIL is released.
 * Reported at the call; notes say where the GIL was released, which
 * branches led here, and for a helper, the chain down to the API use. */
#include <string.h>
#include "checker.h"

void api_without_gil_on_api_use(check_ctx *c, const check_event *ev) {
  if (check_state(c)->gil.state != GIL_RELEASED) return;
  const ir_event *e = ev->ev;
  gc_finding *f;
  if (e->kind == EV_OBJMACRO)
    f = check_report(c, e->loc, "'%s' used without holding the GIL (no attached thread state)", e->callee);
  else if (ev->callee_fn >= 0)
    f = check_report(c, e->loc, "call to '%s', which needs the GIL, without holding it (no attached thread state)",
                     e->callee);
  else
    f = check_report(c, e->loc, "call to '%s' without holding the GIL (no attached thread state)", e->callee);
  if (!f) return;
  /* a call written inside the project's own macro: say which */
  if (e->kind == EV_CALL && e->macro && strcmp(e->macro, e->callee))
    diag_note(f, e->loc, "'%s' is called by the macro '%s' used here", e->callee, e->macro);
  check_note_release_path(c, f);
  if (ev->callee_fn >= 0) check_note_chain(c, f, ev->callee_fn);
}
