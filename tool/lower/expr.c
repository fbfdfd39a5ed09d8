/* expr.c: expressions and calls, from a function's tree (tree.c) into
 * events, blocks and edges.
 *
 * Expressions are lowered in evaluation order: calls become EV_CALL events
 * (what is known of the callee from callee.c), object-internals macros
 * EV_OBJMACRO (claimed once per expansion, at the outermost expression that
 * starts where the macro was used), stores to locals EV_ASSIGN, locals stored
 * where others can reach them EV_ESCAPE; && || ?: split the block (cond.c
 * lowers their conditions).
 *
 *   expr := ( expr ) | (type) expr | implicit-cast expr
 *         | call | expr = expr | expr op= expr | expr && expr | expr || expr
 *         | expr , expr | expr op expr | op expr | expr ++ | expr --
 *         | expr ? expr : expr | ({ stmt... }) | name | anything else
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lower_ft.h"
#include "lower_int.h"
#include "xalloc.h"

/* ---------- blocks and events ---------- */

const char LOC_LATER[] = "(later)";

int new_block(lower *L) {
  ir_block b = {0};
  b.ret_var = -1;
  vec_push(L->A, L->blocks, b);
  return L->blocks.n - 1;
}

void add_edge(lower *L, int from, int to, int cond, bool sense) {
  ir_block *b = &L->blocks.v[from];
  if (b->term != TERM_EDGES) return;
  if (b->nsucc == b->cap_succ) {
    int nc = b->cap_succ ? b->cap_succ * 2 : 2;
    ir_edge *ne = arena_alloc(L->A, sizeof(ir_edge) * (size_t)nc);
    if (b->nsucc) memcpy(ne, b->succ, sizeof(ir_edge) * (size_t)b->nsucc);
    b->succ = ne; b->cap_succ = nc;
  }
  b->succ[b->nsucc++] = (ir_edge){to, (int16_t)cond, sense};
}

ir_event *add_event(lower *L, int kind, gc_loc loc) {
  ir_block *b = &L->blocks.v[L->cur];
  if (b->nev == b->cap_ev) {
    int nc = b->cap_ev ? b->cap_ev * 2 : 4;
    ir_event *ne = arena_alloc(L->A, sizeof(ir_event) * (size_t)nc);
    if (b->nev) memcpy(ne, b->ev, sizeof(ir_event) * (size_t)b->nev);
    b->ev = ne; b->cap_ev = nc;
  }
  ir_event *e = &b->ev[b->nev++];
  memset(e, 0, sizeof *e);
  e->kind = (uint8_t)kind;
  e->loc = loc;
  e->var = e->src_var = e->result_var = -1;
  for (int i = 0; i < IR_MAX_ARGS; i++) e->argvar[i] = -1;
  e->region = -1;
  e->callee_fn = -1;
  e->key_src = -1;
  e->site = -1;
  for (int i = L->cstack.n - 1; i >= 0; i--)
    if (L->cstack.v[i] >= 0) { e->region = L->cstack.v[i]; break; }
  return e;
}

void end_path(lower *L, int term, gc_loc loc, int ret_var) {
  ir_block *b = &L->blocks.v[L->cur];
  b->term = (uint8_t)term;
  b->term_loc = loc;
  b->ret_var = (int16_t)ret_var;
  L->cur = new_block(L);
}

void leave_regions(lower *L, int depth, gc_loc loc, const char *how) {
  for (int i = L->cstack.n - 1; i >= depth; i--)
    if (L->cstack.v[i] >= 0) {
      ir_event *e = add_event(L, EV_LEAVE_REGION, loc);
      e->region = L->cstack.v[i];
      e->callee = how;
    }
}

/* ---------- locals and constants ---------- */

/* The locals of the function by declaration: a small open-addressed table
 * keyed by what clang_equalCursors compares of a declaration cursor. */
static unsigned decl_slot(const lower *L, CXCursor d) {
  uint64_t x = (uint64_t)(uintptr_t)d.data[0] * 0x9E3779B97F4A7C15ull;
  return (unsigned)(x >> 32) & (L->vtab_cap - 1);
}

static bool same_decl(CXCursor a, CXCursor b) {
  return a.kind == b.kind && a.data[0] == b.data[0] && a.data[2] == b.data[2];
}

