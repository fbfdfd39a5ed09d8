/* notes.c: what the rules may ask and do (checker.h): questions about the
 * state at an event, findings, and the notes that explain a path — where
 * the GIL was released, the branches that decide the path, a callee's
 * chain, a local's history. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "walk.h"
#include "xalloc.h"

/* ---------- questions ---------- */

const gstate *check_state(check_ctx *c) { return c->s ? &c->s->k : NULL; }
const gwhere *check_where(check_ctx *c) { return c->s ? &c->s->w : NULL; }
const ir_func *check_function(check_ctx *c) { return c->fn; }
const engine_program *check_program(check_ctx *c) { return c->p; }
uint8_t check_entry_kind(check_ctx *c) { return c->p->entry[c->fi]; }
const entry_reason *check_entry_hint(check_ctx *c) { return c->p->entry_why[c->fi]; }

bool check_entered_released(check_ctx *c) {
  uint8_t k = check_entry_kind(c);
  return k == ENTRY_RELEASED || k == ENTRY_FINALIZED || k == ENTRY_SIGNAL ||
         (c->s && c->s->k.gil.entry_need == NEED_RELEASED);
}

const summary *check_summary(check_ctx *c, int fn) {
  return fn >= 0 && fn < c->p->nfuncs ? &c->p->sums[fn] : NULL;
}

const char *check_function_name(check_ctx *c, int fn) {
  return fn >= 0 && fn < c->p->nfuncs ? c->p->funcs[fn]->name : "?";
}

const ir_event *check_event_at(check_ctx *c, int id) { return walk_event(c, id, NULL); }

const char *check_var_name(check_ctx *c, int v) {
  return v >= 0 && v < c->fn->nvars ? c->fn->var_names[v] : "?";
}

const char *check_event_name(const ir_event *e) {
  return !e ? "?" : e->macro ? e->macro : e->callee ? e->callee : "?";
}

/* ---------- findings ---------- */

#define MESSAGE_MAX 1024

static bool seen_before(check_ctx *c, gc_loc loc) {
  uint64_t place = ((uint64_t)c->rule << 48) ^ ((uint64_t)loc.line << 20) ^ (uint64_t)loc.col;
  void **slot = pairmap_at(&c->seen, (uintptr_t)loc.file, place);
  if (*slot) return true;
  *slot = (void *)1;
  return false;
}

static gc_finding *start(check_ctx *c, gc_findings *into, gc_loc loc, const char *fmt, va_list ap) {
  if (!c->report || !c->p->rules[c->rule] || !loc.file) return NULL;
  if (c->s && c->s->k.approx) return NULL;
  if (seen_before(c, loc)) return NULL;
  char buf[MESSAGE_MAX];
  vsnprintf(buf, sizeof buf, fmt, ap);
  return diag_add(into, rule_table[c->rule].id, GC_SEV_WARNING, loc, c->fn->name, "%s", buf);
}

gc_finding *check_report(check_ctx *c, gc_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gc_finding *f = start(c, c->out, loc, fmt, ap);
  va_end(ap);
  return f;
}

gc_finding *check_draft(check_ctx *c, gc_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gc_finding *f = start(c, &c->drafts[c->rule], loc, fmt, ap);
  va_end(ap);
  return f;
}

void check_publish_drafts(check_ctx *c) {
  if (c->out) diag_move_all(c->out, &c->drafts[c->rule]);
}

void check_publish_draft(check_ctx *c, int i) {
  gc_findings *d = &c->drafts[c->rule];
  if (!c->out || i < 0 || i >= d->n) return;
  const gc_finding *x = &d->v[i];
  gc_finding *f = diag_add(c->out, x->rule, x->severity, x->loc, x->function, "%s", x->msg);
  for (int k = 0; k < x->nnotes; k++) diag_note(f, x->notes[k].loc, "%s", x->notes[k].msg);
}

int check_ndrafts(check_ctx *c) { return c->drafts[c->rule].n; }

gc_finding *check_draft_at(check_ctx *c, int i) {
  return i >= 0 && i < c->drafts[c->rule].n ? &c->drafts[c->rule].v[i] : NULL;
}

void *check_scratch(check_ctx *c, size_t size) {
  if (!c->scratch[c->rule]) c->scratch[c->rule] = arena_alloc(&c->A, size);
  return c->scratch[c->rule];
}

