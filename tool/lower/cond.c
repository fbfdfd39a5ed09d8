/* cond.c: conditions — the tests of if, while, do, for, ?:, && and || —
 * into edges guarded by an ir_cond.
 *
 *   cond := cond && cond | cond || cond | ! cond | local == NULL
 *         | local != NULL | local cmp constant | constant | expr
 *
 * A condition on a local's truth (x, !x, x == NULL), or comparing it with an
 * integer constant (x == 3, status != OK, n < 0), is one the engine can
 * follow through the local's value; an integer constant expression
 * (sizeof(long) == 4, a version test) is folded, as the compiler does, and
 * only its branch taken is a path; another side-effect-free condition
 * written twice in a function gets a structural key (cond_key), built only
 * when finish.c finds it guards something that matters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lower_int.h"
#include "xalloc.h"

/* ---------- keys ---------- */

typedef struct keybuf { char *buf; size_t len, cap; raw_cond *rc; bool ok; } keybuf;

static void kputs(keybuf *k, const char *s) {
  size_t n = strlen(s);
  if (k->len + n + 1 > k->cap) {
    k->cap = (k->len + n + 1) * 2;
    k->buf = xrealloc(k->buf, k->cap);
  }
  memcpy(k->buf + k->len, s, n + 1);
  k->len += n;
}

/* 'v' and a local's number, or a literal's value */
static void kput_int(keybuf *k, const char *prefix, long long v) {
  char tmp[32], *p = tmp + sizeof tmp;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  *--p = 0;
  do *--p = (char)('0' + u % 10); while (u /= 10);
  if (v < 0) *--p = '-';
  kputs(k, prefix);
  kputs(k, p);
}

/* The name of what a reference names (clang_getCursorSpelling of the
 * reference), once per declaration. */
static const char *decl_name(lower *L, int ref) {
  CXCursor d = node_ref(L, ref);
  if (d.kind == CXCursor_FunctionDecl) return callee_of(L, d)->name;
  void **s = pairmap_at(&L->names, (uintptr_t)d.data[0], (uint64_t)d.kind);
  if (!*s) *s = (void *)cx_str(L, clang_getCursorSpelling(nd(L, ref)->c));
  return *s;
}

/* What the condition reads of memory: a member (".name"), a global
 * ("g:name"); stores to it make the condition stale (finish.c). */
static void key_read(keybuf *k, const char *name) {
  raw_cond *rc = k->rc;
  for (int i = 0; i < rc->nreads; i++)
    if (!strcmp(rc->reads[i], name)) return;
  if (rc->nreads < KEY_MAX_READS) rc->reads[rc->nreads++] = name;
  else k->ok = false;
}

static void key_append(lower *L, int e, keybuf *k);

/* E where only its truth counts (a condition, an operand of && || !): the
 * key of its truth, the same for `x`, `x != 0` and `!!x`, and for `!x` and
 * `x == 0` (a local set from `flags & X` and one set from
 * `(flags & X) != 0` hold the same truth). */
static void key_truth(lower *L, int e, keybuf *k) {
  e = strip(L, e);
  int kd = kind_of(L, e);
  if (kd == CXCursor_BinaryOperator && nkids(L, e) == 2) {
    enum op o = binop(L, e);
    if (o == OP_NE || o == OP_EQ) {
      int side = is_null_const(L, kid(L, e, 1)) ? 0 : is_null_const(L, kid(L, e, 0)) ? 1 : -1;
      if (side >= 0) {
        if (o == OP_EQ) kputs(k, "!(");
        key_truth(L, kid(L, e, side), k);
        if (o == OP_EQ) kputs(k, ")");
        return;
      }
    }
  } else if (kd == CXCursor_UnaryOperator && nkids(L, e) == 1 && unop(L, e) == OP_LNOT) {
    int x = strip(L, kid(L, e, 0));
    if (kind_of(L, x) == CXCursor_UnaryOperator && nkids(L, x) == 1 && unop(L, x) == OP_LNOT) {
      key_truth(L, kid(L, x, 0), k);   /* !!x */
      return;
    }
  }
  key_append(L, e, k);
}

/* A side-effect-free condition's structure, with locals by number: two
 * conditions with the same key are the same test. Calls may be in it when
 * they call pure accessors (callee_pure): the same accessor given the same
 * arguments gives the same value, until a store to what it reads. */
