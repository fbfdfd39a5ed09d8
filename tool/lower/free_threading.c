/* free_threading.c: what the lowering finds for the free-threading rules
 * (ft-module-gil, ft-borrowed-ref, ft-unsafe-global); see lower_ft.h for
 * where the rest of the lowering calls it.
 *
 *   globals        every use of a variable of static storage defined in the
 *                  project becomes an EV_GLOBAL event (read, write, named),
 *                  with what the variable is (const, _Atomic, thread-local,
 *                  a lock, a module definition, a counter, a pointer)
 *   module graph   each file-scope variable whose initializer names
 *                  functions or variables (method tables, type objects,
 *                  module definitions and their slots) is an ir_global with
 *                  those names: the engine follows them from the modules
 *                  that declare Py_MOD_GIL_NOT_USED
 *   declarations   a Py_mod_gil slot, or PyUnstable_Module_SetGIL(m, ...)
 *                  in the function that creates the module, found in the
 *                  tokens of the definition: also where the preprocessor
 *                  skipped them (#if PY_VERSION_HEX >= 0x030D0000 on older
 *                  headers, #ifdef Py_GIL_DISABLED in the default build)
 *   critical       the object a critical section locks, as the user wrote
 *   sections       it (the macro's argument), and in the default build the
 *                  begin and end events the macros do not expand to
 *   borrowed       the container argument of the borrowed-reference macros
 *   references     (PyList_GET_ITEM ...), and locals worth following: a
 *                  container the function creates and then borrows from */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lower_ft.h"
#include "xalloc.h"

/* ---------- tokens ---------- */

#define MACRO_SCAN_LIMIT 2048   /* bytes of a macro invocation read for its arguments */
#define ARG_TEXT_MAX 120        /* an argument's spelling, in bytes */

/* Tokens of a file's text, lexed raw (the text is the lowering's copy, read
 * once per unit; clang_tokenize would first look two locations up, each a
 * search of every source entry of the unit). Comments and whitespace go;
 * string and character literals, identifiers and numbers are one token
 * each; every other character is a token of its own, which is all the
 * readers below need (brackets, commas, semicolons, names; a member access
 * spelled back without spaces reads the same). Directives and the branches
 * the preprocessor skipped are lexed too, as clang_tokenize would. */
typedef struct tokv { unsigned off, len; } tokv;

typedef struct toks {
  const char *text;
  tokv *v;
  unsigned n;
} toks;

static bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* The tokens of F between offsets S and E. */
static toks tokens_between(lower *L, CXFile f, unsigned s, unsigned e) {
  toks t = {NULL, NULL, 0};
  size_t size = 0;
  const char *text = f ? lower_file_text(L, f, &size) : NULL;
  if (!text || s >= size || e <= s) return t;
  if (e > size) e = (unsigned)size;
  t.text = text;
  unsigned cap = 0;
  for (unsigned i = s; i < e;) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '\\') { i++; continue; }
    if (c == '/' && i + 1 < size && text[i + 1] == '*') {
      i += 2;
      while (i + 1 < size && !(text[i] == '*' && text[i + 1] == '/')) i++;
      i += 2;
      continue;
    }
    if (c == '/' && i + 1 < size && text[i + 1] == '/') {
      while (i < size && text[i] != '\n') i++;
      continue;
    }
    unsigned b = i;
    if (word_char(c)) {
      while (i < size && word_char(text[i])) i++;
    } else if (c == '"' || c == '\'') {
      for (i++; i < size && text[i] != c && text[i] != '\n'; i++)
        if (text[i] == '\\' && i + 1 < size) i++;
      if (i < size && text[i] == c) i++;
    } else {
      i++;
    }
    if (t.n == cap) {
      cap = cap ? cap * 2 : 64;
      t.v = xrealloc(t.v, sizeof(tokv) * cap);
    }
    t.v[t.n++] = (tokv){b, i - b};
  }
  return t;
}

/* The tokens of a cursor's extent, where both ends are in the same file. */
static toks tokens_of(lower *L, CXCursor c) {
  CXSourceRange r = clang_getCursorExtent(c);
  CXFile f1 = NULL, f2 = NULL;
  unsigned l, col, s, e;
  clang_getFileLocation(clang_getRangeStart(r), &f1, &l, &col, &s);
  clang_getFileLocation(clang_getRangeEnd(r), &f2, &l, &col, &e);
  if (!f1 || !clang_File_isEqual(f1, f2)) return (toks){NULL, NULL, 0};
  return tokens_between(L, f1, s, e + 1);
}

static void toks_free(toks *t) {
  free(t->v);
  t->v = NULL;
  t->n = 0;
}

/* Token I's spelling, in the arena. */
static const char *tok(lower *L, toks *t, unsigned i) {
  return arena_strndup(lower_arena(L), t->text + t->v[i].off, t->v[i].len);
}

static bool tok_is(lower *L, toks *t, unsigned i, const char *want) {
  (void)L;
  size_t n = strlen(want);
  return t->v[i].len == n && !memcmp(t->text + t->v[i].off, want, n);
}

static bool tok_is_word(const toks *t, unsigned i) { return word_char(t->text[t->v[i].off]); }


/* The arguments of the macro invocation whose name is at F:OFF, spelled
 * token by token without spaces (except between two words): "self->dict",
 * "(PyObject*)d". Returns how many, at most MAX; 0 when it has none or
 * cannot be read. */
static int macro_args(lower *L, CXFile f, unsigned off, const char **out, int max) {
  toks t = tokens_between(L, f, off, off + MACRO_SCAN_LIMIT);
  int n = 0;
  if (t.n < 3 || !tok_is(L, &t, 1, "(")) { toks_free(&t); return 0; }
  char buf[ARG_TEXT_MAX + 1];
  size_t len = 0;
  bool too_long = false;
  int depth = 0;
  for (unsigned i = 2; i < t.n; i++) {
    const char *s = tok(L, &t, i);
    bool open = !strcmp(s, "(") || !strcmp(s, "[") || !strcmp(s, "{");
    bool close = !strcmp(s, ")") || !strcmp(s, "]") || !strcmp(s, "}");
    if ((close && depth == 0) || (!strcmp(s, ",") && depth == 0)) {
      if (n < max) out[n] = len && !too_long ? arena_strndup(lower_arena(L), buf, len) : NULL;
      n++;
      len = 0;
      too_long = false;
      if (close) break;
      continue;
    }
    if (open) depth++;
    if (close) depth--;
    size_t sl = strlen(s);
    bool space = len > 0 && word_char(buf[len - 1]) && word_char(s[0]);
    if (len + sl + space > ARG_TEXT_MAX) { too_long = true; continue; }
    if (space) buf[len++] = ' ';
    memcpy(buf + len, s, sl);
    len += sl;
  }
  toks_free(&t);
  if (n == 1 && !out[0]) n = 0;   /* M() */
  return n < max ? n : max;
}

/* An argument spelled as a plain name, after casts and parentheses: the
 * name, else NULL. */
static const char *plain_name(lower *L, const char *text) {
  if (!text) return NULL;
  const char *p = text;
  for (;;) {
    while (*p == '(') {
      /* a cast "(T *)x": skip to its ')' when a name follows */
      const char *q = strchr(p, ')');
      if (q && q[1] && q[1] != ')' && strchr(p, '*') && strchr(p, '*') < q) p = q + 1;
      else p++;
    }
    if (!strncmp(p, "_PyObject_CAST(", 15)) { p += 15; continue; }
    if (!strncmp(p, "_Py_CAST(", 9)) { const char *c = strchr(p, ','); if (!c) return NULL; p = c + 1; continue; }
    break;
  }
  size_t n = 0;
  while (word_char(p[n])) n++;
  if (!n || (p[0] >= '0' && p[0] <= '9')) return NULL;
  for (const char *r = p + n; *r; r++)
    if (*r != ')') return NULL;
  return arena_strndup(lower_arena(L), p, n);
}

/* ---------- branches no free-threaded build compiles ---------- */

/* The first release with a free-threaded build: 3.13.0 final. Code for
 * older versions (pythoncapi-compat's shims, #if PY_VERSION_HEX <
 * 0x030D0000 ... #else) and for the default build only (#ifndef
 * Py_GIL_DISABLED) never runs without the GIL, whatever the headers this
 * analysis reads. */
#define FREE_THREADED_SINCE 0x030D00F0L
#define DIRECTIVE_MAX 1024      /* a directive's text, in bytes */
#define COND_DEPTH_MAX 64       /* nested #if followed */

