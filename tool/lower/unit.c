/* unit.c: a translation unit into the IR (lower.h's front_lower_cxtu).
 *
 * One walk over the unit's top level (libclang's preprocessing record comes
 * with it) notes the macro expansions in the project's own files — which
 * macro the user wrote where, so that events name it and object-internals
 * macros become events — and the function definitions and globals of the
 * project's files. Then each function is lowered (stmt.c, expr.c) from a
 * tree of its cursors (tree.c), and each global's initializer is read for
 * method tables (entry hints) and functions' addresses (fnref.c). */
#include <stdlib.h>
#include <string.h>
#include "lower.h"
#include "lower_ft.h"
#include "lower_int.h"

/* ---------- macro expansions ---------- */

const char *macro_at(lower *L, file_info *f, unsigned off) {
  if (!f) return NULL;
  return pairmap_get(&L->macros, (uintptr_t)f, off);
}

const char *macro_alias_at(lower *L, file_info *f, unsigned off) {
  if (!f) return NULL;
  return pairmap_get(&L->aliases, (uintptr_t)f, off);
}

/* The first token of a macro's replacement list (after the parameters of
 * a function-like one): the name it stands for when it is an identifier. */
typedef struct alias_scan { int i, depth; bool fnlike, in_body; const char *found; lower *L; } alias_scan;

static bool alias_token(void *ctx, const char *tok, unsigned off, bool ident) {
  alias_scan *a = ctx;
  if (a->i++ == 0) {   /* the macro's name */
    a->in_body = !a->fnlike;
    return true;
  }
  if (!a->in_body) {
    if (!strcmp(tok, "(")) a->depth++;
    else if (!strcmp(tok, ")")) a->depth--;
    if (a->depth == 0) a->in_body = true;
    return true;
  }
  if (ident && objmacro_lookup(tok)) a->found = arena_strdup(a->L->A, tok);
  return false;
}

/* The same with libclang's tokenizer, for a definition that is in no file
 * (-D on the command line). */
static const char *alias_by_tokens(lower *L, CXCursor def) {
  CXToken *toks = NULL;
  unsigned n = 0;
  const char *found = NULL;
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
    if (t && objmacro_lookup(t)) found = arena_strdup(L->A, t);
    clang_disposeString(sp);
  }
  if (toks) clang_disposeTokens(L->tu, toks, n);
  return found;
}

/* A project macro that is only another name for an object-internals
 * macro (#define Bytes_AS_STRING PyBytes_AS_STRING, or a function-like
 * alias): the name it stands for, so that it is judged like the original. */
static const char *alias_of(lower *L, CXCursor expansion) {
  CXCursor def = clang_getCursorReferenced(expansion);
  if (clang_Cursor_isNull(def) || clang_getCursorKind(def) != CXCursor_MacroDefinition) return NULL;
  void **s = pairmap_at(&L->alias_cache, 3, clang_hashCursor(def));
  if (*s) return *s == (void *)1 ? NULL : *s;
  *s = (void *)1;
  CXSourceRange r = clang_getCursorExtent(def);
  unsigned b, e;
  file_info *fb = offset_of(L, clang_getRangeStart(r), &b);
  file_info *fe = offset_of(L, clang_getRangeEnd(r), &e);
  const char *found;
  if (fb && fb == fe) {
    alias_scan a = {0, 0, clang_Cursor_isMacroFunctionLike(def) != 0, false, NULL, L};
    tokens_in(L, fb, b, e, alias_token, &a);
    found = a.found;
  } else {
    found = alias_by_tokens(L, def);
  }
  if (found) *s = (void *)found;
  return found;
}

/* A macro expansion: remembered by place when it is in the project's own
 * files; an object-internals macro's place (or an alias's) is noted in its
 * file, for the functions whose bodies hold one. */
