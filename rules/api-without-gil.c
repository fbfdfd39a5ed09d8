/* api-without-gil: a C-API call, an object-internals macro, or a call to a
 * function that needs the GIL, on a path where the GIL is released.
 * Reported at the call; notes say where the GIL was released, which
 * branches led here, and for a helper, the chain down to the API use.
 *
 * In a function that runs without the GIL from its entry (a thread, a
 * callback of a C library, a Py_AtExit function, a signal handler) every
 * use has one cause: only the first, by place, is reported, with the notes
 * that say who calls the function so. */
#include <string.h>
#include "checker.h"

typedef struct first_use {
  bool any;
  int best;             /* the draft reported at the end */
  gc_loc loc;
} first_use;

static bool before(gc_loc a, gc_loc b) {
  int c = strcmp(a.file ? a.file : "", b.file ? b.file : "");
  return c < 0 || (c == 0 && (a.line < b.line || (a.line == b.line && a.col < b.col)));
}

void api_without_gil_on_api_use(check_ctx *c, const check_event *ev) {
  const gstate *k = check_state(c);
  if (k->gil.state != GIL_RELEASED) return;
  const ir_event *e = ev->ev;
  bool from_entry = k->gil.how == RH_ENTRY || k->gil.how == RH_FINALIZED || k->gil.how == RH_SIGNAL;
  first_use *first = from_entry ? check_scratch(c, sizeof *first) : NULL;
  if (first && first->any && !before(e->loc, first->loc)) return;
  gc_finding *(*start)(check_ctx *, gc_loc, const char *, ...) = from_entry ? check_draft : check_report;
  gc_finding *f;
  if (e->kind == EV_OBJMACRO)
    f = start(c, e->loc, "'%s' used without holding the GIL (no attached thread state)", e->callee);
  else if (ev->callee_fn >= 0)
    f = start(c, e->loc, "call to '%s', which needs the GIL, without holding it (no attached thread state)", e->callee);
  else
    f = start(c, e->loc, "call to '%s' without holding the GIL (no attached thread state)", e->callee);
  if (!f) return;
  if (first) {
    first->any = true;
    first->best = check_ndrafts(c) - 1;
    first->loc = e->loc;
  }
  /* a call written inside the project's own macro: say which */
  if (e->kind == EV_CALL && e->macro && e->callee && strcmp(e->macro, e->callee))
    diag_note(f, e->loc, "'%s' is called by the macro '%s' used here", e->callee, e->macro);
  check_note_release_path(c, f);
  if (ev->callee_fn >= 0) check_note_chain(c, f, ev->callee_fn);
}

void api_without_gil_on_end(check_ctx *c, const check_event *ev) {
  (void)ev;
  first_use *first = check_scratch(c, sizeof *first);
  if (first->any) check_publish_draft(c, first->best);
}
