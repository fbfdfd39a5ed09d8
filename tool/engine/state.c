/* state.c: initial states, histories and the printers of each domain
 * (see state.h). */
#include "state.h"
#include <string.h>

void state_init(pstate *s, uint8_t entry_kind) {
  memset(s, 0, sizeof *s);
  s->k.gil.saved_var = -1;
  s->k.gil.region = -1;
  s->k.cur_ts = CUR_UNKNOWN;
  s->k.pend.fn = -1;
  for (int i = 0; i < STATE_MAX_ENSURE; i++) s->k.ens.var[i] = -1;
  for (int i = 0; i < STATE_MAX_CS; i++) s->k.cs.var[i] = -1;
  s->w.release = s->w.acquire = s->w.gave_back = s->w.pending = NO_EVENT;
  s->w.entry_use = s->w.entry_evidence = NO_EVENT;
  for (int i = 0; i < STATE_EARLY_USES; i++) s->w.early[i] = NO_EVENT;
  for (int i = 0; i < STATE_MAX_ENSURE; i++) s->w.ensure[i] = NO_EVENT;
  for (int i = 0; i < STATE_MAX_CS; i++) s->w.cs[i] = NO_EVENT;
  for (int v = 0; v < IR_MAX_VARS; v++)
    for (int i = 0; i < STATE_HISTORY; i++) s->w.hist[v][i] = NO_EVENT;
  switch (entry_kind) {
  case ENTRY_HELD: s->k.gil.state = GIL_HELD; break;
  case ENTRY_RELEASED:
  case ENTRY_FINALIZED:
  case ENTRY_SIGNAL:
    s->k.gil.state = GIL_RELEASED;
    s->k.gil.how = entry_kind == ENTRY_FINALIZED ? RH_FINALIZED : entry_kind == ENTRY_SIGNAL ? RH_SIGNAL : RH_ENTRY;
    s->k.cur_ts = CUR_NONE;
    break;
  default: s->k.gil.state = GIL_ENTRY; break;
  }
}

void state_history_add(gwhere *w, int v, int ev) {
  if (v < 0) return;
  for (int i = 0; i < STATE_HISTORY; i++)
    if (w->hist[v][i] == NO_EVENT) { w->hist[v][i] = ev; return; }
  memmove(&w->hist[v][0], &w->hist[v][1], sizeof(int32_t) * (STATE_HISTORY - 1));
  w->hist[v][STATE_HISTORY - 1] = ev;
}

void state_history_reset(gwhere *w, int v, int ev) {
  if (v < 0) return;
  for (int i = 0; i < STATE_HISTORY; i++) w->hist[v][i] = NO_EVENT;
  if (ev != NO_EVENT) state_history_add(w, v, ev);
}

int state_history(const gwhere *w, int v, int out[STATE_HISTORY]) {
  int n = 0;
  if (v >= 0)
    for (int i = 0; i < STATE_HISTORY; i++)
      if (w->hist[v][i] != NO_EVENT) out[n++] = w->hist[v][i];
  return n;
}

/* ---------- printers ---------- */

const char *gil_state_name(gil_state s) {
  static const char *const n[] = {"entry", "held", "released", "unknown"};
  return s <= GIL_UNKNOWN ? n[s] : "?";
}

const char *release_how_name(release_how h) {
  static const char *const n[] = {"", "saved in a local", "thread state lost", "thread state stored",
                                  "by a callee", "by PyGILState_Release", "at entry",
                                  "thread state deleted", "interpreter ended", "after finalization",
                                  "in a signal handler"};
  return h <= RH_SIGNAL ? n[h] : "?";
}

const char *ts_state_name(ts_state s) {
  static const char *const n[] = {"-", "saved", "new", "current", "detached", "deleted"};
  return s <= TS_DELETED ? n[s] : "?";
}

const char *interp_state_name(interp_state s) {
  static const char *const n[] = {"-", "new", "cleared", "deleted"};
  return s <= IS_DELETED ? n[s] : "?";
}

static const char *var_name(const char *const *names, int nvars, int v) {
  return v >= 0 && v < nvars ? names[v] : "?";
}