static int var_of_decl(lower *L, CXCursor decl) {
  if (!L->vtab_cap) return -1;
  for (unsigned i = decl_slot(L, decl);; i = (i + 1) & (L->vtab_cap - 1)) {
    int v = L->vtab[i];
    if (v < 0) return -1;
    if (same_decl(L->vars.v[v].decl, decl)) return v;
  }
}

static void vtab_insert(lower *L, int v) {
  unsigned i = decl_slot(L, L->vars.v[v].decl);
  while (L->vtab[i] >= 0) i = (i + 1) & (L->vtab_cap - 1);
  L->vtab[i] = v;
}

int add_var(lower *L, int decl) {
  raw_var v = {0};
  v.decl = nd(L, decl)->c;
  v.name = cx_str(L, clang_getCursorSpelling(v.decl));
  v.tracked = -1;
  vec_push(L->A, L->vars, v);
  if ((unsigned)L->vars.n * 2 > L->vtab_cap) {   /* grow, and put every local back */
    L->vtab_cap = L->vtab_cap ? L->vtab_cap * 2 : 64;
    L->vtab = xrealloc(L->vtab, sizeof(int) * L->vtab_cap);
    memset(L->vtab, 0xff, sizeof(int) * L->vtab_cap);
    for (int i = 0; i < L->vars.n - 1; i++) vtab_insert(L, i);
  }
  if (var_of_decl(L, v.decl) < 0) vtab_insert(L, L->vars.n - 1);
  return L->vars.n - 1;
}

/* The raw local a declaration reference names, or -1. */
int var_of_ref(lower *L, int ref) {
  CXCursor d = node_ref(L, ref);
  if (d.kind != CXCursor_VarDecl && d.kind != CXCursor_ParmDecl) return -1;
  return var_of_decl(L, d);
}

/* The raw local a (stripped) expression names, or -1. */
int local_of(lower *L, int e) {
  e = strip(L, e);
  if (kind_of(L, e) != CXCursor_DeclRefExpr) return -1;
  return var_of_ref(L, e);
}

bool is_null_const(lower *L, int e) {
  e = strip(L, e);
  int k = kind_of(L, e);
  if (k == CXCursor_GNUNullExpr) return true;
  long long v;
  return k == CXCursor_IntegerLiteral && node_int(L, e, &v) && v == 0;
}

bool const_int(lower *L, int e, long long *out) { return node_int(L, strip(L, e), out); }

/* Is E made of literals, enumerators, sizeof and operators only — no
 * variable, no call — so that clang can fold it? */
static bool foldable(lower *L, int e) {
  for (int n = e; n < nd(L, e)->end; n++) {
    switch (kind_of(L, n)) {
    case CXCursor_IntegerLiteral: case CXCursor_CharacterLiteral: case CXCursor_ParenExpr:
    case CXCursor_UnexposedExpr: case CXCursor_CStyleCastExpr: case CXCursor_TypeRef:
    case CXCursor_BinaryOperator: case CXCursor_UnaryOperator: case CXCursor_UnaryExpr:
    case CXCursor_ConditionalOperator:
      break;
    case CXCursor_DeclRefExpr:
      if (node_ref(L, n).kind != CXCursor_EnumConstantDecl) return false;
      break;
    default:
      return false;
    }
  }
  return true;
}

/* An integer constant expression (-1, a macro or enum constant, sizeof,
 * sizeof(long) == 4): its value, as clang folds it. */
bool const_expr(lower *L, int e, long long *out) {
  if (const_int(L, e, out)) return true;
  e = strip(L, e);
  int k = kind_of(L, e);
  if (k != CXCursor_UnaryOperator && k != CXCursor_BinaryOperator && k != CXCursor_DeclRefExpr &&
      k != CXCursor_UnaryExpr && k != CXCursor_ConditionalOperator)
    return false;
  if (!foldable(L, e)) return false;
  CXEvalResult r = clang_Cursor_Evaluate(nd(L, e)->c);
  if (!r) return false;
  bool ok = clang_EvalResult_getKind(r) == CXEval_Int;
  if (ok) *out = clang_EvalResult_getAsLongLong(r);
  clang_EvalResult_dispose(r);
  return ok;
}

/* ---------- calls ---------- */

/* The spelling of a short argument, as written (macro names kept). */
static const char *short_text(lower *L, int e) {
  unsigned s, t;
  file_info *f = extent_offsets(L, nd(L, e)->c, &s, &t);
  if (!f || t <= s || t - s > SHORT_TEXT_MAX) {
    long long v;
    if (const_int(L, e, &v)) return arena_printf(L->A, "%lld", v);
    return NULL;
  }
  return text_between(L, f, s, t);
}

