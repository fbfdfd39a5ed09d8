/* clang_lower.c: the one place that talks to libclang about source code.
 *
 * It parses a translation unit and lowers every function defined in the
 * project's own files (not system or CPython headers) into the tool's IR
 * (ir.h): a control-flow graph of blocks holding GIL-relevant events. It also
 * finds what the IR needs from outside function bodies: macro expansions
 * (so events name the macro the user wrote), method tables and thread
 * creators (entry hints), and gilcheck annotations.
 *
 * Grammar handled, statement by statement: compound, if/else, while, do,
 * for, switch/case/default with fallthrough, break, continue, return, goto
 * and labels, declarations, expression statements; in expressions: calls,
 * assignment, && || ?: and comma, statement expressions. A computed goto
 * makes the function abandoned (reported under -v).
 */
#include <clang-c/Index.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "arena.h"
#include "xalloc.h"
#include "ir.h"
#include "lower.h"
#include "map.h"

/* ---------- translation-unit context ---------- */

enum file_class { FC_PROJECT = 1, FC_SYSTEM, FC_PYTHON };

typedef struct file_info {
  int cls;
  const char *path;
} file_info;

typedef struct raw_var {
  CXCursor decl;
  const char *name;
  bool addr_taken;
  bool interesting;      /* used with a GIL or lifecycle API */
  bool const_assigned;   /* given a constant somewhere (x = 0, x = 1, x = NULL) */
  int ntests;            /* conditions testing its truth */
  int tracked;           /* index into fn->var_names, or -1 */
} raw_var;

typedef struct raw_cond {
  const char *key;       /* structural key, NULL when it has side effects */
  int deps[8];           /* raw vars it reads */
  int ndeps;
  int var;               /* raw var when it is a plain truth test, else -1 */
} raw_cond;

typedef struct label_info { const char *name; int block; int *cstack; int ncs; } label_info;
typedef struct pending_goto { int block; const char *label; int *cstack; int ncs; gc_loc loc; } pending_goto;

typedef struct lower {
  arena *A;
  CXTranslationUnit tu;
  const char *workdir;
  ir_tu *out;
  VEC(ir_func *) funcs;
  VEC(ir_entry_hint) hints;
  pairmap files;            /* CXFile -> file_info* */
  pairmap macros;           /* (CXFile, offset) -> const char* macro name */
  pairmap aliases;          /* (CXFile, offset) -> the object macro a project macro stands for */
  pairmap alias_cache;      /* macro definition -> that name, or (void*)1 for none */
  pairmap noreturn_cache;   /* callee cursor hash -> 1 (noreturn) / 2 (not) */
  /* per function */
  ir_func *fn;
  VEC(ir_block) blocks;
  int cur;
  VEC(raw_var) vars;
  pairmap varmap;           /* decl cursor hash -> raw var index + 1 */
  VEC(raw_cond) rconds;
  VEC(ir_cond) conds;
  VEC(ir_region) regions;
  VEC(int) cstack;       /* region index or -1 per open compound statement */
  struct jump { int brk, cont, depth; } jumps[256];
  int njumps;
  struct sw { int block; bool has_default; } sws[64];
  int nsws;
  VEC(label_info) labels;
  VEC(pending_goto) gotos;
  pairmap claimed;          /* macro expansions already turned into an event */
  VEC(struct fnvar { int var; CXCursor fn; }) fnvars;  /* locals holding a function's address */
  VEC(struct fieldfn { int var; const char *field; CXCursor fn; }) fieldfns; /* members of local
                                                            structs given a function's address */
  VEC(ir_fnstore) stores;  /* functions' addresses stored in globals and members (the unit's) */
  const char *abandon;
} lower;

/* ---------- strings and locations ---------- */

static const char *cx_str(lower *L, CXString s) {
  const char *c = clang_getCString(s);
  const char *r = arena_strdup(L->A, c ? c : "");
  clang_disposeString(s);
  return r;
}

static bool is_abs(const char *p) { return p && p[0] == '/'; }

static file_info *file_of(lower *L, CXFile f) {
  if (!f) return NULL;
  void **s = pairmap_at(&L->files, (uintptr_t)f, 0);
  if (*s) return *s;
  file_info *fi = arena_alloc(L->A, sizeof *fi);
  CXString name = clang_getFileName(f);
  const char *n = clang_getCString(name);
  if (!n) n = "";
  if (!is_abs(n) && L->workdir && strcmp(L->workdir, ".") != 0)
    fi->path = arena_printf(L->A, "%s/%s", L->workdir, n);
  else
    fi->path = arena_strdup(L->A, n);
  clang_disposeString(name);
  /* A CPython header lives in a directory holding Python.h (or one below it:
   * cpython/, internal/). */
  char buf[PATH_MAX];
  fi->cls = FC_PROJECT;
  const char *slash = strrchr(fi->path, '/');
  if (slash) {
    size_t dl = (size_t)(slash - fi->path);
    struct stat st;
    for (int up = 0; up < 2 && dl > 0; up++) {
      if (dl + 10 < sizeof buf) {
        memcpy(buf, fi->path, dl);
        strcpy(buf + dl, "/Python.h");
        if (stat(buf, &st) == 0) { fi->cls = FC_PYTHON; break; }
      }
      while (dl > 0 && fi->path[dl - 1] != '/') dl--;
      if (dl > 0) dl--;
    }
  }
  if (fi->cls == FC_PROJECT) {
    CXSourceLocation loc = clang_getLocationForOffset(L->tu, f, 0);
    if (clang_Location_isInSystemHeader(loc)) fi->cls = FC_SYSTEM;
  }
  *s = fi;
  return fi;
}

/* The place the user wrote: for a macro argument, where the argument is;
 * for a macro body, where the macro was used. */
static gc_loc loc_of(lower *L, CXSourceLocation sl, CXFile *fout, unsigned *off) {
  CXFile f = NULL;
  unsigned line = 0, col = 0, o = 0;
  clang_getFileLocation(sl, &f, &line, &col, &o);
  if (fout) *fout = f;
  if (off) *off = o;
  gc_loc g = {0};
  file_info *fi = file_of(L, f);
  g.file = fi ? fi->path : NULL;
  g.line = line;
  g.col = col;
  return g;
}

static gc_loc cursor_loc(lower *L, CXCursor c, CXFile *f, unsigned *off) {
  return loc_of(L, clang_getRangeStart(clang_getCursorExtent(c)), f, off);
}

static const char *macro_at(lower *L, CXFile f, unsigned off) {
  if (!f) return NULL;
  return pairmap_get(&L->macros, (uintptr_t)f, off);
}

/* ---------- children ---------- */

typedef struct kids { CXCursor *v; int n, cap; } kids;

static enum CXChildVisitResult collect(CXCursor c, CXCursor parent, CXClientData d) {
  kids *k = d;
  if (k->n == k->cap) {
    k->cap = k->cap ? k->cap * 2 : 8;
    k->v = xrealloc(k->v, sizeof(CXCursor) * (size_t)k->cap);
  }
  k->v[k->n++] = c;
  return CXChildVisit_Continue;
}

static kids children(CXCursor c) {
  kids k = {0};
  clang_visitChildren(c, collect, &k);
  return k;
}

static void kids_free(kids *k) { free(k->v); }

static bool is_kind(CXCursor c, enum CXCursorKind k) { return clang_getCursorKind(c) == k; }

/* Strips parentheses and implicit/explicit casts. */
static CXCursor strip(CXCursor c) {
  for (;;) {
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k != CXCursor_ParenExpr && k != CXCursor_UnexposedExpr && k != CXCursor_CStyleCastExpr)
      return c;
    kids ks = children(c);
    if (ks.n == 0) { kids_free(&ks); return c; }
    CXCursor last = ks.v[ks.n - 1];   /* a cast's type reference comes first */
    kids_free(&ks);
    if (clang_isExpression(clang_getCursorKind(last)) == 0) return c;
    c = last;
  }
}

/* ---------- operators ---------- */

enum op {
  OP_UNKNOWN, OP_ASSIGN, OP_COMPOUND_ASSIGN, OP_LAND, OP_LOR, OP_COMMA, OP_EQ, OP_NE, OP_OTHER,
  OP_ADDROF, OP_DEREF, OP_LNOT, OP_INCDEC, OP_UOTHER
};

/* The first token at or after 'loc' (spelling location), within 'limit' bytes. */
static const char *token_after(lower *L, CXSourceLocation loc, unsigned limit) {
  CXFile f = NULL;
  unsigned line, col, off;
  clang_getSpellingLocation(loc, &f, &line, &col, &off);
  if (!f) return NULL;
  size_t size = 0;
  const char *buf = clang_getFileContents(L->tu, f, &size);
  if (!buf || off >= size) return NULL;
  unsigned end = off + limit < size ? off + limit : (unsigned)size;
  CXSourceRange r = clang_getRange(clang_getLocationForOffset(L->tu, f, off),
                                   clang_getLocationForOffset(L->tu, f, end));
  CXToken *toks = NULL;
  unsigned n = 0;
  clang_tokenize(L->tu, r, &toks, &n);
  const char *s = NULL;
  for (unsigned i = 0; i < n && !s; i++) {
    if (clang_getTokenKind(toks[i]) == CXToken_Comment) continue;
    s = cx_str(L, clang_getTokenSpelling(L->tu, toks[i]));
  }
  if (toks) clang_disposeTokens(L->tu, toks, n);
  return s;
}

static enum op binop(lower *L, CXCursor c) {
#if CINDEX_VERSION_MINOR >= 64
  switch (clang_getCursorBinaryOperatorKind(c)) {
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
  case CXBinaryOperator_Invalid: break;
  default: return OP_OTHER;
  }
#endif
  if (is_kind(c, CXCursor_CompoundAssignOperator)) return OP_COMPOUND_ASSIGN;
  kids k = children(c);
  if (k.n != 2) { kids_free(&k); return OP_UNKNOWN; }
  CXSourceLocation e = clang_getRangeEnd(clang_getCursorExtent(k.v[0]));
  kids_free(&k);
  const char *t = token_after(L, e, 64);
  if (!t) return OP_UNKNOWN;
  if (!strcmp(t, "=")) return OP_ASSIGN;
  if (!strcmp(t, "&&")) return OP_LAND;
  if (!strcmp(t, "||")) return OP_LOR;
  if (!strcmp(t, ",")) return OP_COMMA;
  if (!strcmp(t, "==")) return OP_EQ;
  if (!strcmp(t, "!=")) return OP_NE;
  size_t n = strlen(t);
  if (n >= 2 && t[n - 1] == '=' && strchr("*/%+-&|^<>", t[0]) && strcmp(t, "<=") && strcmp(t, ">="))
    return OP_COMPOUND_ASSIGN;
  if (strchr("*/%+-<>&|^", t[0])) return OP_OTHER;
  return OP_UNKNOWN;
}