typedef struct gil_only_file {
  CXFile f;
  unsigned *start, *end;        /* offsets of its regions */
  int n;
  struct gil_only_file *next;
} gil_only_file;

/* A store to a raw local of the function being lowered: a copy of another
 * local (src), or a value held as 'shape' ("m:NAME", "g:NAME"; "z" a null
 * constant; "?" anything else). */
typedef struct local_src { int var, src; const char *shape; } local_src;

typedef struct ft_unit {
  gil_only_file *files;
  VEC(const char *) stored;   /* members the function being lowered stores (x->m = ...) */
  VEC(local_src) srcs;        /* its stores to locals */
} ft_unit;

static ft_unit *unit_of(lower *L) {
  ft_unit **u = (ft_unit **)lower_ft_state(L);
  if (!*u) *u = arena_alloc(lower_arena(L), sizeof(ft_unit));
  return *u;
}

typedef enum { BR_ANY = 0, BR_GIL_ONLY } branch_kind;

/* A directive's condition: BR_GIL_ONLY when a conjunct says no
 * free-threaded build (PY_VERSION_HEX below 3.13, !defined(Py_GIL_DISABLED));
 * *ELSE_GIL_ONLY when it is one comparison that only free-threaded-capable
 * builds pass (PY_VERSION_HEX >= 3.13, defined(Py_GIL_DISABLED)), so that
 * its #else is the old one. */
static branch_kind classify_cond(const char *kw, const char *text, bool *else_gil_only) {
  *else_gil_only = false;
  char cond[DIRECTIVE_MAX];
  size_t n = 0;
  for (const char *p = text; *p && n + 1 < sizeof cond; p++)
    if (*p != ' ' && *p != '\t') cond[n++] = *p;
  cond[n] = 0;
  bool gil_flag = strstr(cond, "Py_GIL_DISABLED") != NULL;
  if (!strcmp(kw, "ifdef")) { *else_gil_only = !strcmp(cond, "Py_GIL_DISABLED"); return BR_ANY; }
  if (!strcmp(kw, "ifndef")) return !strcmp(cond, "Py_GIL_DISABLED") ? BR_GIL_ONLY : BR_ANY;
  if (strstr(cond, "||")) return BR_ANY;
  bool one = !strstr(cond, "&&");
  if (strstr(cond, "!definedPy_GIL_DISABLED") || strstr(cond, "!defined(Py_GIL_DISABLED)") ||
      strstr(cond, "!Py_GIL_DISABLED"))
    return BR_GIL_ONLY;
  if (gil_flag && one && (!strcmp(cond, "definedPy_GIL_DISABLED") || !strcmp(cond, "defined(Py_GIL_DISABLED)") ||
                          !strcmp(cond, "Py_GIL_DISABLED")))
    *else_gil_only = true;
  for (const char *v = strstr(cond, "PY_VERSION_HEX"); v; v = strstr(v + 14, "PY_VERSION_HEX")) {
    const char *p = v + 14;
    while (*p == ')') p++;
    char op[3] = {0};
    if (*p == '<' || *p == '>') { op[0] = *p++; if (*p == '=') op[1] = *p++; }
    else continue;
    while (*p == '(') p++;
    char *endp;
    long x = strtol(p, &endp, 0);
    if (endp == p) continue;
    if ((!strcmp(op, "<") && x <= FREE_THREADED_SINCE) || (!strcmp(op, "<=") && x < FREE_THREADED_SINCE)) return BR_GIL_ONLY;
    if (one && ((!strcmp(op, ">=") && x <= FREE_THREADED_SINCE) || (!strcmp(op, ">") && x < FREE_THREADED_SINCE)))
      *else_gil_only = true;
  }
  return BR_ANY;
}

/* The regions of F no free-threaded build compiles, from its directives. */
static gil_only_file *scan_gil_only(lower *L, CXFile f) {
  ft_unit *u = unit_of(L);
  for (gil_only_file *g = u->files; g; g = g->next)
    if (clang_File_isEqual(g->f, f)) return g;
  gil_only_file *g = arena_alloc(lower_arena(L), sizeof *g);
  g->f = f;
  g->next = u->files;
  u->files = g;
  size_t size = 0;
  const char *text = lower_file_text(L, f, &size);
  if (!text) return g;
  VEC(unsigned) st = {0}, en = {0};
  struct frame { bool gil_only, else_gil_only; } stack[COND_DEPTH_MAX];
  int depth = 0, deep = 0;   /* deep: frames past COND_DEPTH_MAX */
  bool in = false;
  size_t i = 0;
  while (i < size) {
    size_t line = i, j = i;
    while (j < size && (text[j] == ' ' || text[j] == '\t')) j++;
    /* the logical line: continuations joined */
    size_t end = j;
    while (end < size && text[end] != '\n') {
      if (text[end] == '\\' && end + 1 < size && text[end + 1] == '\n') end++;
      end++;
    }
    i = end < size ? end + 1 : size;
    if (j >= size || text[j] != '#') continue;
    j++;
    while (j < end && (text[j] == ' ' || text[j] == '\t')) j++;
    char kw[8] = {0};
    int k = 0;
    while (j < end && k < 7 && text[j] >= 'a' && text[j] <= 'z') kw[k++] = text[j++];
    char cond[DIRECTIVE_MAX];
    size_t n = 0;
    for (size_t c = j; c < end && n + 1 < sizeof cond; c++) {
      if (text[c] == '/' && c + 1 < end && (text[c + 1] == '/' || text[c + 1] == '*')) break;   /* a comment */
      if (text[c] != '\\' && text[c] != '\n') cond[n++] = text[c];
    }
    cond[n] = 0;
    if (!strcmp(kw, "if") || !strcmp(kw, "ifdef") || !strcmp(kw, "ifndef")) {
      if (depth >= COND_DEPTH_MAX) { deep++; continue; }
      bool eg;
      stack[depth].gil_only = classify_cond(kw, cond, &eg) == BR_GIL_ONLY;
      stack[depth].else_gil_only = eg;
      depth++;
    } else if (!strcmp(kw, "elif") && depth > 0 && !deep) {
      bool eg;
      stack[depth - 1].gil_only = classify_cond("if", cond, &eg) == BR_GIL_ONLY;
      stack[depth - 1].else_gil_only = false;   /* an #else after #elif: not known */
    } else if (!strcmp(kw, "else") && depth > 0 && !deep) {
      stack[depth - 1].gil_only = stack[depth - 1].else_gil_only;
      stack[depth - 1].else_gil_only = false;
    } else if (!strcmp(kw, "endif")) {
      if (deep) deep--;
      else if (depth > 0) depth--;
    } else {
      continue;
    }
    bool now = false;
    for (int d = 0; d < depth; d++) now = now || stack[d].gil_only;
    if (now != in) {
      unsigned at = (unsigned)(now ? i : line);
      if (now) vec_push(lower_arena(L), st, at);
      else vec_push(lower_arena(L), en, at);
      in = now;
    }
  }
  if (in) vec_push(lower_arena(L), en, (unsigned)size);
  g->start = st.v;
  g->end = en.v;
  g->n = st.n < en.n ? st.n : en.n;
  return g;
}

/* Is F:OFF in a branch no free-threaded build compiles? */
static bool gil_only_at(lower *L, CXFile f, unsigned off) {
  if (!f) return false;
  gil_only_file *g = scan_gil_only(L, f);
  for (int i = 0; i < g->n; i++)
    if (off >= g->start[i] && off < g->end[i]) return true;
  return false;
}

/* ---------- globals ---------- */

static bool spelled(const char *type, const char *const *names) {
  for (int i = 0; names[i]; i++)
    if (strstr(type, names[i])) return true;
  return false;
}

static const char *const lock_types[] = {
  "PyMutex", "PyThread_type_lock", "pthread_mutex_t", "pthread_rwlock_t", "pthread_spinlock_t",
  "pthread_once_t", "mtx_t", "once_flag", "CRITICAL_SECTION", "SRWLOCK", "INIT_ONCE", "PyOnceFlag",
  "_PyOnceFlag", NULL,
};