/* ---------- notes ---------- */

void check_note_event(check_ctx *c, gc_finding *f, int id, const char *fmt, ...) {
  const ir_event *e = walk_event(c, id, NULL);
  if (!f || !e) return;
  char buf[MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  diag_note(f, e->loc, "%s", buf);
}

void check_note_release(check_ctx *c, gc_finding *f) {
  if (!f || !c->s) return;
  const gstate *k = &c->s->k;
  if (k->gil.how == RH_ENTRY || k->gil.how == RH_FINALIZED || k->gil.how == RH_SIGNAL) {
    const entry_reason *h = check_entry_hint(c);
    const ir_event *why = walk_event(c, c->s->w.entry_evidence, NULL);
    if (!why && c->req_released) why = walk_event(c, c->req_released_ev, NULL);
    if (h && h->sentence) diag_note(f, h->loc, "%s", h->why);
    else if (h) diag_note(f, h->loc, "'%s' runs without the GIL: %s", c->fn->name, h->why);
    if (h && h->loc2.file && h->why2) diag_note(f, h->loc2, "%s", h->why2);
    if (h) return;
    else if (why && why->kind == EV_CALL && why->api && why->api->effect == FX_ENSURE)
      diag_note(f, why->loc, "'%s' may be entered without the GIL: it calls '%s' here", c->fn->name,
                check_event_name(why));
    else if (why)
      diag_note(f, why->loc, "'%s' is entered without the GIL: '%s' here needs it released", c->fn->name,
                check_event_name(why));
    else diag_note(f, c->fn->loc, "'%s' runs without the GIL", c->fn->name);
    return;
  }
  const ir_event *e = walk_event(c, c->s->w.release, NULL);
  if (!e) return;
  switch (k->gil.how) {
  case RH_ENSURE_RELEASE:
    diag_note(f, e->loc, "the GIL is released here by '%s', which restores the state from before "
              "'PyGILState_Ensure', when the GIL was not held", check_event_name(e));
    break;
  case RH_CALLEE:
    if (e->kind == EV_CALL && e->callee_fn >= 0) {
      diag_note(f, e->loc, "the GIL is released here by the call to '%s'", e->callee);
      break;
    }
    diag_note(f, e->loc, "the GIL is released here by '%s'", check_event_name(e));
    break;
  case RH_END_INTERPRETER:
    diag_note(f, e->loc, "no thread state is attached after '%s' here", check_event_name(e));
    break;
  default:
    /* PyThreadState_Swap(NULL) releases the GIL from 3.12 on; before, it
     * only leaves no thread state current (shared/capi/README.md) */
    if (e->kind == EV_CALL && e->api && e->api->effect == FX_TSTATE_SWAP) {
      if (c->fn->py_version && c->fn->py_version < 312)
        diag_note(f, e->loc, "no thread state is attached after '%s(NULL)' here (with Python %d.%d's headers "
                  "the GIL stays locked, but no API call is valid)", check_event_name(e),
                  c->fn->py_version / 100, c->fn->py_version % 100);
      else
        diag_note(f, e->loc, "the GIL is released here by '%s(NULL)', which detaches the thread state",
                  check_event_name(e));
      break;
    }
    diag_note(f, e->loc, "the GIL is released here by '%s'", check_event_name(e));
    break;
  }
}

/* Can block 'to' be reached from block 'from' without passing through
 * block 'avoid' (the branch being judged: going round a loop back into it
 * does not make the branch undecided)? */
static bool reaches(check_ctx *c, int from, int to, int avoid) {
  if (from == to) return true;
  if (from == avoid) return false;
  int n = c->fn->nblocks;
  char *seen = xcalloc((size_t)n, 1);
  int *stack = xmalloc(sizeof(int) * (size_t)n);
  int sp = 0;
  bool found = false;
  stack[sp++] = from;
  seen[from] = 1;
  while (sp > 0 && !found) {
    const ir_block *b = &c->fn->blocks[stack[--sp]];
    for (int i = 0; i < b->nsucc; i++) {
      int t = b->succ[i].to;
      if (t == to) { found = true; break; }
      if (!seen[t] && t != avoid) { seen[t] = 1; stack[sp++] = t; }
    }
  }
  free(seen);
  free(stack);
  return found;
}

/* Does any block reachable from 'from' without passing through 'avoid'
 * change the GIL or a thread state? (the body of a loop whose head is
 * 'avoid') */
static bool region_acts(check_ctx *c, int from, int avoid);

/* Does a block change the GIL or a thread state (so the branch into it matters)? */
static bool block_acts(check_ctx *c, int block) {
  const ir_block *b = &c->fn->blocks[block];
  for (int i = 0; i < b->nev; i++) {
    const ir_event *e = &b->ev[i];
    if (e->kind != EV_CALL) continue;
    if (e->api && api_effect_acts(e->api->effect)) return true;
    if (e->callee_fn >= 0 && c->p->sums[e->callee_fn].effect != EFF_NONE) return true;
  }
  return false;
}

static bool region_acts(check_ctx *c, int from, int avoid) {
  int n = c->fn->nblocks;
  char *seen = xcalloc((size_t)n, 1);
  int *stack = xmalloc(sizeof(int) * (size_t)n);
  int sp = 0;
  bool acts = false;
  if (from != avoid) { stack[sp++] = from; seen[from] = 1; }
  while (sp > 0 && !acts) {
    int b = stack[--sp];
    if (block_acts(c, b)) { acts = true; break; }
    const ir_block *bl = &c->fn->blocks[b];
    for (int i = 0; i < bl->nsucc; i++) {
      int t = bl->succ[i].to;
      if (!seen[t] && t != avoid) { seen[t] = 1; stack[sp++] = t; }
    }
  }
  free(seen);
  free(stack);
  return acts;
}

/* A loop's exit: the other way is the loop's body, which comes back to the
 * branch. Leaving the loop says nothing about the path unless the body
 * changes the GIL (then how often it ran matters). */
static bool quiet_loop_exit(check_ctx *c, int branch_block, int other) {
  return reaches(c, other, branch_block, -1) && !region_acts(c, other, branch_block);
}

#define BRANCH_NOTES_MAX 8

/* The branches that decide the path from 'stop' (a node where something
 * happened: a release, an Ensure) to the node at hand, nearest first;
 * into_stop tells whether the earliest one is the branch into 'stop'
 * itself. */
typedef struct branch_notes {
  const ir_cond *cond[BRANCH_NOTES_MAX];
  bool sense[BRANCH_NOTES_MAX];
  int n;
  bool into_stop;
} branch_notes;

static void collect_branches(check_ctx *c, bool (*is_stop)(check_ctx *, node *, int), int arg, branch_notes *out) {
  out->n = 0;
  out->into_stop = false;
  int target = c->cur ? c->cur->block : -1;
  bool acted = false;
  for (node *x = c->cur; x && x->pred && out->n < BRANCH_NOTES_MAX; x = x->pred) {
    bool stop = is_stop(c, x, arg);
    if (block_acts(c, x->block)) acted = true;
    const ir_block *pb = &c->fn->blocks[x->pred->block];
    /* a branch inside a macro's own body (an assert in PyTuple_GET_ITEM, a
     * project's callback-prologue macro) is not one the reader wrote: its
     * text would be the macro's use, which is not a condition */
    if (x->edge_cond >= 0 && pb->nsucc > 1 && c->fn->conds[x->edge_cond].text &&
        !c->fn->conds[x->edge_cond].in_macro_body) {
      bool other_reaches = false, loop_exit = false;
      for (int i = 0; i < pb->nsucc; i++)
        if (pb->succ[i].to != x->block) {
          if (reaches(c, pb->succ[i].to, target, x->pred->block)) other_reaches = true;
          if (quiet_loop_exit(c, x->pred->block, pb->succ[i].to)) loop_exit = true;
        }
      /* A branch explains the path if the other way does not lead here, or
       * if the way taken changed the GIL before the next branch. The branch
       * into the stop node matters only when the other way leads here too
       * (a conditional release), not when it is an early return. */
      bool keep = stop ? other_reaches : (!other_reaches || acted);
      if (loop_exit && !stop) keep = false;
      if (keep) {
        out->cond[out->n] = &c->fn->conds[x->edge_cond];
        out->sense[out->n] = x->edge_sense;
        out->n++;
        if (stop) out->into_stop = true;
      }
      acted = false;
    }
    if (stop) break;
  }
}

static void emit_branches(gc_finding *f, const branch_notes *b, int from, int to) {
  for (int i = from; i >= to; i--)
    diag_note(f, b->cond[i]->loc, "assuming '%s' is %s", b->cond[i]->text,
              b->sense[i] != b->cond[i]->text_negated ? "true" : "false");
}

static bool released_here(check_ctx *c, node *x, int rel) {
  (void)c;
  return x->k.gil.state != GIL_RELEASED || x->w.release != rel;
}

static bool block_has_event(check_ctx *c, node *x, int ev) {
  int b;
  return ev >= 0 && walk_event(c, ev, &b) && b == x->block;
}

void check_note_release_path(check_ctx *c, gc_finding *f) {
  if (!f || !c->s) return;
  branch_notes b;
  collect_branches(c, released_here, c->s->w.release, &b);
  int before = b.into_stop && c->s->k.gil.how != RH_ENTRY ? 1 : 0;
  /* in the order they happen: the branch into the release, the release, the rest */
  emit_branches(f, &b, b.n - 1, b.n - before);
  check_note_release(c, f);
  emit_branches(f, &b, b.n - before - 1, 0);
}

void check_note_branches_since(check_ctx *c, gc_finding *f, int event_id) {
  if (!f || event_id < 0) return;
  branch_notes b;
  collect_branches(c, block_has_event, event_id, &b);
  /* the branch into the event's own block comes before it: leave it out */
  emit_branches(f, &b, b.n - 1 - (b.into_stop ? 1 : 0), 0);
}

#define CHAIN_MAX 8

void check_note_chain(check_ctx *c, gc_finding *f, int fn) {
  if (!f) return;
  int seen[CHAIN_MAX];
  for (int depth = 0; depth < CHAIN_MAX && fn >= 0; depth++) {
    for (int i = 0; i < depth; i++) if (seen[i] == fn) return;
    seen[depth] = fn;
    const summary *s = &c->p->sums[fn];
    if (!s->wit_loc.file) return;
    const char *name = c->p->funcs[fn]->name;
    if (s->wit_fn >= 0)
      diag_note(f, s->wit_loc, "'%s' needs the GIL: it calls '%s' here", name, s->wit_what);
    else if (s->pre == PRE_HELD && c->p->entry[fn] == ENTRY_HELD && !strcmp(s->wit_what, "@entry"))
      diag_note(f, s->wit_loc, "'%s' needs the GIL", name);
    else
      diag_note(f, s->wit_loc, "'%s' needs the GIL: it uses '%s' here", name, s->wit_what);
    fn = s->wit_fn;
  }
}

/* What an event did to the local VAR, in a few words. */
static const char *verb(const ir_event *e, int var) {
  api_effect fx = e->api ? e->api->effect : FX_NONE;
  bool is_arg0 = e->nargs > 0 && var >= 0 && e->argvar[0] == var;
  switch (fx) {
  case FX_TSTATE_NEW: case FX_INTERP_NEW: case FX_NEW_INTERPRETER:
    return is_arg0 ? "used" : "created";
  case FX_TSTATE_CLEAR: case FX_INTERP_CLEAR: return "cleared";
  case FX_TSTATE_DELETE: case FX_TSTATE_DELETE_CURRENT: case FX_INTERP_DELETE: return "deleted";
  case FX_END_INTERPRETER: return "ended";
  case FX_ACQUIRE: return "made current";
  case FX_TSTATE_SWAP: return is_arg0 ? "made current" : "swapped out";
  case FX_TSTATE_GET: return "obtained as the current thread state";
  case FX_RELEASE_KEEP: return "detached";
  case FX_RELEASE: return is_arg0 || e->result_var < 0 ? "detached" : "saved";
  default: return "used";
  }
}

void check_note_history_and_path(check_ctx *c, gc_finding *f, int var) {
  if (!f || !c->s || var < 0) return;
  check_note_history(c, f, var);
  int h[STATE_HISTORY];
  int n = state_history(&c->s->w, var, h);
  if (n > 0) check_note_branches_since(c, f, h[n - 1]);
}

void check_note_history(check_ctx *c, gc_finding *f, int var) {
  if (!f || !c->s || var < 0) return;
  int h[STATE_HISTORY];
  int n = state_history(&c->s->w, var, h);
  for (int i = 0; i < n; i++) {
    const ir_event *e = walk_event(c, h[i], NULL);
    if (!e) continue;
    check_note_event(c, f, h[i], "'%s' %s by '%s' here", check_var_name(c, var), verb(e, var), check_event_name(e));
  }
}
