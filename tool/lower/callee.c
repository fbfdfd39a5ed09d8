/* callee.c: what the lowering needs to know of a declared function — its
 * name, the built-in knowledge about it, where it is declared, whether it
 * returns, its annotations, the key that links it across the program —
 * worked out once per declaration however many calls name it. */
#include <string.h>
#include "lower_int.h"

/* Does the declaration's type say it never returns (api.def's
 * NORETURN_TYPE_WORD)? */
static bool decl_is_noreturn(CXCursor decl) {
  CXString ts = clang_getTypeSpelling(clang_getCursorType(decl));
  bool nr = api_type_says_noreturn(clang_getCString(ts));
  clang_disposeString(ts);
  return nr;
}

const callee_info *callee_of(lower *L, CXCursor decl) {
  void **slot = pairmap_at(&L->callees, 4, clang_hashCursor(decl));
  for (callee_info *ci = *slot; ci; ci = ci->next)
    if (clang_equalCursors(ci->decl, decl)) return ci;
  callee_info *ci = arena_alloc(L->A, sizeof *ci);
  ci->decl = decl;
  ci->next = *slot;
  *slot = ci;
  ci->name = cx_str(L, clang_getCursorSpelling(decl));
  /* a compiler builtin is no event, unless it does not return */
  ci->builtin = api_is_builtin(ci->name) && !api_is_noreturn_libc(ci->name);
  return ci;
}

/* Is DECL a static inline function whose body the unit has? */
static bool is_static_inline(CXCursor decl) {
  CXCursor def = clang_getCursorDefinition(decl);
  if (clang_Cursor_isNull(def) || clang_getCursorKind(def) != CXCursor_FunctionDecl) return false;
  return clang_Cursor_getStorageClass(def) == CX_SC_Static && clang_Cursor_isFunctionInlined(def);
}

const callee_info *callee_facts(lower *L, const callee_info *ci_) {
  callee_info *ci = (callee_info *)ci_;
  if (ci->facts_done || ci->builtin) return ci;
  ci->facts_done = true;
  CXCursor decl = ci->decl;
  unsigned off;
  ci->decl_file = offset_of(L, clang_getCursorLocation(clang_getCanonicalCursor(decl)), &off);
  ci->python = ci->decl_file && ci->decl_file->cls == FC_PYTHON;
  ci->system = ci->decl_file && ci->decl_file->cls == FC_SYSTEM;
  ci->api = api_lookup(ci->name);
  /* the static inline behind an object-internals macro (Py_TYPE of the
   * 3.11+ headers, _Py_TYPE of 3.9 and 3.10): the macro's row, however the
   * call was written — the same-named macro, or another macro built on it
   * (numpy's NPY_DTYPE) */
  if (ci->python && !ci->api && is_static_inline(decl)) {
    ci->objmacro = objmacro_lookup(ci->name);
    if (!ci->objmacro && ci->name[0] == '_') ci->objmacro = objmacro_lookup(ci->name + 1);
  }
  ci->blocking = blocking_lookup(ci->name);
  ci->noreturn = (ci->api && ci->api->effect == FX_NORETURN) || api_is_noreturn_libc(ci->name) ||
                 (clang_getCursorKind(decl) == CXCursor_FunctionDecl && decl_is_noreturn(decl));
  return ci;
}

/* How functions are told apart across the program: libclang's USR, except
 * that a static function defined in the main file gets the unit's path too
 * (the USR names only the file's base name, so src/a/m.c and src/b/m.c
 * would collide). A static inline in a header stays one function. */
static const char *key_of(lower *L, CXCursor fn) {
  const char *usr = cx_str(L, clang_getCursorUSR(fn));
  CXCursor def = clang_getCursorDefinition(fn);
  if (clang_Cursor_isNull(def)) def = fn;
  if (clang_Cursor_getStorageClass(clang_getCanonicalCursor(fn)) == CX_SC_Static &&
      clang_Location_isFromMainFile(clang_getCursorLocation(def)))
    return arena_printf(L->A, "%s@tu:%s", usr, L->out && L->out->path ? L->out->path : "");
  return usr;
}

const char *callee_key(lower *L, const callee_info *ci_) {
  callee_info *ci = (callee_info *)ci_;
  if (!ci->key_done) {
    ci->key = key_of(L, ci->decl);
    ci->key_done = true;
  }
  return ci->key;
}

uint8_t callee_annot(lower *L, const callee_info *ci_) {
  callee_info *ci = (callee_info *)ci_;
  if (!ci->annot_done) {
    ci->annot = annotations_of(L, ci->decl);
    ci->annot_done = true;
  }
  return ci->annot;
}

bool callee_defined(lower *L, const callee_info *ci_) {
  callee_info *ci = (callee_info *)ci_;
  if (!ci->defined_done) {
    ci->defined = !clang_Cursor_isNull(clang_getCursorDefinition(ci->decl));
    ci->defined_done = true;
  }
  return ci->defined;
}

/* ---------- pure accessors ---------- */

static bool pure_body(lower *L, callee_info *ci, int depth);

static bool pure_read(callee_info *ci, const char *name) {
  for (int i = 0; i < ci->nreads; i++)
    if (!strcmp(ci->reads[i], name)) return true;
  if (ci->nreads >= KEY_MAX_READS) return false;
  ci->reads[ci->nreads++] = name;
  return true;
}

/* Is expression node E of an accessor's body free of stores, volatile reads
 * and calls but to pure accessors (DEPTH: how deep in such calls)? What it
 * reads goes into CI. */
