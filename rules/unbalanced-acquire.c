/* unbalanced-acquire: a function entered without the GIL takes it
 * (PyEval_RestoreThread, PyEval_AcquireThread, PyEval_AcquireLock, a
 * wrapper macro, a helper whose summary acquires) and a `return` keeps it
 * while another path of the same function gives it back before returning.
 * Every other thread then waits for ever for the GIL (or the thread state
 * stays attached to this thread). Reported at that return, with notes:
 * where it was taken, the branches that lead to the return, and where the
 * other path gives it back.
 *
 * Acquire helpers stay silent: a function whose held returns are its
 * successful ones and whose releasing returns are its failures ("attach and
 * return 0, or give it back and return -1"; "attach and return the handle,
 * or return NULL") leaves the GIL to its caller on purpose, and the caller
 * is checked instead. The decision needs every path, so each held return is
 * a draft until the walk ends. PyGILState_Ensure pairs are
 * gilstate-unbalanced's. */
#include "checker.h"

/* What a return returns, as far as success goes. */
typedef enum ret_class {
  RC_NONE,     /* void: no way to tell success */
  RC_FAIL,     /* a negative constant, or NULL from a function returning a pointer */
  RC_ZERO,     /* 0 from a function returning an integer */
  RC_OTHER,    /* a positive constant, a value, a non-NULL pointer */
} ret_class;

#define MAX_HELD_RETURNS 64

typedef struct ua_walk {
  int nheld;                        /* held returns drafted */
  uint8_t held_class[MAX_HELD_RETURNS];
  int give_back;                    /* a release after this function's acquire, on a returning path */
  bool any_give_back;
  bool give_back_fail_only;         /* every giving-back return is a failure */
  bool give_back_fail_or_zero;      /* every giving-back return is a failure or 0 */
} ua_walk;

static ret_class classify(const ir_func *fn, const ir_block *b) {
  switch (fn->ret_kind) {
  case RK_POINTER: return b->ret_const == RET_ZERO ? RC_FAIL : RC_OTHER;
  case RK_INTEGER:
    return b->ret_const == RET_NEGATIVE ? RC_FAIL : b->ret_const == RET_ZERO ? RC_ZERO : RC_OTHER;
  default: return RC_NONE;
  }
}

void unbalanced_acquire_on_exit(check_ctx *c, const check_event *ev) {
  ua_walk *u = check_scratch(c, sizeof *u);
  const gstate *k = check_state(c);
  const gwhere *w = check_where(c);
  if (!check_entered_released(c)) return;
  ret_class rc = classify(check_function(c), ev->block);
  if (k->gil.state == GIL_RELEASED && w->gave_back != NO_EVENT) {
    if (!u->any_give_back) {
      u->any_give_back = true;
      u->give_back = w->gave_back;
      u->give_back_fail_only = u->give_back_fail_or_zero = true;
    }
    if (rc != RC_FAIL) u->give_back_fail_only = false;
    if (rc != RC_FAIL && rc != RC_ZERO) u->give_back_fail_or_zero = false;
    return;
  }
  if (k->gil.state != GIL_HELD || !k->gil.own_acquire || u->nheld >= MAX_HELD_RETURNS) return;
  const ir_event *a = check_event_at(c, w->acquire);
  gc_finding *f = check_draft(c, ev->block->term_loc,
                              "'%s' returns with the GIL held, which it took itself, while another path gives it back",
                              check_function(c)->name);
  if (!f) return;
  u->held_class[u->nheld++] = (uint8_t)rc;
  if (a) check_note_event(c, f, w->acquire, "the GIL is taken here by '%s'", check_event_name(a));
  check_note_branches_since(c, f, w->acquire);
}

/* An acquire helper: its held returns succeed and its giving-back returns fail. */
static bool helper_shape(const ua_walk *u, ret_class held) {
  switch (held) {
  case RC_ZERO: return u->give_back_fail_only;
  case RC_OTHER: return u->give_back_fail_or_zero;
  default: return false;   /* a failure, or no way to tell: the GIL is kept by mistake */
  }
}

void unbalanced_acquire_on_end(check_ctx *c, const check_event *ev) {
  (void)ev;
  ua_walk *u = check_scratch(c, sizeof *u);
  if (!u->nheld || !u->any_give_back) return;
  for (int i = 0; i < u->nheld; i++)
    if (helper_shape(u, (ret_class)u->held_class[i])) return;
  const ir_event *g = check_event_at(c, u->give_back);
  for (int i = 0; i < check_ndrafts(c); i++)
    if (g) check_note_event(c, check_draft_at(c, i), u->give_back, "another path gives it back here by '%s'",
                            check_event_name(g));
  check_publish_drafts(c);
}