static void note_expansion(lower *L, CXCursor c) {
  unsigned off;
  file_info *fi = offset_of(L, clang_getCursorLocation(c), &off);
  if (!fi || fi->cls != FC_PROJECT) return;
  void **s = pairmap_at(&L->macros, (uintptr_t)fi, off);
  if (*s) return;
  const char *name = cx_str(L, clang_getCursorSpelling(c));
  *s = (void *)name;
  bool claimable = objmacro_lookup(name) != NULL;
  if (!claimable && !api_lookup(name)) {
    const char *a = alias_of(L, c);
    if (a) {
      *pairmap_at(&L->aliases, (uintptr_t)fi, off) = (void *)a;
      claimable = true;
    }
  }
  if (claimable) {
    if (fi->objmacros.n && fi->objmacros.v[fi->objmacros.n - 1] > off) fi->unsorted = true;
    vec_push(L->A, fi->objmacros, off);
  }
}

/* The version in CPython's patchlevel.h (PY_MAJOR_VERSION, PY_MINOR_VERSION),
 * as 311 for 3.11; 0 when it does not say. */
static uint16_t patchlevel_version(lower *L, file_info *fi) {
  const char *t;
  size_t n;
  if (!file_text(L, fi, &t, &n)) return 0;
  long v[2] = {-1, -1};
  static const char *names[2] = {"PY_MAJOR_VERSION", "PY_MINOR_VERSION"};
  for (size_t i = 0; i + 8 < n; i++) {
    if (t[i] != '#' || strncmp(t + i + 1, "define", 6)) continue;
    const char *p = t + i + 7, *end = t + n;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    for (int k = 0; k < 2; k++) {
      size_t len = strlen(names[k]);
      if ((size_t)(end - p) > len + 1 && !strncmp(p, names[k], len) && (p[len] == ' ' || p[len] == '\t')) {
        const char *q = p + len;
        while (q < end && (*q == ' ' || *q == '\t')) q++;
        long x = 0;
        int digits = 0;
        while (q < end && *q >= '0' && *q <= '9' && digits < 4) x = x * 10 + (*q++ - '0'), digits++;
        if (digits) v[k] = x;
      }
    }
  }
  return v[0] > 0 && v[0] < 100 && v[1] >= 0 && v[1] < 100 ? (uint16_t)(v[0] * 100 + v[1]) : 0;
}

static void note_include(lower *L, CXCursor c) {
  unsigned off;
  file_info *fi = offset_of(L, clang_getCursorLocation(c), &off);
  /* Python.h's #include "patchlevel.h": the headers' version */
  if (fi && fi->cls == FC_PYTHON && !L->py_version) {
    file_info *inc = file_of(L, clang_getIncludedFile(c));
    const char *slash = inc && inc->path ? strrchr(inc->path, '/') : NULL;
    if (slash && !strcmp(slash + 1, "patchlevel.h")) L->py_version = patchlevel_version(L, inc);
  }
  if (!fi || fi->cls != FC_PROJECT) return;
  if (fi->includes.n && fi->includes.v[fi->includes.n - 1] > off) fi->unsorted = true;
  vec_push(L->A, fi->includes, off);
}

/* ---------- the walk ---------- */

typedef struct unit_walk { lower *L; VEC(CXCursor) tops; } unit_walk;

static enum CXChildVisitResult visit_unit(CXCursor c, CXCursor parent, CXClientData d) {
  unit_walk *w = d;
  lower *L = w->L;
  switch (c.kind) {
  case CXCursor_MacroExpansion:
    note_expansion(L, c);
    return CXChildVisit_Continue;
  case CXCursor_InclusionDirective:
    note_include(L, c);
    return CXChildVisit_Continue;
  case CXCursor_FunctionDecl:
    if (!clang_isCursorDefinition(c)) return CXChildVisit_Continue;
    break;
  case CXCursor_VarDecl:
    break;
  default:
    return CXChildVisit_Continue;
  }
  unsigned off;
  file_info *fi = offset_of(L, clang_getCursorLocation(c), &off);
  if (fi && fi->cls == FC_PROJECT) vec_push(L->A, w->tops, c);
  return CXChildVisit_Continue;
}

/* ---------- globals ---------- */

/* The method or slot table type a global is (an array) of, or NULL
 * (api.def's TABLE_TYPE rows). */
static const char *table_type(CXCursor var) {
  CXString ts = clang_getTypeSpelling(clang_getCursorType(var));
  const char *type = api_table_type(clang_getCString(ts));
  clang_disposeString(ts);
  return type;
}