/* What a variable's type says. */
static uint16_t type_flags(CXType t) {
  uint16_t fl = 0;
  CXString sp = clang_getTypeSpelling(t);
  const char *s = clang_getCString(sp);
  CXType can = clang_getCanonicalType(t);
  CXType elem = can;
  while (elem.kind == CXType_ConstantArray || elem.kind == CXType_IncompleteArray) elem = clang_getArrayElementType(elem);
  if (clang_isConstQualifiedType(can) || clang_isConstQualifiedType(elem)) fl |= GF_CONST;
  if (clang_isVolatileQualifiedType(can) || clang_isVolatileQualifiedType(elem)) fl |= GF_VOLATILE;
  if (can.kind == CXType_Atomic || elem.kind == CXType_Atomic || (s && strstr(s, "_Atomic"))) fl |= GF_ATOMIC;
  if (s && spelled(s, lock_types)) fl |= GF_LOCK;
  CXString csp = clang_getTypeSpelling(can);
  const char *cs = clang_getCString(csp);
  if (cs && !(fl & GF_LOCK) && spelled(cs, lock_types)) fl |= GF_LOCK;
  if (cs && strstr(cs, "PyModuleDef") && !strstr(cs, "PyModuleDef_Slot") && can.kind == CXType_Record) fl |= GF_MODULE_DEF;
  clang_disposeString(csp);
  clang_disposeString(sp);
  switch (can.kind) {
  case CXType_Pointer: case CXType_BlockPointer: fl |= GF_POINTER; break;
  case CXType_Bool: case CXType_Char_U: case CXType_UChar: case CXType_UShort: case CXType_UInt:
  case CXType_ULong: case CXType_ULongLong: case CXType_Char_S: case CXType_SChar: case CXType_Short:
  case CXType_Int: case CXType_Long: case CXType_LongLong: case CXType_Enum: case CXType_Float:
  case CXType_Double: case CXType_LongDouble:
    fl |= GF_INTEGER; break;
  default: break;
  }
  return fl;
}

typedef struct gref {
  const char *key, *name;
  bool decl_gil_only;     /* declared (or defined) where no free-threaded build compiles */
  uint16_t flags;
  CXFile f;               /* where it is used (global_event) */
  unsigned off;
} gref;

/* Is DECL a variable of static storage declared in the project? */
static bool global_of(lower *L, CXCursor decl, gref *g) {
  if (clang_getCursorKind(decl) != CXCursor_VarDecl) return false;
  enum CX_StorageClass sc = clang_Cursor_getStorageClass(decl);
  enum CXCursorKind pk = clang_getCursorKind(clang_getCursorSemanticParent(decl));
  bool file_scope = pk == CXCursor_TranslationUnit || pk == CXCursor_Namespace || pk == CXCursor_LinkageSpec;
  if (!file_scope && sc != CX_SC_Static && sc != CX_SC_Extern) return false;
  CXFile f = NULL;
  unsigned l, c, o;
  clang_getFileLocation(clang_getCursorLocation(decl), &f, &l, &c, &o);
  if (!f || !lower_in_project(L, f)) return false;
  memset(g, 0, sizeof *g);
  g->flags = type_flags(clang_getCursorType(decl));
  if (clang_getCursorTLSKind(decl) != CXTLS_None) g->flags |= GF_THREAD_LOCAL;
  if (sc == CX_SC_Static) g->flags |= file_scope ? GF_STATIC : GF_LOCAL_STATIC;
  g->key = lower_decl_key(L, decl);
  /* a variable declared only under '#ifndef Py_GIL_DISABLED' does not exist
   * without the GIL: nor do its uses */
  g->decl_gil_only = gil_only_at(L, f, o);
  CXCursor def = clang_getCursorDefinition(decl);
  if (!g->decl_gil_only && !clang_Cursor_isNull(def) && !clang_equalCursors(def, decl)) {
    CXFile df = NULL;
    unsigned dl, dc, dof;
    clang_getFileLocation(clang_getCursorLocation(def), &df, &dl, &dc, &dof);
    g->decl_gil_only = df && gil_only_at(L, df, dof);
  }
  CXString n = clang_getCursorSpelling(decl);
  g->name = arena_strdup(lower_arena(L), clang_getCString(n) ? clang_getCString(n) : "");
  clang_disposeString(n);
  return g->key && g->key[0];
}

static bool is_array(CXCursor decl) {
  enum CXTypeKind k = clang_getCanonicalType(clang_getCursorType(decl)).kind;
  return k == CXType_ConstantArray || k == CXType_IncompleteArray || k == CXType_VariableArray;
}

static ir_event *global_event(lower *L, const gref *g, gc_loc loc, int access, const char *macro) {
  ir_event *e = lower_new_event(L, EV_GLOBAL, loc);
  e->gil_only = g->decl_gil_only || gil_only_at(L, g->f, g->off);
  e->callee = g->name;
  e->callee_usr = g->key;
  e->gaccess = (uint8_t)access;
  e->gflags = g->flags;
  e->macro = macro;
  return e;
}

/* Is the reference at F:OFF the operand of '&' (text before it: '&', then
 * only '(' and spaces)? */
static bool address_taken(lower *L, CXFile f, unsigned off) {
  size_t size = 0;
  const char *text = f ? lower_file_text(L, f, &size) : NULL;
  if (!text || off > size) return false;
  unsigned i = off;
  while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '(' || text[i - 1] == '\n')) i--;
  return i > 0 && text[i - 1] == '&' && (i < 2 || text[i - 2] != '&');
}

/* Is the reference at F:OFF (a macro argument) inside the first argument of
 * a writer macro (Py_CLEAR(g), Py_SETREF(g, v)) expanded at XF:XOFF? */
static bool in_writer_first_arg(lower *L, CXFile xf, unsigned xoff, CXFile f, unsigned off) {
  const char *m = lower_macro_at(L, xf, xoff);
  if (!m || !ft_is_writer_macro(m) || !clang_File_isEqual(xf, f) || off <= xoff) return false;
  toks t = tokens_between(L, xf, xoff, off + 1);
  int depth = 0;
  bool first = true;
  for (unsigned i = 1; i < t.n; i++) {
    if (t.v[i].off >= off) break;
    if (tok_is(L, &t, i, "(") || tok_is(L, &t, i, "[")) depth++;
    else if (tok_is(L, &t, i, ")") || tok_is(L, &t, i, "]")) depth--;
    else if (tok_is(L, &t, i, ",") && depth == 1) first = false;
  }
  toks_free(&t);
  return first;
}

/* The member a store's target ends in ('x->m', 'x.m'): m, else NULL. */
static const char *member_of_text(const char *t) {
  const char *last = t ? t + strlen(t) : NULL;
  while (last && last > t && word_char(last[-1])) last--;
  if (!t || !*last || last == t) return NULL;
  return last[-1] == '.' || (last - t >= 2 && last[-1] == '>' && last[-2] == '-') ? last : NULL;
}

void ft_lower_ref(lower *L, CXCursor ref) {
  CXSourceLocation sl = clang_getCursorLocation(ref);
  CXFile f = NULL, xf = NULL;
  unsigned off = 0, xoff = 0, l, c;
  gc_loc loc = lower_loc(L, sl, &f, &off);
  clang_getExpansionLocation(sl, &xf, &l, &c, &xoff);
  bool writer = xf && f && (xoff != off || !clang_File_isEqual(xf, f)) && in_writer_first_arg(L, xf, xoff, f, off);
  if (writer) {
    /* Py_SETREF(x->m, v) stores x->m, through a pointer on 3.11+ headers */
    const char *args[1] = {NULL};
    const char *m = macro_args(L, xf, xoff, args, 1) ? member_of_text(args[0]) : NULL;
    if (m) vec_push(lower_arena(L), unit_of(L)->stored, arena_strdup(lower_arena(L), m));
  }
  gref g;
  CXCursor decl = clang_getCursorReferenced(ref);
  if (!global_of(L, decl, &g)) return;
  const char *macro = lower_macro_at(L, xf, xoff);
  int access = GA_READ;
  bool addr = false;
  if (writer)
    access = GA_WRITE;
  else if ((addr = address_taken(L, f, off)) || is_array(decl))
    access = GA_ADDR;
  g.f = f;
  g.off = off;
  ir_event *e = global_event(L, &g, loc, access, macro);
  if (addr) e->gflags |= GF_ADDRESS_OF;
}

/* Children of a cursor (small: a store target's parts). */
typedef struct kidv { CXCursor v[8]; int n; } kidv;

static enum CXChildVisitResult take_kid(CXCursor c, CXCursor parent, CXClientData d) {
  kidv *k = d;
  if (k->n < 8) k->v[k->n] = c;
  k->n++;
  return CXChildVisit_Continue;
}