static bool pure_expr(lower *L, callee_info *ci, int e, int depth) {
  for (int n = e; n < nd(L, e)->end; n++) {
    int k = kind_of(L, n);
    if (is_expr_kind(k) && clang_isVolatileQualifiedType(clang_getCursorType(nd(L, n)->c))) return false;
    char op[16];
    switch (k) {
    case CXCursor_ParenExpr: case CXCursor_UnexposedExpr: case CXCursor_CStyleCastExpr: case CXCursor_TypeRef:
    case CXCursor_IntegerLiteral: case CXCursor_CharacterLiteral: case CXCursor_FloatingLiteral:
    case CXCursor_UnaryExpr: case CXCursor_ConditionalOperator:
      break;
    case CXCursor_MemberRefExpr:
      if (!pure_read(ci, arena_printf(L->A, ".%s", cx_str(L, clang_getCursorSpelling(nd(L, n)->c))))) return false;
      break;
    case CXCursor_ArraySubscriptExpr:
      ci->reads_deref = true;
      break;
    case CXCursor_BinaryOperator: {
      if (!op_exact(L, n, op, sizeof op) || !strcmp(op, ",")) return false;
      size_t len = strlen(op);
      if (op[len - 1] == '=' && strcmp(op, "==") && strcmp(op, "!=") && strcmp(op, "<=") && strcmp(op, ">="))
        return false;   /* = and the compound assignments */
      break;
    }
    case CXCursor_UnaryOperator:
      if (!op_exact(L, n, op, sizeof op) || !strcmp(op, "++") || !strcmp(op, "--")) return false;
      if (!strcmp(op, "*")) ci->reads_deref = true;
      break;
    case CXCursor_DeclRefExpr: {
      enum CXCursorKind r = node_ref(L, n).kind;
      if (r != CXCursor_ParmDecl && r != CXCursor_EnumConstantDecl && r != CXCursor_FunctionDecl) return false;
      break;
    }
    case CXCursor_CallExpr: {
      CXCursor fn = node_ref(L, n);
      if (fn.kind != CXCursor_FunctionDecl || depth >= PURE_MAX_DEPTH) return false;
      callee_info *cc = (callee_info *)callee_of(L, fn);
      if (cc->builtin || cc->pure == PURE_ASKING) return false;
      if (cc->pure == PURE_UNASKED) {
        cc->pure = PURE_ASKING;
        cc->pure = pure_body(L, cc, depth + 1) ? PURE_YES : PURE_NO;
      }
      if (cc->pure != PURE_YES) return false;
      for (int i = 0; i < cc->nreads; i++)
        if (!pure_read(ci, cc->reads[i])) return false;
      ci->reads_deref |= cc->reads_deref;
      break;
    }
    default:
      return false;
    }
  }
  return true;
}

/* Is CI's definition `static inline T f(params) { return E; }` with E pure? */
static bool pure_body(lower *L, callee_info *ci, int depth) {
  CXCursor def = clang_getCursorDefinition(ci->decl);
  if (clang_Cursor_isNull(def) || clang_getCursorKind(def) != CXCursor_FunctionDecl ||
      clang_Cursor_getStorageClass(def) != CX_SC_Static || !clang_Cursor_isFunctionInlined(def))
    return false;
  int root = tree_build(L, def);
  int n = nkids(L, root);
  if (n == 0) return false;
  int body = kid(L, root, n - 1);
  if (kind_of(L, body) != CXCursor_CompoundStmt || nkids(L, body) != 1) return false;
  int ret = kid(L, body, 0);
  if (kind_of(L, ret) != CXCursor_ReturnStmt || nkids(L, ret) != 1) return false;
  return pure_expr(L, ci, kid(L, ret, 0), depth);
}

bool callee_pure(lower *L, const callee_info *ci_) {
  callee_info *ci = (callee_info *)ci_;
  if (ci->pure == PURE_UNASKED) {
    ci->pure = PURE_ASKING;
    ci->pure = !ci->builtin && pure_body(L, ci, 0) ? PURE_YES : PURE_NO;
  }
  return ci->pure == PURE_YES;
}

void add_hint(lower *L, CXCursor fndecl, int kind, gc_loc loc, const char *why) {
  const callee_info *ci = callee_of(L, fndecl);
  ir_entry_hint h = {0};
  h.usr = callee_key(L, ci);
  h.name = ci->name;
  h.kind = (uint8_t)kind;
  h.loc = loc;
  h.why = why;
  vec_push(L->A, L->hints, h);
}

/* ---------- annotations ---------- */

typedef struct annot_walk { uint8_t bits; } annot_walk;

uint8_t annotation_bit(CXCursor attr) {
  uint8_t bit = 0;
  CXString s = clang_getCursorSpelling(attr);
  const char *a = clang_getCString(s);
  if (a) {
    if (!strcmp(a, "gilcheck:requires_gil")) bit = ANNOT_REQUIRES_GIL;
    else if (!strcmp(a, "gilcheck:no_gil")) bit = ANNOT_NO_GIL;
    else if (!strcmp(a, "gilcheck:releases_gil")) bit = ANNOT_RELEASES_GIL;
    else if (!strcmp(a, "gilcheck:acquires_gil")) bit = ANNOT_ACQUIRES_GIL;
  }
  clang_disposeString(s);
  return bit;
}

static enum CXChildVisitResult find_annot(CXCursor c, CXCursor parent, CXClientData d) {
  annot_walk *w = d;
  if (c.kind == CXCursor_AnnotateAttr) w->bits |= annotation_bit(c);
  return CXChildVisit_Continue;
}

uint8_t annotations_of(lower *L, CXCursor fn) {
  annot_walk w = {0};
  clang_visitChildren(fn, find_annot, &w);
  /* and on the other declarations the unit has seen (a prototype in a header) */
  CXCursor canon = clang_getCanonicalCursor(fn);
  if (!clang_equalCursors(canon, fn)) clang_visitChildren(canon, find_annot, &w);
  return w.bits;
}