/* Argument I of a call: its I+1-th child (the callee comes first). */
int arg_node(lower *L, int call, int nargs, int i) {
  if (nkids(L, call) == nargs + 1) return kid(L, call, i + 1);
  return tree_build(L, clang_Cursor_getArgument(nd(L, call)->c, (unsigned)i));
}

/* A call through a pointer. Through a global or a member, it calls the
 * functions stored there (linked by program.c); through anything else
 * (a parameter, a local) nothing is known, and the locals it is passed are
 * the callee's now (a thread state kept in a table). */
static void lower_pointer_call(lower *L, int call, gc_loc loc, const char *macro, int nargs, int res_to,
                               int res_var) {
  const char *name = NULL;
  const char *slot = nkids(L, call) > 0 ? slot_of(L, kid(L, call, 0), &name, NULL, NULL) : NULL;
  for (int i = 0; i < nkids(L, call); i++) lower_expr(L, kid(L, call, i), RES_OTHER, -1);
  if (!slot) {
    for (int i = 0; i < nargs; i++) {
      int v = local_of(L, arg_node(L, call, nargs, i));
      if (v >= 0) add_event(L, EV_ESCAPE, loc)->var = (int16_t)v;
    }
    return;
  }
  ir_event *e = add_event(L, EV_CALL, loc);
  e->macro = macro;
  e->callee = name;
  e->slot = slot;
  e->result_to = (uint8_t)res_to;
  e->result_var = (int16_t)res_var;
  e->nargs = (int8_t)(nargs < IR_MAX_ARGS ? nargs : IR_MAX_ARGS);
  for (int i = 0; i < nargs && i < IR_MAX_ARGS; i++) {
    int a = arg_node(L, call, nargs, i);
    e->argvar[i] = (int16_t)local_of(L, a);
    if (is_null_const(L, a)) e->argnull |= (uint8_t)(1u << i);
  }
}

/* Argument A, when it is surely not null: an address (&x, a string, a
 * function) or a constant that is not zero. Else false, and its value in
 * *VALUE when it is an integer constant (*IS_CONST). */
static bool arg_facts(lower *L, int a, bool *is_const, long long *value) {
  int s = strip(L, a);
  int k = kind_of(L, s);
  *is_const = false;
  if (k == CXCursor_StringLiteral) return true;
  if (k == CXCursor_UnaryOperator && unop(L, s) == OP_ADDROF) return true;
  if (k == CXCursor_DeclRefExpr && node_ref(L, s).kind == CXCursor_FunctionDecl) return true;
  if (const_expr(L, a, value)) *is_const = true;
  return false;
}

/* The arguments of a call, each in its event slot: the local passed, a null
 * constant, the spelling (for the blocking checks); for a function of the
 * project, what is known of each value (a helper that needs the GIL only
 * for some arguments, engine.c's call_needs_gil). */
static void call_args(lower *L, ir_event *e, int call, int nargs, const callee_info *ci, bool interesting) {
  bool project = e->callee_usr && !ci->python && !ci->system;
  for (int i = 0; i < nargs && i < IR_MAX_ARGS; i++) {
    int a = arg_node(L, call, nargs, i);
    int v = local_of(L, a);
    e->argvar[i] = (int16_t)v;
    if (v >= 0 && interesting) L->vars.v[v].interesting = true;
    if (v >= 0 && project) L->vars.v[v].passed_on = true;
    if (is_null_const(L, a)) e->argnull |= (uint8_t)(1u << i);
    else if (project && v < 0) {
      bool is_const;
      long long value;
      if (arg_facts(L, a, &is_const, &value)) e->argnonnull |= (uint8_t)(1u << i);
      else if (is_const) e->argconst |= (uint8_t)(1u << i), e->argval[i] = value;
    }
    if (ci->blocking) e->argtext[i] = short_text(L, a);
  }
}