static kidv kids_of(CXCursor c) {
  kidv k = {{{0}}, 0};
  clang_visitChildren(c, take_kid, &k);
  if (k.n > 8) k.n = 8;
  return k;
}

static CXCursor strip_expr(CXCursor c) {
  for (int i = 0; i < 64; i++) {
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k != CXCursor_ParenExpr && k != CXCursor_UnexposedExpr && k != CXCursor_CStyleCastExpr) return c;
    kidv ks = kids_of(c);
    if (ks.n == 0) return c;
    CXCursor last = ks.v[ks.n - 1];
    if (!clang_isExpression(clang_getCursorKind(last))) return c;
    c = last;
  }
  return c;
}

bool ft_lower_writer_addr(lower *L, CXCursor addrof, CXCursor operand, int var) {
  CXFile xf = NULL, f = NULL;
  unsigned xoff = 0, off = 0, l, c;
  clang_getExpansionLocation(clang_getRangeStart(clang_getCursorExtent(addrof)), &xf, &l, &c, &xoff);
  operand = strip_expr(operand);   /* &(op): the name inside the parentheses */
  gc_loc loc = lower_loc(L, clang_getCursorLocation(operand), &f, &off);
  const char *m = lower_macro_at(L, xf, xoff);
  if (!m || !ft_is_writer_macro(m) || !in_writer_first_arg(L, xf, xoff, f, off)) return false;
  ir_event *e = lower_new_event(L, EV_ASSIGN, loc);
  e->var = (int16_t)var;
  e->val = !strcmp(m, "Py_CLEAR") ? VAL_ZERO : VAL_UNKNOWN;
  ft_unit *u = unit_of(L);
  vec_push(lower_arena(L), u->srcs, ((local_src){var, -1, e->val == VAL_ZERO ? "z" : "?"}));
  return true;
}

/* The global a store's target is, walking through '.' and the elements of
 * arrays (not through pointers: 'p->x' writes what p points to). */
static bool target_of(CXCursor lhs, CXCursor *ref, bool *member) {
  *member = false;
  CXCursor c = strip_expr(lhs);
  for (int depth = 0; depth < 64; depth++) {
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_DeclRefExpr) { *ref = c; return true; }
    kidv ks = kids_of(c);
    if (k == CXCursor_MemberRefExpr) {
      /* 'a.b' writes a; 'a->b' writes what a points to */
      if (ks.n < 1) return false;
      CXCursor base = strip_expr(ks.v[0]);
      enum CXTypeKind bt = clang_getCanonicalType(clang_getCursorType(base)).kind;
      if (bt == CXType_Pointer) return false;
      *member = true;
      c = base;
      continue;
    }
    if (k == CXCursor_ArraySubscriptExpr) {
      if (ks.n < 2) return false;
      CXCursor base = strip_expr(ks.v[0]);
      if (clang_getCursorKind(base) != CXCursor_DeclRefExpr && clang_getCursorKind(base) != CXCursor_MemberRefExpr &&
          clang_getCursorKind(base) != CXCursor_ArraySubscriptExpr)
        return false;
      /* an element of an array variable (or member), not of what a pointer points to */
      CXType t = clang_getCanonicalType(clang_getCursorType(clang_getCursorReferenced(base)));
      if (clang_getCursorKind(base) == CXCursor_DeclRefExpr && t.kind != CXType_ConstantArray &&
          t.kind != CXType_IncompleteArray)
        return false;
      if (clang_getCursorKind(base) != CXCursor_DeclRefExpr) {
        CXType bt = clang_getCanonicalType(clang_getCursorType(base));
        if (bt.kind == CXType_Pointer) {
          /* decayed: what the base names must itself be an array */
          CXCursor r = clang_getCursorReferenced(base);
          CXType rt = clang_getCanonicalType(clang_getCursorType(r));
          if (rt.kind != CXType_ConstantArray && rt.kind != CXType_IncompleteArray) return false;
        }
      }
      *member = true;
      c = base;
      continue;
    }
    return false;
  }
  return false;
}

void ft_lower_store(lower *L, CXCursor lhs, gc_loc loc, bool compound) {
  CXCursor ref;
  bool member;
  CXCursor m = strip_expr(lhs);
  if (!compound && clang_getCursorKind(m) == CXCursor_MemberRefExpr) {
    /* x->m = ...: a container it then fills is being built */
    CXString sp = clang_getCursorSpelling(m);
    const char *name = clang_getCString(sp);
    if (name && name[0]) vec_push(lower_arena(L), unit_of(L)->stored, arena_strdup(lower_arena(L), name));
    clang_disposeString(sp);
  }
  if (!target_of(lhs, &ref, &member)) return;
  gref g;
  if (!global_of(L, clang_getCursorReferenced(ref), &g)) return;
  gc_loc rloc = lower_loc(L, clang_getCursorLocation(ref), &g.f, &g.off);
  if (!compound && !member) {
    /* the target was lowered as a read just before: it is the write */
    int n = 0;
    ir_event *ev = lower_current_events(L, &n);
    for (int i = n - 1; i >= 0; i--)
      if (ev[i].kind == EV_GLOBAL && ev[i].gaccess == GA_READ && ev[i].loc.line == rloc.line &&
          ev[i].loc.col == rloc.col && !strcmp(ev[i].callee_usr, g.key)) {
        lower_drop_event(L, i);
        break;
      }
  }
  ir_event *e = global_event(L, &g, loc, GA_WRITE, NULL);
  if (member) e->gflags |= GF_MEMBER;
  if (compound) e->gflags |= GF_COMPOUND;
}

/* ---------- calls ---------- */

/* An expression's text, rebuilt from the tree (not the file: inside a
 * macro's body the file has only the macro's use): names, members, calls,
 * elements, integers, without spaces, casts or parentheses: "self->dict",
 * "PyThreadState_GetDict()". NULL for anything else or too long. */
static void expr_text_into(lower *L, CXCursor e, char *buf, size_t cap, size_t *n, bool *ok, int depth) {
  if (!*ok || depth > 16) { *ok = false; return; }
  e = strip_expr(e);
  enum CXCursorKind k = clang_getCursorKind(e);
#define PUT(str) do { const char *s_ = (str); size_t l_ = strlen(s_); \
    if (*n + l_ + 1 > cap) { *ok = false; return; } memcpy(buf + *n, s_, l_); *n += l_; buf[*n] = 0; } while (0)
  if (k == CXCursor_DeclRefExpr || k == CXCursor_IntegerLiteral) {
    CXString sp = clang_getCursorSpelling(e);
    const char *t = clang_getCString(sp);
    if (k == CXCursor_IntegerLiteral) {
      CXEvalResult r = clang_Cursor_Evaluate(e);
      char num[32] = "";
      if (r && clang_EvalResult_getKind(r) == CXEval_Int) snprintf(num, sizeof num, "%lld", clang_EvalResult_getAsLongLong(r));
      if (r) clang_EvalResult_dispose(r);
      clang_disposeString(sp);
      if (!num[0]) { *ok = false; return; }
      PUT(num);
      return;
    }
    if (!t || !t[0]) { clang_disposeString(sp); *ok = false; return; }
    char name[128];
    snprintf(name, sizeof name, "%s", t);
    clang_disposeString(sp);
    PUT(name);
    return;
  }
  kidv ks = kids_of(e);
  if (k == CXCursor_MemberRefExpr) {
    if (ks.n >= 1) {
      CXCursor base = strip_expr(ks.v[0]);
      expr_text_into(L, base, buf, cap, n, ok, depth + 1);
      PUT(clang_getCanonicalType(clang_getCursorType(base)).kind == CXType_Pointer ? "->" : ".");
    }
    CXString sp = clang_getCursorSpelling(e);
    char name[128];
    snprintf(name, sizeof name, "%s", clang_getCString(sp) ? clang_getCString(sp) : "");
    clang_disposeString(sp);
    if (!name[0]) { *ok = false; return; }
    PUT(name);
    return;
  }
  if (k == CXCursor_ArraySubscriptExpr && ks.n == 2) {
    expr_text_into(L, ks.v[0], buf, cap, n, ok, depth + 1);
    PUT("[");
    expr_text_into(L, ks.v[1], buf, cap, n, ok, depth + 1);
    PUT("]");
    return;
  }
  if (k == CXCursor_CallExpr) {
    CXCursor callee = clang_getCursorReferenced(e);
    CXString sp = clang_getCursorSpelling(callee);
    char name[128];
    snprintf(name, sizeof name, "%s", clang_getCString(sp) ? clang_getCString(sp) : "");
    clang_disposeString(sp);
    if (!name[0]) { *ok = false; return; }
    PUT(name);
    PUT("(");
    int na = clang_Cursor_getNumArguments(e);
    for (int i = 0; i < na && *ok; i++) {
      if (i) PUT(",");
      expr_text_into(L, clang_Cursor_getArgument(e, (unsigned)i), buf, cap, n, ok, depth + 1);
    }
    PUT(")");
    return;
  }
