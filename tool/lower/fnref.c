/* fnref.c: functions' addresses — passed to a call, stored in a global or
 * a member, kept in a local or in a member of a local struct, listed in a
 * global's initializer — and the slots calls through a pointer read.
 *
 * What becomes of a function whose address is taken is decided when the
 * program is linked (entry.c): a thread's start routine, a handler the
 * runtime or the OS runs, a callback of a C library. The lowering records
 * where the address goes: an EV_FNREF event before the call it is passed to,
 * and an ir_fnstore for every store. */
#include <string.h>
#include "lower_int.h"

/* A function named (not called) by an expression: f or &f. */
bool function_ref(lower *L, int e, CXCursor *fn) {
  e = strip(L, e);
  if (kind_of(L, e) == CXCursor_UnaryOperator) {
    if (nkids(L, e) != 1 || unop(L, e) != OP_ADDROF) return false;
    e = strip(L, kid(L, e, 0));
  }
  if (kind_of(L, e) != CXCursor_DeclRefExpr) return false;
  CXCursor d = node_ref(L, e);
  if (d.kind != CXCursor_FunctionDecl) return false;
  *fn = d;
  return true;
}

/* The functions an expression may name: f, &f, or either branch of
 * `threaded ? real_get : no_op`. */
static int function_refs(lower *L, int e, CXCursor *out, int max) {
  if (max <= 0) return 0;
  if (function_ref(L, e, out)) return 1;
  e = strip(L, e);
  if (kind_of(L, e) != CXCursor_ConditionalOperator) return 0;
  int n = 0;
  for (int i = 1; i < nkids(L, e) && i <= 2; i++) n += function_refs(L, kid(L, e, i), out + n, max - n);
  return n;
}

/* A local given a function's address (cb = on_data;), remembered so that
 * passing the local to a thread creator or callback API names the function. */
void note_fnvar(lower *L, int v, int value) {
  CXCursor fn;
  if (v < 0 || !function_ref(L, value, &fn)) return;
  struct fnvar fv = {v, fn};
  vec_push(L->A, L->fnvars, fv);
}

/* Where a call through a pointer, or a store of a function's address,
 * goes: a global or static variable ("var:USR"), or a member of a struct
 * type, whatever the object ("field:USR"). Locals and parameters: NULL. NAME
 * gets the variable's or the member's name; HEADER, the file declaring the
 * variable when a library or CPython declares it (a hook such as
 * rl_startup_hook or PyOS_InputHook), else NULL. */
const char *slot_of(lower *L, int e, const char **name, const char **header, bool *python) {
  e = strip(L, e);
  if (name) *name = NULL;
  if (header) *header = NULL;
  if (python) *python = false;
  int k = kind_of(L, e);
  if (k != CXCursor_DeclRefExpr && k != CXCursor_MemberRefExpr) return NULL;
  CXCursor d = node_ref(L, e);
  if (k == CXCursor_DeclRefExpr && d.kind == CXCursor_VarDecl && clang_Cursor_hasVarDeclGlobalStorage(d)) {
    if (name) *name = cx_str(L, clang_getCursorSpelling(d));
    if (header) {
      unsigned off;
      file_info *fi = offset_of(L, clang_getCursorLocation(clang_getCanonicalCursor(d)), &off);
      /* a library's variable (rl_startup_hook: declared in a header and
       * defined nowhere in this unit, as a library's function has no body
       * here), or CPython's (hook rows decide) */
      if (fi && (fi->cls != FC_PROJECT ||
                 (fi->file != L->main_file && clang_Cursor_isNull(clang_getCursorDefinition(d)))))
        *header = fi->path;
      if (python) *python = fi && fi->cls == FC_PYTHON;
    }
    return arena_printf(L->A, "var:%s", cx_str(L, clang_getCursorUSR(d)));
  }
  if (k == CXCursor_MemberRefExpr && d.kind == CXCursor_FieldDecl) {
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
    const callee_info *ci = callee_of(L, *fn);
    r->fn = ci->name;
    r->fn_usr = callee_key(L, ci);
  }
  ir_event *e = add_event(L, EV_FNREF, loc);
  e->fnref = r;
  e->callee = r->fn;
  e->callee_usr = r->fn_usr;
  return r;
}