static void key_append(lower *L, int e, keybuf *k) {
  if (!k->ok || k->len > KEY_MAX_LEN) { k->ok = false; return; }
  e = strip(L, e);
  switch (kind_of(L, e)) {
  case CXCursor_DeclRefExpr: {
    int v = var_of_ref(L, e);
    if (v >= 0) {
      kput_int(k, "v", v);
      if (k->rc->ndeps < KEY_MAX_DEPS) k->rc->deps[k->rc->ndeps++] = v; else k->ok = false;
    } else {
      const char *name = decl_name(L, e);
      kputs(k, name);
      if (node_ref(L, e).kind == CXCursor_VarDecl) key_read(k, arena_printf(L->A, "g:%s", name));
    }
    return;
  }
  case CXCursor_CallExpr: {
    CXCursor fn = node_ref(L, e);
    const callee_info *ci = fn.kind == CXCursor_FunctionDecl ? callee_of(L, fn) : NULL;
    if (!ci || !callee_pure(L, ci)) { k->ok = false; return; }
    for (int i = 0; i < ci->nreads; i++) key_read(k, ci->reads[i]);
    if (ci->reads_deref) k->rc->reads_deref = true;
    kputs(k, ci->name);
    kputs(k, "(");
    int nargs = clang_Cursor_getNumArguments(nd(L, e)->c);
    for (int i = 0; i < nargs; i++) {
      key_append(L, arg_node(L, e, nargs, i), k);
      kputs(k, ",");
    }
    kputs(k, ")");
    return;
  }
  case CXCursor_IntegerLiteral: case CXCursor_CharacterLiteral: {
    long long v;
    if (node_int(L, e, &v)) {
      kput_int(k, "", v);
    } else k->ok = false;
    return;
  }
  case CXCursor_MemberRefExpr: {
    kputs(k, "(");
    for (int i = 0; i < nkids(L, e); i++) key_append(L, kid(L, e, i), k);
    kputs(k, ").");
    const char *m = cx_str(L, clang_getCursorSpelling(nd(L, e)->c));
    kputs(k, m);
    key_read(k, arena_printf(L->A, ".%s", m));
    return;
  }
  case CXCursor_BinaryOperator: {
    enum op o = binop(L, e);
    if (o == OP_ASSIGN || o == OP_COMPOUND_ASSIGN || o == OP_UNKNOWN || o == OP_COMMA) { k->ok = false; return; }
    if (nkids(L, e) != 2) { k->ok = false; return; }
    /* the operator as it surely is: a guess (the token after the left
     * operand, where a macro's body holds the operator) would make
     * `flags & X` and `flags | X` one key */
    char t[16];
    if (!op_exact(L, e, t, sizeof t) || !strcmp(t, ",") || !strcmp(t, "=")) { k->ok = false; return; }
    bool logical = !strcmp(t, "&&") || !strcmp(t, "||");
    kputs(k, "(");
    if (logical) key_truth(L, kid(L, e, 0), k); else key_append(L, kid(L, e, 0), k);
    kputs(k, t);
    if (logical) key_truth(L, kid(L, e, 1), k); else key_append(L, kid(L, e, 1), k);
    kputs(k, ")");
    return;
  }
  case CXCursor_UnaryOperator: {
    enum op o = unop(L, e);
    if (o == OP_INCDEC || o == OP_UNKNOWN) { k->ok = false; return; }
    if (o == OP_DEREF) k->rc->reads_deref = true;
    kputs(k, o == OP_LNOT ? "!(" : o == OP_DEREF ? "*(" : o == OP_ADDROF ? "&(" : "u(");
    for (int i = 0; i < nkids(L, e); i++) {
      if (o == OP_LNOT) key_truth(L, kid(L, e, i), k);
      else key_append(L, kid(L, e, i), k);
    }
    kputs(k, ")");
    return;
  }
  case CXCursor_ArraySubscriptExpr:
    k->rc->reads_deref = true;
    kputs(k, "[");
    for (int i = 0; i < nkids(L, e); i++) { key_append(L, kid(L, e, i), k); kputs(k, ","); }
    kputs(k, "]");
    return;
  default:
    k->ok = false;
    return;
  }
}

