/* ft-unsafe-global: module-level or static mutable state (a static
 * PyObject * cache, a counter, a flag, a member or an element of a static
 * struct or array) written in a function Python reaches (a method, a type
 * slot, a getter, and what they call) with no lock held
 * and no critical section open. Without the GIL Python runs such functions
 * on several threads at once: the write is a data race. Lazy
 * initialisation ('if (!cache) cache = ...') is one too, and says so.
 *
 * Silent in a helper every caller calls with a lock held (the lock is
 * theirs), and for const, _Atomic, thread-local and volatile variables, locks
 * themselves, writes through a pointer ('st->x': the module state is the
 * cure, not the disease), writes in code only module initialisation and
 * teardown run (PyInit_, Py_mod_exec, m_free and what only they call), and
 * reads. One finding per variable per function; notes name where else the
 * variable is written or read. */
#include <string.h>
#include "checker.h"

#define REPORTED_MAX 64
#define USES_MAX 4

typedef struct ug_walk {
  const char *reported[REPORTED_MAX];   /* globals already reported in this function */
  int n;
} ug_walk;

static const char *kind_of(const ir_event *e) {
  return e->gflags & (GF_STATIC | GF_LOCAL_STATIC) ? "static" : "global";
}

void ft_unsafe_global_on_write(check_ctx *c, const check_event *ev) {
  const ir_event *e = ev->ev;
  if (!e || e->gil_only || (e->gflags & (GF_CONST | GF_ATOMIC | GF_THREAD_LOCAL | GF_VOLATILE | GF_LOCK))) return;
  if (!check_python_reachable(c)) return;
  const gstate *k = check_state(c);
  if (k->ft.locks || k->cs.n || check_called_locked(c)) return;
  ug_walk *u = check_scratch(c, sizeof *u);
  for (int i = 0; i < u->n; i++)
    if (!strcmp(u->reported[i], e->callee_usr)) return;
  const char *fn = check_function(c)->name;
  const ir_cond *tested = e->gflags & (GF_COMPOUND | GF_MEMBER) ? NULL : check_path_tested_unset(c, e->callee);
  gc_finding *f;
  if (tested)
    f = check_report(c, e->loc,
                     "lazy initialisation of %s '%s' in '%s' races under free threading: two threads can both find "
                     "it unset; set it in the module's exec function (or PyInit_), or hold a 'PyMutex' across the "
                     "test and the store",
                     kind_of(e), e->callee, fn);
  else if ((e->gflags & GF_COMPOUND) && (e->gflags & GF_INTEGER))
    f = check_report(c, e->loc,
                     "%s '%s' is updated in '%s' with no lock held: a data race under free threading, where Python "
                     "runs '%s' on several threads at once; make it atomic, hold a 'PyMutex', or keep it in the "
                     "module state",
                     kind_of(e), e->callee, fn, fn);
  else
    f = check_report(c, e->loc,
                     "%s '%s' is written in '%s' with no lock held: a data race under free threading, where Python "
                     "runs '%s' on several threads at once; hold a 'PyMutex' around every use, or keep it in the "
                     "module state",
                     kind_of(e), e->callee, fn, fn);
  if (!f) return;
  if (u->n < REPORTED_MAX) u->reported[u->n++] = e->callee_usr;
  if (tested) diag_note(f, tested->loc, "'%s' is found unset here", e->callee);
  const entry_reason *h = check_entry_hint(c);
  int caller = check_python_caller(c);
  if (h && h->why && check_entry_kind(c) == ENTRY_HELD && !h->sentence)
    diag_note(f, h->loc, "'%s' is called from Python: %s", fn, h->why);
  else if (caller >= 0) diag_note(f, check_function(c)->loc, "'%s' is called by '%s', which Python reaches", fn,
                                  check_function_name(c, caller));
  check_access a[USES_MAX + 1];
  int n = check_global_uses(c, e->callee_usr, a, USES_MAX + 1);
  int shown = 0;
  for (int i = 0; i < n && shown < USES_MAX; i++) {
    const char *where = check_function_name(c, a[i].fn);
    if (a[i].e->gaccess == GA_WRITE)
      diag_note(f, a[i].e->loc, "'%s' is also written here, in '%s'", e->callee, where);
    else
      diag_note(f, a[i].e->loc, "'%s' is read here, in '%s'", e->callee, where);
    shown++;
  }
}
