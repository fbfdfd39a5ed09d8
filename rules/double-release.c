/* double-release: releasing the GIL when it is already released on this
 * path (nested Py_BEGIN_ALLOW_THREADS, Py_UNBLOCK_THREADS twice). */
#include "flow.h"

void rule_double_release(flow_ctx *c, const ir_event *e, int callee_fn) {
  const char *what = callee_fn >= 0 ? e->callee : e->macro ? e->macro : e->callee;
  gc_finding *f = flow_finding(c, R_DOUBLE_RELEASE, e->loc,
                               "'%s' releases the GIL, but it is already released", what);
  if (!f) return;
  flow_note_release_path(c, f);
}