#undef PUT
  *ok = false;
}

static const char *expr_text(lower *L, CXCursor e) {
  char buf[ARG_TEXT_MAX + 1];
  size_t n = 0;
  bool ok = true;
  buf[0] = 0;
  expr_text_into(L, e, buf, sizeof buf, &n, &ok, 0);
  return ok && n ? arena_strndup(lower_arena(L), buf, n) : NULL;
}

/* How a value is held, from its expression: "m:NAME" a member (x->NAME,
 * x.NAME), "g:NAME" a variable of static storage of the project; NULL for
 * anything else (a local, a call, an element, an address). */
static const char *held_shape(lower *L, CXCursor e) {
  e = strip_expr(e);
  enum CXCursorKind k = clang_getCursorKind(e);
  if (k == CXCursor_MemberRefExpr) {
    CXString sp = clang_getCursorSpelling(e);
    const char *n = clang_getCString(sp);
    const char *r = n && n[0] ? arena_printf(lower_arena(L), "m:%s", n) : NULL;
    clang_disposeString(sp);
    return r;
  }
  gref g;
  if (k == CXCursor_DeclRefExpr && global_of(L, clang_getCursorReferenced(e), &g))
    return arena_printf(lower_arena(L), "g:%s", g.name);
  return NULL;
}

void ft_lower_assign_local(lower *L, int var, CXCursor rhs, int src, bool nul) {
  if (var < 0) return;
  const char *shape = nul ? "z" : src >= 0 ? NULL : clang_Cursor_isNull(rhs) ? "?" : held_shape(L, rhs);
  if (!nul && src < 0 && !shape) shape = "?";
  vec_push(lower_arena(L), unit_of(L)->srcs, ((local_src){var, src, shape}));
}

/* Is the call at F:OFF .. F:END (the user's text, not a macro's body) only
 * an operand of '==' or '!=': "f(...) == x", "x != f(...)", with nothing
 * binding tighter around it? */
static bool only_compared(lower *L, CXFile f, unsigned off, unsigned end) {
  size_t size = 0;
  const char *t = f ? lower_file_text(L, f, &size) : NULL;
  if (!t || end > size || off >= end) return false;
  size_t a = end;
  while (a < size && (t[a] == ' ' || t[a] == '\t' || t[a] == '\n' || t[a] == '\r')) a++;
  long b = (long)off - 1;
  while (b >= 0 && (t[b] == ' ' || t[b] == '\t' || t[b] == '\n' || t[b] == '\r')) b--;
  bool eq_after = a + 1 < size && (t[a] == '=' || t[a] == '!') && t[a + 1] == '=';
  bool eq_before = b >= 1 && (t[b - 1] == '=' || t[b - 1] == '!') && t[b] == '=';
  if (eq_after) {
    /* the left operand: what comes before binds no tighter than '==' */
    if (b < 0) return false;
    char c = t[b];
    if (c == '(' || c == ',' || c == ';' || c == '{' || c == '}' || c == '?' || c == ':') return true;
    if (c == '=' && b >= 1 && !strchr("=!<>+-*/%&|^", t[b - 1])) return true;
    if ((c == '&' || c == '|') && b >= 1 && t[b - 1] == c) return true;
    return false;
  }
  if (eq_before) {
    /* the right operand: what follows binds no tighter than '==' */
    if (a >= size) return false;
    char c = t[a];
    if (c == ')' || c == ';' || c == ',' || c == '?' || c == ':') return true;
    if ((c == '&' || c == '|') && a + 1 < size && t[a + 1] == c) return true;
    return false;
  }
  return false;
}

#define PARSE_ARGS_MAX 64   /* the pointers a PyArg_Parse format is followed by */

/* The functions that store through the pointers they are given, by a
 * format: where the format is (-1: none, every pointer is an output) and
 * the first pointer. */
static bool arg_parser(const char *name, int *fmt, int *first) {
  static const struct { const char *name; int fmt, first; } rows[] = {
    {"PyArg_ParseTuple", 1, 2}, {"_PyArg_ParseTuple_SizeT", 1, 2}, {"PyArg_Parse", 1, 2},
    {"_PyArg_Parse_SizeT", 1, 2}, {"PyArg_ParseTupleAndKeywords", 2, 4},
    {"_PyArg_ParseTupleAndKeywords_SizeT", 2, 4}, {"PyArg_UnpackTuple", -1, 4}, {NULL, 0, 0},
  };
  for (int i = 0; name && rows[i].name; i++)
    if (!strcmp(name, rows[i].name)) { *fmt = rows[i].fmt; *first = rows[i].first; return true; }
  return false;
}

/* Which of the pointers after a PyArg_Parse format are outputs: 'O!' and
 * 'O&' are first given a type and a converter, 'es' an encoding. Returns
 * how many pointers the format takes, -1 when it is not understood. */
static int format_outputs(const char *f, bool *out, int max) {
  int k = 0;
#define PUT(w) do { if (k >= max) return -1; out[k++] = (w); } while (0)
  for (size_t i = 0; f[i] && f[i] != ':' && f[i] != ';'; i++) {
    char c = f[i];
    if (c == '|' || c == '$' || c == '(' || c == ')') continue;
    if (c == 'O' && (f[i + 1] == '!' || f[i + 1] == '&')) { PUT(false); PUT(true); i++; continue; }
    if (c == 'e' && (f[i + 1] == 's' || f[i + 1] == 't')) {
      PUT(false); PUT(true); i++;
      if (f[i + 1] == '#') { PUT(true); i++; }
      continue;
    }
    if (strchr("szyuZUw", c) && (f[i + 1] == '#' || f[i + 1] == '*')) {
      PUT(true);
      if (f[i + 1] == '#') PUT(true);
      i++;
      continue;
    }
    if (!strchr("bBhHiIlkLKncCfdDpOSYUszyuZ", c)) return -1;
    PUT(true);
  }
#undef PUT
  return k;
}

/* Is the argument ARG of CALL an output of the arg parser (by the format)? */
static bool parser_output(CXCursor call, int fmt, int first, int arg) {
  if (arg < first) return false;
  if (fmt < 0) return true;
  CXCursor fc = strip_expr(clang_Cursor_getArgument(call, (unsigned)fmt));
  if (clang_getCursorKind(fc) != CXCursor_StringLiteral) return false;
  /* the literal as libclang spells it: quoted, its pieces joined */
  CXString sp = clang_getCursorSpelling(fc);
  const char *q = clang_getCString(sp);
  bool out[PARSE_ARGS_MAX];
  int n = -1;
  char f[256];
  size_t len = q ? strlen(q) : 0;
  if (len >= 2 && q[0] == '"' && q[len - 1] == '"' && len - 2 < sizeof f && !memchr(q, '\\', len)) {
    memcpy(f, q + 1, len - 2);
    f[len - 2] = 0;
    n = format_outputs(f, out, PARSE_ARGS_MAX);
  }
  clang_disposeString(sp);
  return n >= 0 && arg - first < n && out[arg - first];
}

static bool loc_within(gc_loc x, gc_loc s, gc_loc e) {
  if (!x.file || !s.file || !e.file || strcmp(x.file, s.file) || strcmp(x.file, e.file)) return false;
  bool after = x.line > s.line || (x.line == s.line && x.col >= s.col);
  bool before = x.line < e.line || (x.line == e.line && x.col <= e.col);
  return after && before;
}

static bool wants_args(const ir_event *e) {
  if (e->api && (e->api->effect == FX_CS_BEGIN)) return true;
  return ft_borrowed_lookup(e->callee) != NULL || ft_mutator_arg(e->callee) >= 0 || ft_publish_arg(e->callee) >= 0;
}

