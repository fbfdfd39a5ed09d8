/* tree.c: a function's cursors, visited once, and what the lowering asks of
 * them.
 *
 * tree_build makes one clang_visitChildren over a function (or over a
 * global's initializer, or, rarely, over a cursor libclang handed out
 * separately) and keeps each cursor with its kind, its parent and its
 * children, in the order libclang visits them. The lowering then walks this
 * tree as often as it likes. A node's other properties — where it starts,
 * what it refers to, its value, its operator — cost a call into libclang
 * each, so they are computed when first asked for, and kept.
 *
 * Operators: libclang 17 and later name them (clang_getCursorBinaryOperator
 * Kind); with older ones the operator is the first token after the left
 * operand (or at the start, for a unary one), read from the file's text as
 * libclang's tokenizer would read it. */
#include <stdlib.h>
#include <string.h>
#include "lower_int.h"
#include "xalloc.h"

/* ---------- building ---------- */

static int push_node(tree *T, CXCursor c, int parent) {
  if (T->n == T->cap) {
    T->cap = T->cap ? T->cap * 2 : 1024;
    T->nodes = xrealloc(T->nodes, sizeof(tnode) * (size_t)T->cap);
  }
  tnode *x = &T->nodes[T->n];
  x->c = c;
  x->parent = parent;
  x->end = 0;
  x->kfirst = x->nkids = 0;
  x->kind = (uint16_t)c.kind;
  x->have = 0;
  if (parent >= 0) T->nodes[parent].nkids++;
  if (T->nstack == T->cap_stack) {
    T->cap_stack = T->cap_stack ? T->cap_stack * 2 : 64;
    T->stack = xrealloc(T->stack, sizeof(int) * (size_t)T->cap_stack);
  }
  T->stack[T->nstack++] = T->n;
  return T->n++;
}

static void pop_node(tree *T) {
  T->nodes[T->stack[--T->nstack]].end = T->n;
}

/* clang_equalCursors without the call: the same kind and data, except
 * that a declaration's data[1] (first in its group or not) does not count. */
static bool same_cursor(CXCursor a, CXCursor b) {
  if (a.kind != b.kind || a.data[0] != b.data[0] || a.data[2] != b.data[2]) return false;
  return a.data[1] == b.data[1] || clang_isDeclaration(a.kind);
}

static enum CXChildVisitResult visit(CXCursor c, CXCursor parent, CXClientData d) {
  tree *T = d;
  /* the visit is depth first: close the nodes whose children are done */
  while (T->nstack > 1 && !same_cursor(T->nodes[T->stack[T->nstack - 1]].c, parent)) pop_node(T);
  push_node(T, c, T->stack[T->nstack - 1]);
  return CXChildVisit_Recurse;
}

/* Groups the children of the nodes from FIRST on, in visiting order. */
static void index_kids(tree *T, int first) {
  int need = T->nkids_total + (T->n - first);
  if (need > T->cap_kids) {
    T->cap_kids = need * 2;
    T->kids = xrealloc(T->kids, sizeof(int) * (size_t)T->cap_kids);
  }
  int at = T->nkids_total;
  for (int i = first; i < T->n; i++) {
    T->nodes[i].kfirst = at;
    at += T->nodes[i].nkids;
    T->nodes[i].nkids = 0;     /* counted again while filling */
  }
  for (int i = first + 1; i < T->n; i++) {
    tnode *p = &T->nodes[T->nodes[i].parent];
    T->kids[p->kfirst + p->nkids++] = i;
  }
  T->nkids_total = at;
}

int tree_build(lower *L, CXCursor root) {
  tree *T = &L->T;
  int first = T->n;
  T->nstack = 0;
  push_node(T, root, -1);
  clang_visitChildren(root, visit, T);
  while (T->nstack > 0) pop_node(T);
  index_kids(T, first);
  return first;
}

void tree_reset(lower *L) {
  L->T.n = 0;
  L->T.nkids_total = 0;
  L->T.nrefs = 0;
  L->T.nstack = 0;
}

/* ---------- properties ---------- */