static enum op unop(lower *L, CXCursor c) {
#if CINDEX_VERSION_MINOR >= 64
  switch (clang_getCursorUnaryOperatorKind(c)) {
  case CXUnaryOperator_PostInc: case CXUnaryOperator_PostDec:
  case CXUnaryOperator_PreInc: case CXUnaryOperator_PreDec: return OP_INCDEC;
  case CXUnaryOperator_AddrOf: return OP_ADDROF;
  case CXUnaryOperator_Deref: return OP_DEREF;
  case CXUnaryOperator_LNot: return OP_LNOT;
  case CXUnaryOperator_Invalid: break;
  default: return OP_UOTHER;
  }
#endif
  const char *t = token_after(L, clang_getRangeStart(clang_getCursorExtent(c)), 64);
  if (!t) return OP_UNKNOWN;
  if (!strcmp(t, "&")) return OP_ADDROF;
  if (!strcmp(t, "*")) return OP_DEREF;
  if (!strcmp(t, "!")) return OP_LNOT;
  if (!strcmp(t, "++") || !strcmp(t, "--")) return OP_INCDEC;
  if (!strcmp(t, "-") || !strcmp(t, "+") || !strcmp(t, "~")) return OP_UOTHER;
  /* postfix: the operator follows the operand */
  kids k = children(c);
  enum op r = OP_UOTHER;
  if (k.n == 1) {
    const char *p = token_after(L, clang_getRangeEnd(clang_getCursorExtent(k.v[0])), 16);
    if (p && (!strcmp(p, "++") || !strcmp(p, "--"))) r = OP_INCDEC;
  }
  kids_free(&k);
  return r;
}

/* ---------- locals ---------- */

static uint64_t cursor_hash(CXCursor c) { return clang_hashCursor(c); }

static int var_of_decl(lower *L, CXCursor decl) {
  int i = (int)(intptr_t)pairmap_get(&L->varmap, 1, cursor_hash(decl)) - 1;
  if (i < 0) return -1;
  /* hash collisions: confirm */
  if (clang_equalCursors(L->vars.v[i].decl, decl)) return i;
  for (int j = 0; j < L->vars.n; j++)
    if (clang_equalCursors(L->vars.v[j].decl, decl)) return j;
  return -1;
}

static int add_var(lower *L, CXCursor decl) {
  raw_var v = {0};
  v.decl = decl;
  v.name = cx_str(L, clang_getCursorSpelling(decl));
  v.tracked = -1;
  vec_push(L->A, L->vars, v);
  void **s = pairmap_at(&L->varmap, 1, cursor_hash(decl));
  if (!*s) *s = (void *)(intptr_t)L->vars.n;
  return L->vars.n - 1;
}

/* The raw local a (stripped) expression names, or -1. */
static int local_of(lower *L, CXCursor e) {
  e = strip(e);
  if (!is_kind(e, CXCursor_DeclRefExpr)) return -1;
  CXCursor d = clang_getCursorReferenced(e);
  enum CXCursorKind k = clang_getCursorKind(d);
  if (k != CXCursor_VarDecl && k != CXCursor_ParmDecl) return -1;
  return var_of_decl(L, d);
}

static bool is_null_const(lower *L, CXCursor e) {
  e = strip(e);
  enum CXCursorKind k = clang_getCursorKind(e);
  if (k == CXCursor_GNUNullExpr) return true;
  if (k != CXCursor_IntegerLiteral) return false;
  CXEvalResult r = clang_Cursor_Evaluate(e);
  if (!r) return false;
  bool z = clang_EvalResult_getKind(r) == CXEval_Int && clang_EvalResult_getAsLongLong(r) == 0;
  clang_EvalResult_dispose(r);
  return z;
}

/* ---------- blocks and events ---------- */

static int new_block(lower *L) {
  ir_block b = {0};
  b.ret_var = -1;
  vec_push(L->A, L->blocks, b);
  return L->blocks.n - 1;
}