const char *cond_key(lower *L, raw_cond *rc) {
  keybuf k = {NULL, 0, 0, rc, true};
  rc->ndeps = 0;
  rc->nreads = 0;
  rc->reads_deref = false;
  key_truth(L, rc->node, &k);
  const char *key = k.ok && k.buf ? arena_strdup(L->A, k.buf) : NULL;
  free(k.buf);
  return key;
}

/* ---------- text ---------- */

/* Where the text of condition N ends when a macro is involved: after every
 * token of it that is written in the file of its first one. The extent
 * says so when its end lies past the last of its nodes' beginnings (a
 * condition written whole inside a macro's body ends with the invocation);
 * when the last token comes from a macro's argument, libclang's end is
 * wrong (it may stop before the argument's last macro, `x != ` for
 * `x != NULL`), and the end is found from the text: the token the last node
 * starts with, a macro's argument list after it, a postfix ++ or --, and the
 * brackets left open. A condition that starts where a macro was used runs
 * to the end of that invocation at least. */
static file_info *macro_span(lower *L, int n, file_info *fe0, unsigned e0, unsigned *sp, unsigned *ep) {
  unsigned S;
  file_info *F = node_begin(L, n, &S);
  if (!F) return NULL;
  unsigned M = S;
  for (int m = n; m < nd(L, n)->end; m++) {
    unsigned o;
    if (node_begin(L, m, &o) != F) continue;
    if (o < S) S = o;
    if (o > M) M = o;
    if (kind_of(L, m) == CXCursor_MemberRefExpr) {   /* it ends with the member's name */
      unsigned mo;
      if (offset_of(L, clang_getCursorLocation(nd(L, m)->c), &mo) == F && mo > M) M = mo;
    }
  }
  unsigned E;
  if (fe0 == F && e0 > M) {
    E = e0;
  } else {
    E = token_end(L, F, M);
    unsigned p;
    if (macro_at(L, F, M) && (p = token_next_is(L, F, E, "("))) E = group_end(L, F, p);
    if ((p = token_next_is(L, F, E, "++")) || (p = token_next_is(L, F, E, "--"))) E = p;
    E = balance_end(L, F, S, E);
  }
  /* starting where a macro was used (its body makes the condition, with
   * the arguments or not): the invocation, whole */
  if (macro_at(L, F, S)) {
    unsigned inv = token_end(L, F, S), p = token_next_is(L, F, inv, "(");
    if (p) inv = group_end(L, F, p);
    if (inv > E) E = inv;
  }
  *sp = S;
  *ep = E;
  return F;
}

/* Is the extent's end E (in F) right for condition N? It is when the last
 * node of N (its rightmost operand, in the order libclang visits them)
 * starts with a token written in F — not where a macro was used — before E:
 * libclang's end is wrong only when the last token comes from a macro used
 * in a macro's argument. */
static bool extent_end_right(lower *L, int n, file_info *f, unsigned e) {
  unsigned m;
  int last = nd(L, n)->end - 1;
  return node_begin(L, last, &m) == f && e > m && !macro_at(L, f, m);
}

/* Where a condition starts (when LOC is asked for), and its text as written:
 * its extent when both ends are tokens of the main file itself, or when its
 * end is right (extent_end_right), else what macro_span finds. */
static const char *cond_text(lower *L, int n, gc_loc *loc) {
  CXSourceRange r = clang_getCursorExtent(nd(L, n)->c);
  CXSourceLocation b = clang_getRangeStart(r), en = clang_getRangeEnd(r);
  unsigned s, e;
  file_info *f = offset_of(L, b, &s);
  file_info *fe = offset_of(L, en, &e);
  if (loc) *loc = f ? loc_at(L, f, s) : (gc_loc){0};
  if (!(f && f == fe && e > s && (clang_Location_isFromMainFile(b) ? clang_Location_isFromMainFile(en)
                                                                     : extent_end_right(L, n, f, e)))) {
    f = macro_span(L, n, fe, e, &s, &e);
    if (!f || e <= s) return NULL;
  }
  return normalized_text(L, f, s, e);
}

/* Does the branch at ORIGIN come from inside a macro's own body (the if of
 * Py_CLEAR, of g_return_if_fail) rather than from the user's code? A
 * statement does when its keyword is where a macro was used (a keyword
 * written in the file, or in a macro's argument, is where it is written);
 * an operator (?:, &&, ||) when its first and its last operand both start
 * where the same macro was used. */
