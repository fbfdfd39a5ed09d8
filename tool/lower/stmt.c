/* stmt.c: statements into blocks and edges, one function per kind of
 * statement, each with its grammar above it.
 *
 * Loops and switches push their break and continue targets (struct jump);
 * a compound statement opened by a macro (Py_BEGIN_ALLOW_THREADS'
 * `{ PyThreadState *_save = ...`) is a region, and a break, continue,
 * return or goto that leaves one says so (EV_LEAVE_REGION). Gotos are linked
 * to their labels once the whole body is lowered (resolve_gotos). */
#include <string.h>
#include "lower_ft.h"
#include "lower_int.h"

static void push_jump(lower *L, int brk, int cont) {
  if (L->njumps >= LOWER_MAX_LOOP_DEPTH) { L->abandon = "loops nested too deeply"; return; }
  L->jumps[L->njumps++] = (struct jump){brk, cont, L->cstack.n};
}

/* The compound statements open here, copied (a goto's or a label's). */
static int *copy_cstack(lower *L) {
  int *v = arena_alloc(L->A, sizeof(int) * (size_t)(L->cstack.n + 1));
  if (L->cstack.n) memcpy(v, L->cstack.v, sizeof(int) * (size_t)L->cstack.n);
  return v;
}

/* May statement K hold the start of an object macro's expansion? Its text
 * runs from where it starts to where the next statement NEXT starts (or to
 * END): an expression in it that starts where such a macro was used lies
 * there. Asked only in a body holding one, in a file the main file
 * includes, so that the other statements' expressions need not be asked
 * where they start: in the main file that is cheap. */
static bool may_claim(lower *L, int k, int next, unsigned end) {
  unsigned b, nb;
  if (node_begin(L, k, &b) != L->fn_file) return true;
  if (next >= 0) {
    if (node_begin(L, next, &nb) != L->fn_file || nb < b) return true;
    end = nb;
  }
  L->range_end = end;
  return claimable_within(L, b, end);
}

/* compound := { stmt... }
 * Opened by a macro, it is a region: Py_BEGIN_ALLOW_THREADS, or a critical
 * section's when an API row says the macro begins one (FX_CS_BEGIN). */
static void lower_compound(lower *L, int s) {
  unsigned off;
  file_info *f = node_macro_begin(L, s, &off);
  const char *m = macro_at(L, f, off);
  int region = -1;
  if (m) {
    const api_fact *api = api_lookup(m);
    ir_region r = {loc_at(L, f, off), m, api && api->effect == FX_CS_BEGIN};
    vec_push(L->A, L->regions, r);
    region = L->regions.n - 1;
  }
  vec_push(L->A, L->cstack, region);
  if (region >= 0) ft_lower_region(L, nd(L, s)->c, region, true);   /* free threading: a critical section */
  bool claims = L->claims_here;
  unsigned end = L->range_end;
  int n = nkids(L, s);
  for (int i = 0; i < n && !L->abandon; i++) {
    if (claims && L->fn_claims && !L->fn_in_main)
      L->claims_here = may_claim(L, kid(L, s, i), i + 1 < n ? kid(L, s, i + 1) : -1, end);
    lower_stmt(L, kid(L, s, i));
  }
  L->claims_here = claims;
  L->range_end = end;
  if (region >= 0) ft_lower_region(L, nd(L, s)->c, region, false);
  L->cstack.n--;
}

/* if := if ( cond ) stmt [ else stmt ] */
static void lower_if(lower *L, int s) {
  int n = nkids(L, s);
  if (n < 2) return;
  int t = new_block(L), join = new_block(L);
  int f = n > 2 ? new_block(L) : join;
  lower_cond(L, kid(L, s, 0), t, f, s);
  L->cur = t;
  lower_stmt(L, kid(L, s, 1));
  add_edge(L, L->cur, join, -1, true);
  if (n > 2) {
    L->cur = f;
    lower_stmt(L, kid(L, s, 2));
    add_edge(L, L->cur, join, -1, true);
  }
  L->cur = join;
}

/* while := while ( cond ) stmt */
static void lower_while(lower *L, int s) {
  int n = nkids(L, s);
  if (n < 2) return;
  int head = new_block(L), body = new_block(L), exit = new_block(L);
  add_edge(L, L->cur, head, -1, true);
  L->cur = head;
  lower_cond(L, kid(L, s, n - 2), body, exit, s);
  push_jump(L, exit, head);
  L->cur = body;
  lower_stmt(L, kid(L, s, n - 1));
  add_edge(L, L->cur, head, -1, true);
  L->njumps--;
  L->cur = exit;
}