/* A global with an initializer: the functions a method table lists are
 * called from Python (with the GIL), and every function's address in it is
 * stored where calls through the table read it. */
static void lower_global(lower *L, CXCursor var) {
  const char *type = table_type(var);
  CXCursor init = clang_Cursor_getVarDeclInitializer(var);
  if (clang_Cursor_isNull(init)) return;
  /* a table of numbers (as mrab-regex's Unicode tables are) names no
   * function: no identifier, no macro, in its text */
  unsigned s, e;
  file_info *f = extent_offsets(L, init, &s, &e);
  if (f && !has_identifier(L, f, s, e)) return;
  tree_reset(L);
  int root = tree_build(L, init);
  if (type) {
    const char *name = cx_str(L, clang_getCursorSpelling(var));
    for (int n = root + 1; n < L->T.n; n++) {
      if (kind_of(L, n) != CXCursor_DeclRefExpr) continue;
      CXCursor r = node_ref(L, n);
      if (r.kind == CXCursor_FunctionDecl)
        add_hint(L, r, ENTRY_HELD, node_loc(L, n), arena_printf(L->A, "listed in the %s table '%s'", type, name));
    }
  }
  scan_global_init(L, var, root);
  tree_reset(L);
}

/* ---------- functions ---------- */

static int compare_offsets(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}

/* How many of the sorted offsets V[0, N) are within [S, E]? */
static int count_within(const unsigned *v, int n, unsigned s, unsigned e) {
  int lo = 0, hi = n;   /* the first >= s */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (v[mid] < s) lo = mid + 1; else hi = mid;
  }
  int k = lo;
  while (k < n && v[k] <= e) k++;
  return k - lo;
}

bool claimable_within(lower *L, unsigned s, unsigned e) {
  file_info *f = L->fn_file;
  return f && count_within(f->objmacros.v, f->objmacros.n, s, e) > 0;
}

/* Can an object-internals macro start inside the body at [S, E] of F? Only
 * if one was expanded there (how many: fn_claims_left), or a file is
 * included there (-1: any number). */
static void body_claims(lower *L, file_info *f, unsigned s, unsigned e) {
  L->fn_claims = true;
  L->fn_claims_left = -1;
  if (!f) return;
  if (f->unsorted) {
    qsort(f->objmacros.v, (size_t)f->objmacros.n, sizeof(unsigned), compare_offsets);
    qsort(f->includes.v, (size_t)f->includes.n, sizeof(unsigned), compare_offsets);
    f->unsorted = false;
  }
  if (count_within(f->includes.v, f->includes.n, s, e) > 0) return;
  L->fn_claims_left = count_within(f->objmacros.v, f->objmacros.n, s, e);
  L->fn_claims = L->fn_claims_left > 0;
}

static uint8_t ret_kind_of(CXCursor c) {
  switch (clang_getCanonicalType(clang_getResultType(clang_getCursorType(c))).kind) {
  case CXType_Pointer: case CXType_BlockPointer: return RK_POINTER;
  case CXType_Bool: case CXType_Char_U: case CXType_UChar: case CXType_UShort: case CXType_UInt:
  case CXType_ULong: case CXType_ULongLong: case CXType_Char_S: case CXType_SChar: case CXType_Short:
  case CXType_Int: case CXType_Long: case CXType_LongLong: case CXType_Enum:
    return RK_INTEGER;
  default: return RK_VOID;
  }
}

static void reset_function(lower *L) {
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
  memset(&L->sites, 0, sizeof L->sites);
  if (L->vtab) memset(L->vtab, 0xff, sizeof(int) * L->vtab_cap);
  pairmap_free(&L->claimed);
  L->njumps = L->nsws = 0;
  L->nparams = 0;
  L->origin = -1;
  L->abandon = NULL;
  tree_reset(L);
}

