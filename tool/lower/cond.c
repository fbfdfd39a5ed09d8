/* cond.c: conditions — the tests of if, while, do, for, ?:, && and || —
 * into edges guarded by an ir_cond.
 *
 *   cond := cond && cond | cond || cond | ! cond | local == NULL
 *         | local != NULL | constant | expr
 *
 * A condition on a local's truth (x, !x, x == NULL) is one the engine can
 * follow through the local's value; another side-effect-free condition
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

static void kput_spelling(keybuf *k, CXCursor c) {
  CXString s = clang_getCursorSpelling(c);
  const char *t = clang_getCString(s);
  kputs(k, t ? t : "");
  clang_disposeString(s);
}

/* A side-effect-free condition's structure, with locals by number: two
 * conditions with the same key are the same test. */
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
      kput_spelling(k, nd(L, e)->c);
    }
    return;
  }
  case CXCursor_IntegerLiteral: case CXCursor_CharacterLiteral: {
    long long v;
    if (node_int(L, e, &v)) {
      kput_int(k, "", v);
    } else k->ok = false;
    return;
  }
  case CXCursor_MemberRefExpr:
    kputs(k, "(");
    for (int i = 0; i < nkids(L, e); i++) key_append(L, kid(L, e, i), k);
    kputs(k, ").");
    kput_spelling(k, nd(L, e)->c);
    return;
  case CXCursor_BinaryOperator: {
    enum op o = binop(L, e);
    if (o == OP_ASSIGN || o == OP_COMPOUND_ASSIGN || o == OP_UNKNOWN || o == OP_COMMA) { k->ok = false; return; }
    const char *os = o == OP_LAND ? "&&" : o == OP_LOR ? "||" : o == OP_EQ ? "==" : o == OP_NE ? "!=" : NULL;
    if (nkids(L, e) != 2) { k->ok = false; return; }
    char t[256];
    if (!os) os = binop_spelling(L, e, t, sizeof t) ? t : "?";
    kputs(k, "(");
    key_append(L, kid(L, e, 0), k);
    kputs(k, os);
    key_append(L, kid(L, e, 1), k);
    kputs(k, ")");
    return;
  }
  case CXCursor_UnaryOperator: {
    enum op o = unop(L, e);
    if (o == OP_INCDEC || o == OP_UNKNOWN) { k->ok = false; return; }
    kputs(k, o == OP_LNOT ? "!(" : o == OP_DEREF ? "*(" : o == OP_ADDROF ? "&(" : "u(");
    for (int i = 0; i < nkids(L, e); i++) key_append(L, kid(L, e, i), k);
    kputs(k, ")");
    return;
  }
  case CXCursor_ArraySubscriptExpr:
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
  key_append(L, rc->node, &k);
  const char *key = k.ok && k.buf ? arena_strdup(L->A, k.buf) : NULL;
  free(k.buf);
  return key;
}

/* ---------- text ---------- */

/* The condition's text as written, when it is written in the file itself. */
static const char *cond_text(lower *L, int e) {
  /* the extent is in the file's own coordinates: a macro at either end
   * counts as its whole invocation, as the user wrote it */
  unsigned s, t;
  file_info *f = extent_offsets(L, nd(L, e)->c, &s, &t);
  if (!f || t <= s || t - s > COND_TEXT_MAX) return NULL;
  char *text = (char *)text_between(L, f, s, t);
  if (!text) return NULL;
  for (char *p = text; *p; p++) if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
  return text;
}

/* ---------- conditions ---------- */

/* A condition on E; its place and text are those of AS (E itself, or the
 * comparison `x == NULL` around the local x it tests). */
static int make_cond(lower *L, int e, int as) {
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
  c.loc = node_loc(L, as);
  c.text = cond_text(L, as);
  if (!c.text && as != e) c.text = cond_text(L, e);
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
static bool lower_null_test(lower *L, int s, enum op o, int t, int f) {
  int side = -1;
  if (is_null_const(L, kid(L, s, 1))) side = 0;
  else if (is_null_const(L, kid(L, s, 0))) side = 1;
  if (side < 0 || local_of(L, kid(L, s, side)) < 0) return false;
  int x = kid(L, s, side);
  /* x == NULL is !x; x != NULL is x */
  lower_expr(L, x, RES_OTHER, -1);
  int c = make_cond(L, x, s);
  bool eq = o == OP_EQ;
  L->conds.v[c].text_negated = eq;
  add_edge(L, L->cur, eq ? f : t, c, true);
  add_edge(L, L->cur, eq ? t : f, c, false);
  return true;
}

/* cond: any other expression, evaluated, then tested. A call of
 * PyGILState_Check, Py_IsInitialized or Py_IsFinalizing is a question the
 * engine can answer; the result of the project's own function tested at once
 * may say by its summary what the function did. */
static void lower_opaque_cond(lower *L, int e, int s, int t, int f) {
  lower_expr(L, e, RES_OTHER, -1);
  int c = make_cond(L, e, e);
  if (kind_of(L, s) == CXCursor_CallExpr) {
    const api_fact *q = callee_api(L, s);
    if (q && q->effect == FX_GIL_CHECK) L->conds.v[c].kind = COND_GIL;
    if (q && (q->effect == FX_RUNTIME_ALIVE || q->effect == FX_RUNTIME_ENDING)) {
      L->conds.v[c].kind = COND_RUNTIME;
      L->conds.v[c].runtime_ending = q->effect == FX_RUNTIME_ENDING;
    }
    const ir_block *cb = &L->blocks.v[L->cur];
    if (cb->nev > 0 && cb->ev[cb->nev - 1].kind == EV_CALL && cb->ev[cb->nev - 1].callee_usr &&
        L->conds.v[c].kind == COND_OPAQUE)
      L->conds.v[c].kind = COND_CALL;
  }
  add_edge(L, L->cur, t, c, true);
  add_edge(L, L->cur, f, c, false);
}

/* Lowers a condition, branching to t when true and f when false. */
void lower_cond(lower *L, int e, int t, int f) {
  int s = strip(L, e);
  long long cv;
  if (const_int(L, s, &cv)) {
    add_edge(L, L->cur, cv ? t : f, -1, true);
    return;
  }
  int k = kind_of(L, s);
  if (k == CXCursor_BinaryOperator) {
    enum op o = binop(L, s);
    if (nkids(L, s) == 2 && (o == OP_LAND || o == OP_LOR)) {
      int mid = new_block(L);
      if (o == OP_LAND) lower_cond(L, kid(L, s, 0), mid, f);
      else lower_cond(L, kid(L, s, 0), t, mid);
      L->cur = mid;
      lower_cond(L, kid(L, s, 1), t, f);
      return;
    }
    if (nkids(L, s) == 2 && (o == OP_EQ || o == OP_NE) && lower_null_test(L, s, o, t, f)) return;
  } else if (k == CXCursor_UnaryOperator && unop(L, s) == OP_LNOT && nkids(L, s) == 1) {
    lower_cond(L, kid(L, s, 0), f, t);
    return;
  }
  lower_opaque_cond(L, e, s, t, f);
}
