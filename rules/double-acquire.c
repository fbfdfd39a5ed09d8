/* double-acquire: acquiring the GIL when this function already re-acquired
 * it (Py_BLOCK_THREADS then Py_END_ALLOW_THREADS): a deadlock, or a fatal
 * error on newer CPython. */
#include "checker.h"

void double_acquire_on_acquire(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  if (k->gil.state != GIL_HELD || !k->gil.own_acquire || !ev->counts) return;
  const ir_event *e = ev->ev;
  const char *what = ev->callee_fn >= 0 ? e->callee : check_event_name(e);
  gc_finding *f = check_report(c, e->loc, "'%s' acquires the GIL, but it is already held", what);
  int acq = check_where(c)->acquire;
  const ir_event *a = check_event_at(c, acq);
  if (f && a) check_note_event(c, f, acq, "the GIL was acquired here by '%s'", check_event_name(a));
}