/* ---------- initializers ---------- */

/* The members of an initializer that name functions: FN(ctx, member, function)
 * for each, with the member (a FieldDecl) or a null cursor where the value
 * is not a member's (a scalar pointer, an array element of pointers). Walks
 * designated ({.read = f}) and positional ({f, g}) forms, nested structs and
 * arrays of structs (tables). */
typedef void init_fn(lower *L, void *ctx, CXCursor field, CXCursor fn, gc_loc loc);

typedef struct field_list { CXCursor v[INIT_MAX_FIELDS]; int n; } field_list;

static enum CXVisitorResult collect_field(CXCursor c, CXClientData d) {
  field_list *l = d;
  if (l->n < INIT_MAX_FIELDS) l->v[l->n++] = c;
  return CXVisit_Continue;
}

static void scan_init(lower *L, int e, CXType t, CXCursor field, init_fn *fn, void *ctx, int depth);

/* { values } of a struct: each value with its member, by position or by
 * designator */
static void scan_record_init(lower *L, int e, CXType t, init_fn *fn, void *ctx, int depth) {
  field_list fields = {.n = 0};
  clang_Type_visitFields(t, collect_field, &fields);
  for (int i = 0; i < nkids(L, e); i++) {
    int value = kid(L, e, i);
    CXCursor member = i < fields.n ? fields.v[i] : clang_getNullCursor();
    /* a designator: an expression holding the member's reference and the value */
    int ns = nkids(L, value);
    if (ns >= 2 && kind_of(L, kid(L, value, 0)) == CXCursor_MemberRef) {
      member = node_ref(L, kid(L, value, 0));
      value = kid(L, value, ns - 1);
    }
    if (!clang_Cursor_isNull(member))
      scan_init(L, value, clang_getCursorType(member), member, fn, ctx, depth + 1);
  }
}

static void scan_init(lower *L, int e, CXType t, CXCursor field, init_fn *fn, void *ctx, int depth) {
  if (depth > INIT_MAX_DEPTH) return;
  CXCursor f;
  if (function_ref(L, e, &f)) { fn(L, ctx, field, f, node_loc(L, e)); return; }
  e = strip(L, e);
  if (kind_of(L, e) != CXCursor_InitListExpr) return;
  t = clang_getCanonicalType(t);
  if (t.kind == CXType_Record) {
    scan_record_init(L, e, t, fn, ctx, depth);
  } else if (t.kind == CXType_ConstantArray || t.kind == CXType_IncompleteArray) {
    for (int i = 0; i < nkids(L, e); i++) scan_init(L, kid(L, e, i), clang_getArrayElementType(t), field, fn, ctx, depth + 1);
  }
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
  const callee_info *ci = callee_of(L, fn);
  st.owner = g->owner;
  st.fn = ci->name;
  st.fn_usr = callee_key(L, ci);
  st.loc = loc;
  vec_push(L->A, L->stores, st);
}