/* do := do stmt while ( cond ) ; */
static void lower_do(lower *L, int s) {
  if (nkids(L, s) < 2) return;
  int body = new_block(L), condb = new_block(L), exit = new_block(L);
  add_edge(L, L->cur, body, -1, true);
  push_jump(L, exit, condb);
  L->cur = body;
  lower_stmt(L, kid(L, s, 0));
  add_edge(L, L->cur, condb, -1, true);
  L->njumps--;
  L->cur = condb;
  lower_cond(L, kid(L, s, 1), body, exit, s);
  L->cur = exit;
}

typedef struct semis { unsigned at[2]; int n, depth; } semis;

static bool find_semis(void *ctx, const char *t, unsigned off, bool ident) {
  semis *sc = ctx;
  if (!strcmp(t, "(")) sc->depth++;
  else if (!strcmp(t, ")")) sc->depth--;
  else if (!strcmp(t, ";") && sc->depth == 1) sc->at[sc->n++] = off;
  return sc->n < 2;
}

/* for (init; cond; inc) body: libclang omits absent parts, so find which
 * child is which from the positions of the two semicolons. */
static void for_parts(lower *L, int s, int *init, int *cond, int *inc, int *body) {
  int n = nkids(L, s);
  *init = *cond = *inc = -1;
  *body = kid(L, s, n - 1);
  if (n == 4) { *init = kid(L, s, 0); *cond = kid(L, s, 1); *inc = kid(L, s, 2); return; }
  if (n == 1) return;
  unsigned start, bstart;
  file_info *f = spelling_of(L, clang_getCursorLocation(nd(L, s)->c), &start);
  file_info *bf = spelling_of(L, node_begin_sl(L, *body), &bstart);
  semis sc = {{0, 0}, 0, 0};
  const char *text;
  size_t size;
  if (f && file_text(L, f, &text, &size) && start < size && bf == f) tokens_in(L, f, start, bstart, find_semis, &sc);
  for (int i = 0; i < n - 1; i++) {
    int c = kid(L, s, i);
    unsigned co;
    file_info *cf = spelling_of(L, node_begin_sl(L, c), &co);
    if (sc.n == 2 && cf == f) {
      if (co < sc.at[0]) *init = c;
      else if (co < sc.at[1]) *cond = c;
      else *inc = c;
    } else {
      /* the for statement comes from a macro argument: guess by shape */
      if (i == 0 && kind_of(L, c) == CXCursor_DeclStmt) *init = c;
      else if (*cond < 0) *cond = c;
      else *inc = c;
    }
  }
}

/* for := for ( [init] ; [cond] ; [inc] ) stmt */
static void lower_for(lower *L, int s) {
  if (nkids(L, s) < 1) return;
  int init, cond, inc, bodyc;
  for_parts(L, s, &init, &cond, &inc, &bodyc);
  if (init >= 0) lower_stmt(L, init);
  int head = new_block(L), body = new_block(L), incb = new_block(L), exit = new_block(L);
  add_edge(L, L->cur, head, -1, true);
  L->cur = head;
  if (cond >= 0) lower_cond(L, cond, body, exit, s);
  else add_edge(L, head, body, -1, true);
  push_jump(L, exit, incb);
  L->cur = body;
  lower_stmt(L, bodyc);
  add_edge(L, L->cur, incb, -1, true);
  L->njumps--;
  L->cur = incb;
  if (inc >= 0) lower_expr(L, inc, RES_DISCARD, -1);
  add_edge(L, L->cur, head, -1, true);
  L->cur = exit;
}

/* switch := switch ( expr ) stmt
 * Each case label is an edge from the block of the switch; without a
 * default, the switch block also goes to the exit. */
static void lower_switch(lower *L, int s) {
  int n = nkids(L, s);
  if (n < 2) return;
  lower_expr(L, kid(L, s, n - 2), RES_OTHER, -1);
  int swb = L->cur, exit = new_block(L);
  if (L->nsws >= LOWER_MAX_SWITCH_DEPTH) { L->abandon = "switches nested too deeply"; return; }
  L->sws[L->nsws++] = (struct sw){swb, false};
  int cont = L->njumps ? L->jumps[L->njumps - 1].cont : -1;
  push_jump(L, exit, cont);
  L->jumps[L->njumps - 1].depth = L->cstack.n;
  L->cur = new_block(L);   /* code before the first label is unreachable */
  lower_stmt(L, kid(L, s, n - 1));
  add_edge(L, L->cur, exit, -1, true);
  L->njumps--;
  struct sw sw = L->sws[--L->nsws];
  if (!sw.has_default) add_edge(L, swb, exit, -1, true);
  L->cur = exit;
}