/* f(args): the arguments first, then the call's own event. */
static void lower_call(lower *L, int call, int res_to, int res_var) {
  unsigned off = 0;
  file_info *f = node_begin(L, call, &off);
  gc_loc loc = f ? loc_at(L, f, off) : (gc_loc){0};
  const char *macro = macro_at(L, f, off);
  CXCursor callee = node_ref(L, call);
  int nargs = clang_Cursor_getNumArguments(nd(L, call)->c);
  if (callee.kind != CXCursor_FunctionDecl) {
    lower_pointer_call(L, call, loc, macro, nargs, res_to, res_var);
    return;
  }
  const callee_info *ci = callee_of(L, callee);
  for (int i = 0; i < nargs && i < LOWER_MAX_CALL_ARGS; i++) lower_expr(L, arg_node(L, call, nargs, i), RES_OTHER, -1);
  if (ci->builtin) return;
  callee_facts(L, ci);
  bool py = ci->python, sys = ci->system;
  const api_fact *api = ci->api;
  /* An object-internals macro already turned into an event at this place
   * (a static inline function behind a same-named macro): one event. */
  if (py && (!api || !api_effect_acts(api->effect)) && f && pairmap_get(&L->claimed, (uintptr_t)f, off)) return;
  /* One not claimed, because a project macro was written here (numpy's
   * NPY_DTYPE(d), built on Py_TYPE): its row's facts all the same. An
   * accessor the row allows released is no event; one that needs the GIL
   * stays a call that needs it. */
  if (ci->objmacro && !ci->objmacro->needs_gil) return;
  fnref_events(L, call, ci, nargs, loc);
  ir_event *e = add_event(L, EV_CALL, loc);
  e->macro = macro;
  e->callee = ci->name;
  e->api = api;
  e->python_api = py;
  e->result_to = (uint8_t)res_to;
  e->result_var = (int16_t)res_var;
  e->nargs = (int8_t)(nargs < IR_MAX_ARGS ? nargs : IR_MAX_ARGS);
  /* a function the program defines is judged by its body, even when a
   * CPython header declares it (a vendored part of CPython) */
  if (!sys) e->callee_usr = callee_key(L, ci);
  if (!py && !sys) e->callee_annot = callee_annot(L, ci);   /* for a prototype with no body here */
  if (!py && ci->decl_file) e->callee_header = ci->decl_file->path;
  bool interesting = api && api_effect_acts(api->effect);
  call_args(L, e, call, nargs, ci, interesting);
  if (res_var >= 0 && interesting) L->vars.v[res_var].interesting = true;
  e->noreturn = ci->noreturn;
  ft_lower_call(L, nd(L, call)->c, e, f ? f->file : NULL, off);   /* free threading (free_threading.c) */
  if (e->noreturn) end_path(L, TERM_NORETURN, loc, -1);
}

/* ---------- object-internals macros ---------- */

/* An object-internals macro (or a project macro standing for one) that
 * starts here becomes an event, once per expansion. Only a function whose
 * body holds such an expansion asks (fn_claims); and an expression that
 * starts with a token written in the main file itself starts no macro. */
static void claim_objmacro(lower *L, int e) {
  if (!L->fn_claims || !L->claims_here) return;
  unsigned off;
  file_info *f = node_macro_begin(L, e, &off);
  const char *m = macro_at(L, f, off);
  if (!m) return;
  const char *name = m;
  const objmacro_fact *om = objmacro_lookup(m);
  if (!om) {
    name = macro_alias_at(L, f, off);
    if (!name) return;
    om = objmacro_lookup(name);
    if (!om) return;
  }
  void **s = pairmap_at(&L->claimed, (uintptr_t)f, off);
  if (*s) return;
  *s = (void *)1;
  /* every expansion in the body claimed: no expression need be asked again */
  if (L->fn_claims_left > 0 && f == L->fn_file && off >= L->fn_start && off <= L->fn_end && --L->fn_claims_left == 0)
    L->fn_claims = false;
  if (!om->needs_gil) return;
  ir_event *ev = add_event(L, EV_OBJMACRO, loc_at(L, f, off));
  ev->callee = name;
  ev->macro = m;
  ev->needs_gil = true;
  ft_lower_objmacro(L, ev, f->file, off);   /* free threading: its arguments */
}

/* ---------- expressions ---------- */

static void lower_kids(lower *L, int e) {
  for (int i = 0; i < nkids(L, e); i++) {
    int k = kid(L, e, i);
    if (is_expr_kind(kind_of(L, k)) || kind_of(L, k) == CXCursor_CompoundStmt) lower_expr(L, k, RES_OTHER, -1);
  }
}

/* ---------- stores that correlated conditions care about ---------- */