CXSourceLocation node_begin_sl(lower *L, int n) {
  for (;;) {
    tnode *x = nd(L, n);
    /* a member expression's location is the member's name; it starts with
     * the object */
    if (x->kind == CXCursor_MemberRefExpr && x->nkids > 0) { n = kid(L, n, 0); continue; }
    /* a statement's or an expression's location is where it starts; a
     * declaration's is its name */
    if (clang_isDeclaration((enum CXCursorKind)x->kind)) return clang_getRangeStart(clang_getCursorExtent(x->c));
    CXSourceLocation sl = clang_getCursorLocation(x->c);
    /* an implicit cast has the location of its operand: where that starts */
    if (x->kind == CXCursor_UnexposedExpr && x->nkids > 0 &&
        clang_equalLocations(sl, clang_getCursorLocation(nd(L, kid(L, n, 0))->c))) { n = kid(L, n, 0); continue; }
    return sl;
  }
}

file_info *node_begin(lower *L, int n, unsigned *off) {
  tnode *x = nd(L, n);
  if (!(x->have & HAVE_BEGIN)) {
    unsigned o = 0;
    file_info *fi = offset_of(L, node_begin_sl(L, n), &o);
    x = nd(L, n);
    x->file = fi;
    x->off = o;
    x->have |= HAVE_BEGIN;
  }
  *off = x->off;
  return x->file;
}

file_info *node_macro_begin(lower *L, int n, unsigned *off) {
  tnode *x = nd(L, n);
  if (x->have & HAVE_BEGIN) return node_begin(L, n, off);
  CXSourceLocation sl = node_begin_sl(L, n);
  if (L->fn_in_main && clang_Location_isFromMainFile(sl)) { *off = 0; return NULL; }
  unsigned o = 0;
  file_info *fi = offset_of(L, sl, &o);
  x = nd(L, n);
  x->file = fi;
  x->off = o;
  x->have |= HAVE_BEGIN;
  *off = o;
  return fi;
}

gc_loc node_loc(lower *L, int n) {
  unsigned off;
  file_info *fi = node_begin(L, n, &off);
  return fi ? loc_at(L, fi, off) : (gc_loc){0};
}

CXCursor node_ref(lower *L, int n) {
  tree *T = &L->T;
  tnode *x = nd(L, n);
  if (!(x->have & HAVE_REF)) {
    if (T->nrefs == T->cap_refs) {
      T->cap_refs = T->cap_refs ? T->cap_refs * 2 : 256;
      T->refs = xrealloc(T->refs, sizeof(CXCursor) * (size_t)T->cap_refs);
    }
    T->refs[T->nrefs] = clang_getCursorReferenced(x->c);
    x->ref = T->nrefs++;
    x->have |= HAVE_REF;
  }
  return T->refs[x->ref];
}

/* An integer literal's value, from its spelling (0x1F, 017, 0b101, 10u,
 * 1'000, 42ULL), as clang_Cursor_Evaluate gives it (the value's 64 bits as a
 * long long); false for anything else, which libclang then evaluates. */
static bool literal_value(lower *L, int n, long long *out) {
  unsigned off;
  file_info *fi = spelling_of(L, clang_getCursorLocation(nd(L, n)->c), &off);
  const char *t;
  size_t size;
  if (!fi || !file_text(L, fi, &t, &size) || off >= size) return false;
  unsigned p = off, base = 10;
  if (t[p] == '0' && p + 1 < size && (t[p + 1] == 'x' || t[p + 1] == 'X')) base = 16, p += 2;
  else if (t[p] == '0' && p + 1 < size && (t[p + 1] == 'b' || t[p + 1] == 'B')) base = 2, p += 2;
  else if (t[p] == '0') base = 8;
  uint64_t v = 0;
  int digits = 0;
  for (; p < size; p++) {
    char c = t[p];
    unsigned d;
    if (c == '\'' && digits && p + 1 < size && t[p + 1] != '\'') continue;   /* 1'000 */
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
    else break;
    if (d >= base) return false;
    if (v > (UINT64_MAX - d) / base) return false;   /* too large: clang says so */
    v = v * base + d;
    digits++;
  }
  if (!digits && base != 8) return false;
  /* u, l, ll in either order */
  bool u = false;
  int l = 0;
  for (; p < size; p++) {
    char c = t[p];
    if ((c == 'u' || c == 'U') && !u) u = true;
    else if ((c == 'l' || c == 'L') && !l) {
      l = 1;
      if (p + 1 < size && t[p + 1] == c) l = 2, p++;
    } else break;
  }
  /* the token must end here */
  if (p < size) {
    char c = t[p];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
        c == '\\' || c == '$' || c == '\'' || (unsigned char)c >= 0x80)
      return false;
  }
  *out = (long long)v;
  return true;
}