/* case := case constant : stmt  |  default : stmt */
static void lower_case(lower *L, int s) {
  int b = new_block(L);
  add_edge(L, L->cur, b, -1, true);
  if (L->nsws > 0) {
    add_edge(L, L->sws[L->nsws - 1].block, b, -1, true);
    if (kind_of(L, s) == CXCursor_DefaultStmt) L->sws[L->nsws - 1].has_default = true;
  }
  L->cur = b;
  if (nkids(L, s) > 0) lower_stmt(L, kid(L, s, nkids(L, s) - 1));
}

/* jump := break ; | continue ; */
static void lower_break_continue(lower *L, int s) {
  bool brk = kind_of(L, s) == CXCursor_BreakStmt;
  gc_loc loc = node_loc(L, s);
  int target = -1, depth = 0;
  for (int i = L->njumps - 1; i >= 0; i--) {
    int t = brk ? L->jumps[i].brk : L->jumps[i].cont;
    if (t >= 0) { target = t; depth = L->jumps[i].depth; break; }
  }
  if (target < 0) return;
  leave_regions(L, depth, loc, brk ? "break" : "continue");
  add_edge(L, L->cur, target, -1, true);
  L->cur = new_block(L);
}

/* return := return [expr] ; */
static void lower_return(lower *L, int s) {
  gc_loc loc = node_loc(L, s);
  int n = nkids(L, s);
  int rv = -1;
  if (n > 0) {
    lower_expr(L, kid(L, s, 0), RES_RETURN, -1);
    rv = local_of(L, kid(L, s, 0));
    if (rv >= 0) { ir_event *e = add_event(L, EV_ESCAPE, loc); e->var = (int16_t)rv; }
  }
  long long cv;
  uint8_t rc = RET_UNKNOWN;
  if (n > 0 && is_null_const(L, kid(L, s, 0))) rc = RET_ZERO;
  else if (n > 0 && const_expr(L, kid(L, s, 0), &cv)) rc = cv == 0 ? RET_ZERO : cv > 0 ? RET_POSITIVE : RET_NEGATIVE;
  leave_regions(L, 0, loc, "return");
  L->blocks.v[L->cur].ret_const = rc;
  end_path(L, TERM_RETURN, loc, rv);
}

/* goto := goto label ; */
static void lower_goto(lower *L, int s) {
  gc_loc loc = node_loc(L, s);
  const char *label = NULL;
  for (int i = 0; i < nkids(L, s); i++)
    if (kind_of(L, kid(L, s, i)) == CXCursor_LabelRef) label = cx_str(L, clang_getCursorSpelling(nd(L, kid(L, s, i))->c));
  if (!label) return;
  pending_goto g = {L->cur, label, copy_cstack(L), L->cstack.n, loc};
  vec_push(L->A, L->gotos, g);
  L->cur = new_block(L);
}

/* labeled := label : stmt */
static void lower_label(lower *L, int s) {
  int b = new_block(L);
  add_edge(L, L->cur, b, -1, true);
  label_info li = {cx_str(L, clang_getCursorSpelling(nd(L, s)->c)), b, copy_cstack(L), L->cstack.n};
  vec_push(L->A, L->labels, li);
  L->cur = b;
  for (int i = 0; i < nkids(L, s); i++) lower_stmt(L, kid(L, s, i));
}

/* The initializer of a variable declaration node, or -1. */
static int init_of(lower *L, int d) {
  CXCursor init = clang_Cursor_getVarDeclInitializer(nd(L, d)->c);
  if (clang_Cursor_isNull(init)) return -1;
  int n = nkids(L, d);
  if (n > 0 && clang_equalCursors(nd(L, kid(L, d, n - 1))->c, init)) return kid(L, d, n - 1);
  return tree_build(L, init);
}

/* decl := type name [= init] (a local; static and extern ones are not)
 * A local's initial value: a call's result, a constant, another local's
 * value; a struct's initializer may hold functions' addresses. */