void scan_global_init(lower *L, CXCursor var, int init) {
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

void scan_local_init(lower *L, int decl, int init, int v) {
  scan_init(L, init, clang_getCursorType(nd(L, decl)->c), clang_getNullCursor(), fieldfn_from_init, &v, 0);
}

/* ---------- stores ---------- */

/* The local a struct member expression belongs to (s.f, s.u.f: glibc's
 * sa_handler is sa.__sigaction_handler.sa_handler), or -1. */
static int member_base_local(lower *L, int member) {
  int m = strip(L, member);
  for (int depth = 0; depth < MEMBER_MAX_DEPTH && kind_of(L, m) == CXCursor_MemberRefExpr; depth++) {
    if (nkids(L, m) == 0) return -1;
    int base = strip(L, kid(L, m, 0));
    int v = local_of(L, base);
    if (v >= 0) return v;
    m = base;
  }
  return -1;
}

/* A function's address stored: into a global or a member (a slot), or into
 * a member of a local struct that will be passed by address. */
static void store_fnref(lower *L, int lhs, CXCursor fn, gc_loc loc) {
  int sl = strip(L, lhs);
  if (kind_of(L, sl) == CXCursor_MemberRefExpr) {
    int v = member_base_local(L, sl);
    if (v >= 0) {
      struct fieldfn ff = {v, cx_str(L, clang_getCursorSpelling(nd(L, sl)->c)), fn};
      vec_push(L->A, L->fieldfns, ff);
    }
  }
  const char *name, *header;
  bool python;
  const char *slot = slot_of(L, sl, &name, &header, &python);
  if (!slot) return;
  const callee_info *ci = callee_of(L, fn);
  ir_fnstore st = {slot, NULL, name, ci->name, callee_key(L, ci), loc};
  vec_push(L->A, L->stores, st);
  ir_fnref *r = add_fnref(L, loc, FNREF_STORE, -1, &fn);
  r->slot = slot;
  r->field = name;
  r->header = header;
  r->registrar_python = python;
}

void store_fnrefs(lower *L, int lhs, int rhs, gc_loc loc) {
  CXCursor fns[FNREF_CHOICES];
  int nfns = function_refs(L, rhs, fns, FNREF_CHOICES);
  for (int i = 0; i < nfns; i++) store_fnref(L, lhs, fns[i], loc);
}

/* ---------- passed to a call ---------- */

/* The EV_FNREFs of one argument: f, &f, a local holding f, a local struct
 * with members holding functions, a global struct passed by address. */
static void arg_fnrefs(lower *L, int arg, int i, gc_loc loc) {
  CXCursor fn;
  if (function_ref(L, arg, &fn)) {
    add_fnref(L, loc, FNREF_ARG, i, &fn);
    return;
  }
  int a = strip(L, arg);
  if (kind_of(L, a) == CXCursor_UnaryOperator && unop(L, a) == OP_ADDROF)
    a = nkids(L, a) == 1 ? strip(L, kid(L, a, 0)) : a;
  int v = local_of(L, a);
  for (int k = 0; v >= 0 && k < L->fnvars.n; k++)
    if (L->fnvars.v[k].var == v) add_fnref(L, loc, FNREF_ARG, i, &L->fnvars.v[k].fn);
  for (int k = 0; v >= 0 && k < L->fieldfns.n; k++)
    if (L->fieldfns.v[k].var == v) add_fnref(L, loc, FNREF_MEMBER, i, &L->fieldfns.v[k].fn)->field =
          L->fieldfns.v[k].field;
  if (v >= 0 || kind_of(L, a) != CXCursor_DeclRefExpr) return;
  CXCursor d = node_ref(L, a);
  if (d.kind == CXCursor_VarDecl && clang_Cursor_hasVarDeclGlobalStorage(d) &&
      clang_getCanonicalType(clang_getCursorType(d)).kind == CXType_Record)
    add_fnref(L, loc, FNREF_GLOBAL, i, NULL)->slot = arena_printf(L->A, "var:%s", cx_str(L, clang_getCursorUSR(d)));
}

/* The functions a call is given, each an EV_FNREF before the call's own
 * event: directly (f, &f, a local holding f), as members of a local struct
 * passed by address (struct sigaction), or a global table passed by address
 * (static struct fuse_operations ops = {...}). */
void fnref_events(lower *L, int call, const callee_info *ci, int nargs, gc_loc loc) {
  for (int i = 0; i < nargs; i++) {
    int mark = L->blocks.v[L->cur].nev;
    arg_fnrefs(L, arg_node(L, call, nargs, i), i, loc);
    /* what every new EV_FNREF of this argument says of the call */
    ir_block *b = &L->blocks.v[L->cur];
    for (int k = mark; k < b->nev; k++) {
      ir_fnref *r = (ir_fnref *)b->ev[k].fnref;
      r->registrar = ci->name;
      r->registrar_usr = callee_key(L, ci);
      r->registrar_python = ci->python;
      r->registrar_defined = callee_defined(L, ci);
      r->header = ci->decl_file ? ci->decl_file->path : NULL;
      CXCursor parm = i < clang_Cursor_getNumArguments(ci->decl) ? clang_Cursor_getArgument(ci->decl, (unsigned)i)
                                                                 : clang_getNullCursor();
      if (!clang_Cursor_isNull(parm)) {
        const char *pn = cx_str(L, clang_getCursorSpelling(parm));
        r->param = *pn ? pn : NULL;
        r->param_type = cx_str(L, clang_getTypeSpelling(clang_getCursorType(parm)));
      }
    }
  }
}