void ft_lower_call(lower *L, CXCursor call, ir_event *e, CXFile f, unsigned off) {
  int nargs = clang_Cursor_getNumArguments(call);
  if (ft_borrowed_lookup(e->callee)) e->gil_only = gil_only_at(L, f, off);
  if (wants_args(e)) {
    /* spellings of the arguments; inside a macro (the free-threaded
     * Py_BEGIN_CRITICAL_SECTION(op) calls PyCriticalSection_Begin(&_py_cs,
     * op)), the macro's own arguments as the user wrote them */
    const char *margs[IR_MAX_ARGS] = {0};
    int obj = ft_cs_object_arg(e->callee), mobj = ft_cs_object_arg(e->macro);
    bool from_macro = e->macro && strcmp(e->macro, e->callee);
    int nm = from_macro && obj >= 0 && mobj >= 0 ? macro_args(L, f, off, margs, IR_MAX_ARGS) : 0;
    for (int i = 0; i < nargs && i < IR_MAX_ARGS; i++) {
      CXCursor a = clang_Cursor_getArgument(call, (unsigned)i);
      const char *t = expr_text(L, a);
      if (t) e->argtext[i] = t;
      /* the section's object: the macro's argument */
      if (nm && i >= obj && obj >= 0 && mobj >= 0 && mobj + (i - obj) < nm) {
        e->argtext[i] = margs[mobj + (i - obj)];
        if (e->argvar[i] < 0) {
          const char *nmv = plain_name(L, e->argtext[i]);
          e->argvar[i] = (int16_t)(nmv ? lower_local_named(L, nmv) : -1);
        }
      }
    }
  }
  const ft_module_fact *mf = ft_module_lookup(e->callee);
  if (mf && mf->def_arg < nargs) {
    /* the definition passed (&def): its EV_GLOBAL, just lowered with the arguments */
    CXCursor a = strip_expr(clang_Cursor_getArgument(call, (unsigned)mf->def_arg));
    if (clang_getCursorKind(a) == CXCursor_UnaryOperator) {
      kidv ks = kids_of(a);
      if (ks.n == 1) a = strip_expr(ks.v[0]);
    }
    gref g;
    if (clang_getCursorKind(a) == CXCursor_DeclRefExpr && global_of(L, clang_getCursorReferenced(a), &g)) {
      int n = 0;
      ir_event *ev = lower_current_events(L, &n);
      for (int i = n - 1; i >= 0; i--)
        if (ev[i].kind == EV_GLOBAL && !strcmp(ev[i].callee_usr, g.key)) {
          ev[i].gflags |= GF_CREATES_MODULE | (mf->phase == 1 ? GF_SINGLE_PHASE : 0);
          break;
        }
    }
  }
  if (e->callee_usr && !e->python_api) {
    /* a function of the project: how the arguments that are no locals are
     * held (the locals': ft_lower_function, once all their stores are seen) */
    CXCursor callee = clang_getCursorReferenced(call);
    if (clang_Cursor_getStorageClass(callee) == CX_SC_Static) e->gflags |= CF_STATIC_CALLEE;
    const char *held = NULL;
    for (int i = 0; i < nargs && i < IR_MAX_ARGS; i++) {
      const char *sh = e->argvar[i] < 0 ? held_shape(L, clang_Cursor_getArgument(call, (unsigned)i)) : NULL;
      if (sh) held = arena_printf(lower_arena(L), "%s%s%d=%s", held ? held : "", held ? " " : "", i, sh);
    }
    e->held = held;
  }
  const ft_borrowed_fact *bf = ft_borrowed_lookup(e->callee);
  if (bf && bf->kind == FTB_CONTAINER && (!strncmp(e->callee, "PyDict_", 7) || !strncmp(e->callee, "_PyDict_", 8)) &&
      (!e->macro || !strcmp(e->macro, e->callee))) {
    /* a dict lookup (the dict is locked during it) whose result is only
     * compared: nothing is used after the lookup but the pointer's value */
    CXFile ef = NULL;
    unsigned l, c, end;
    clang_getFileLocation(clang_getRangeEnd(clang_getCursorExtent(call)), &ef, &l, &c, &end);
    if (ef && f && clang_File_isEqual(ef, f) && only_compared(L, f, off, end)) e->gflags |= CF_IDENTITY_ONLY;
  }
  int fmt, first;
  if (arg_parser(e->callee, &fmt, &first)) {
    /* PyArg_ParseTuple(args, "O", &g) stores into g ("O!": not into the type given) */
    for (int a = first; a < nargs; a++) {
      CXSourceRange r = clang_getCursorExtent(clang_Cursor_getArgument(call, (unsigned)a));
      gc_loc s0 = lower_loc(L, clang_getRangeStart(r), NULL, NULL), s1 = lower_loc(L, clang_getRangeEnd(r), NULL, NULL);
      int n = 0;
      ir_event *ev = lower_current_events(L, &n);
      for (int i = n - 1; i >= 0; i--)
        if (&ev[i] != e && ev[i].kind == EV_GLOBAL && ev[i].gaccess == GA_ADDR && (ev[i].gflags & GF_ADDRESS_OF) &&
            loc_within(ev[i].loc, s0, s1) && parser_output(call, fmt, first, a))
          ev[i].gaccess = GA_WRITE;
    }
  }
  if (ft_is_atomic(e->callee)) {
    /* a global handed to an atomic operation is reached atomically */
    int n = 0;
    ir_event *ev = lower_current_events(L, &n);
    for (int i = n - 1; i >= 0 && &ev[i] != e; i--)
      if (ev[i].kind == EV_GLOBAL && ev[i].gaccess == GA_ADDR) ev[i].gflags |= GF_ATOMIC;
  }
}

/* The arguments of the macro invocation at F:OFF as event E's: their text,
 * and the local each one names (made worth tracking when INTERESTING). */
static void macro_event_args(lower *L, ir_event *e, CXFile f, unsigned off, bool interesting) {
  const char *args[IR_MAX_ARGS] = {0};
  int n = macro_args(L, f, off, args, IR_MAX_ARGS);
  e->nargs = (int8_t)n;
  for (int i = 0; i < n; i++) {
    e->argtext[i] = args[i];
    const char *nm = plain_name(L, args[i]);
    e->argvar[i] = (int16_t)(nm ? lower_local_named(L, nm) : -1);
    if (interesting) lower_mark_interesting(L, e->argvar[i]);
  }
}

void ft_lower_objmacro(lower *L, ir_event *e, CXFile f, unsigned off) {
  if (!ft_borrowed_lookup(e->callee) && ft_mutator_arg(e->callee) < 0) return;
  e->gil_only = gil_only_at(L, f, off);
  macro_event_args(L, e, f, off, false);
}

/* ---------- lock macros that expand to nothing in this build ---------- */

/* By the words of its name: +1 takes a lock (MUTEX_LOCK, ACQUIRE_LOCK), -1
 * gives one back (MUTEX_UNLOCK, RELEASE_LOCK), 0 neither. */
static int lock_macro_word(const char *name) {
  char w[64];
  int give = 0, take = 0;
  for (const char *p = name; *p;) {
    size_t n = 0;
    while (*p && *p != '_' && n + 1 < sizeof w) w[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p), p++;
    w[n] = 0;
    while (*p == '_') p++;
    if (!strcmp(w, "UNLOCK") || !strcmp(w, "RELEASE")) give = 1;
    else if (!strcmp(w, "LOCK") || !strcmp(w, "ACQUIRE")) take = 1;
  }
  return give ? -1 : take ? 1 : 0;
}

void ft_lower_null_stmt(lower *L, CXCursor stmt) {
  CXFile f = NULL;
  unsigned off = 0;
  gc_loc loc = lower_loc(L, clang_getCursorLocation(stmt), &f, &off);
  size_t size = 0;
  const char *text = f ? lower_file_text(L, f, &size) : NULL;
  if (!text || off == 0 || off >= size || text[off] != ';') return;
  /* back over 'NAME(args)' */
  long i = (long)off - 1;
  while (i >= 0 && (text[i] == ' ' || text[i] == '\t')) i--;
  if (i < 0 || text[i] != ')') return;
  int depth = 0;
  for (; i >= 0; i--) {
    if (text[i] == ')') depth++;
    else if (text[i] == '(' && --depth == 0) break;
  }
  if (i <= 0) return;
  i--;
  while (i >= 0 && (text[i] == ' ' || text[i] == '\t')) i--;
  long end = i + 1;
  while (i >= 0 && word_char(text[i])) i--;
  unsigned start = (unsigned)(i + 1);
  if ((long)start >= end) return;
  const char *m = lower_macro_at(L, f, start);
  int d = m ? lock_macro_word(m) : 0;
  if (!d) return;
  /* it expanded to nothing: no event of its own */
  gc_loc at = lower_loc(L, clang_getLocationForOffset(lower_cxtu(L), f, start), NULL, NULL);
  int n = 0;
  ir_event *ev = lower_current_events(L, &n);
  if (n > 0 && ev[n - 1].loc.line == at.line && ev[n - 1].loc.col == at.col) return;
  (void)loc;
  ir_event *e = lower_new_event(L, EV_CALL, at);
  e->callee = m;
  e->macro = m;
  e->gflags = d > 0 ? CF_LOCK_TAKE : CF_LOCK_GIVE;
}