static bool from_macro_body(lower *L, int origin) {
  if (origin < 0) return false;
  if (origin == L->origin) return L->origin_in_macro;
  bool r = false;
  unsigned o1, o2;
  int n = nkids(L, origin);
  if (is_stmt_kind(kind_of(L, origin))) {
    file_info *f = node_macro_begin(L, origin, &o1);
    r = macro_at(L, f, o1) != NULL;
  } else if (n > 0) {
    file_info *f1 = node_macro_begin(L, kid(L, origin, 0), &o1);
    file_info *f2 = f1 ? node_macro_begin(L, kid(L, origin, n - 1), &o2) : NULL;
    r = f1 && f1 == f2 && o1 == o2 && macro_at(L, f1, o1) != NULL;
  }
  L->origin = origin;
  L->origin_in_macro = r;
  return r;
}

/* ---------- conditions ---------- */

/* A condition on E; its place and text are those of AS (E itself, or the
 * comparison `x == NULL` around the local x it tests). */
static int make_cond(lower *L, int e, int as, int origin) {
  raw_cond rc = {0};
  rc.node = e;
  rc.var = -1;
  /* plain truth tests of a local: x, x != NULL, x == 0 (negations are
   * handled by the caller flipping the branches) */
  int v = local_of(L, strip(L, e));
  if (v >= 0) rc.var = v;
  ir_cond c = {0};
  c.kind = COND_OPAQUE;
  c.key = -1;
  c.var = -1;
  c.text = cond_text(L, as, &c.loc);
  if (!c.text && as != e) c.text = cond_text(L, e, NULL);
  c.in_macro_body = from_macro_body(L, origin);
  vec_push(L->A, L->rconds, rc);
  vec_push(L->A, L->conds, c);
  if (rc.var >= 0) L->vars.v[rc.var].ntests++;
  return L->conds.n - 1;
}

/* What built-in knowledge says of the function a call condition calls. */
static const api_fact *callee_api(lower *L, int call) {
  CXCursor callee = node_ref(L, call);
  if (callee.kind == CXCursor_FunctionDecl) return api_lookup(callee_of(L, callee)->name);
  CXString n = clang_getCursorSpelling(callee);
  const api_fact *q = api_lookup(clang_getCString(n));
  clang_disposeString(n);
  return q;
}

/* cond: a comparison `x == NULL`, `x != 0` (or the other way round) of a
 * local: branches on the local's truth. */
static bool lower_null_test(lower *L, int s, enum op o, int t, int f, int origin) {
  int side = -1;
  if (is_null_const(L, kid(L, s, 1))) side = 0;
  else if (is_null_const(L, kid(L, s, 0))) side = 1;
  if (side < 0 || local_of(L, kid(L, s, side)) < 0) return false;
  int x = kid(L, s, side);
  /* x == NULL is !x; x != NULL is x */
  lower_expr(L, x, RES_OTHER, -1);
  int c = make_cond(L, x, s, origin);
  bool eq = o == OP_EQ;
  L->conds.v[c].text_negated = eq;
  add_edge(L, L->cur, eq ? f : t, c, true);
  add_edge(L, L->cur, eq ? t : f, c, false);
  return true;
}

/* Is the raw local V of an integer or enumeration type? */
static bool integer_local(lower *L, int v) {
  switch (clang_getCanonicalType(clang_getCursorType(L->vars.v[v].decl)).kind) {
  case CXType_Bool: case CXType_Char_U: case CXType_UChar: case CXType_UShort: case CXType_UInt:
  case CXType_ULong: case CXType_ULongLong: case CXType_Char_S: case CXType_SChar: case CXType_Short:
  case CXType_Int: case CXType_Long: case CXType_LongLong: case CXType_Enum:
    return true;
  default:
    return false;
  }
}

/* cond: a comparison of an integer local with an integer constant (an
 * enum's, a macro's, sizeof's): `x OP k` or `k OP x`. */