void lower_function(lower *L, CXCursor c) {
  ir_func *fn = arena_alloc(L->A, sizeof *fn);
  const callee_info *ci = callee_of(L, c);
  L->fn = fn;
  fn->name = ci->name;
  fn->usr = callee_key(L, ci);
  fn->loc = loc_of(L, clang_getCursorLocation(c));
  fn->is_static = clang_Cursor_getStorageClass(c) == CX_SC_Static;
  fn->ret_kind = ret_kind_of(c);
  reset_function(L);
  fn->entry = new_block(L);
  L->cur = fn->entry;
  int root = tree_build(L, c), body = -1;
  /* its annotations: on this declaration (children of the tree's root), and
   * on the first the unit saw (a prototype in a header) */
  for (int i = 0; i < nkids(L, root); i++)
    if (kind_of(L, kid(L, root, i)) == CXCursor_AnnotateAttr) fn->annot |= annotation_bit(nd(L, kid(L, root, i))->c);
  CXCursor canon = clang_getCanonicalCursor(c);
  if (!clang_equalCursors(canon, c)) fn->annot |= annotations_of(L, canon);
  for (int i = 0; i < nkids(L, root); i++) {
    int k = kid(L, root, i);
    if (kind_of(L, k) == CXCursor_ParmDecl) {
      int v = add_var(L, k);
      L->vars.v[v].param = true;
      L->nparams++;
    }
    else if (kind_of(L, k) == CXCursor_CompoundStmt) body = k;
  }
  if (body < 0) return;
  CXSourceRange r = clang_getCursorExtent(nd(L, body)->c);
  unsigned s, e;
  file_info *fs = offset_of(L, clang_getRangeStart(r), &s);
  file_info *fe = offset_of(L, clang_getRangeEnd(r), &e);
  L->fn_file = fs;
  L->fn_start = s;
  L->fn_end = e;
  L->fn_in_main = fs && L->main_file && fs->file == L->main_file;
  if (fs != fe) L->fn_claims = true, L->fn_claims_left = -1;
  else body_claims(L, fs, s, e);
  L->fn_objmacros = L->fn_claims;
  L->claims_here = true;
  L->range_end = e;
  lower_stmt(L, body);
  /* falling off the end returns at the closing brace */
  gc_loc eloc = fe ? loc_at(L, fe, e) : (gc_loc){0};
  if (eloc.col > 1) eloc.col--;
  L->blocks.v[L->cur].term = TERM_RETURN;
  L->blocks.v[L->cur].term_loc = eloc;
  resolve_gotos(L);
  ft_lower_function(L, c, fn);   /* free threading: before the locals are chosen */
  finish_function(L);
  vec_push(L->A, L->funcs, fn);
}

/* The hints a function gives by its name or its annotations. */
static void function_hints(lower *L, CXCursor c) {
  const char *name = L->fn ? L->fn->name : NULL;
  if (name && api_is_module_init(name))
    add_hint(L, c, ENTRY_HELD, L->fn->loc, "a module init function");
  if (L->fn && (L->fn->annot & (ANNOT_REQUIRES_GIL)))
    add_hint(L, c, ENTRY_HELD, L->fn->loc, "annotated GILCHECK_REQUIRES_GIL");
  if (L->fn && (L->fn->annot & (ANNOT_NO_GIL)))
    add_hint(L, c, ENTRY_RELEASED, L->fn->loc, "annotated GILCHECK_NO_GIL");
  if (L->fn && (L->fn->annot & (ANNOT_RELEASES_GIL)))
    add_hint(L, c, ENTRY_HELD, L->fn->loc, "annotated GILCHECK_RELEASES_GIL");
  if (L->fn && (L->fn->annot & (ANNOT_ACQUIRES_GIL)))
    add_hint(L, c, ENTRY_RELEASED, L->fn->loc, "annotated GILCHECK_ACQUIRES_GIL");
}

static CXFile main_file(lower *L) {
  CXString s = clang_getTranslationUnitSpelling(L->tu);
  const char *p = clang_getCString(s);
  CXFile f = p ? clang_getFile(L->tu, p) : NULL;
  clang_disposeString(s);
  return f;
}

