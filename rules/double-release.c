/* double-release: releasing the GIL when it is already released on this
 * path (nested Py_BEGIN_ALLOW_THREADS, Py_UNBLOCK_THREADS twice). */
#include "checker.h"

void double_release_on_release(check_ctx *c, const check_event *ev) {
  if (check_state(c)->gil.state != GIL_RELEASED) return;
  const ir_event *e = ev->ev;
  const char *what = ev->callee_fn >= 0 ? e->callee : check_event_name(e);
  gc_finding *f = check_report(c, e->loc, "'%s' releases the GIL, but it is already released", what);
  check_note_release_path(c, f);
}