/* An integer or character literal's value. */
bool node_int(lower *L, int n, long long *out) {
  tnode *x = nd(L, n);
  if (x->kind != CXCursor_IntegerLiteral && x->kind != CXCursor_CharacterLiteral) return false;
  if (!(x->have & HAVE_INT)) {
    long long v;
    if (x->kind == CXCursor_IntegerLiteral && literal_value(L, n, &v)) {
      x = nd(L, n);
      x->int_ok = true;
      x->ival = v;
    } else {
      CXEvalResult r = clang_Cursor_Evaluate(x->c);
      x = nd(L, n);
      x->int_ok = r && clang_EvalResult_getKind(r) == CXEval_Int;
      if (x->int_ok) x->ival = clang_EvalResult_getAsLongLong(r);
      if (r) clang_EvalResult_dispose(r);
    }
    x->have |= HAVE_INT;
  }
  if (x->int_ok) *out = x->ival;
  return x->int_ok;
}

/* Strips parentheses and implicit/explicit casts. */
int strip(lower *L, int n) {
  for (;;) {
    int k = kind_of(L, n);
    if (k != CXCursor_ParenExpr && k != CXCursor_UnexposedExpr && k != CXCursor_CStyleCastExpr) return n;
    int nk = nkids(L, n);
    if (nk == 0) return n;
    int last = kid(L, n, nk - 1);    /* a cast's type reference comes first */
    if (!is_expr_kind(kind_of(L, last))) return n;
    n = last;
  }
}

file_info *extent_offsets(lower *L, CXCursor c, unsigned *s, unsigned *e) {
  CXSourceRange r = clang_getCursorExtent(c);
  unsigned o1 = 0, o2 = 0;
  file_info *f1 = offset_of(L, clang_getRangeStart(r), &o1);
  file_info *f2 = offset_of(L, clang_getRangeEnd(r), &o2);
  *s = o1;
  *e = o2;
  return f1 && f1 == f2 ? f1 : NULL;
}

/* ---------- operators ---------- */

/* The token at or after a location, in the text the location is spelled
 * in (a macro's definition, for a token of its body). */
static bool token_at(lower *L, CXSourceLocation loc, unsigned limit, char *out, size_t outsz) {
  unsigned off = 0;
  file_info *fi = spelling_of(L, loc, &off);
  return fi && token_after(L, fi, off, limit, out, outsz);
}

bool binop_spelling(lower *L, int n, char *out, size_t outsz) {
  if (nkids(L, n) != 2) return false;
  CXSourceLocation e = clang_getRangeEnd(clang_getCursorExtent(nd(L, kid(L, n, 0))->c));
  return token_at(L, e, OP_SCAN_LIMIT, out, outsz);
}

/* The operator of node N, surely (lower_int.h). libclang 17 and later name
 * it. Before, it is read from the file, and taken only when it lies between
 * its operands there: a binary operator is the token after the left operand,
 * before the right one starts; a prefix one the token N starts with, before
 * its operand starts; a postfix one the token after its operand, inside N.
 * Inside a macro's body these libclangs place every token at the macro's
 * use, where no operator lies between the operands: not told. */
#if CINDEX_VERSION_MINOR < 64
static bool one_of(const char *t, const char *const *set) {
  for (; *set; set++)
    if (!strcmp(t, *set)) return true;
  return false;
}

static const char *const binop_tokens[] = {"*", "/", "%", "+", "-", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "&",
                                           "^", "|", "&&", "||", "=", "*=", "/=", "%=", "+=", "-=", "<<=", ">>=",
                                           "&=", "^=", "|=", ",", NULL};