/* ---------- critical sections in the default build ---------- */

/* Does the macro that opens COMPOUND expand to more than the brace (the
 * free-threaded build: its first statement comes from the macro)? */
static bool macro_has_body(CXCursor compound, CXFile f, unsigned off) {
  kidv ks = kids_of(compound);
  if (ks.n == 0) return false;
  CXFile kf = NULL;
  unsigned l, c, ko;
  clang_getFileLocation(clang_getRangeStart(clang_getCursorExtent(ks.v[0])), &kf, &l, &c, &ko);
  return kf && clang_File_isEqual(kf, f) && ko == off;
}

static const char *end_macro_of(lower *L, const char *begin) {
  const char *b = strstr(begin, "BEGIN");
  if (!b) return NULL;
  return arena_printf(lower_arena(L), "%.*sEND%s", (int)(b - begin), begin, b + 5);
}

void ft_lower_region(lower *L, CXCursor compound, int region, bool begin) {
  CXFile f = NULL;
  unsigned off = 0;
  CXSourceRange r = clang_getCursorExtent(compound);
  gc_loc loc = lower_loc(L, clang_getRangeStart(r), &f, &off);
  const char *m = lower_macro_at(L, f, off);
  const api_fact *bf = m ? api_lookup(m) : NULL;
  if (!bf || bf->effect != FX_CS_BEGIN || macro_has_body(compound, f, off)) return;
  if (begin) {
    ir_event *e = lower_new_event(L, EV_CALL, loc);
    e->callee = m;
    e->macro = m;
    e->api = bf;
    e->python_api = true;
    macro_event_args(L, e, f, off, true);   /* interesting, as the free-threaded build's call makes them */
    return;
  }
  const char *end = end_macro_of(L, m);
  CXFile ef = NULL;
  unsigned eoff = 0;
  gc_loc eloc = lower_loc(L, clang_getRangeEnd(r), &ef, &eoff);
  const char *written = lower_macro_at(L, ef, eoff);
  if (written) end = written;
  const api_fact *ea = end ? api_lookup(end) : NULL;
  if (!ea || ea->effect != FX_CS_END) return;
  ir_event *e = lower_new_event(L, EV_CALL, eloc);
  e->callee = end;
  e->macro = end;
  e->api = ea;
  e->python_api = true;
}

/* ---------- functions ---------- */

/* What a definition says of the GIL, from its tokens (the branches the
 * preprocessor skipped included): a slot {Py_mod_gil, Py_MOD_GIL_...}
 * (SLOT) or a call PyUnstable_Module_SetGIL(m, Py_MOD_GIL_...) (!SLOT).
 * Not used wins: the module says it runs without the GIL in some build. */
static uint8_t gil_decl_in(lower *L, CXCursor c, bool slot) {
  toks t = tokens_of(L, c);
  uint8_t d = GIL_DECL_NONE;
  const char *lead = slot ? "Py_mod_gil" : "PyUnstable_Module_SetGIL";
  for (unsigned i = 0; i < t.n && d != GIL_DECL_NOT_USED; i++) {
    if (!tok_is_word(&t, i) || !tok_is(L, &t, i, lead)) continue;
    for (unsigned j = i + 1; j < t.n && j < i + 16; j++) {
      if (tok_is(L, &t, j, ";") || tok_is(L, &t, j, "}")) break;
      if (tok_is(L, &t, j, "Py_MOD_GIL_NOT_USED")) { d = GIL_DECL_NOT_USED; break; }
      if (tok_is(L, &t, j, "Py_MOD_GIL_USED")) { d = GIL_DECL_USED; break; }
    }
  }
  toks_free(&t);
  return d;
}

/* Does the text of C's extent (skipped branches included) contain WORD? */
static bool text_mentions(lower *L, CXCursor c, const char *word) {
  CXSourceRange r = clang_getCursorExtent(c);
  CXFile f1 = NULL, f2 = NULL;
  unsigned l, col, s, e;
  clang_getFileLocation(clang_getRangeStart(r), &f1, &l, &col, &s);
  clang_getFileLocation(clang_getRangeEnd(r), &f2, &l, &col, &e);
  size_t size = 0;
  const char *text = f1 && clang_File_isEqual(f1, f2) ? lower_file_text(L, f1, &size) : NULL;
  if (!text || e > size || e <= s) return false;
  size_t wl = strlen(word);
  for (const char *p = text + s; p + wl <= text + e; p++) {
    p = memchr(p, word[0], (size_t)(text + e - p));
    if (!p || p + wl > text + e) return false;
    if (!memcmp(p, word, wl)) return true;
  }
  return false;
}

#define HELD_MAX 8         /* shapes a local is held as */
#define HELD_DEPTH 4       /* copies of copies followed */

typedef struct held_set { const char *v[HELD_MAX]; int n; } held_set;

static bool held_add(held_set *h, const char *shape) {
  for (int i = 0; i < h->n; i++)
    if (!strcmp(h->v[i], shape)) return true;
  if (h->n == HELD_MAX) return false;
  h->v[h->n++] = shape;
  return true;
}

/* Everything the raw local V is given: its parameter's value ("p:I"), and
 * what each store to it copies; false when any of it is not a member, a
 * global or another such local (an address taken, a call's result ...). */
static bool held_of(lower *L, int v, held_set *h, int depth) {
  ft_unit *u = unit_of(L);
  if (v < 0 || depth > HELD_DEPTH || lower_local_addr_taken(L, v)) return false;
  if (v < lower_nparams(L) && !held_add(h, arena_printf(lower_arena(L), "p:%d", v))) return false;
  for (int i = 0; i < u->srcs.n; i++) {
    const local_src *s = &u->srcs.v[i];
    if (s->var != v) continue;
    if (s->src >= 0) {
      if (s->src != v && !held_of(L, s->src, h, depth + 1)) return false;
    } else if (!strcmp(s->shape, "?")) {
      return false;
    } else if (strcmp(s->shape, "z") && !held_add(h, s->shape)) {
      return false;
    }
  }
  return h->n > 0;
}

/* "I=S,S" for argument I held as the raw local V, or NULL; members this
 * function stores itself left out when SKIP_STORED (a container it builds). */
static const char *held_entry(lower *L, int i, int v, bool skip_stored) {
  held_set h = {{0}, 0};
  if (!held_of(L, v, &h, 0)) return NULL;
  ft_unit *u = unit_of(L);
  char buf[512];
  size_t n = (size_t)snprintf(buf, sizeof buf, "%d=", i);
  int kept = 0;
  for (int k = 0; k < h.n; k++) {
    bool stored = false;
    for (int j = 0; skip_stored && !strncmp(h.v[k], "m:", 2) && j < u->stored.n; j++)
      if (!strcmp(u->stored.v[j], h.v[k] + 2)) stored = true;
    if (stored) continue;
    int w = snprintf(buf + n, sizeof buf - n, "%s%s", kept ? "," : "", h.v[k]);
    if (w < 0 || (size_t)w >= sizeof buf - n) return NULL;
    n += (size_t)w;
    kept++;
  }
  return kept ? arena_strdup(lower_arena(L), buf) : NULL;
}

static void held_append(lower *L, ir_event *e, const char *entry) {
  if (entry) e->held = e->held ? arena_printf(lower_arena(L), "%s %s", e->held, entry) : entry;
}

/* Does some call in the function give the raw local V its value, of a
 * function that makes a new container or of the project (it may)? */
static bool may_hold_new(const ir_block *b, int nb, int v) {
  for (int i = 0; i < nb; i++)
    for (int k = 0; k < b[i].nev; k++) {
      const ir_event *a = &b[i].ev[k];
      if (a->kind == EV_CALL && a->result_var == v && (ft_is_fresh(a->callee) || (a->callee_usr && !a->python_api)))
        return true;
    }
  return false;
}

