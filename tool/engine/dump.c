/* dump.c: --dump-cfg. A function's graph as the engine sees it — blocks,
 * events with the macro the user wrote, edges with their conditions — then
 * the whole state reached at the end of each block, every domain (state.c's
 * printers). For tests of the engine and for users who ask "why did it say
 * that?". */
#include <string.h>
#include "engine.h"
#include "state.h"

void engine_dump_states(engine_program *p, int fi, FILE *out);   /* engine.c */

static const char *const ev_kind_name[] = {"call", "objmacro", "assign", "escape", "leave-region", "fnref",
                                            "global"};
static const char *const entry_name[] = {"inferred", "held", "released", "finalized", "signal"};
static const char *const pre_name[] = {"none", "held", "released", "conflict"};
static const char *const eff_name[] = {"none", "releases", "acquires", "unknown"};

static void dump_event(const ir_func *fn, const ir_event *e, FILE *out) {
  fprintf(out, "    %u:%u %s", e->loc.line, e->loc.col, ev_kind_name[e->kind]);
  if (e->callee) fprintf(out, " %s", e->callee);
  if (e->macro && (!e->callee || strcmp(e->macro, e->callee))) fprintf(out, " [macro %s]", e->macro);
  if (e->kind == EV_CALL) {
    if (e->python_api) fprintf(out, " python-api");
    if (e->callee_fn >= 0) fprintf(out, " project-fn");
    if (e->result_var >= 0) fprintf(out, " -> %s", fn->var_names[e->result_var]);
    /* what the caller knows of each argument, when a callee's walk may use it */
    if (e->callee_fn >= 0 && (e->argnull | e->argnonnull | e->argconst)) {
      fputs(" args(", out);
      for (int i = 0; i < e->nargs && i < IR_MAX_ARGS; i++) {
        unsigned bit = 1u << i;
        if (i) fputs(", ", out);
        if (e->argconst & bit) fprintf(out, "%lld", (long long)e->argval[i]);
        else if (e->argnull & bit) fputs("null", out);
        else if (e->argnonnull & bit) fputs("non-null", out);
        else if (e->argvar[i] >= 0) fputs(fn->var_names[e->argvar[i]], out);
        else fputs("?", out);
      }
      fputc(')', out);
    }
  }
  if (e->kind == EV_ASSIGN && e->var >= 0) fprintf(out, " %s", fn->var_names[e->var]);
  if (e->kind == EV_ASSIGN && e->key_src >= 0) fprintf(out, " = key %d", e->key_src);
  if (e->kind == EV_GLOBAL) {   /* free threading */
    static const char *const access[] = {"read", "write", "named"};
    fprintf(out, " %s", access[e->gaccess <= GA_ADDR ? e->gaccess : 0]);
    if (e->gflags & GF_CREATES_MODULE) fprintf(out, " creates-module");
  }
  if (e->kind == EV_OBJMACRO && e->nargs > 0 && e->argvar[0] >= 0) fprintf(out, " (%s)", fn->var_names[e->argvar[0]]);
  if (e->region >= 0) fprintf(out, " region=%d", e->region);
  fputc('\n', out);
}

/* How the engine follows a condition (nothing for an opaque one). */
static const char *cond_kind_label(const ir_cond *cd) {
  static char buf[48];
  switch (cd->kind) {
  case COND_VAR: return " (var)";
  case COND_KEY: return " (key)";
  case COND_GIL: return " (gil)";
  case COND_CALL: return " (call)";
  case COND_RUNTIME: return " (runtime)";
  case COND_CMP: {
    static const char *ops[] = {"==", "!=", "<", "<=", ">", ">="};
    snprintf(buf, sizeof buf, " (var %s %lld)", cd->cmp_op <= CMP_GE ? ops[cd->cmp_op] : "?", (long long)cd->cmp_value);
    return buf;
  }
  default: return "";
  }
}

static void dump_edges(const ir_func *fn, const ir_block *bl, FILE *out) {
  for (int i = 0; i < bl->nsucc; i++) {
    const ir_edge *ed = &bl->succ[i];
    if (ed->cond < 0) {
      fprintf(out, "    -> %d\n", ed->to);
      continue;
    }
    const ir_cond *cd = &fn->conds[ed->cond];
    fprintf(out, "    -> %d if %s'%s'%s%s\n", ed->to, ed->sense != cd->text_negated ? "" : "not ",
            cd->text ? cd->text : "?",
            cond_kind_label(cd),
            cd->in_macro_body ? " (macro)" : "");
  }
}

void engine_dump(engine_program *p, int fi, FILE *out) {
  const ir_func *fn = p->funcs[fi];
  const summary *s = &p->sums[fi];
  fprintf(out, "function %s (%s:%u) entry=%s pre=%s effect=%s%s\n", fn->name, fn->loc.file, fn->loc.line,
          entry_name[p->entry[fi] < ENTRY_KIND_COUNT ? p->entry[fi] : 0], pre_name[s->pre], eff_name[s->effect],
          s->noreturn ? " noreturn" : "");
  if (fn->abandoned) { fprintf(out, "  abandoned: %s\n", fn->abandoned); return; }
  for (int i = 0; i < fn->nvars; i++) fprintf(out, "  var %d: %s\n", i, fn->var_names[i]);
  for (int b = 0; b < fn->nblocks; b++) {
    const ir_block *bl = &fn->blocks[b];
    fprintf(out, "  block %d%s:\n", b, b == fn->entry ? " (entry)" : "");
    for (int i = 0; i < bl->nev; i++) dump_event(fn, &bl->ev[i], out);
    if (bl->term == TERM_RETURN) fprintf(out, "    return at %u:%u\n", bl->term_loc.line, bl->term_loc.col);
    else if (bl->term == TERM_NORETURN) fprintf(out, "    noreturn\n");
    dump_edges(fn, bl, out);
  }
  fprintf(out, "  states:\n");
  engine_dump_states(p, fi, out);
}