static const char *const prefix_tokens[] = {"!", "~", "-", "+", "*", "&", "++", "--", NULL};
static const char *const postfix_tokens[] = {"++", "--", NULL};

/* The token after file offset OFF in F, when it ends by LIMIT_END and the
 * node NEXT (or -1) starts at or after its end. */
static bool token_between(lower *L, file_info *f, unsigned off, unsigned limit_end, int next, char *out,
                          size_t outsz, unsigned *start) {
  unsigned ts, te;
  if (!token_span_after(L, f, off, OP_SCAN_LIMIT, out, outsz, &ts, &te) || te > limit_end) return false;
  if (start) *start = ts;
  if (next < 0) return true;
  unsigned o;
  return node_begin(L, next, &o) == f && o >= te;
}
#endif

bool op_exact(lower *L, int n, char *out, size_t outsz) {
  int k = kind_of(L, n);
#if CINDEX_VERSION_MINOR >= 64
  CXString s;
  if (k == CXCursor_BinaryOperator || k == CXCursor_CompoundAssignOperator) {
    enum CXBinaryOperatorKind o = clang_getCursorBinaryOperatorKind(nd(L, n)->c);
    if (o == CXBinaryOperator_Invalid) return false;
    s = clang_getBinaryOperatorKindSpelling(o);
  } else if (k == CXCursor_UnaryOperator) {
    enum CXUnaryOperatorKind o = clang_getCursorUnaryOperatorKind(nd(L, n)->c);
    if (o == CXUnaryOperator_Invalid) return false;
    s = clang_getUnaryOperatorKindSpelling(o);
  } else {
    return false;
  }
  const char *t = clang_getCString(s);
  bool ok = t && t[0] && strlen(t) < outsz;
  if (ok) strcpy(out, t);
  clang_disposeString(s);
  return ok;
#else
  unsigned bs, be;
  file_info *f = extent_offsets(L, nd(L, n)->c, &bs, &be);
  if (!f || nkids(L, n) < 1) return false;
  if (k == CXCursor_BinaryOperator || k == CXCursor_CompoundAssignOperator) {
    if (nkids(L, n) != 2) return false;
    unsigned e0;
    if (offset_of(L, clang_getRangeEnd(clang_getCursorExtent(nd(L, kid(L, n, 0))->c)), &e0) != f || e0 < bs)
      return false;
    return token_between(L, f, e0, be, kid(L, n, 1), out, outsz, NULL) && one_of(out, binop_tokens);
  }
  if (k != CXCursor_UnaryOperator || nkids(L, n) != 1) return false;
  int operand = kid(L, n, 0);
  unsigned o0, start;
  if (node_begin(L, operand, &o0) != f) return false;
  if (o0 > bs)   /* prefix: the operator starts the node */
    return token_between(L, f, bs, o0, operand, out, outsz, &start) && start == bs && one_of(out, prefix_tokens);
  unsigned e0;
  if (offset_of(L, clang_getRangeEnd(clang_getCursorExtent(nd(L, operand)->c)), &e0) != f) return false;
  return token_between(L, f, e0, be, -1, out, outsz, NULL) && one_of(out, postfix_tokens);
#endif
}

static enum op binop_of_token(const char *t) {
  if (!strcmp(t, "=")) return OP_ASSIGN;
  if (!strcmp(t, "&&")) return OP_LAND;
  if (!strcmp(t, "||")) return OP_LOR;
  if (!strcmp(t, ",")) return OP_COMMA;
  if (!strcmp(t, "==")) return OP_EQ;
  if (!strcmp(t, "!=")) return OP_NE;
  if (!strcmp(t, "<")) return OP_LT;
  if (!strcmp(t, "<=")) return OP_LE;
  if (!strcmp(t, ">")) return OP_GT;
  if (!strcmp(t, ">=")) return OP_GE;
  size_t n = strlen(t);
  if (n >= 2 && t[n - 1] == '=' && strchr("*/%+-&|^<>", t[0]) && strcmp(t, "<=") && strcmp(t, ">="))
    return OP_COMPOUND_ASSIGN;
  if (t[0] && strchr("*/%+-<>&|^", t[0])) return OP_OTHER;
  return OP_UNKNOWN;
}

