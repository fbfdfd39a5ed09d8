/* double-acquire: acquiring the GIL when this function already re-acquired
 * it (Py_BLOCK_THREADS then Py_END_ALLOW_THREADS): a deadlock, or a fatal
 * error on newer CPython. */
#include "flow.h"

void rule_double_acquire(flow_ctx *c, const ir_event *e, int callee_fn, int acq_event) {
  const char *what = callee_fn >= 0 ? e->callee : e->macro ? e->macro : e->callee;
  gc_finding *f = flow_finding(c, R_DOUBLE_ACQUIRE, e->loc,
                               "'%s' acquires the GIL, but it is already held", what);
  if (!f) return;
  const ir_event *a = flow_event(c, acq_event);
  if (a) flow_note_event(c, f, acq_event, "the GIL was acquired here by '%s'", a->macro ? a->macro : a->callee);
}