static bool lower_cmp_test(lower *L, int s, enum op o, int t, int f, int origin) {
  static const uint8_t as_cmp[] = {[OP_EQ] = CMP_EQ, [OP_NE] = CMP_NE, [OP_LT] = CMP_LT,
                                   [OP_LE] = CMP_LE, [OP_GT] = CMP_GT, [OP_GE] = CMP_GE};
  static const uint8_t flipped[] = {[CMP_EQ] = CMP_EQ, [CMP_NE] = CMP_NE, [CMP_LT] = CMP_GT,
                                    [CMP_LE] = CMP_GE, [CMP_GT] = CMP_LT, [CMP_GE] = CMP_LE};
  int side = -1, v = -1;
  long long k = 0;
  if ((v = local_of(L, kid(L, s, 0))) >= 0 && const_expr(L, kid(L, s, 1), &k)) side = 0;
  else if ((v = local_of(L, kid(L, s, 1))) >= 0 && const_expr(L, kid(L, s, 0), &k)) side = 1;
  if (side < 0 || !integer_local(L, v)) return false;
  uint8_t op = as_cmp[o];
  if (side == 1) op = flipped[op];
  lower_expr(L, kid(L, s, side), RES_OTHER, -1);
  int c = make_cond(L, s, s, origin);
  L->rconds.v[c].var = v;
  L->rconds.v[c].cmp = true;
  L->conds.v[c].cmp_op = op;
  L->conds.v[c].cmp_value = k;
  add_edge(L, L->cur, t, c, true);
  add_edge(L, L->cur, f, c, false);
  return true;
}

/* cond: any other expression, evaluated, then tested. A call of
 * PyGILState_Check, Py_IsInitialized or Py_IsFinalizing is a question the
 * engine can answer; the result of the project's own function tested at once
 * may say by its summary what the function did. */
static void lower_opaque_cond(lower *L, int e, int s, int t, int f, int origin) {
  lower_expr(L, e, RES_OTHER, -1);
  int c = make_cond(L, e, e, origin);
  if (kind_of(L, s) == CXCursor_CallExpr) {
    const api_fact *q = callee_api(L, s);
    if (q && q->effect == FX_GIL_CHECK) L->conds.v[c].kind = COND_GIL;
    if (q && (q->effect == FX_RUNTIME_ALIVE || q->effect == FX_RUNTIME_ENDING)) {
      L->conds.v[c].kind = COND_RUNTIME;
      L->conds.v[c].runtime_ending = q->effect == FX_RUNTIME_ENDING;
    }
    /* (not a pure accessor's: its value, not what it did, is tested, and
     * it may correlate by key) */
    const ir_block *cb = &L->blocks.v[L->cur];
    CXCursor fn = node_ref(L, s);
    if (cb->nev > 0 && cb->ev[cb->nev - 1].kind == EV_CALL && cb->ev[cb->nev - 1].callee_usr &&
        L->conds.v[c].kind == COND_OPAQUE &&
        !(fn.kind == CXCursor_FunctionDecl && callee_pure(L, callee_of(L, fn))))
      L->conds.v[c].kind = COND_CALL;
  }
  add_edge(L, L->cur, t, c, true);
  add_edge(L, L->cur, f, c, false);
}

void lower_cond(lower *L, int e, int t, int f, int origin) {
  int s = strip(L, e);
  long long cv;
  if (const_expr(L, s, &cv)) {
    add_edge(L, L->cur, cv ? t : f, -1, true);
    return;
  }
  int k = kind_of(L, s);
  if (k == CXCursor_BinaryOperator) {
    enum op o = binop(L, s);
    if (nkids(L, s) == 2 && (o == OP_LAND || o == OP_LOR)) {
      int mid = new_block(L);
      if (o == OP_LAND) lower_cond(L, kid(L, s, 0), mid, f, origin);
      else lower_cond(L, kid(L, s, 0), t, mid, origin);
      L->cur = mid;
      lower_cond(L, kid(L, s, 1), t, f, origin);
      return;
    }
    if (nkids(L, s) == 2 && (o == OP_EQ || o == OP_NE) && lower_null_test(L, s, o, t, f, origin)) return;
    if (nkids(L, s) == 2 && o >= OP_EQ && o <= OP_GE && lower_cmp_test(L, s, o, t, f, origin)) return;
  } else if (k == CXCursor_UnaryOperator && unop(L, s) == OP_LNOT && nkids(L, s) == 1) {
    lower_cond(L, kid(L, s, 0), f, t, origin);
    return;
  }
  lower_opaque_cond(L, e, s, t, f, origin);
}