/* A site's number, for the event's int16_t; past that many, none (a store
 * to memory then counts as one to anything: SITE_ANY_MEMORY). */
static int new_site(lower *L, const store_site *st) {
  if (L->sites.n >= INT16_MAX) return st->to_local ? -1 : SITE_ANY_MEMORY;
  vec_push(L->A, L->sites, *st);
  return L->sites.n - 1;
}

static void site_name(store_site *st, const char *name) {
  for (int i = 0; i < st->nnames; i++)
    if (!strcmp(st->names[i], name)) return;
  if (st->nnames < STORE_MAX_NAMES) st->names[st->nnames++] = name;
  else st->deref = true;   /* more than kept: anything */
}

/* A store to LHS, which is not a local: the members, the global, the
 * pointer it writes through, for the correlated conditions that read them
 * (finish.c makes them stale). `p->a.b = x` writes .b and .a; `*p = x`,
 * `a[i] = x` write through a pointer. */
static void note_memory_store(lower *L, int lhs, int at) {
  store_site st = {0};
  st.var = -1;
  int n = strip(L, lhs);
  for (int depth = 0; depth < MEMBER_MAX_DEPTH; depth++) {
    int k = kind_of(L, n);
    if (k == CXCursor_MemberRefExpr) {
      site_name(&st, arena_printf(L->A, ".%s", cx_str(L, clang_getCursorSpelling(nd(L, n)->c))));
    } else if (k == CXCursor_ArraySubscriptExpr || (k == CXCursor_UnaryOperator && unop(L, n) == OP_DEREF)) {
      st.deref = true;
    } else {
      if (k == CXCursor_DeclRefExpr && node_ref(L, n).kind == CXCursor_VarDecl && var_of_ref(L, n) < 0)
        site_name(&st, arena_printf(L->A, "g:%s", cx_str(L, clang_getCursorSpelling(nd(L, n)->c))));
      break;
    }
    if (nkids(L, n) < 1) break;
    n = strip(L, kid(L, n, 0));
  }
  if (!st.nnames) st.deref = true;   /* a target not told apart: anything read through a pointer */
  ir_event *e = add_event(L, EV_ASSIGN, loc_later(at));
  e->site = (int16_t)new_site(L, &st);
}

/* Is the raw local V of a scalar type, whose truth a condition tests? */
static bool scalar_local(lower *L, int v, CXType *t) {
  *t = clang_getCanonicalType(clang_getCursorType(L->vars.v[v].decl));
  switch (t->kind) {
  case CXType_Bool: case CXType_Char_U: case CXType_UChar: case CXType_UShort: case CXType_UInt:
  case CXType_ULong: case CXType_ULongLong: case CXType_Char_S: case CXType_SChar: case CXType_Short:
  case CXType_Int: case CXType_Long: case CXType_LongLong: case CXType_Enum: case CXType_Pointer:
    return true;
  default:
    return false;
  }
}

/* The local V given the value of RHS (event E): when the local's truth is
 * RHS's — RHS a comparison or a logical operator (0 or 1), or of the local's
 * own type, or the local a _Bool — a site, which correlates the local with
 * RHS written elsewhere when RHS has a key (finish.c). */
void note_local_value(lower *L, ir_event *e, int v, int rhs) {
  CXType vt;
  if (!scalar_local(L, v, &vt)) return;
  int r = strip(L, rhs);
  int k = kind_of(L, r);
  enum op o = k == CXCursor_BinaryOperator ? binop(L, r) : k == CXCursor_UnaryOperator ? unop(L, r) : OP_UNKNOWN;
  bool truth = (o >= OP_LAND && o <= OP_GE && o != OP_COMMA) || o == OP_LNOT || vt.kind == CXType_Bool ||
               clang_equalTypes(vt, clang_getCanonicalType(clang_getCursorType(nd(L, r)->c)));
  if (!truth) return;
  store_site st = {0};
  st.to_local = true;
  st.var = v;
  st.cond.node = rhs;
  st.cond.var = -1;
  e->site = (int16_t)new_site(L, &st);
}

