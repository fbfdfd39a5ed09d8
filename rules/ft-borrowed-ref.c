/* ft-borrowed-ref: a borrowed reference taken from a container another
 * thread can change (PyDict_GetItem, PyList_GetItem, PyList_GET_ITEM,
 * PyWeakref_GetObject, PyImport_AddModule, PyCell_GET ...: rules/api.def's
 * FT_BORROWED rows). Without the GIL, another thread can remove the item
 * and free it between the lookup and its use, even between the lookup and
 * an immediate Py_INCREF; the message names the function that returns a
 * strong reference instead. Iterating a dict with PyDict_Next outside a
 * critical section on it is reported too.
 *
 * Silent when the container is this function's own new object that has
 * not escaped (the engine's ft_dom.fresh; a helper that returns one it made
 * counts) or the thread's own
 * (PyThreadState_GetDict()), when it is a keyword-arguments dict (a new
 * dict per call, as the HOWTO says), when it cannot be named (inside a
 * macro: precision before recall), inside a critical section
 * on the container or on the object it belongs to (Py_BEGIN_CRITICAL_SECTION
 * (self) around self->dict), and in code only module initialisation runs.
 * Weak references and sys.modules are reported whatever the caller holds. */
#include <string.h>
#include "checker.h"

/* A keyword-arguments dict by its usual names: new for each call. */
static bool kwargs_name(const char *s) {
  static const char *const names[] = {"kwds", "kwargs", "kw", "kwdict", "keywds", "keywords", "kwarg", NULL};
  for (int i = 0; s && names[i]; i++)
    if (!strcmp(s, names[i])) return true;
  return false;
}

/* The container is the result of a call that gives an object no other
 * thread sees: 'PyThreadState_GetDict()'. */
static bool private_call(const char *s) {
  char name[128];
  size_t n = 0;
  if (!s) return false;
  while (s[n] && s[n] != '(' && n + 1 < sizeof name) { name[n] = s[n]; n++; }
  name[n] = 0;
  return s[n] == '(' && ft_is_fresh(name);
}

void ft_borrowed_ref_on_api_use(check_ctx *c, const check_event *ev) {
  const ir_event *e = ev->ev;
  if (!e || (e->kind != EV_CALL && e->kind != EV_OBJMACRO) || ev->callee_fn >= 0) return;
  const ft_borrowed_fact *b = ft_borrowed_lookup(e->callee);
  if (!b || e->gil_only || check_init_only(c)) return;
  const gstate *k = check_state(c);
  const char *obj = NULL;
  int var = -1;
  if (b->container_arg >= 0 && b->container_arg < e->nargs && b->container_arg < IR_MAX_ARGS) {
    obj = e->argtext[b->container_arg];
    var = e->argvar[b->container_arg];
  }
  if (b->kind != FTB_ALWAYS) {
    /* a container we cannot name, inside a macro: nothing to judge it by */
    if (!obj && var < 0) return;
    if (var >= 0 && ((k->ft.fresh >> var) & 1u)) return;
    if (kwargs_name(obj) || private_call(obj)) return;
    if (check_cs_locks(c, obj, var)) return;
  }
  /* held in a member, a global, a call's result: only if the program changes
   * one held so (numpy's dtype fields are filled once, by their creator) */
  check_access changed = {-1, NULL};
  int held = b->kind != FTB_ALWAYS ? check_container_changed(c, obj, ev->ev_id, &changed) : 1;
  if (held == 0) return;
  /* a local or parameter that only holds such containers (fields = dtype->fields) */
  if (held < 0 && check_container_held_unchanged(c, e, b->container_arg)) return;
  /* a dict lookup only compared (d[k] == Py_None): no reference is used */
  if (e->kind == EV_CALL && (e->gflags & CF_IDENTITY_ONLY)) return;
  const char *name = check_event_name(e);
  gc_finding *f;
  if (b->kind == FTB_ITERATE)
    f = check_report(c, e->loc,
                     "'%s' iterates '%s' outside a critical section on it: another thread can change the dict during "
                     "the loop under free threading; wrap the loop in '%s(%s)' ... 'Py_END_CRITICAL_SECTION()'",
                     name, obj ? obj : "the dict", b->replacement, obj ? obj : "dict");
  else if (b->kind == FTB_ALWAYS && b->container_arg < 0)
    f = check_report(c, e->loc,
                     "'%s' returns a borrowed reference from 'sys.modules', which another thread can change under "
                     "free threading; use '%s', which returns a strong reference",
                     name, b->replacement);
  else if (b->kind == FTB_ALWAYS)
    f = check_report(c, e->loc,
                     "'%s' returns a borrowed reference to the object %s%s%s refers to, which another thread can "
                     "destroy at any moment under free threading; use '%s', which returns a strong reference",
                     name, obj ? "'" : "", obj ? obj : "the weak reference", obj ? "'" : "", b->replacement);
  else
    f = check_report(c, e->loc,
                     "'%s' returns a borrowed reference from %s%s%s, which another thread can change under free "
                     "threading; use '%s', which returns a strong reference",
                     name, obj ? "'" : "", obj ? obj : "its container", obj ? "'" : "", b->replacement);
  if (!f) return;
  if (e->kind == EV_CALL && e->macro && strcmp(e->macro, e->callee))
    diag_note(f, e->loc, "'%s' is called by the macro '%s' used here", e->callee, e->macro);
  if (changed.e)
    diag_note(f, changed.e->loc, "a container held as '%s' is changed here, in '%s'", obj,
              check_function_name(c, changed.fn));
  for (int i = 0; i < k->cs.n; i++) {
    const char *locked = check_cs_object(c, i);
    if (locked && obj) diag_note(f, check_event_at(c, check_where(c)->cs[i])->loc,
                                 "the critical section here locks '%s', not '%s'", locked, obj);
  }
}
