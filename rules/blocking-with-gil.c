/* blocking-with-gil (off by default): a known blocking call made while
 * holding the GIL — a missed chance to release it, or a deadlock. */
#include <string.h>
#include "checker.h"

/* Does the call block, by the BLOCKING rows of api.def (some only for an
 * argument spelled a certain way: PyThread_acquire_lock(l, WAIT_LOCK))? */
static bool blocks(const ir_event *e) {
  for (const blocking_fact *b = blocking_lookup(e->callee); b; b = blocking_lookup_next(b))
    if (b->arg < 0 || (b->arg < e->nargs && b->arg < IR_MAX_ARGS && e->argtext[b->arg] &&
                       !strcmp(e->argtext[b->arg], b->value)))
      return true;
  return false;
}

void blocking_with_gil_on_pre_call(check_ctx *c, const check_event *ev) {
  const ir_event *e = ev->ev;
  /* the project's own functions and annotated ones are judged by what they do */
  if (ev->fx != FX_NONE || ev->callee_fn >= 0 || (e->callee_annot && !e->api)) return;
  if (check_state(c)->gil.state != GIL_HELD || !blocks(e)) return;
  check_report(c, e->loc, "'%s' may block while holding the GIL; release it around the call "
               "(Py_BEGIN_ALLOW_THREADS)", e->callee);
}