/* local = expr: a call's result, a constant, another local's value. */
static void assign_local(lower *L, int v, int rhs, gc_loc loc) {
  int r = strip(L, rhs);
  ft_lower_assign_local(L, v, nd(L, rhs)->c, local_of(L, rhs), is_null_const(L, rhs));   /* free threading */
  if (kind_of(L, r) == CXCursor_CallExpr) {
    lower_expr(L, rhs, RES_LOCAL, v);
    ir_event *e = add_event(L, EV_ASSIGN, loc);  /* kills conditions on v */
    e->var = (int16_t)v;
    e->val = VAL_UNKNOWN;
    e->src_var = SRC_SET_BY_CALL;
    note_local_value(L, e, v, rhs);   /* a pure accessor's value */
    return;
  }
  assign_local_value(L, v, rhs, loc);
}

/* local = value that is not a call (an assignment's or a declaration's): a
 * constant (literal, enumerator, sizeof, folded), null, a string, another
 * local's value, or unknown (then perhaps a pure accessor's value). */
void assign_local_value(lower *L, int v, int rhs, gc_loc loc) {
  lower_expr(L, rhs, RES_OTHER, -1);
  note_fnvar(L, v, rhs);
  ir_event *e = add_event(L, EV_ASSIGN, loc);
  e->var = (int16_t)v;
  int u = local_of(L, rhs);
  long long cv;
  if (is_null_const(L, rhs)) e->val = VAL_ZERO;
  else if (u >= 0) { e->val = VAL_COPY; e->src_var = (int16_t)u; }
  else if (kind_of(L, strip(L, rhs)) == CXCursor_StringLiteral) e->val = VAL_NONZERO;
  else if (const_expr(L, rhs, &cv)) e->val = cv ? VAL_NONZERO : VAL_ZERO, e->has_const = true, e->val_const = cv;
  else e->val = VAL_UNKNOWN;
  if (e->val == VAL_ZERO || e->val == VAL_NONZERO) L->vars.v[v].const_assigned = true;
  if (e->val == VAL_UNKNOWN) note_local_value(L, e, v, rhs);
}

/* lhs = rhs, where lhs is not a local: a store somewhere others can see. */
static void assign_nonlocal(lower *L, int lhs, int rhs, int at) {
  lower_expr(L, lhs, RES_OTHER, -1);
  lower_expr(L, rhs, RES_NONLOCAL, -1);
  gc_loc loc = node_loc(L, at);
  ft_lower_store(L, nd(L, lhs)->c, loc, false);   /* free threading: a write to a global */
  note_memory_store(L, lhs, at);
  int u = local_of(L, rhs);
  if (u >= 0) {
    ir_event *e = add_event(L, EV_ESCAPE, loc);
    e->var = (int16_t)u;
  }
  store_fnrefs(L, lhs, rhs, loc);
  CXCursor fn;
  int sl = strip(L, lhs);
  if (function_ref(L, rhs, &fn) && kind_of(L, sl) == CXCursor_MemberRefExpr) {
    const char *m = cx_str(L, clang_getCursorSpelling(nd(L, sl)->c));
    if (api_is_type_slot(m))
      add_hint(L, fn, ENTRY_HELD, loc, arena_printf(L->A, "installed as the type slot '%s'", m));
  }
}

/* ( e )  |  (type) e  |  an implicit cast: the last child carries the value */
static void lower_wrapped(lower *L, int e, int res_to, int res_var) {
  int n = nkids(L, e);
  for (int i = 0; i < n; i++) {
    if (i == n - 1) lower_expr(L, kid(L, e, i), res_to, res_var);
    else lower_expr(L, kid(L, e, i), RES_OTHER, -1);
  }
}

/* a = b  |  a op= b  |  a && b  |  a || b  |  a , b  |  a op b */
static void lower_binary(lower *L, int e, int res_to, int res_var) {
  enum op o = binop(L, e);
  if (nkids(L, e) != 2) { lower_kids(L, e); return; }
  int a = kid(L, e, 0), b = kid(L, e, 1);
  if (o == OP_ASSIGN) {
    int v = local_of(L, a);
    if (v >= 0) assign_local(L, v, b, loc_later(e));
    else assign_nonlocal(L, a, b, e);
  } else if (o == OP_COMPOUND_ASSIGN) {
    lower_expr(L, a, RES_OTHER, -1);
    lower_expr(L, b, RES_OTHER, -1);
    int v = local_of(L, a);
    if (v >= 0) {
      ir_event *ev = add_event(L, EV_ASSIGN, loc_later(e));
      ev->var = (int16_t)v;
      ft_lower_assign_local(L, v, clang_getNullCursor(), -1, false);   /* free threading: not a copy */
    } else {
      ft_lower_store(L, nd(L, a)->c, node_loc(L, e), true);   /* free threading: a write to a global */
      note_memory_store(L, a, e);
    }
  } else if (o == OP_LAND || o == OP_LOR) {
    int join = new_block(L), rhs = new_block(L);
    if (o == OP_LAND) lower_cond(L, a, rhs, join, e);
    else lower_cond(L, a, join, rhs, e);
    L->cur = rhs;
    lower_expr(L, b, RES_OTHER, -1);
    add_edge(L, L->cur, join, -1, true);
    L->cur = join;
  } else {
    lower_expr(L, a, RES_OTHER, -1);
    lower_expr(L, b, o == OP_COMMA ? res_to : RES_OTHER, o == OP_COMMA ? res_var : -1);
  }
}