static void add_edge(lower *L, int from, int to, int cond, bool sense) {
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

static ir_event *add_event(lower *L, int kind, gc_loc loc) {
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
  for (int i = L->cstack.n - 1; i >= 0; i--)
    if (L->cstack.v[i] >= 0) { e->region = L->cstack.v[i]; break; }
  return e;
}

static void end_path(lower *L, int term, gc_loc loc, int ret_var) {
  ir_block *b = &L->blocks.v[L->cur];
  b->term = (uint8_t)term;
  b->term_loc = loc;
  b->ret_var = (int16_t)ret_var;
  L->cur = new_block(L);
}

static void leave_regions(lower *L, int depth, gc_loc loc, const char *how) {
  for (int i = L->cstack.n - 1; i >= depth; i--)
    if (L->cstack.v[i] >= 0) {
      ir_event *e = add_event(L, EV_LEAVE_REGION, loc);
      e->region = L->cstack.v[i];
      e->callee = how;
    }
}

/* ---------- conditions ---------- */

static void key_append(lower *L, CXCursor e, char **buf, size_t *len, size_t *cap, raw_cond *rc, bool *ok);

static void kputs(char **buf, size_t *len, size_t *cap, const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 > *cap) {
    *cap = (*len + n + 1) * 2;
    *buf = xrealloc(*buf, *cap);
  }
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

static void key_append(lower *L, CXCursor e, char **buf, size_t *len, size_t *cap, raw_cond *rc, bool *ok) {
  if (!*ok || *len > 400) { *ok = false; return; }
  e = strip(e);
  enum CXCursorKind k = clang_getCursorKind(e);
  char tmp[64];
  switch (k) {
  case CXCursor_DeclRefExpr: {
    CXCursor d = clang_getCursorReferenced(e);
    int v = -1;
    enum CXCursorKind dk = clang_getCursorKind(d);
    if (dk == CXCursor_VarDecl || dk == CXCursor_ParmDecl) v = var_of_decl(L, d);
    if (v >= 0) {
      snprintf(tmp, sizeof tmp, "v%d", v);
      kputs(buf, len, cap, tmp);
      if (rc->ndeps < 8) rc->deps[rc->ndeps++] = v; else *ok = false;
    } else {
      kputs(buf, len, cap, cx_str(L, clang_getCursorSpelling(e)));
    }
    return;
  }
  case CXCursor_IntegerLiteral: case CXCursor_CharacterLiteral: {
    CXEvalResult r = clang_Cursor_Evaluate(e);
    if (r && clang_EvalResult_getKind(r) == CXEval_Int) {
      snprintf(tmp, sizeof tmp, "%lld", clang_EvalResult_getAsLongLong(r));
      kputs(buf, len, cap, tmp);
    } else *ok = false;
    if (r) clang_EvalResult_dispose(r);
    return;
  }
  case CXCursor_MemberRefExpr: {
    kids ks = children(e);
    kputs(buf, len, cap, "(");
    for (int i = 0; i < ks.n; i++) key_append(L, ks.v[i], buf, len, cap, rc, ok);
    kputs(buf, len, cap, ").");
    kputs(buf, len, cap, cx_str(L, clang_getCursorSpelling(e)));
    kids_free(&ks);
    return;
  }
  case CXCursor_BinaryOperator: {
    enum op o = binop(L, e);
    if (o == OP_ASSIGN || o == OP_COMPOUND_ASSIGN || o == OP_UNKNOWN || o == OP_COMMA) { *ok = false; return; }
    const char *os = o == OP_LAND ? "&&" : o == OP_LOR ? "||" : o == OP_EQ ? "==" : o == OP_NE ? "!=" : NULL;
    kids ks = children(e);
    if (ks.n != 2) { *ok = false; kids_free(&ks); return; }
    if (!os) {
      const char *t = token_after(L, clang_getRangeEnd(clang_getCursorExtent(ks.v[0])), 64);
      os = t ? t : "?";
    }
    kputs(buf, len, cap, "(");
    key_append(L, ks.v[0], buf, len, cap, rc, ok);
    kputs(buf, len, cap, os);
    key_append(L, ks.v[1], buf, len, cap, rc, ok);
    kputs(buf, len, cap, ")");
    kids_free(&ks);
    return;
  }
  case CXCursor_UnaryOperator: {
    enum op o = unop(L, e);
    if (o == OP_INCDEC || o == OP_UNKNOWN) { *ok = false; return; }
    kids ks = children(e);
    kputs(buf, len, cap, o == OP_LNOT ? "!(" : o == OP_DEREF ? "*(" : o == OP_ADDROF ? "&(" : "u(");
    for (int i = 0; i < ks.n; i++) key_append(L, ks.v[i], buf, len, cap, rc, ok);
    kputs(buf, len, cap, ")");
    kids_free(&ks);
    return;
  }
  case CXCursor_ArraySubscriptExpr: {
    kids ks = children(e);
    kputs(buf, len, cap, "[");
    for (int i = 0; i < ks.n; i++) { key_append(L, ks.v[i], buf, len, cap, rc, ok); kputs(buf, len, cap, ","); }
    kputs(buf, len, cap, "]");
    kids_free(&ks);
    return;
  }
  default:
    *ok = false;
    return;
  }
}

/* The condition's text as written, when it is written in the file itself. */
static const char *cond_text(lower *L, CXCursor e) {
  /* the extent is in the file's own coordinates: a macro at either end
   * counts as its whole invocation, as the user wrote it */
  CXSourceRange r = clang_getCursorExtent(e);
  CXFile f1, f2;
  unsigned o1, o2, l, c;
  clang_getFileLocation(clang_getRangeStart(r), &f1, &l, &c, &o1);
  clang_getFileLocation(clang_getRangeEnd(r), &f2, &l, &c, &o2);
  if (!f1 || f1 != f2 || o2 <= o1 || o2 - o1 > 120) return NULL;
  size_t size;
  const char *buf = clang_getFileContents(L->tu, f1, &size);
  if (!buf || o2 > size) return NULL;
  char *s = arena_strndup(L->A, buf + o1, o2 - o1);
  for (char *p = s; *p; p++) if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
  return s;
}

static int make_cond(lower *L, CXCursor e) {
  raw_cond rc = {0};
  rc.var = -1;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  bool ok = true;
  key_append(L, e, &buf, &len, &cap, &rc, &ok);
  rc.key = ok && buf ? arena_strdup(L->A, buf) : NULL;
  free(buf);
  /* plain truth tests of a local: x, x != NULL, x == 0 (negations are
   * handled by the caller flipping the branches) */
  CXCursor s = strip(e);
  int v = local_of(L, s);
  if (v >= 0) rc.var = v;
  ir_cond c = {0};
  c.kind = COND_OPAQUE;
  c.key = -1;
  c.var = -1;
  c.loc = cursor_loc(L, e, NULL, NULL);
  c.text = cond_text(L, e);
  vec_push(L->A, L->rconds, rc);
  vec_push(L->A, L->conds, c);
  if (rc.var >= 0) L->vars.v[rc.var].ntests++;
  return L->conds.n - 1;
}

static void lower_expr(lower *L, CXCursor e, int res_to, int res_var);

static bool const_int(CXCursor e, long long *out) {
  e = strip(e);
  enum CXCursorKind k = clang_getCursorKind(e);
  if (k != CXCursor_IntegerLiteral && k != CXCursor_CharacterLiteral) return false;
  CXEvalResult r = clang_Cursor_Evaluate(e);
  if (!r) return false;
  bool ok = clang_EvalResult_getKind(r) == CXEval_Int;
  if (ok) *out = clang_EvalResult_getAsLongLong(r);
  clang_EvalResult_dispose(r);
  return ok;
}

/* An integer constant expression (-1, a macro or enum constant, sizeof):
 * its value. */
static bool const_expr(CXCursor e, long long *out) {
  if (const_int(e, out)) return true;
  e = strip(e);
  enum CXCursorKind k = clang_getCursorKind(e);
  if (k != CXCursor_UnaryOperator && k != CXCursor_BinaryOperator && k != CXCursor_DeclRefExpr &&
      k != CXCursor_UnaryExpr)
    return false;
  CXEvalResult r = clang_Cursor_Evaluate(e);
  if (!r) return false;
  bool ok = clang_EvalResult_getKind(r) == CXEval_Int;
  if (ok) *out = clang_EvalResult_getAsLongLong(r);
  clang_EvalResult_dispose(r);
  return ok;
}

/* Lowers a condition, branching to t when true and f when false. */
static void lower_cond(lower *L, CXCursor e, int t, int f) {
  CXCursor s = strip(e);
  long long cv;
  if (const_int(s, &cv)) {
    add_edge(L, L->cur, cv ? t : f, -1, true);
    return;
  }
  enum CXCursorKind k = clang_getCursorKind(s);
  if (k == CXCursor_BinaryOperator) {
    enum op o = binop(L, s);
    kids ks = children(s);
    if (ks.n == 2 && (o == OP_LAND || o == OP_LOR)) {
      int mid = new_block(L);
      if (o == OP_LAND) lower_cond(L, ks.v[0], mid, f);
      else lower_cond(L, ks.v[0], t, mid);
      L->cur = mid;
      lower_cond(L, ks.v[1], t, f);
      kids_free(&ks);
      return;
    }
    if (ks.n == 2 && (o == OP_EQ || o == OP_NE)) {
      int side = -1;
      if (is_null_const(L, ks.v[1])) side = 0;
      else if (is_null_const(L, ks.v[0])) side = 1;
      if (side >= 0 && local_of(L, ks.v[side]) >= 0) {
        /* x == NULL is !x; x != NULL is x */
        lower_expr(L, ks.v[side], RES_OTHER, -1);
        int c = make_cond(L, ks.v[side]);
        L->conds.v[c].loc = cursor_loc(L, s, NULL, NULL);
        const char *txt = cond_text(L, s);
        if (txt) L->conds.v[c].text = txt;
        bool eq = o == OP_EQ;
        L->conds.v[c].text_negated = eq;
        add_edge(L, L->cur, eq ? f : t, c, true);
        add_edge(L, L->cur, eq ? t : f, c, false);
        kids_free(&ks);
        return;
      }
    }
    kids_free(&ks);
  } else if (k == CXCursor_UnaryOperator && unop(L, s) == OP_LNOT) {
    kids ks = children(s);
    if (ks.n == 1) {
      lower_cond(L, ks.v[0], f, t);
      kids_free(&ks);
      return;
    }
    kids_free(&ks);
  }
  lower_expr(L, e, RES_OTHER, -1);
  int c = make_cond(L, e);
  if (k == CXCursor_CallExpr) {
    CXCursor callee = clang_getCursorReferenced(s);
    CXString n = clang_getCursorSpelling(callee);
    const api_fact *q = api_lookup(clang_getCString(n));
    if (q && q->effect == FX_GIL_CHECK) L->conds.v[c].kind = COND_GIL;
    if (q && (q->effect == FX_RUNTIME_ALIVE || q->effect == FX_RUNTIME_ENDING)) {
      L->conds.v[c].kind = COND_RUNTIME;
      L->conds.v[c].runtime_ending = q->effect == FX_RUNTIME_ENDING;
    }
    /* a project function's result tested at once: its summary may say what
     * it did to the GIL by what it returned */
    const ir_block *cb = &L->blocks.v[L->cur];
    if (cb->nev > 0 && cb->ev[cb->nev - 1].kind == EV_CALL && cb->ev[cb->nev - 1].callee_usr &&
        L->conds.v[c].kind == COND_OPAQUE)
      L->conds.v[c].kind = COND_CALL;
    clang_disposeString(n);
  }
  add_edge(L, L->cur, t, c, true);
  add_edge(L, L->cur, f, c, false);
}

/* ---------- calls ---------- */

static bool decl_is_noreturn(lower *L, CXCursor decl) {
  void **s = pairmap_at(&L->noreturn_cache, 2, cursor_hash(decl));
  if (!*s) {
    CXString ts = clang_getTypeSpelling(clang_getCursorType(decl));
    const char *t = clang_getCString(ts);
    bool nr = t && (strstr(t, "noreturn") || strstr(t, "__noreturn__"));
    clang_disposeString(ts);
    *s = (void *)(intptr_t)(nr ? 1 : 2);
  }
  return (intptr_t)*s == 1;
}

static const char *short_text(lower *L, CXCursor e) {
  /* the spelling of a short argument, as written (macro names kept) */
  CXSourceRange r = clang_getCursorExtent(e);
  CXFile f1, f2;
  unsigned o1, o2, l, c;
  clang_getFileLocation(clang_getRangeStart(r), &f1, &l, &c, &o1);
  clang_getFileLocation(clang_getRangeEnd(r), &f2, &l, &c, &o2);
  if (!f1 || f1 != f2 || o2 <= o1 || o2 - o1 > 48) {
    long long v;
    if (const_int(e, &v)) return arena_printf(L->A, "%lld", v);
    return NULL;
  }
  size_t size;
  const char *buf = clang_getFileContents(L->tu, f1, &size);
  if (!buf || o2 > size) return NULL;
  return arena_strndup(L->A, buf + o1, o2 - o1);
}

/* How functions are told apart across the program: libclang's USR, except
 * that a static function defined in the main file gets the unit's path too
 * (the USR names only the file's base name, so src/a/m.c and src/b/m.c
 * would collide). A static inline in a header stays one function. */
static const char *function_key(lower *L, CXCursor fn) {
  const char *usr = cx_str(L, clang_getCursorUSR(fn));
  CXCursor def = clang_getCursorDefinition(fn);
  if (clang_Cursor_isNull(def)) def = fn;
  if (clang_Cursor_getStorageClass(clang_getCanonicalCursor(fn)) == CX_SC_Static &&
      clang_Location_isFromMainFile(clang_getCursorLocation(def)))
    return arena_printf(L->A, "%s@tu:%s", usr, L->out && L->out->path ? L->out->path : "");
  return usr;
}

static void add_hint(lower *L, CXCursor fndecl, int kind, gc_loc loc, const char *why) {
  ir_entry_hint h = {0};
  h.usr = function_key(L, fndecl);
  h.name = cx_str(L, clang_getCursorSpelling(fndecl));
  h.kind = (uint8_t)kind;
  h.loc = loc;
  h.why = why;
  vec_push(L->A, L->hints, h);
}

/* A function named (not called) by an expression: f or &f. */
static bool function_ref(lower *L, CXCursor e, CXCursor *fn) {
  e = strip(e);
  if (is_kind(e, CXCursor_UnaryOperator)) {
    kids ks = children(e);
    bool ok = ks.n == 1 && unop(L, e) == OP_ADDROF;
    CXCursor inner = ok ? strip(ks.v[0]) : e;
    kids_free(&ks);
    if (!ok) return false;
    e = inner;
  }
  if (!is_kind(e, CXCursor_DeclRefExpr)) return false;
  CXCursor d = clang_getCursorReferenced(e);
  if (!is_kind(d, CXCursor_FunctionDecl)) return false;
  *fn = d;
  return true;
}

/* The functions an expression may name: f, &f, or either branch of
 * `threaded ? real_get : no_op`. */
#define FNREF_CHOICES 8

static int function_refs(lower *L, CXCursor e, CXCursor *out, int max) {
  if (max <= 0) return 0;
  if (function_ref(L, e, out)) return 1;
  e = strip(e);
  if (!is_kind(e, CXCursor_ConditionalOperator)) return 0;
  kids ks = children(e);
  int n = 0;
  for (int i = 1; i < ks.n && i <= 2; i++) n += function_refs(L, ks.v[i], out + n, max - n);
  kids_free(&ks);
  return n;
}

/* A local given a function's address (cb = on_data;), remembered so that
 * passing the local to a thread creator or callback API names the function. */
static void note_fnvar(lower *L, int v, CXCursor value) {
  CXCursor fn;
  if (v < 0 || !function_ref(L, value, &fn)) return;
  struct fnvar fv = {v, fn};
  vec_push(L->A, L->fnvars, fv);
}

static uint8_t annotations_of(lower *L, CXCursor fn);

/* ---------- functions' addresses: passed, stored, called through ---------- */

/* Where a call through a pointer, or a store of a function's address,
 * goes: a global or static variable ("var:USR"), or a member of a struct
 * type, whatever the object ("field:USR"). Locals and parameters: NULL. NAME
 * gets the variable's or the member's name; HEADER, the file declaring the
 * variable when a library or CPython declares it (a hook such as
 * rl_startup_hook or PyOS_InputHook), else NULL. */
static const char *slot_of(lower *L, CXCursor e, const char **name, const char **header) {
  e = strip(e);
  if (name) *name = NULL;
  if (header) *header = NULL;
  CXCursor d = clang_getCursorReferenced(e);
  if (is_kind(e, CXCursor_DeclRefExpr) && is_kind(d, CXCursor_VarDecl) && clang_Cursor_hasVarDeclGlobalStorage(d)) {
    if (name) *name = cx_str(L, clang_getCursorSpelling(d));
    if (header) {
      CXFile df = NULL;
      loc_of(L, clang_getCursorLocation(clang_getCanonicalCursor(d)), &df, NULL);
      file_info *fi = file_of(L, df);
      if (fi && fi->cls != FC_PROJECT) *header = fi->path;
    }
    return arena_printf(L->A, "var:%s", cx_str(L, clang_getCursorUSR(d)));
  }
  if (is_kind(e, CXCursor_MemberRefExpr) && is_kind(d, CXCursor_FieldDecl)) {
    if (name) *name = cx_str(L, clang_getCursorSpelling(d));
    return arena_printf(L->A, "field:%s", cx_str(L, clang_getCursorUSR(d)));
  }
  return NULL;
}

static ir_fnref *add_fnref(lower *L, gc_loc loc, int how, int arg, const CXCursor *fn) {
  ir_fnref *r = arena_alloc(L->A, sizeof *r);
  r->how = (uint8_t)how;
  r->arg = (int8_t)arg;
  if (fn) {
    r->fn = cx_str(L, clang_getCursorSpelling(*fn));
    r->fn_usr = function_key(L, *fn);
  }
  ir_event *e = add_event(L, EV_FNREF, loc);
  e->fnref = r;
  e->callee = r->fn;
  e->callee_usr = r->fn_usr;
  return r;
}

/* The members of an initializer that name functions: FN(ctx, member, function)
 * for each, with the member (a FieldDecl) or a null cursor where the value
 * is not a member's (a scalar pointer, an array element of pointers). Walks
 * designated ({.read = f}) and positional ({f, g}) forms, nested structs and
 * arrays of structs (tables). */
typedef void init_fn(lower *L, void *ctx, CXCursor field, CXCursor fn, gc_loc loc);

typedef struct field_list { CXCursor v[64]; int n; } field_list;

static enum CXVisitorResult collect_field(CXCursor c, CXClientData d) {
  field_list *l = d;
  if (l->n < 64) l->v[l->n++] = c;
  return CXVisit_Continue;
}

static void scan_init(lower *L, CXCursor e, CXType t, CXCursor field, init_fn *fn, void *ctx, int depth) {
  if (depth > 8) return;
  CXCursor f;
  if (function_ref(L, e, &f)) { fn(L, ctx, field, f, cursor_loc(L, e, NULL, NULL)); return; }
  e = strip(e);
  if (!is_kind(e, CXCursor_InitListExpr)) return;
  t = clang_getCanonicalType(t);
  kids ks = children(e);
  if (t.kind == CXType_Record) {
    field_list fields = {.n = 0};
    clang_Type_visitFields(t, collect_field, &fields);
    for (int i = 0; i < ks.n; i++) {
      CXCursor value = ks.v[i], member = i < fields.n ? fields.v[i] : clang_getNullCursor();
      kids sub = children(value);
      /* a designator: an expression holding the member's reference and the value */
      if (sub.n >= 2 && is_kind(sub.v[0], CXCursor_MemberRef)) {
        member = clang_getCursorReferenced(sub.v[0]);
        value = sub.v[sub.n - 1];
      }
      kids_free(&sub);
      if (!clang_Cursor_isNull(member))
        scan_init(L, value, clang_getCursorType(member), member, fn, ctx, depth + 1);
    }
  } else if (t.kind == CXType_ConstantArray || t.kind == CXType_IncompleteArray) {
    for (int i = 0; i < ks.n; i++) scan_init(L, ks.v[i], clang_getArrayElementType(t), field, fn, ctx, depth + 1);
  }
  kids_free(&ks);
}

/* A global's initializer: every function in it is stored in its slot. */
typedef struct global_init { const char *owner; const char *var_slot; const char *var_name; } global_init;

static void store_from_init(lower *L, void *ctx, CXCursor field, CXCursor fn, gc_loc loc) {
  global_init *g = ctx;
  ir_fnstore st = {0};
  if (clang_Cursor_isNull(field)) {
    st.slot = g->var_slot;
    st.field = g->var_name;
  } else {
    st.slot = arena_printf(L->A, "field:%s", cx_str(L, clang_getCursorUSR(field)));
    st.field = cx_str(L, clang_getCursorSpelling(field));
  }
  st.owner = g->owner;
  st.fn = cx_str(L, clang_getCursorSpelling(fn));
  st.fn_usr = function_key(L, fn);
  st.loc = loc;
  vec_push(L->A, L->stores, st);
}

static void scan_global_init(lower *L, CXCursor var) {
  CXCursor init = clang_Cursor_getVarDeclInitializer(var);
  if (clang_Cursor_isNull(init)) return;
  const char *usr = arena_printf(L->A, "var:%s", cx_str(L, clang_getCursorUSR(var)));
  global_init g = {usr, usr, cx_str(L, clang_getCursorSpelling(var))};
  scan_init(L, init, clang_getCursorType(var), clang_getNullCursor(), store_from_init, &g, 0);
}

/* A local struct's initializer: remembered like its members' assignments. */
static void fieldfn_from_init(lower *L, void *ctx, CXCursor field, CXCursor fn, gc_loc loc) {
  if (clang_Cursor_isNull(field)) return;
  struct fieldfn ff = {*(int *)ctx, cx_str(L, clang_getCursorSpelling(field)), fn};
  vec_push(L->A, L->fieldfns, ff);
}

/* The local a struct member expression belongs to (s.f, s.u.f: glibc's
 * sa_handler is sa.__sigaction_handler.sa_handler), or -1. */
static int member_base_local(lower *L, CXCursor member) {
  CXCursor m = strip(member);
  for (int depth = 0; depth < 8 && is_kind(m, CXCursor_MemberRefExpr); depth++) {
    kids ks = children(m);
    if (ks.n == 0) { kids_free(&ks); return -1; }
    CXCursor base = strip(ks.v[0]);
    kids_free(&ks);
    int v = local_of(L, base);
    if (v >= 0) return v;
    m = base;
  }
  return -1;
}

/* A function's address stored: into a global or a member (a slot), or into
 * a member of a local struct that will be passed by address. */
static void store_fnref(lower *L, CXCursor lhs, CXCursor fn, gc_loc loc) {
  CXCursor sl = strip(lhs);
  if (is_kind(sl, CXCursor_MemberRefExpr)) {
    int v = member_base_local(L, sl);
    if (v >= 0) {
      struct fieldfn ff = {v, cx_str(L, clang_getCursorSpelling(sl)), fn};
      vec_push(L->A, L->fieldfns, ff);
    }
  }
  const char *name, *header;
  const char *slot = slot_of(L, sl, &name, &header);
  if (!slot) return;
  ir_fnstore st = {slot, NULL, name, cx_str(L, clang_getCursorSpelling(fn)), function_key(L, fn), loc};
  vec_push(L->A, L->stores, st);
  ir_fnref *r = add_fnref(L, loc, FNREF_STORE, -1, &fn);
  r->slot = slot;
  r->field = name;
  r->header = header;
}

/* The functions a call is given, each an EV_FNREF before the call's own
 * event: directly (f, &f, a local holding f), as members of a local struct
 * passed by address (struct sigaction), or a global table passed by address
 * (static struct fuse_operations ops = {...}). */
static void fnref_events(lower *L, CXCursor call, CXCursor callee, const char *name, int nargs, gc_loc loc,
                         const file_info *dfi, bool py) {
  const char *usr = NULL;
  for (int i = 0; i < nargs; i++) {
    CXCursor arg = clang_Cursor_getArgument(call, (unsigned)i), fn;
    int mark = L->blocks.v[L->cur].nev;
    if (function_ref(L, arg, &fn)) {
      add_fnref(L, loc, FNREF_ARG, i, &fn);
    } else {
      CXCursor a = strip(arg);
      if (is_kind(a, CXCursor_UnaryOperator) && unop(L, a) == OP_ADDROF) {
        kids ks = children(a);
        a = ks.n == 1 ? strip(ks.v[0]) : a;
        kids_free(&ks);
      }
      int v = local_of(L, a);
      for (int k = 0; v >= 0 && k < L->fnvars.n; k++)
        if (L->fnvars.v[k].var == v) add_fnref(L, loc, FNREF_ARG, i, &L->fnvars.v[k].fn);
      for (int k = 0; v >= 0 && k < L->fieldfns.n; k++)
        if (L->fieldfns.v[k].var == v) add_fnref(L, loc, FNREF_MEMBER, i, &L->fieldfns.v[k].fn)->field =
              L->fieldfns.v[k].field;
      CXCursor d = clang_getCursorReferenced(a);
      if (v < 0 && is_kind(a, CXCursor_DeclRefExpr) && is_kind(d, CXCursor_VarDecl) &&
          clang_Cursor_hasVarDeclGlobalStorage(d) &&
          clang_getCanonicalType(clang_getCursorType(d)).kind == CXType_Record)
        add_fnref(L, loc, FNREF_GLOBAL, i, NULL)->slot =
            arena_printf(L->A, "var:%s", cx_str(L, clang_getCursorUSR(d)));
    }
    /* what every new EV_FNREF of this argument says of the call */
    ir_block *b = &L->blocks.v[L->cur];
    for (int k = mark; k < b->nev; k++) {
      ir_fnref *r = (ir_fnref *)b->ev[k].fnref;
      if (!usr) usr = function_key(L, callee);
      r->registrar = name;
      r->registrar_usr = usr;
      r->registrar_python = py;
      r->registrar_defined = !clang_Cursor_isNull(clang_getCursorDefinition(callee));
      r->header = dfi ? dfi->path : NULL;
      CXCursor parm = i < clang_Cursor_getNumArguments(callee) ? clang_Cursor_getArgument(callee, (unsigned)i)
                                                               : clang_getNullCursor();
      if (!clang_Cursor_isNull(parm)) {
        const char *pn = cx_str(L, clang_getCursorSpelling(parm));
        r->param = *pn ? pn : NULL;
        r->param_type = cx_str(L, clang_getTypeSpelling(clang_getCursorType(parm)));
      }
    }
  }
}

/* A call through a pointer. Through a global or a member, it calls the
 * functions stored there (linked by program.c); through anything else
 * (a parameter, a local) nothing is known, and the locals it is passed are
 * the callee's now (a thread state kept in a table). */
static void lower_pointer_call(lower *L, CXCursor call, gc_loc loc, const char *macro, int nargs, int res_to,
                               int res_var) {
  kids ks = children(call);
  const char *name = NULL;
  const char *slot = ks.n > 0 ? slot_of(L, ks.v[0], &name, NULL) : NULL;
  for (int i = 0; i < ks.n; i++) lower_expr(L, ks.v[i], RES_OTHER, -1);
  kids_free(&ks);
  if (!slot) {
    for (int i = 0; i < nargs; i++) {
      int v = local_of(L, clang_Cursor_getArgument(call, (unsigned)i));
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
    CXCursor a = clang_Cursor_getArgument(call, (unsigned)i);
    e->argvar[i] = (int16_t)local_of(L, a);
    if (is_null_const(L, a)) e->argnull |= (uint8_t)(1u << i);
  }
}

static void lower_call(lower *L, CXCursor call, int res_to, int res_var) {
  CXFile f;
  unsigned off;
  gc_loc loc = cursor_loc(L, call, &f, &off);
  const char *macro = macro_at(L, f, off);
  CXCursor callee = clang_getCursorReferenced(call);
  int nargs = clang_Cursor_getNumArguments(call);
  if (!is_kind(callee, CXCursor_FunctionDecl)) {
    lower_pointer_call(L, call, loc, macro, nargs, res_to, res_var);
    return;
  }
  const char *name = cx_str(L, clang_getCursorSpelling(callee));
  for (int i = 0; i < nargs && i < 64; i++) lower_expr(L, clang_Cursor_getArgument(call, (unsigned)i), RES_OTHER, -1);
  if (!strncmp(name, "__builtin_", 10) && strcmp(name, "__builtin_unreachable") && strcmp(name, "__builtin_trap"))
    return;
  CXCursor canon = clang_getCanonicalCursor(callee);
  CXFile df = NULL;
  unsigned doff;
  loc_of(L, clang_getCursorLocation(canon), &df, &doff);
  file_info *dfi = file_of(L, df);
  bool py = dfi && dfi->cls == FC_PYTHON;
  bool sys = dfi && dfi->cls == FC_SYSTEM;
  const api_fact *api = api_lookup(name);
  /* An object-internals macro already turned into an event at this place
   * (a static inline function behind a same-named macro): one event. */
  if (py && (!api || !api_effect_acts(api->effect)) && pairmap_get(&L->claimed, (uintptr_t)f, off)) return;
  fnref_events(L, call, callee, name, nargs, loc, dfi, py);
  ir_event *e = add_event(L, EV_CALL, loc);
  e->macro = macro;
  e->callee = name;
  e->api = api;
  e->python_api = py;
  e->result_to = (uint8_t)res_to;
  e->result_var = (int16_t)res_var;
  e->nargs = (int8_t)(nargs < IR_MAX_ARGS ? nargs : IR_MAX_ARGS);
  /* a function the program defines is judged by its body, even when a
   * CPython header declares it (a vendored part of CPython) */
  if (!sys) e->callee_usr = function_key(L, callee);
  if (!py && !sys) e->callee_annot = annotations_of(L, callee);   /* for a prototype with no body here */
  if (!py && dfi) e->callee_header = dfi->path;
  bool interesting = api && api_effect_acts(api->effect);
  const blocking_fact *blk = blocking_lookup(name);
  for (int i = 0; i < nargs && i < IR_MAX_ARGS; i++) {
    CXCursor a = clang_Cursor_getArgument(call, (unsigned)i);
    int v = local_of(L, a);
    e->argvar[i] = (int16_t)v;
    if (v >= 0 && interesting) L->vars.v[v].interesting = true;
    if (is_null_const(L, a)) e->argnull |= (uint8_t)(1u << i);
    if (blk) e->argtext[i] = short_text(L, a);
  }
  if (res_var >= 0 && interesting) L->vars.v[res_var].interesting = true;
  e->noreturn = (api && api->effect == FX_NORETURN) || api_is_noreturn_libc(name) || decl_is_noreturn(L, callee);
  if (e->noreturn) end_path(L, TERM_NORETURN, loc, -1);
}

/* ---------- expressions ---------- */

static void claim_objmacro(lower *L, CXCursor e) {
  CXFile f;
  unsigned off;
  CXSourceLocation sl = clang_getRangeStart(clang_getCursorExtent(e));
  CXFile ff; unsigned l, c;
  clang_getFileLocation(sl, &ff, &l, &c, &off);
  f = ff;
  const char *m = macro_at(L, f, off);
  if (!m) return;
  const char *name = m;
  const objmacro_fact *om = objmacro_lookup(m);
  if (!om) {
    name = pairmap_get(&L->aliases, (uintptr_t)f, off);
    if (!name) return;
    om = objmacro_lookup(name);
    if (!om) return;
  }
  void **s = pairmap_at(&L->claimed, (uintptr_t)f, off);
  if (*s) return;
  *s = (void *)1;
  if (!om->needs_gil) return;
  ir_event *ev = add_event(L, EV_OBJMACRO, loc_of(L, sl, NULL, NULL));
  ev->callee = name;
  ev->macro = m;
  ev->needs_gil = true;
}

static void lower_kids(lower *L, CXCursor e) {
  kids ks = children(e);
  for (int i = 0; i < ks.n; i++) {
    if (clang_isExpression(clang_getCursorKind(ks.v[i])) || is_kind(ks.v[i], CXCursor_CompoundStmt))
      lower_expr(L, ks.v[i], RES_OTHER, -1);
  }
  kids_free(&ks);
}

static void lower_stmt(lower *L, CXCursor s);

static void lower_assign(lower *L, CXCursor lhs, CXCursor rhs, gc_loc loc) {
  int v = local_of(L, lhs);
  CXCursor r = strip(rhs);
  if (v >= 0) {
    if (is_kind(r, CXCursor_CallExpr)) {
      lower_expr(L, rhs, RES_LOCAL, v);
      ir_event *e = add_event(L, EV_ASSIGN, loc);  /* kills conditions on v */
      e->var = (int16_t)v;
      e->val = VAL_UNKNOWN;
      e->src_var = -2;                             /* value set by the call */
      return;
    }
    lower_expr(L, rhs, RES_OTHER, -1);
    note_fnvar(L, v, rhs);
    ir_event *e = add_event(L, EV_ASSIGN, loc);
    e->var = (int16_t)v;
    int u = local_of(L, rhs);
    enum CXCursorKind rk = clang_getCursorKind(r);
    if (is_null_const(L, rhs)) e->val = VAL_ZERO;
    else if (u >= 0) { e->val = VAL_COPY; e->src_var = (int16_t)u; }
    else if (rk == CXCursor_StringLiteral) e->val = VAL_NONZERO;
    else {
      long long cv;
      if (const_int(rhs, &cv)) e->val = cv ? VAL_NONZERO : VAL_ZERO;
      else e->val = VAL_UNKNOWN;
    }
    if (e->val == VAL_ZERO || e->val == VAL_NONZERO) L->vars.v[v].const_assigned = true;
    return;
  }
  /* a store somewhere others can see */
  lower_expr(L, lhs, RES_OTHER, -1);
  lower_expr(L, rhs, RES_NONLOCAL, -1);
  int u = local_of(L, rhs);
  if (u >= 0) {
    ir_event *e = add_event(L, EV_ESCAPE, loc);
    e->var = (int16_t)u;
  }
  CXCursor fn;
  CXCursor sl = strip(lhs);
  CXCursor fns[FNREF_CHOICES];
  int nfns = function_refs(L, rhs, fns, FNREF_CHOICES);
  for (int i = 0; i < nfns; i++) store_fnref(L, lhs, fns[i], loc);
  if (function_ref(L, rhs, &fn) && is_kind(sl, CXCursor_MemberRefExpr)) {
    const char *m = cx_str(L, clang_getCursorSpelling(sl));
    if (!strncmp(m, "tp_", 3) || !strncmp(m, "nb_", 3) || !strncmp(m, "sq_", 3) ||
        !strncmp(m, "mp_", 3) || !strncmp(m, "bf_", 3) || !strncmp(m, "am_", 3))
      add_hint(L, fn, ENTRY_HELD, loc, arena_printf(L->A, "installed as the type slot '%s'", m));
  }
}

static void lower_expr(lower *L, CXCursor e, int res_to, int res_var) {
  enum CXCursorKind k = clang_getCursorKind(e);
  if (k == CXCursor_CompoundStmt) { lower_stmt(L, e); return; }
  if (!clang_isExpression(k)) return;
  claim_objmacro(L, e);
  switch (k) {
  case CXCursor_ParenExpr:
  case CXCursor_UnexposedExpr:
  case CXCursor_CStyleCastExpr: {
    kids ks = children(e);
    for (int i = 0; i < ks.n; i++) {
      if (i == ks.n - 1) lower_expr(L, ks.v[i], res_to, res_var);
      else lower_expr(L, ks.v[i], RES_OTHER, -1);
    }
    kids_free(&ks);
    return;
  }
  case CXCursor_CallExpr:
    lower_call(L, e, res_to, res_var);
    return;
  case CXCursor_BinaryOperator:
  case CXCursor_CompoundAssignOperator: {
    enum op o = binop(L, e);
    kids ks = children(e);
    if (ks.n != 2) { kids_free(&ks); lower_kids(L, e); return; }
    gc_loc loc = cursor_loc(L, e, NULL, NULL);
    if (o == OP_ASSIGN) {
      lower_assign(L, ks.v[0], ks.v[1], loc);
    } else if (o == OP_COMPOUND_ASSIGN) {
      lower_expr(L, ks.v[0], RES_OTHER, -1);
      lower_expr(L, ks.v[1], RES_OTHER, -1);
      int v = local_of(L, ks.v[0]);
      if (v >= 0) { ir_event *a = add_event(L, EV_ASSIGN, loc); a->var = (int16_t)v; }
    } else if (o == OP_LAND || o == OP_LOR) {
      int join = new_block(L), rhs = new_block(L);
      if (o == OP_LAND) lower_cond(L, ks.v[0], rhs, join);
      else lower_cond(L, ks.v[0], join, rhs);
      L->cur = rhs;
      lower_expr(L, ks.v[1], RES_OTHER, -1);
      add_edge(L, L->cur, join, -1, true);
      L->cur = join;
    } else {
      lower_expr(L, ks.v[0], RES_OTHER, -1);
      lower_expr(L, ks.v[1], o == OP_COMMA ? res_to : RES_OTHER, o == OP_COMMA ? res_var : -1);
    }
    kids_free(&ks);
    return;
  }
  case CXCursor_UnaryOperator: {
    enum op o = unop(L, e);
    kids ks = children(e);
    for (int i = 0; i < ks.n; i++) {
      int v = local_of(L, ks.v[i]);
      if (v >= 0 && o == OP_ADDROF) L->vars.v[v].addr_taken = true;
      lower_expr(L, ks.v[i], RES_OTHER, -1);
      if (v >= 0 && o == OP_INCDEC) {
        ir_event *a = add_event(L, EV_ASSIGN, cursor_loc(L, e, NULL, NULL));
        a->var = (int16_t)v;
      }
    }
    kids_free(&ks);
    return;
  }
  case CXCursor_ConditionalOperator: {
    kids ks = children(e);
    if (ks.n == 3) {
      int t = new_block(L), f = new_block(L), join = new_block(L);
      lower_cond(L, ks.v[0], t, f);
      L->cur = t;
      lower_expr(L, ks.v[1], res_to, res_var);
      add_edge(L, L->cur, join, -1, true);
      L->cur = f;
      lower_expr(L, ks.v[2], res_to, res_var);
      add_edge(L, L->cur, join, -1, true);
      L->cur = join;
    } else {
      for (int i = 0; i < ks.n; i++) lower_expr(L, ks.v[i], RES_OTHER, -1);
    }
    kids_free(&ks);
    return;
  }
  case CXCursor_StmtExpr: {
    kids ks = children(e);
    for (int i = 0; i < ks.n; i++) lower_stmt(L, ks.v[i]);
    kids_free(&ks);
    return;
  }
  case CXCursor_DeclRefExpr:
    return;
  default:
    lower_kids(L, e);
    return;
  }
}

/* ---------- statements ---------- */

static void push_jump(lower *L, int brk, int cont) {
  if (L->njumps >= 256) { L->abandon = "loops nested too deeply"; return; }
  L->jumps[L->njumps++] = (struct jump){brk, cont, L->cstack.n};
}

static void lower_decl(lower *L, CXCursor d) {
  if (!is_kind(d, CXCursor_VarDecl)) return;
  enum CX_StorageClass sc = clang_Cursor_getStorageClass(d);
  if (sc == CX_SC_Static || sc == CX_SC_Extern) return;   /* not a local */
  int v = add_var(L, d);
  CXCursor init = clang_Cursor_getVarDeclInitializer(d);
  if (clang_Cursor_isNull(init)) return;
  if (is_kind(strip(init), CXCursor_InitListExpr))
    scan_init(L, init, clang_getCursorType(d), clang_getNullCursor(), fieldfn_from_init, &v, 0);
  gc_loc loc = cursor_loc(L, d, NULL, NULL);
  CXCursor r = strip(init);
  if (is_kind(r, CXCursor_CallExpr)) {
    lower_expr(L, init, RES_LOCAL, v);
    return;
  }
  lower_expr(L, init, RES_OTHER, -1);
  note_fnvar(L, v, init);
  ir_event *e = add_event(L, EV_ASSIGN, loc);
  e->var = (int16_t)v;
  int u = local_of(L, init);
  long long cv;
  if (is_null_const(L, init)) e->val = VAL_ZERO;
  else if (u >= 0) { e->val = VAL_COPY; e->src_var = (int16_t)u; }
  else if (const_int(init, &cv)) e->val = cv ? VAL_NONZERO : VAL_ZERO;
  else e->val = VAL_UNKNOWN;
  if (e->val == VAL_ZERO || e->val == VAL_NONZERO) L->vars.v[v].const_assigned = true;
}

/* for (init; cond; inc) body: libclang omits absent parts, so find which
 * child is which from the positions of the two semicolons. */
static void for_parts(lower *L, CXCursor s, kids *ks, CXCursor *init, CXCursor *cond, CXCursor *inc, CXCursor *body) {
  *init = *cond = *inc = clang_getNullCursor();
  *body = ks->v[ks->n - 1];
  if (ks->n == 4) { *init = ks->v[0]; *cond = ks->v[1]; *inc = ks->v[2]; return; }
  if (ks->n == 1) return;
  CXFile f;
  unsigned l, c, start;
  clang_getSpellingLocation(clang_getRangeStart(clang_getCursorExtent(s)), &f, &l, &c, &start);
  size_t size = 0;
  const char *buf = f ? clang_getFileContents(L->tu, f, &size) : NULL;
  unsigned semi[2] = {0, 0};
  int ns = 0;
  if (buf && start < size) {
    CXSourceRange r = clang_getRange(clang_getLocationForOffset(L->tu, f, start),
                                     clang_getRangeStart(clang_getCursorExtent(*body)));
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(L->tu, r, &toks, &n);
    int depth = 0;
    for (unsigned i = 0; i < n && ns < 2; i++) {
      CXString sp = clang_getTokenSpelling(L->tu, toks[i]);
      const char *t = clang_getCString(sp);
      if (!strcmp(t, "(")) depth++;
      else if (!strcmp(t, ")")) depth--;
      else if (!strcmp(t, ";") && depth == 1) {
        CXFile tf; unsigned tl, tc, to;
        clang_getSpellingLocation(clang_getTokenLocation(L->tu, toks[i]), &tf, &tl, &tc, &to);
        semi[ns++] = to;
      }
      clang_disposeString(sp);
    }
    if (toks) clang_disposeTokens(L->tu, toks, n);
  }
  for (int i = 0; i < ks->n - 1; i++) {
    CXFile cf; unsigned cl, cc, co;
    clang_getSpellingLocation(clang_getRangeStart(clang_getCursorExtent(ks->v[i])), &cf, &cl, &cc, &co);
    if (ns == 2 && cf == f) {
      if (co < semi[0]) *init = ks->v[i];
      else if (co < semi[1]) *cond = ks->v[i];
      else *inc = ks->v[i];
    } else {
      /* the for statement comes from a macro argument: guess by shape */
      if (i == 0 && is_kind(ks->v[i], CXCursor_DeclStmt)) *init = ks->v[i];
      else if (clang_Cursor_isNull(*cond)) *cond = ks->v[i];
      else *inc = ks->v[i];
    }
  }
}

static void lower_stmt(lower *L, CXCursor s) {
  if (L->abandon) return;
  enum CXCursorKind k = clang_getCursorKind(s);
  switch (k) {
  case CXCursor_CompoundStmt: {
    CXFile f;
    unsigned off;
    gc_loc loc = cursor_loc(L, s, &f, &off);
    const char *m = macro_at(L, f, off);
    int region = -1;
    if (m) {
      ir_region r = {loc, m, strstr(m, "CRITICAL_SECTION") != NULL};
      vec_push(L->A, L->regions, r);
      region = L->regions.n - 1;
    }
    vec_push(L->A, L->cstack, region);
    kids ks = children(s);
    for (int i = 0; i < ks.n && !L->abandon; i++) lower_stmt(L, ks.v[i]);
    kids_free(&ks);
    L->cstack.n--;
    return;
  }
  case CXCursor_IfStmt: {
    kids ks = children(s);
    if (ks.n < 2) { kids_free(&ks); return; }
    int t = new_block(L), join = new_block(L);
    int f = ks.n > 2 ? new_block(L) : join;
    lower_cond(L, ks.v[0], t, f);
    L->cur = t;
    lower_stmt(L, ks.v[1]);
    add_edge(L, L->cur, join, -1, true);
    if (ks.n > 2) {
      L->cur = f;
      lower_stmt(L, ks.v[2]);
      add_edge(L, L->cur, join, -1, true);
    }
    L->cur = join;
    kids_free(&ks);
    return;
  }
  case CXCursor_WhileStmt: {
    kids ks = children(s);
    if (ks.n < 2) { kids_free(&ks); return; }
    int head = new_block(L), body = new_block(L), exit = new_block(L);
    add_edge(L, L->cur, head, -1, true);
    L->cur = head;
    lower_cond(L, ks.v[ks.n - 2], body, exit);
    push_jump(L, exit, head);
    L->cur = body;
    lower_stmt(L, ks.v[ks.n - 1]);
    add_edge(L, L->cur, head, -1, true);
    L->njumps--;
    L->cur = exit;
    kids_free(&ks);
    return;
  }
  case CXCursor_DoStmt: {
    kids ks = children(s);
    if (ks.n < 2) { kids_free(&ks); return; }
    int body = new_block(L), condb = new_block(L), exit = new_block(L);
    add_edge(L, L->cur, body, -1, true);
    push_jump(L, exit, condb);
    L->cur = body;
    lower_stmt(L, ks.v[0]);
    add_edge(L, L->cur, condb, -1, true);
    L->njumps--;
    L->cur = condb;
    lower_cond(L, ks.v[1], body, exit);
    L->cur = exit;
    kids_free(&ks);
    return;
  }
  case CXCursor_ForStmt: {
    kids ks = children(s);
    if (ks.n < 1) { kids_free(&ks); return; }
    CXCursor init, cond, inc, bodyc;
    for_parts(L, s, &ks, &init, &cond, &inc, &bodyc);
    if (!clang_Cursor_isNull(init)) lower_stmt(L, init);
    int head = new_block(L), body = new_block(L), incb = new_block(L), exit = new_block(L);
    add_edge(L, L->cur, head, -1, true);
    L->cur = head;
    if (!clang_Cursor_isNull(cond)) lower_cond(L, cond, body, exit);
    else add_edge(L, head, body, -1, true);
    push_jump(L, exit, incb);
    L->cur = body;
    lower_stmt(L, bodyc);
    add_edge(L, L->cur, incb, -1, true);
    L->njumps--;
    L->cur = incb;
    if (!clang_Cursor_isNull(inc)) lower_expr(L, inc, RES_DISCARD, -1);
    add_edge(L, L->cur, head, -1, true);
    L->cur = exit;
    kids_free(&ks);
    return;
  }
  case CXCursor_SwitchStmt: {
    kids ks = children(s);
    if (ks.n < 2) { kids_free(&ks); return; }
    lower_expr(L, ks.v[ks.n - 2], RES_OTHER, -1);
    int swb = L->cur, exit = new_block(L);
    if (L->nsws >= 64) { L->abandon = "switches nested too deeply"; kids_free(&ks); return; }
    L->sws[L->nsws++] = (struct sw){swb, false};
    int cont = L->njumps ? L->jumps[L->njumps - 1].cont : -1;
    int cont_depth = L->njumps ? L->jumps[L->njumps - 1].depth : 0;
    push_jump(L, exit, cont);
    L->jumps[L->njumps - 1].depth = L->cstack.n;
    (void)cont_depth;
    L->cur = new_block(L);   /* code before the first label is unreachable */
    lower_stmt(L, ks.v[ks.n - 1]);
    add_edge(L, L->cur, exit, -1, true);
    L->njumps--;
    struct sw sw = L->sws[--L->nsws];
    if (!sw.has_default) add_edge(L, swb, exit, -1, true);
    L->cur = exit;
    kids_free(&ks);
    return;
  }
  case CXCursor_CaseStmt:
  case CXCursor_DefaultStmt: {
    kids ks = children(s);
    int b = new_block(L);
    add_edge(L, L->cur, b, -1, true);
    if (L->nsws > 0) {
      add_edge(L, L->sws[L->nsws - 1].block, b, -1, true);
      if (k == CXCursor_DefaultStmt) L->sws[L->nsws - 1].has_default = true;
    }
    L->cur = b;
    if (ks.n > 0) lower_stmt(L, ks.v[ks.n - 1]);
    kids_free(&ks);
    return;
  }
  case CXCursor_BreakStmt:
  case CXCursor_ContinueStmt: {
    gc_loc loc = cursor_loc(L, s, NULL, NULL);
    int target = -1, depth = 0;
    for (int i = L->njumps - 1; i >= 0; i--) {
      int t = k == CXCursor_BreakStmt ? L->jumps[i].brk : L->jumps[i].cont;
      if (t >= 0) { target = t; depth = L->jumps[i].depth; break; }
    }
    if (target < 0) return;
    leave_regions(L, depth, loc, k == CXCursor_BreakStmt ? "break" : "continue");
    add_edge(L, L->cur, target, -1, true);
    L->cur = new_block(L);
    return;
  }
  case CXCursor_ReturnStmt: {
    gc_loc loc = cursor_loc(L, s, NULL, NULL);
    kids ks = children(s);
    int rv = -1;
    if (ks.n > 0) {
      lower_expr(L, ks.v[0], RES_RETURN, -1);
      rv = local_of(L, ks.v[0]);
      if (rv >= 0) { ir_event *e = add_event(L, EV_ESCAPE, loc); e->var = (int16_t)rv; }
    }
    long long cv;
    uint8_t rc = RET_UNKNOWN;
    if (ks.n > 0 && is_null_const(L, ks.v[0])) rc = RET_ZERO;
    else if (ks.n > 0 && const_expr(ks.v[0], &cv)) rc = cv == 0 ? RET_ZERO : cv > 0 ? RET_POSITIVE : RET_NEGATIVE;
    kids_free(&ks);
    leave_regions(L, 0, loc, "return");
    L->blocks.v[L->cur].ret_const = rc;
    end_path(L, TERM_RETURN, loc, rv);
    return;
  }
  case CXCursor_GotoStmt: {
    gc_loc loc = cursor_loc(L, s, NULL, NULL);
    kids ks = children(s);
    const char *label = NULL;
    for (int i = 0; i < ks.n; i++)
      if (is_kind(ks.v[i], CXCursor_LabelRef)) label = cx_str(L, clang_getCursorSpelling(ks.v[i]));
    kids_free(&ks);
    if (!label) return;
    pending_goto g = {L->cur, label, NULL, L->cstack.n, loc};
    g.cstack = arena_alloc(L->A, sizeof(int) * (size_t)(L->cstack.n + 1));
    if (L->cstack.n) memcpy(g.cstack, L->cstack.v, sizeof(int) * (size_t)L->cstack.n);
    vec_push(L->A, L->gotos, g);
    L->cur = new_block(L);
    return;
  }
  case CXCursor_IndirectGotoStmt:
    L->abandon = "computed goto";
    return;
  case CXCursor_LabelStmt: {
    int b = new_block(L);
    add_edge(L, L->cur, b, -1, true);
    label_info li = {cx_str(L, clang_getCursorSpelling(s)), b, NULL, L->cstack.n};
    li.cstack = arena_alloc(L->A, sizeof(int) * (size_t)(L->cstack.n + 1));
    if (L->cstack.n) memcpy(li.cstack, L->cstack.v, sizeof(int) * (size_t)L->cstack.n);
    vec_push(L->A, L->labels, li);
    L->cur = b;
    kids ks = children(s);
    for (int i = 0; i < ks.n; i++) lower_stmt(L, ks.v[i]);
    kids_free(&ks);
    return;
  }
  case CXCursor_DeclStmt: {
    kids ks = children(s);
    for (int i = 0; i < ks.n; i++) lower_decl(L, ks.v[i]);
    kids_free(&ks);
    return;
  }
  case CXCursor_NullStmt:
  case CXCursor_GCCAsmStmt:
  case CXCursor_MSAsmStmt:
    return;
  default:
    if (clang_isExpression(k)) { lower_expr(L, s, RES_DISCARD, -1); return; }
    if (clang_isStatement(k)) {   /* attributed statements and the like */
      kids ks = children(s);
      for (int i = 0; i < ks.n; i++) lower_stmt(L, ks.v[i]);
      kids_free(&ks);
    }
    return;
  }
}

/* Links pending gotos to their labels, leaving the regions they jump out of. */
static void resolve_gotos(lower *L) {
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

/* ---------- after lowering: choose tracked locals and correlated conditions ---------- */

/* Does a branch do anything the engine cares about? Correlating a
 * condition only pays where one of its branches does: `if (x & 4) acc += 4;`
 * repeated 40 times would otherwise give 2^40 states for nothing. A branch is
 * its first block, the branches nested in it, and an empty block's one
 * successor (goto out;), never the other branch's target (the join). */
static bool event_relevant(const ir_event *e) {
  if (e->kind == EV_OBJMACRO || e->kind == EV_LEAVE_REGION || e->kind == EV_ESCAPE) return true;
  return e->kind == EV_CALL && (e->python_api || e->callee_usr || e->noreturn || (e->api && api_effect_acts(e->api->effect)));
}

static bool branch_relevant(lower *L, int b, int other, int depth) {
  if (b == other) return false;
  const ir_block *bl = &L->blocks.v[b];
  if (bl->term != TERM_EDGES) return true;
  for (int i = 0; i < bl->nev; i++)
    if (event_relevant(&bl->ev[i])) return true;
  if (depth <= 0) return false;
  for (int i = 0; i < bl->nsucc; i++)
    if (bl->succ[i].cond >= 0 && branch_relevant(L, bl->succ[i].to, other, depth - 1)) return true;
  if (bl->nev == 0 && bl->nsucc == 1) return branch_relevant(L, bl->succ[0].to, other, depth - 1);
  return false;
}

static bool falls_into(lower *L, int b, int target) {
  const ir_block *bl = &L->blocks.v[b];
  return bl->nsucc == 1 && bl->succ[0].to == target;
}

typedef struct keycount { int count, bit; } keycount;

static void finish_function(lower *L) {
  ir_func *fn = L->fn;
  /* which conditions guard something that matters */
  char *relevant = arena_alloc(L->A, (size_t)L->conds.n + 1);
  for (int b = 0; b < L->blocks.n; b++) {
    const ir_block *bl = &L->blocks.v[b];
    if (bl->nsucc != 2 || bl->succ[0].cond < 0 || bl->succ[0].cond != bl->succ[1].cond) continue;
    int c = bl->succ[0].cond, t = bl->succ[0].to, f = bl->succ[1].to;
    if (relevant[c]) continue;
    /* an if without else: the body falls straight into the other target,
     * the join, whose code runs either way */
    if (falls_into(L, t, f)) relevant[c] = branch_relevant(L, t, f, 2);
    else if (falls_into(L, f, t)) relevant[c] = branch_relevant(L, f, t, 2);
    else relevant[c] = branch_relevant(L, t, f, 2) || branch_relevant(L, f, t, 2);
  }
  for (int i = 0; i < L->vars.n; i++) L->vars.v[i].ntests = 0;
  for (int i = 0; i < L->conds.n; i++)
    if (relevant[i] && L->rconds.v[i].var >= 0) L->vars.v[L->rconds.v[i].var].ntests++;
  /* tracked locals: never address-taken, and worth a place in the state —
   * they meet a GIL or lifecycle API, or their tests can correlate (tested
   * twice, or tested after a constant) */
  VEC(const char *) names = {0};
  for (int i = 0; i < L->vars.n; i++) {
    raw_var *v = &L->vars.v[i];
    v->tracked = -1;
    bool worth = v->interesting || v->ntests >= 2 || (v->ntests >= 1 && v->const_assigned);
    if (worth && !v->addr_taken && names.n < IR_MAX_VARS) {
      v->tracked = names.n;
      vec_push(L->A, names, v->name);
    }
  }
  /* conditions correlated by key: side-effect free, written at least twice
   * where they matter */
  strmap counts = {0};   /* key -> keycount */
  for (int i = 0; i < L->conds.n; i++) {
    const char *k = L->rconds.v[i].key;
    if (!k || !relevant[i]) continue;
    void **slot = strmap_at(&counts, k);
    if (!*slot) *slot = arena_alloc(&counts.A, sizeof(keycount));
    keycount *kc = *slot;
    kc->count++;
    kc->bit = -1;
  }
  int nkeys = 0;
  uint32_t *var_kills = arena_alloc(L->A, sizeof(uint32_t) * (size_t)(L->vars.n + 1));
  for (int i = 0; i < L->conds.n; i++) {
    raw_cond *rc = &L->rconds.v[i];
    ir_cond *c = &L->conds.v[i];
    if (c->kind == COND_GIL || c->kind == COND_CALL || c->kind == COND_RUNTIME) continue;
    if (rc->var >= 0 && L->vars.v[rc->var].tracked >= 0) {
      c->kind = COND_VAR;
      c->var = (int16_t)L->vars.v[rc->var].tracked;
      continue;
    }
    if (!rc->key) continue;
    keycount *kc = strmap_get(&counts, rc->key);
    if (!kc || kc->count < 2) continue;
    if (kc->bit < 0) {
      if (nkeys >= IR_MAX_KEYS) continue;
      kc->bit = nkeys++;
      for (int d = 0; d < rc->ndeps; d++) var_kills[rc->deps[d]] |= 1u << kc->bit;
    }
    c->kind = COND_KEY;
    c->key = (int8_t)kc->bit;
  }
  strmap_free(&counts);
  /* rewrite events from raw locals to tracked ones */
  for (int b = 0; b < L->blocks.n; b++) {
    ir_block *bl = &L->blocks.v[b];
    int w = 0;
    for (int i = 0; i < bl->nev; i++) {
      ir_event *e = &bl->ev[i];
#define TRACK(x) ((x) >= 0 ? (int16_t)L->vars.v[(x)].tracked : (int16_t)(x))
      if (e->kind == EV_ASSIGN) {
        e->kills = e->var >= 0 ? var_kills[e->var] : 0;
        e->var = TRACK(e->var);
        if (e->val == VAL_COPY) { e->src_var = TRACK(e->src_var); if (e->src_var < 0) e->val = VAL_UNKNOWN; }
        if (e->var < 0 && !e->kills) continue;
        if (e->src_var == -2 && e->var >= 0) continue;   /* the call event sets it */
      } else if (e->kind == EV_ESCAPE) {
        e->var = TRACK(e->var);
        if (e->var < 0) continue;
      } else if (e->kind == EV_CALL) {
        if (e->result_var >= 0) e->kills = var_kills[e->result_var];
        e->result_var = TRACK(e->result_var);
        for (int a = 0; a < IR_MAX_ARGS; a++) e->argvar[a] = TRACK(e->argvar[a]);
      }
#undef TRACK
      bl->ev[w++] = *e;
    }
    bl->nev = w;
    if (bl->ret_var >= 0) bl->ret_var = (int16_t)L->vars.v[bl->ret_var].tracked;
  }
  fn->blocks = L->blocks.v;
  fn->nblocks = L->blocks.n;
  fn->var_names = names.v;
  fn->nvars = names.n;
  fn->conds = L->conds.v;
  fn->nconds = L->conds.n;
  fn->regions = L->regions.v;
  fn->nregions = L->regions.n;
  fn->abandoned = L->abandon;
}

static uint8_t annotations_of(lower *L, CXCursor fn);

static void lower_function(lower *L, CXCursor c) {
  ir_func *fn = arena_alloc(L->A, sizeof *fn);
  L->fn = fn;
  fn->name = cx_str(L, clang_getCursorSpelling(c));
  fn->usr = function_key(L, c);
  fn->loc = loc_of(L, clang_getCursorLocation(c), NULL, NULL);
  fn->is_static = clang_Cursor_getStorageClass(c) == CX_SC_Static;
  switch (clang_getCanonicalType(clang_getResultType(clang_getCursorType(c))).kind) {
  case CXType_Pointer: case CXType_BlockPointer: fn->ret_kind = RK_POINTER; break;
  case CXType_Bool: case CXType_Char_U: case CXType_UChar: case CXType_UShort: case CXType_UInt:
  case CXType_ULong: case CXType_ULongLong: case CXType_Char_S: case CXType_SChar: case CXType_Short:
  case CXType_Int: case CXType_Long: case CXType_LongLong: case CXType_Enum:
    fn->ret_kind = RK_INTEGER; break;
  default: fn->ret_kind = RK_VOID; break;
  }
  fn->annot = annotations_of(L, c);
  memset(&L->blocks, 0, sizeof L->blocks);
  memset(&L->vars, 0, sizeof L->vars);
  memset(&L->rconds, 0, sizeof L->rconds);
  memset(&L->conds, 0, sizeof L->conds);
  memset(&L->regions, 0, sizeof L->regions);
  memset(&L->cstack, 0, sizeof L->cstack);
  memset(&L->labels, 0, sizeof L->labels);
  memset(&L->gotos, 0, sizeof L->gotos);
  memset(&L->fnvars, 0, sizeof L->fnvars);
  memset(&L->fieldfns, 0, sizeof L->fieldfns);
  pairmap_free(&L->varmap);
  pairmap_free(&L->claimed);
  L->njumps = L->nsws = 0;
  L->abandon = NULL;
  fn->entry = new_block(L);
  L->cur = fn->entry;
  kids ks = children(c);
  CXCursor body = clang_getNullCursor();
  for (int i = 0; i < ks.n; i++) {
    if (is_kind(ks.v[i], CXCursor_ParmDecl)) add_var(L, ks.v[i]);
    else if (is_kind(ks.v[i], CXCursor_CompoundStmt)) body = ks.v[i];
  }
  kids_free(&ks);
  if (clang_Cursor_isNull(body)) return;
  lower_stmt(L, body);
  /* falling off the end returns at the closing brace */
  CXSourceLocation end = clang_getRangeEnd(clang_getCursorExtent(body));
  gc_loc eloc = loc_of(L, end, NULL, NULL);
  if (eloc.col > 1) eloc.col--;
  L->blocks.v[L->cur].term = TERM_RETURN;
  L->blocks.v[L->cur].term_loc = eloc;
  resolve_gotos(L);
  finish_function(L);
  vec_push(L->A, L->funcs, fn);
}

/* ---------- outside function bodies ---------- */

static const char *table_types[] = {
  "PyMethodDef", "PyGetSetDef", "PyType_Slot", "PyTypeObject", "PyNumberMethods",
  "PySequenceMethods", "PyMappingMethods", "PyBufferProcs", "PyAsyncMethods",
  "PyModuleDef_Slot", "PyModuleDef", "PyMemberDef", NULL,
};

typedef struct table_walk { lower *L; const char *var; const char *type; } table_walk;

static enum CXChildVisitResult find_fnrefs(CXCursor c, CXCursor parent, CXClientData d) {
  table_walk *w = d;
  if (is_kind(c, CXCursor_DeclRefExpr)) {
    CXCursor r = clang_getCursorReferenced(c);
    if (is_kind(r, CXCursor_FunctionDecl)) {
      gc_loc loc = cursor_loc(w->L, c, NULL, NULL);
      add_hint(w->L, r, ENTRY_HELD, loc,
               arena_printf(w->L->A, "listed in the %s table '%s'", w->type, w->var));
    }
  }
  return CXChildVisit_Recurse;
}

static void scan_table(lower *L, CXCursor var) {
  CXString ts = clang_getTypeSpelling(clang_getCursorType(var));
  const char *t = clang_getCString(ts);
  const char *type = NULL;
  for (int i = 0; table_types[i] && t; i++)
    if (strstr(t, table_types[i])) { type = table_types[i]; break; }
  clang_disposeString(ts);
  if (!type) return;
  CXCursor init = clang_Cursor_getVarDeclInitializer(var);
  if (clang_Cursor_isNull(init)) return;
  table_walk w = {L, cx_str(L, clang_getCursorSpelling(var)), type};
  clang_visitChildren(init, find_fnrefs, &w);
}

typedef struct annot_walk { lower *L; uint8_t bits; } annot_walk;

static enum CXChildVisitResult find_annot(CXCursor c, CXCursor parent, CXClientData d) {
  annot_walk *w = d;
  if (is_kind(c, CXCursor_AnnotateAttr)) {
    CXString s = clang_getCursorSpelling(c);
    const char *a = clang_getCString(s);
    if (a) {
      if (!strcmp(a, "gilcheck:requires_gil")) w->bits |= ANNOT_REQUIRES_GIL;
      else if (!strcmp(a, "gilcheck:no_gil")) w->bits |= ANNOT_NO_GIL;
      else if (!strcmp(a, "gilcheck:releases_gil")) w->bits |= ANNOT_RELEASES_GIL;
      else if (!strcmp(a, "gilcheck:acquires_gil")) w->bits |= ANNOT_ACQUIRES_GIL;
    }
    clang_disposeString(s);
  }
  return CXChildVisit_Continue;
}

static uint8_t annotations_of(lower *L, CXCursor fn) {
  annot_walk w = {L, 0};
  clang_visitChildren(fn, find_annot, &w);
  /* and on the other declarations the TU has seen (a prototype in a header) */
  CXCursor canon = clang_getCanonicalCursor(fn);
  if (!clang_equalCursors(canon, fn)) clang_visitChildren(canon, find_annot, &w);
  return w.bits;
}

static enum CXChildVisitResult visit_top(CXCursor c, CXCursor parent, CXClientData d) {
  lower *L = d;
  enum CXCursorKind k = clang_getCursorKind(c);
  CXFile f = NULL;
  unsigned line, col, off;
  clang_getFileLocation(clang_getCursorLocation(c), &f, &line, &col, &off);
  file_info *fi = file_of(L, f);
  if (!fi || fi->cls != FC_PROJECT) return CXChildVisit_Continue;
  if (k == CXCursor_FunctionDecl && clang_isCursorDefinition(c)) {
    lower_function(L, c);
    const char *name = L->fn ? L->fn->name : NULL;
    if (name && !strncmp(name, "PyInit_", 7))
      add_hint(L, c, ENTRY_HELD, L->fn->loc, "a module init function");
    if (L->fn && (L->fn->annot & (ANNOT_REQUIRES_GIL)))
      add_hint(L, c, ENTRY_HELD, L->fn->loc, "annotated GILCHECK_REQUIRES_GIL");
    if (L->fn && (L->fn->annot & (ANNOT_NO_GIL)))
      add_hint(L, c, ENTRY_RELEASED, L->fn->loc, "annotated GILCHECK_NO_GIL");
    if (L->fn && (L->fn->annot & (ANNOT_RELEASES_GIL)))
      add_hint(L, c, ENTRY_HELD, L->fn->loc, "annotated GILCHECK_RELEASES_GIL");
    if (L->fn && (L->fn->annot & (ANNOT_ACQUIRES_GIL)))
      add_hint(L, c, ENTRY_RELEASED, L->fn->loc, "annotated GILCHECK_ACQUIRES_GIL");
    L->fn = NULL;
  } else if (k == CXCursor_VarDecl) {
    scan_table(L, c);
    scan_global_init(L, c);
  }
  return CXChildVisit_Continue;
}

/* A project macro that is only another name for an object-internals
 * macro (#define Bytes_AS_STRING PyBytes_AS_STRING, or a function-like
 * alias): the name it stands for, so that it is judged like the original. */
static const char *alias_of(lower *L, CXCursor expansion) {
  CXCursor def = clang_getCursorReferenced(expansion);
  if (clang_Cursor_isNull(def) || clang_getCursorKind(def) != CXCursor_MacroDefinition) return NULL;
  void **s = pairmap_at(&L->alias_cache, 3, cursor_hash(def));
  if (*s) return *s == (void *)1 ? NULL : *s;
  *s = (void *)1;
  CXToken *toks = NULL;
  unsigned n = 0;
  clang_tokenize(L->tu, clang_getCursorExtent(def), &toks, &n);
  unsigned i = 1;   /* token 0 is the macro's name */
  if (clang_Cursor_isMacroFunctionLike(def)) {
    int depth = 0;
    for (; i < n; i++) {
      CXString sp = clang_getTokenSpelling(L->tu, toks[i]);
      const char *t = clang_getCString(sp);
      if (!strcmp(t, "(")) depth++;
      else if (!strcmp(t, ")")) depth--;
      clang_disposeString(sp);
      if (depth == 0) { i++; break; }
    }
  }
  if (i < n && clang_getTokenKind(toks[i]) == CXToken_Identifier) {
    CXString sp = clang_getTokenSpelling(L->tu, toks[i]);
    const char *t = clang_getCString(sp);
    if (t && objmacro_lookup(t)) *s = (void *)arena_strdup(L->A, t);
    clang_disposeString(sp);
  }
  if (toks) clang_disposeTokens(L->tu, toks, n);
  return *s == (void *)1 ? NULL : *s;
}

/* Macro expansions in the project's own files, by place: events name the
 * macro the user wrote. Collected before any function is lowered. */
static enum CXChildVisitResult visit_macros(CXCursor c, CXCursor parent, CXClientData d) {
  lower *L = d;
  if (clang_getCursorKind(c) != CXCursor_MacroExpansion) return CXChildVisit_Continue;
  CXFile f = NULL;
  unsigned line, col, off;
  clang_getFileLocation(clang_getCursorLocation(c), &f, &line, &col, &off);
  file_info *fi = file_of(L, f);
  if (!fi || fi->cls != FC_PROJECT) return CXChildVisit_Continue;
  void **s = pairmap_at(&L->macros, (uintptr_t)f, off);
  if (*s) return CXChildVisit_Continue;
  const char *name = cx_str(L, clang_getCursorSpelling(c));
  *s = (void *)name;
  if (!objmacro_lookup(name) && !api_lookup(name)) {
    const char *a = alias_of(L, c);
    if (a) *pairmap_at(&L->aliases, (uintptr_t)f, off) = (void *)a;
  }
  return CXChildVisit_Continue;
}

int front_lower_cxtu(void *cxtu_, const char *workdir, arena *A, ir_tu *out) {
  CXTranslationUnit cxtu = cxtu_;
  lower L;
  memset(&L, 0, sizeof L);
  L.A = A;
  L.tu = cxtu;
  L.workdir = workdir;
  L.out = out;
  CXCursor root = clang_getTranslationUnitCursor(L.tu);
  clang_visitChildren(root, visit_macros, &L);
  clang_visitChildren(root, visit_top, &L);
  out->funcs = L.funcs.v;
  out->nfuncs = L.funcs.n;
  out->hints = L.hints.v;
  out->nhints = L.hints.n;
  out->stores = L.stores.v;
  out->nstores = L.stores.n;
  pairmap_free(&L.files);
  pairmap_free(&L.macros);
  pairmap_free(&L.aliases);
  pairmap_free(&L.alias_cache);
  pairmap_free(&L.noreturn_cache);
  pairmap_free(&L.varmap);
  pairmap_free(&L.claimed);
  return 0;
}