static void print_gil(FILE *out, const gstate *k, const char *const *names, int nvars) {
  fprintf(out, "gil=%s", gil_state_name(k->gil.state));
  if (k->gil.state == GIL_RELEASED) {
    fprintf(out, " (%s", release_how_name(k->gil.how));
    if (k->gil.saved_var >= 0) fprintf(out, " '%s'", var_name(names, nvars, k->gil.saved_var));
    if (k->gil.region >= 0) fprintf(out, ", region %d", k->gil.region);
    fputc(')', out);
  }
  if (k->gil.state == GIL_HELD && k->gil.own_acquire) fputs(" (taken here)", out);
  if (k->gil.entry_need == NEED_HELD) fputs(" entry-needs=held", out);
  else if (k->gil.entry_need == NEED_RELEASED) fputs(" entry-needs=released", out);
}

static void print_ensure(FILE *out, const gstate *k, const char *const *names, int nvars) {
  if (!k->ens.n) return;
  static const char *const before[] = {"held", "released", "unknown"};
  fputs(" ensure=[", out);
  for (int i = 0; i < k->ens.n; i++)
    fprintf(out, "%s%s:was-%s", i ? " " : "", k->ens.var[i] >= 0 ? var_name(names, nvars, k->ens.var[i]) : "_",
            before[k->ens.before[i] <= EB_UNKNOWN ? k->ens.before[i] : EB_UNKNOWN]);
  fputc(']', out);
}

static void print_cs(FILE *out, const gstate *k, const char *const *names, int nvars) {
  if (!k->cs.n) return;
  fputs(" critical-sections=[", out);
  for (int i = 0; i < k->cs.n; i++)
    fprintf(out, "%s%s", i ? " " : "", k->cs.var[i] >= 0 ? var_name(names, nvars, k->cs.var[i]) : "_");
  fputc(']', out);
}

static void print_current(FILE *out, const gstate *k, const char *const *names, int nvars) {
  if (k->cur_ts == CUR_NONE) fputs(" current=none", out);
  else if (k->cur_ts >= 0) fprintf(out, " current='%s'", var_name(names, nvars, k->cur_ts));
}

static void print_vars(FILE *out, const gstate *k, const char *const *names, int nvars) {
  static const char *const handle[] = {"", "active", "released"};
  for (int v = 0; v < nvars && v < IR_MAX_VARS; v++) {
    const var_dom *x = &k->v[v];
    if (!x->null && !x->ts && !x->interp && !x->ensure && !x->owned && !x->subinterp && !x->cleared && !x->value)
      continue;
    fprintf(out, " %s={", names[v]);
    const char *sep = "";
    if (x->null) { fprintf(out, "%s%s", sep, x->null == NULL_YES ? "null" : "non-null"); sep = ","; }
    if (x->ts) { fprintf(out, "%sts:%s", sep, ts_state_name(x->ts)); sep = ","; }
    if (x->cleared) { fprintf(out, "%scleared", sep); sep = ","; }
    if (x->subinterp) { fprintf(out, "%ssub-interpreter", sep); sep = ","; }
    if (x->interp) { fprintf(out, "%sinterp:%s", sep, interp_state_name(x->interp)); sep = ","; }
    if (x->ensure) { fprintf(out, "%shandle:%s", sep, handle[x->ensure]); sep = ","; }
    if (x->owned) { fprintf(out, "%sowned", sep); sep = ","; }
    if (x->value) {
      fprintf(out, "%s%s", sep, x->value_eq ? "==" : "!=");
      if (x->value == VALUE_OTHER) fputs("other", out);
      else fprintf(out, "#%u", (unsigned)x->value);
      sep = ",";
    }
    fputc('}', out);
  }
}

void state_print(FILE *out, const gstate *k, const char *const *names, int nvars) {
  print_gil(out, k, names, nvars);
  print_ensure(out, k, names, nvars);
  print_cs(out, k, names, nvars);
  print_current(out, k, names, nvars);
  if (k->pend.fn >= 0) fprintf(out, " pending-call=%d", k->pend.fn);
  if (k->corr.known) fprintf(out, " conditions=%#x/%#x", k->corr.known, k->corr.val);
  print_vars(out, k, names, nvars);
  if (k->approx) fputs(" (approximate)", out);
}