/* op e  |  e op: &x takes a local's address, ++x and x-- store to it */
static void lower_unary(lower *L, int e) {
  enum op o = unop(L, e);
  for (int i = 0; i < nkids(L, e); i++) {
    int k = kid(L, e, i);
    int v = local_of(L, k);
    /* free threading: &(x) inside Py_CLEAR(x) on 3.12+ headers is the macro's
     * own store, not an escape (ft_lower_writer_addr records it) */
    if (v >= 0 && o == OP_ADDROF && !ft_lower_writer_addr(L, nd(L, e)->c, nd(L, k)->c, v))
      L->vars.v[v].addr_taken = true;
    lower_expr(L, k, RES_OTHER, -1);
    if (v >= 0 && o == OP_INCDEC) {
      ir_event *a = add_event(L, EV_ASSIGN, loc_later(e));
      a->var = (int16_t)v;
      ft_lower_assign_local(L, v, clang_getNullCursor(), -1, false);   /* free threading: not a copy */
    } else if (o == OP_INCDEC) {
      ft_lower_store(L, nd(L, k)->c, node_loc(L, e), true);   /* free threading */
      note_memory_store(L, k, e);
    }
  }
}

/* c ? a : b */
static void lower_conditional(lower *L, int e, int res_to, int res_var) {
  if (nkids(L, e) != 3) {
    for (int i = 0; i < nkids(L, e); i++) lower_expr(L, kid(L, e, i), RES_OTHER, -1);
    return;
  }
  int t = new_block(L), f = new_block(L), join = new_block(L);
  lower_cond(L, kid(L, e, 0), t, f, e);
  L->cur = t;
  lower_expr(L, kid(L, e, 1), res_to, res_var);
  add_edge(L, L->cur, join, -1, true);
  L->cur = f;
  lower_expr(L, kid(L, e, 2), res_to, res_var);
  add_edge(L, L->cur, join, -1, true);
  L->cur = join;
}

/* ({ stmt... }) */
static void lower_stmt_expr(lower *L, int e) {
  for (int i = 0; i < nkids(L, e); i++) lower_stmt(L, kid(L, e, i));
}

void lower_expr(lower *L, int e, int res_to, int res_var) {
  int k = kind_of(L, e);
  if (k == CXCursor_CompoundStmt) { lower_stmt(L, e); return; }
  if (!is_expr_kind(k)) return;
  claim_objmacro(L, e);
  switch (k) {
  case CXCursor_ParenExpr:
  case CXCursor_UnexposedExpr:
  case CXCursor_CStyleCastExpr: lower_wrapped(L, e, res_to, res_var); return;
  case CXCursor_CallExpr: lower_call(L, e, res_to, res_var); return;
  case CXCursor_BinaryOperator:
  case CXCursor_CompoundAssignOperator: lower_binary(L, e, res_to, res_var); return;
  case CXCursor_UnaryOperator: lower_unary(L, e); return;
  case CXCursor_ConditionalOperator: lower_conditional(L, e, res_to, res_var); return;
  case CXCursor_StmtExpr: lower_stmt_expr(L, e); return;
  case CXCursor_DeclRefExpr: {
    /* free threading: a use of a global, or a name in a writer macro's
     * first argument (Py_SETREF(self->x, v)), which only a body holding an
     * object-internals macro can have */
    CXCursor d = node_ref(L, e);
    if (L->fn_objmacros || (d.kind == CXCursor_VarDecl && var_of_decl(L, d) < 0)) ft_lower_ref(L, nd(L, e)->c);
    return;
  }
  default: lower_kids(L, e); return;
  }
}