/* How the containers the function borrows from, changes, or hands to a
 * function of the project are held, when they are locals (ir_event.held). */
static void held_events(lower *L, ir_func *f, ir_block *b, int nb) {
  for (int i = 0; i < nb; i++)
    for (int k = 0; k < b[i].nev; k++) {
      ir_event *e = &b[i].ev[k];
      if (e->kind != EV_CALL && e->kind != EV_OBJMACRO) continue;
      const ft_borrowed_fact *bf = ft_borrowed_lookup(e->callee);
      int m = ft_mutator_arg(e->callee), pa = ft_publish_arg(e->callee);
      int a = bf ? bf->container_arg : m;
      if (pa >= 0 && pa < IR_MAX_ARGS && pa != a && e->argvar[pa] >= 0)
        held_append(L, e, held_entry(L, pa, e->argvar[pa], false));   /* handed to Python */
      if (a >= 0 && a < IR_MAX_ARGS && e->argvar[a] >= 0) {
        int v = e->argvar[a];
        held_append(L, e, held_entry(L, a, v, !bf));
        /* a static function's parameter borrowed from: followed, for what
         * its callers pass (a new container of theirs) */
        held_set h = {{0}, 0};
        if (bf && f->is_static && held_of(L, v, &h, 0))
          for (int j = 0; j < h.n; j++)
            if (!strncmp(h.v[j], "p:", 2)) {
              lower_mark_interesting(L, v);
              lower_mark_interesting(L, atoi(h.v[j] + 2));
            }
        continue;
      }
      if (e->kind != EV_CALL || !e->callee_usr || e->python_api) continue;
      for (int j = 0; j < e->nargs && j < IR_MAX_ARGS; j++) {
        int v = e->argvar[j];
        if (v < 0) continue;
        held_append(L, e, held_entry(L, j, v, false));
        /* a new container handed to a static helper: followed, for the helper */
        if ((e->gflags & CF_STATIC_CALLEE) && may_hold_new(b, nb, v)) lower_mark_interesting(L, v);
      }
    }
}

void ft_lower_function(lower *L, CXCursor fn, ir_func *f) {
  int nb = 0;
  ir_block *b = lower_blocks(L, &nb);
  bool module_related = !strncmp(f->name, "PyInit_", 7);
  /* containers this function creates (raw locals receiving a new object) */
  for (int i = 0; i < nb; i++)
    for (int k = 0; k < b[i].nev; k++) {
      const ir_event *e = &b[i].ev[k];
      if (e->kind == EV_GLOBAL && (e->gflags & GF_MODULE_DEF)) module_related = true;

      const ft_borrowed_fact *bf = (e->kind == EV_CALL || e->kind == EV_OBJMACRO) ? ft_borrowed_lookup(e->callee) : NULL;
      if (!bf || bf->container_arg < 0 || bf->container_arg >= IR_MAX_ARGS) continue;
      int v = e->argvar[bf->container_arg];
      if (v < 0) continue;
      /* followed only when it may hold a new container: assigned from one */
      for (int i2 = 0; i2 < nb; i2++)
        for (int k2 = 0; k2 < b[i2].nev; k2++) {
          const ir_event *a = &b[i2].ev[k2];
          /* a new container, or what a project function returns (it may make one) */
          if (a->kind == EV_CALL && a->result_var == v && (ft_is_fresh(a->callee) || (a->callee_usr && !a->python_api)))
            lower_mark_interesting(L, v);
        }
    }
  if (module_related || text_mentions(L, fn, "PyUnstable_Module_SetGIL")) f->gil_decl = gil_decl_in(L, fn, false);
  /* a local returned: its escape is the caller's to judge (a helper that
   * returns a new container gives one), and worth following when it may
   * hold a new container */
  for (int i = 0; i < nb; i++) {
    int v = b[i].term == TERM_RETURN ? b[i].ret_var : -1;
    if (v < 0) continue;
    if (b[i].nev > 0 && b[i].ev[b[i].nev - 1].kind == EV_ESCAPE && b[i].ev[b[i].nev - 1].var == v)
      b[i].ev[b[i].nev - 1].gflags |= CF_RETURNED;
    for (int i2 = 0; i2 < nb; i2++)
      for (int k2 = 0; k2 < b[i2].nev; k2++) {
        const ir_event *a = &b[i2].ev[k2];
        if (a->kind == EV_CALL && a->result_var == v && ft_is_fresh(a->callee)) lower_mark_interesting(L, v);
      }
  }
  held_events(L, f, b, nb);
  /* changes to containers this function stored where they are held: building them */
  ft_unit *u = unit_of(L);
  for (int i = 0; i < nb && u->stored.n; i++)
    for (int k = 0; k < b[i].nev; k++) {
      ir_event *e = &b[i].ev[k];
      int a = e->kind == EV_CALL || e->kind == EV_OBJMACRO ? ft_mutator_arg(e->callee) : -1;
      const char *last = member_of_text(a >= 0 && a < IR_MAX_ARGS ? e->argtext[a] : NULL);
      if (!last) continue;
      for (int j = 0; j < u->stored.n; j++)
        if (!strcmp(u->stored.v[j], last)) { e->gflags |= CF_FILLS_NEW; break; }
    }
  u->stored.n = 0;
  u->srcs.n = 0;
}

/* ---------- variables at file scope: the module graph ---------- */

typedef struct refs_walk {
  lower *L;
  VEC(const char *) keys;
} refs_walk;

static enum CXChildVisitResult find_refs(CXCursor c, CXCursor parent, CXClientData d) {
  refs_walk *w = d;
  if (clang_getCursorKind(c) != CXCursor_DeclRefExpr) return CXChildVisit_Recurse;
  CXCursor r = clang_getCursorReferenced(c);
  gref g;
  const char *key = NULL;
  if (clang_getCursorKind(r) == CXCursor_FunctionDecl) {
    CXFile f = NULL;
    unsigned l, col, o;
    clang_getFileLocation(clang_getCursorLocation(clang_getCanonicalCursor(r)), &f, &l, &col, &o);
    if (f && lower_in_project(w->L, f)) key = lower_decl_key(w->L, r);
  } else if (global_of(w->L, r, &g)) {
    key = g.key;
  }
  if (key) {
    for (int i = 0; i < w->keys.n; i++)
      if (!strcmp(w->keys.v[i], key)) return CXChildVisit_Continue;
    vec_push(lower_arena(w->L), w->keys, key);
  }
  return CXChildVisit_Continue;
}

void ft_lower_var(lower *L, CXCursor var) {
  if (!clang_isCursorDefinition(var)) return;
  CXString ts = clang_getTypeSpelling(clang_getCanonicalType(clang_getCursorType(var)));
  const char *t = clang_getCString(ts);
  uint8_t kind = GK_PLAIN;
  if (t && strstr(t, "PyModuleDef_Slot")) kind = GK_MODULE_SLOTS;
  else if (t && strstr(t, "PyModuleDef")) kind = GK_MODULE_DEF;
  clang_disposeString(ts);
  refs_walk w = {L, {0}};
  CXCursor init = clang_Cursor_getVarDeclInitializer(var);
  /* a table of numbers (mrab-regex's Unicode tables) names nothing */
  if (!clang_Cursor_isNull(init) && lower_names_anything(L, init)) clang_visitChildren(init, find_refs, &w);
  if (kind == GK_PLAIN && w.keys.n == 0) return;
  ir_global g;
  memset(&g, 0, sizeof g);
  gref gr;
  if (!global_of(L, var, &gr)) return;
  g.usr = gr.key;
  g.name = gr.name;
  g.loc = lower_loc(L, clang_getCursorLocation(var), NULL, NULL);
  g.kind = kind;
  if (kind != GK_PLAIN) g.gil_decl = gil_decl_in(L, var, true);
  g.refs = w.keys.v;
  g.nrefs = w.keys.n;
  ir_tu *u = lower_unit(L);
  /* grown in the arena: doubled at each power of two */
  if ((u->nglobals & (u->nglobals - 1)) == 0) {
    int cap = u->nglobals ? u->nglobals * 2 : 4;
    ir_global *nv = arena_alloc(lower_arena(L), sizeof(ir_global) * (size_t)cap);
    if (u->nglobals) memcpy(nv, u->globals, sizeof(ir_global) * (size_t)u->nglobals);
    u->globals = nv;
  }
  u->globals[u->nglobals++] = g;
}