void lower_decl(lower *L, int d) {
  if (kind_of(L, d) != CXCursor_VarDecl) return;
  enum CX_StorageClass sc = clang_Cursor_getStorageClass(nd(L, d)->c);
  if (sc == CX_SC_Static) ft_lower_var(L, nd(L, d)->c);   /* free threading: a static PyModuleDef */
  if (sc == CX_SC_Static || sc == CX_SC_Extern) return;   /* not a local */
  int v = add_var(L, d);
  int init = init_of(L, d);
  if (init < 0) return;
  ft_lower_assign_local(L, v, nd(L, init)->c, local_of(L, init), is_null_const(L, init));   /* free threading */
  if (kind_of(L, strip(L, init)) == CXCursor_InitListExpr) scan_local_init(L, d, init, v);
  gc_loc loc = loc_later(d);
  if (kind_of(L, strip(L, init)) == CXCursor_CallExpr) {
    lower_expr(L, init, RES_LOCAL, v);
    /* a pure accessor's value (int flags = desc_flags(d);): noted, on a store
     * the call's own event makes (finish.c drops it when nothing correlates) */
    CXCursor fn = node_ref(L, strip(L, init));
    if (fn.kind == CXCursor_FunctionDecl && callee_pure(L, callee_of(L, fn))) {
      ir_event *e = add_event(L, EV_ASSIGN, loc);
      e->var = (int16_t)v;
      e->val = VAL_UNKNOWN;
      e->src_var = SRC_SET_BY_CALL;
      note_local_value(L, e, v, init);
    }
    return;
  }
  assign_local_value(L, v, init, loc);
}

/* stmt := compound | if | while | do | for | switch | case | jump | return
 *       | goto | labeled | decl... ; | expr ; | ; | asm */
void lower_stmt(lower *L, int s) {
  if (L->abandon) return;
  int k = kind_of(L, s);
  switch (k) {
  case CXCursor_CompoundStmt: lower_compound(L, s); return;
  case CXCursor_IfStmt: lower_if(L, s); return;
  case CXCursor_WhileStmt: lower_while(L, s); return;
  case CXCursor_DoStmt: lower_do(L, s); return;
  case CXCursor_ForStmt: lower_for(L, s); return;
  case CXCursor_SwitchStmt: lower_switch(L, s); return;
  case CXCursor_CaseStmt:
  case CXCursor_DefaultStmt: lower_case(L, s); return;
  case CXCursor_BreakStmt:
  case CXCursor_ContinueStmt: lower_break_continue(L, s); return;
  case CXCursor_ReturnStmt: lower_return(L, s); return;
  case CXCursor_GotoStmt: lower_goto(L, s); return;
  case CXCursor_IndirectGotoStmt: L->abandon = "computed goto"; return;
  case CXCursor_LabelStmt: lower_label(L, s); return;
  case CXCursor_DeclStmt:
    for (int i = 0; i < nkids(L, s); i++) lower_decl(L, kid(L, s, i));
    return;
  case CXCursor_NullStmt:
    ft_lower_null_stmt(L, nd(L, s)->c);   /* free threading: a lock macro that expands to nothing here */
    return;
  case CXCursor_GCCAsmStmt:
  case CXCursor_MSAsmStmt:
    return;
  default:
    if (is_expr_kind(k)) { lower_expr(L, s, RES_DISCARD, -1); return; }
    if (is_stmt_kind(k))   /* attributed statements and the like */
      for (int i = 0; i < nkids(L, s); i++) lower_stmt(L, kid(L, s, i));
    return;
  }
}

/* Links pending gotos to their labels, leaving the regions they jump out of. */
void resolve_gotos(lower *L) {
  for (int i = 0; i < L->gotos.n; i++) {
    pending_goto *g = &L->gotos.v[i];
    label_info *li = NULL;
    for (int j = 0; j < L->labels.n; j++)
      if (!strcmp(L->labels.v[j].name, g->label)) { li = &L->labels.v[j]; break; }
    if (!li) continue;
    /* the common prefix of the two compound stacks stays open */
    int common = 0;
    while (common < g->ncs && common < li->ncs && g->cstack[common] == li->cstack[common]) common++;
    int save_cur = L->cur;
    L->cur = g->block;
    int saved_n = L->cstack.n;
    L->cstack.n = 0;
    for (int d = 0; d < g->ncs; d++) vec_push(L->A, L->cstack, g->cstack[d]);
    leave_regions(L, common, g->loc, "goto");
    L->cstack.n = saved_n;
    add_edge(L, g->block, li->block, -1, true);
    L->cur = save_cur;
  }
}