int front_lower_cxtu(void *cxtu_, const char *workdir, arena *A, ir_tu *out) {
  lower L;
  memset(&L, 0, sizeof L);
  L.A = A;
  L.tu = cxtu_;
  L.workdir = workdir;
  L.out = out;
  L.main_file = main_file(&L);
  unit_walk w = {&L, {0}};
  clang_visitChildren(clang_getTranslationUnitCursor(L.tu), visit_unit, &w);
  for (int i = 0; i < w.tops.n; i++) {
    CXCursor c = w.tops.v[i];
    if (c.kind == CXCursor_FunctionDecl) {
      lower_function(&L, c);
      function_hints(&L, c);
      L.fn = NULL;
    } else {
      lower_global(&L, c);
      ft_lower_var(&L, c);   /* free threading: the module graph */
    }
  }
  out->funcs = L.funcs.v;
  out->nfuncs = L.funcs.n;
  out->hints = L.hints.v;
  out->nhints = L.hints.n;
  out->stores = L.stores.v;
  out->nstores = L.stores.n;
  pairmap_free(&L.files);
  strmap_free(&L.dirs);
  pairmap_free(&L.macros);
  pairmap_free(&L.aliases);
  pairmap_free(&L.alias_cache);
  pairmap_free(&L.callees);
  pairmap_free(&L.names);
  free(L.vtab);
  pairmap_free(&L.claimed);
  free(L.T.nodes);
  free(L.T.kids);
  free(L.T.stack);
  free(L.T.refs);
  return 0;
}

/* ---------- services lent to free_threading.c (lower_ft.h) ---------- */

arena *lower_arena(lower *L) { return L->A; }
CXTranslationUnit lower_cxtu(lower *L) { return L->tu; }
ir_tu *lower_unit(lower *L) { return L->out; }
void **lower_ft_state(lower *L) { return &L->ft; }
bool lower_names_anything(lower *L, CXCursor c) {
  unsigned s, e;
  file_info *f = extent_offsets(L, c, &s, &e);
  return !f || has_identifier(L, f, s, e);
}
const char *lower_file_text(lower *L, CXFile f, size_t *size) {
  const char *text = NULL;
  *size = 0;
  return f && file_text(L, file_of(L, f), &text, size) ? text : NULL;
}
bool lower_in_project(lower *L, CXFile f) {
  file_info *fi = f ? file_of(L, f) : NULL;
  return fi && fi->cls == FC_PROJECT;
}
gc_loc lower_loc(lower *L, CXSourceLocation sl, CXFile *f, unsigned *off) {
  unsigned o = 0;
  file_info *fi = offset_of(L, sl, &o);
  if (f) *f = fi ? fi->file : NULL;
  if (off) *off = o;
  return fi ? loc_at(L, fi, o) : (gc_loc){0};
}
const char *lower_macro_at(lower *L, CXFile f, unsigned off) { return f ? macro_at(L, file_of(L, f), off) : NULL; }
const char *lower_decl_key(lower *L, CXCursor decl) { return callee_key(L, callee_of(L, decl)); }
ir_event *lower_new_event(lower *L, int kind, gc_loc loc) { return add_event(L, kind, loc); }
ir_event *lower_current_events(lower *L, int *n) {
  *n = L->blocks.v[L->cur].nev;
  return L->blocks.v[L->cur].ev;
}
void lower_drop_event(lower *L, int i) {
  ir_block *b = &L->blocks.v[L->cur];
  if (i < 0 || i >= b->nev) return;
  memmove(&b->ev[i], &b->ev[i + 1], sizeof(ir_event) * (size_t)(b->nev - i - 1));
  b->nev--;
}
ir_block *lower_blocks(lower *L, int *n) {
  *n = L->blocks.n;
  return L->blocks.v;
}
int lower_local_named(lower *L, const char *name) {
  for (int i = L->vars.n - 1; i >= 0; i--)
    if (!strcmp(L->vars.v[i].name, name)) return i;
  return -1;
}
bool lower_local_addr_taken(lower *L, int v) { return v >= 0 && v < L->vars.n && L->vars.v[v].addr_taken; }
int lower_nparams(lower *L) { return L->nparams; }
void lower_mark_interesting(lower *L, int v) {
  if (v >= 0 && v < L->vars.n) L->vars.v[v].interesting = true;
}