/* libclang 17 and later name the operator; before, and should it not know
 * (CXBinaryOperator_Invalid), the token after the left operand does. */
static enum op binop_uncached(lower *L, int n) {
#if CINDEX_VERSION_MINOR >= 64
  switch (clang_getCursorBinaryOperatorKind(nd(L, n)->c)) {
  case CXBinaryOperator_Assign: return OP_ASSIGN;
  case CXBinaryOperator_MulAssign: case CXBinaryOperator_DivAssign: case CXBinaryOperator_RemAssign:
  case CXBinaryOperator_AddAssign: case CXBinaryOperator_SubAssign: case CXBinaryOperator_ShlAssign:
  case CXBinaryOperator_ShrAssign: case CXBinaryOperator_AndAssign: case CXBinaryOperator_XorAssign:
  case CXBinaryOperator_OrAssign: return OP_COMPOUND_ASSIGN;
  case CXBinaryOperator_LAnd: return OP_LAND;
  case CXBinaryOperator_LOr: return OP_LOR;
  case CXBinaryOperator_Comma: return OP_COMMA;
  case CXBinaryOperator_EQ: return OP_EQ;
  case CXBinaryOperator_NE: return OP_NE;
  case CXBinaryOperator_LT: return OP_LT;
  case CXBinaryOperator_LE: return OP_LE;
  case CXBinaryOperator_GT: return OP_GT;
  case CXBinaryOperator_GE: return OP_GE;
  case CXBinaryOperator_Invalid: break;
  default: return OP_OTHER;
  }
#endif
  if (kind_of(L, n) == CXCursor_CompoundAssignOperator) return OP_COMPOUND_ASSIGN;
  char t[256];
  if (!binop_spelling(L, n, t, sizeof t)) return OP_UNKNOWN;
  return binop_of_token(t);
}

enum op binop(lower *L, int n) {
  tnode *x = nd(L, n);
  if (!(x->have & HAVE_OP)) {
    enum op o = binop_uncached(L, n);
    x = nd(L, n);
    x->op = (int8_t)o;
    x->have |= HAVE_OP;
  }
  return (enum op)x->op;
}

static enum op unop_uncached(lower *L, int n) {
#if CINDEX_VERSION_MINOR >= 64
  switch (clang_getCursorUnaryOperatorKind(nd(L, n)->c)) {
  case CXUnaryOperator_PostInc: case CXUnaryOperator_PostDec:
  case CXUnaryOperator_PreInc: case CXUnaryOperator_PreDec: return OP_INCDEC;
  case CXUnaryOperator_AddrOf: return OP_ADDROF;
  case CXUnaryOperator_Deref: return OP_DEREF;
  case CXUnaryOperator_LNot: return OP_LNOT;
  case CXUnaryOperator_Invalid: break;
  default: return OP_UOTHER;
  }
#endif
  char t[256];
  if (!token_at(L, clang_getCursorLocation(nd(L, n)->c), OP_SCAN_LIMIT, t, sizeof t)) return OP_UNKNOWN;
  if (!strcmp(t, "&")) return OP_ADDROF;
  if (!strcmp(t, "*")) return OP_DEREF;
  if (!strcmp(t, "!")) return OP_LNOT;
  if (!strcmp(t, "++") || !strcmp(t, "--")) return OP_INCDEC;
  if (!strcmp(t, "-") || !strcmp(t, "+") || !strcmp(t, "~")) return OP_UOTHER;
  /* postfix: the operator follows the operand */
  if (nkids(L, n) == 1) {
    CXSourceLocation e = clang_getRangeEnd(clang_getCursorExtent(nd(L, kid(L, n, 0))->c));
    char p[256];
    if (token_at(L, e, POSTFIX_SCAN_LIMIT, p, sizeof p) && (!strcmp(p, "++") || !strcmp(p, "--"))) return OP_INCDEC;
  }
  return OP_UOTHER;
}

enum op unop(lower *L, int n) {
  tnode *x = nd(L, n);
  if (!(x->have & HAVE_OP)) {
    enum op o = unop_uncached(L, n);
    x = nd(L, n);
    x->op = (int8_t)o;
    x->have |= HAVE_OP;
  }
  return (enum op)x->op;
}
