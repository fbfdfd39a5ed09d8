/* lower_int.h: what the files of the lowering share, and nothing the rest of
 * the tool sees (lower.h is the lowering's interface).
 *
 * The lowering reads libclang's cursors as few times as it can, because
 * every call into libclang's C API costs more than the work done with its
 * answer:
 *
 *   unit.c     one walk of the unit's top level: the macro expansions in the
 *              project's files (which macro the user wrote where), the
 *              function definitions and the globals; then each function is
 *              lowered and each global's initializer read for tables
 *   tree.c     a function's cursors, visited once (one clang_visitChildren)
 *              into a compact tree of its own; a node's other properties —
 *              where it starts, what it refers to, its value, its operator —
 *              are asked of libclang when first needed, and kept
 *   source.c   files, and the file's own text: a location is a file offset
 *              until an event needs its line and column, which come from the
 *              text; operator spellings and condition texts come from a small
 *              lexer over the text, not from libclang's tokenizer
 *   callee.c   what a call site needs to know of the function it calls,
 *              worked out once per declaration
 *   stmt.c, expr.c, cond.c, fnref.c, finish.c
 *              the lowering proper, statement by statement and expression by
 *              expression, into blocks, events and edges (ir.h)
 *   free_threading.c
 *              what the free-threading rules need (uses of globals, the module
 *              graph, critical sections), through the hooks of lower_ft.h
 */
#ifndef GILCHECK_LOWER_INT_H
#define GILCHECK_LOWER_INT_H
#include <clang-c/Index.h>
#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "ir.h"
#include "map.h"

/* ---------- limits ---------- */

#define LOWER_MAX_LOOP_DEPTH 256   /* loops and switches open at once (break/continue targets) */
#define LOWER_MAX_SWITCH_DEPTH 64  /* switches open at once */
#define LOWER_MAX_CALL_ARGS 64     /* a call's arguments lowered (the rest are not looked at) */
#define KEY_MAX_LEN 400            /* a condition's structural key, in bytes, before it is dropped */
#define KEY_MAX_DEPS 8             /* locals one correlated condition may read */
#define KEY_MAX_READS 8            /* members and globals one correlated condition may read */
#define PURE_MAX_DEPTH 8           /* pure accessors calling pure accessors, deepest */
#define STORE_MAX_NAMES 4          /* members and globals one store is known to write */
#define SHORT_TEXT_MAX 48          /* an argument spelled for the blocking checks, in bytes */
#define COND_TEXT_MAX 160          /* a condition's text for notes, in bytes, before "..." */
#define OP_SCAN_LIMIT 64           /* bytes searched for an operator token after its operand */
#define POSTFIX_SCAN_LIMIT 16      /* bytes searched for a postfix ++ or -- */
#define FNREF_CHOICES 8            /* functions one expression may name (both sides of ?:) */
#define INIT_MAX_DEPTH 8           /* nesting of initializers searched for functions */
#define INIT_MAX_FIELDS 64         /* members of one struct matched to positional initializers */
#define MEMBER_MAX_DEPTH 8         /* s.u.f: members followed back to the local they belong to */
#define PY_HEADER_DEPTH 2          /* a CPython header is in a directory holding Python.h, or one below */
#define SRC_SET_BY_CALL (-2)       /* EV_ASSIGN's src_var: the call just before sets the local */
#define SITE_ANY_MEMORY (-2)       /* EV_ASSIGN's site: a store to memory, what it writes not noted */

/* ---------- files ---------- */

enum file_class { FC_PROJECT = 1, FC_SYSTEM, FC_PYTHON };

typedef struct file_info {
  int cls;
  const char *path;
  CXFile file;
  const char *text;          /* the file's contents, as libclang read them (lazily) */
  size_t size;
  unsigned *lines;           /* offset of the start of each line (lazily) */
  unsigned nlines;
  bool have_text, have_lines;
  unsigned last_line;        /* the line index found last (locations come in order) */
  VEC(unsigned) objmacros;   /* offsets of expansions of object macros (or their aliases), in order */
  VEC(unsigned) includes;    /* offsets of #include directives */
  bool unsorted;             /* objmacros or includes out of order (a file included twice) */
} file_info;

/* ---------- a function's tree ---------- */

/* One cursor of the function being lowered. Nodes are stored in the order
 * libclang visits them (pre-order), so a node's descendants follow it, up
 * to 'end'. Everything after 'kind' is computed on first use. */
typedef struct tnode {
  CXCursor c;
  int parent;
  int end;                   /* one past the last descendant */
  int kfirst, nkids;         /* children: tree.kids[kfirst .. kfirst + nkids) */
  uint16_t kind;             /* enum CXCursorKind */
  uint16_t have;             /* HAVE_* bits */
  int8_t op;                 /* enum op (HAVE_OP) */
  bool int_ok;               /* HAVE_INT: an integer constant, value in ival */
  int ref;                   /* HAVE_REF: index into tree.refs, the referenced cursor */
  unsigned off;              /* HAVE_BEGIN: where it starts, in file coordinates */
  file_info *file;
  long long ival;
} tnode;

enum { HAVE_BEGIN = 1, HAVE_OP = 2, HAVE_INT = 4, HAVE_REF = 8 };

typedef struct tree {
  tnode *nodes;
  int n, cap;
  int *kids;                 /* child indices, grouped by parent */
  int nkids_total, cap_kids;
  int *stack;                /* the open nodes while visiting */
  int nstack, cap_stack;
  CXCursor *refs;            /* referenced cursors (HAVE_REF) */
  int nrefs, cap_refs;
} tree;

/* ---------- the unit and the function being lowered ---------- */

typedef struct raw_var {
  CXCursor decl;
  const char *name;
  bool addr_taken;
  bool interesting;      /* used with a GIL or lifecycle API */
  bool const_assigned;   /* given a constant somewhere (x = 0, x = 1, x = NULL) */
  bool param;            /* a parameter of the function */
  bool passed_on;        /* passed to a function of the project (its facts may decide the callee's path) */
  int ntests;            /* conditions testing its truth */
  int tracked;           /* index into fn->var_names, or -1 */
} raw_var;

typedef struct raw_cond {
  int node;              /* the condition's node: its key is built when it matters */
  int var;               /* raw var when it is a plain truth test or a comparison with a
                            constant (cmp), else -1 */
  bool cmp;              /* var cmp_op cmp_value (ir_cond's fields): COND_CMP when var is tracked */
  const char *key;       /* structural key (finish.c), NULL when it has side effects */
  bool key_done;         /* key and deps built */
  int deps[KEY_MAX_DEPS];/* raw vars it reads */
  int ndeps;
  const char *reads[KEY_MAX_READS];   /* members (".name") and globals ("g:name") it reads, in
                                         its own text or in the pure accessors it calls */
  int nreads;
  bool reads_deref;      /* it reads through * or [] */
} raw_cond;

/* A store the lowering noted for finish.c (ir_event's site): a store to
 * memory — a member, a global, through a pointer — which makes stale the
 * correlated conditions that read it; or a local given the value of a
 * side-effect-free expression, which correlates with that expression
 * tested elsewhere. */
typedef struct store_site {
  bool to_local;         /* a local set from an expression (var, cond), else a store to memory */
  int var;               /* to_local: the raw local */
  raw_cond cond;         /* to_local: the expression, as a condition whose key is built when asked */
  const char *names[STORE_MAX_NAMES];   /* to memory: the members (".name") and globals ("g:name") */
  int nnames;
  bool deref;            /* to memory: through * or [] (or more names than kept: anything) */
} store_site;

typedef struct label_info { const char *name; int block; int *cstack; int ncs; } label_info;
typedef struct pending_goto { int block; const char *label; int *cstack; int ncs; gc_loc loc; } pending_goto;
struct fnvar { int var; CXCursor fn; };                       /* a local holding a function's address */
struct fieldfn { int var; const char *field; CXCursor fn; };  /* a member of a local struct given one */
struct jump { int brk, cont, depth; };
struct sw { int block; bool has_default; };

/* What a call site needs to know about the function it calls, worked out
 * once per declaration (callee.c). */
typedef struct callee_info {
  CXCursor decl;
  struct callee_info *next;   /* another declaration with the same hash */
  const char *name;
  const char *key;            /* callee_key: its USR, with the unit's path for a static (key_done) */
  const api_fact *api;
  const objmacro_fact *objmacro;  /* a static inline of the CPython headers an OBJMACRO row names */
  const blocking_fact *blocking;
  file_info *decl_file;       /* the file of its first declaration */
  bool python, system;        /* declared in a CPython header, a system header */
  bool builtin;               /* a compiler builtin that is no event */
  bool noreturn;
  bool facts_done, key_done, annot_done, defined_done, defined;
  uint8_t annot;
  uint8_t pure;               /* callee_pure: PURE_* */
  bool reads_deref;           /* pure: it reads through * or [] */
  uint8_t nreads;
  const char *reads[KEY_MAX_READS];   /* pure: the members it reads (".name") */
} callee_info;

enum { PURE_UNASKED = 0, PURE_ASKING, PURE_YES, PURE_NO };

typedef struct lower {
  arena *A;
  CXTranslationUnit tu;
  const char *workdir;
  ir_tu *out;
  VEC(ir_func *) funcs;
  VEC(ir_entry_hint) hints;
  VEC(ir_fnstore) stores;   /* functions' addresses stored in globals and members (the unit's) */
  pairmap files;            /* CXFile -> file_info* */
  CXFile last_file;         /* the file asked for last, and its info */
  file_info *last_info;
  strmap dirs;              /* directory -> 1 (it holds Python.h) / 2 (it does not) */
  pairmap macros;           /* (CXFile, offset) -> const char* macro name */
  pairmap aliases;          /* (CXFile, offset) -> the object macro a project macro stands for */
  pairmap alias_cache;      /* macro definition -> that name, or (void*)1 for none */
  pairmap callees;          /* declaration cursor hash -> callee_info* */
  pairmap names;            /* declaration -> its name (correlation keys) */
  CXFile main_file;         /* the unit's own file */
  tree T;
  /* per function */
  ir_func *fn;
  file_info *fn_file;       /* the file the function's body is in */
  bool fn_claims;           /* object macros may start inside the body: check expressions */
  bool fn_objmacros;        /* the body may hold an object-internals macro (fn_claims at its start) */
  int fn_claims_left;       /* of those in the body's own text, how many are not claimed yet
                               (-1: some may come from a file included in the body) */
  unsigned fn_start, fn_end;/* the body's extent in fn_file */
  bool claims_here;         /* the statement being lowered holds such an expansion in its text */
  unsigned range_end;       /* where the text of the statement being lowered ends, at the latest */
  bool fn_in_main;          /* the body is in the main file */
  VEC(ir_block) blocks;
  int cur;
  VEC(raw_var) vars;
  int *vtab;                /* raw var index by declaration, open addressing (-1: empty) */
  unsigned vtab_cap;
  VEC(raw_cond) rconds;
  VEC(ir_cond) conds;
  VEC(ir_region) regions;
  VEC(int) cstack;          /* region index or -1 per open compound statement */
  struct jump jumps[LOWER_MAX_LOOP_DEPTH];
  int njumps;
  struct sw sws[LOWER_MAX_SWITCH_DEPTH];
  int nsws;
  VEC(label_info) labels;
  VEC(pending_goto) gotos;
  pairmap claimed;          /* macro expansions already turned into an event */
  VEC(struct fnvar) fnvars;
  VEC(struct fieldfn) fieldfns;
  VEC(store_site) sites;     /* the stores events name by their site (finish.c) */
  int origin;               /* the branching node asked about last, and whether it is a macro's */
  bool origin_in_macro;
  const char *abandon;
  int nparams;              /* the function's parameters: raw locals 0 .. nparams-1 */
  uint16_t py_version;      /* the CPython headers' version, 311 for 3.11 (0: not known) */
  void *ft;                 /* free_threading.c's own state for the unit (lower_ft_state) */
} lower;

/* ---------- source.c: files, locations, text ---------- */

const char *cx_str(lower *L, CXString s);
file_info *file_of(lower *L, CXFile f);
bool file_text(lower *L, file_info *fi, const char **text, size_t *size);
gc_loc loc_at(lower *L, file_info *fi, unsigned off);
/* The place the user wrote: for a macro argument, where the argument is;
 * for a macro body, where the macro was used. */
gc_loc loc_of(lower *L, CXSourceLocation sl);
/* The file and offset of a location, as clang_getFileLocation gives them. */
file_info *offset_of(lower *L, CXSourceLocation sl, unsigned *off);
/* Where a location is spelled (a macro's definition, for a token of its body). */
file_info *spelling_of(lower *L, CXSourceLocation sl, unsigned *off);
/* The first token at or after OFF in the file, skipping comments, as
 * libclang's tokenizer would give it for the range [OFF, OFF + LIMIT);
 * copied into OUT. */
bool token_after(lower *L, file_info *fi, unsigned off, unsigned limit, char *out, size_t outsz);
/* The same, and where that token starts and ends. */
bool token_span_after(lower *L, file_info *fi, unsigned off, unsigned limit, char *out, size_t outsz,
                      unsigned *start, unsigned *stop);
/* The tokens of [S, E) (at least the first, as clang_tokenize does), each
 * given to FN with its spelling ("" for a comment), its offset and whether it
 * is an identifier; FN returns false to stop. */
typedef bool token_fn(void *ctx, const char *tok, unsigned off, bool ident);
void tokens_in(lower *L, file_info *fi, unsigned s, unsigned e, token_fn *fn, void *ctx);
/* The text of [S, E) of the file. */
const char *text_between(lower *L, file_info *fi, unsigned s, unsigned e);
/* [S, E) token by token, comments and runs of whitespace as one space; past
 * COND_TEXT_MAX bytes, cut after the last whole token that fits and "...". */
const char *normalized_text(lower *L, file_info *fi, unsigned s, unsigned e);
/* Does [S, E) of the file hold an identifier (or a character no token
 * starts with)? True too when the text is not at hand. */
bool has_identifier(lower *L, file_info *fi, unsigned s, unsigned e);
/* Where the token at OFF ends. */
unsigned token_end(lower *L, file_info *fi, unsigned off);
/* Where the token after OFF ends when it is SPELLING, else 0. */
unsigned token_next_is(lower *L, file_info *fi, unsigned off, const char *spelling);
/* Where the bracket group whose opening bracket ends at OPEN_END closes
 * (OPEN_END when it does not). */
unsigned group_end(lower *L, file_info *fi, unsigned open_end);
/* E moved past the closing brackets of those [S, E) leaves open. */
unsigned balance_end(lower *L, file_info *fi, unsigned s, unsigned e);

/* ---------- tree.c: a function's tree and its nodes' properties ---------- */

int tree_build(lower *L, CXCursor root);
void tree_reset(lower *L);
static inline tnode *nd(lower *L, int n) { return &L->T.nodes[n]; }
static inline int kind_of(lower *L, int n) { return L->T.nodes[n].kind; }
static inline int nkids(lower *L, int n) { return L->T.nodes[n].nkids; }
static inline int kid(lower *L, int n, int i) { return L->T.kids[L->T.nodes[n].kfirst + i]; }
static inline bool is_expr_kind(int k) { return k >= CXCursor_FirstExpr && k <= CXCursor_LastExpr; }
static inline bool is_stmt_kind(int k) { return k >= CXCursor_FirstStmt && k <= CXCursor_LastStmt; }
/* Where a node starts (the start of its extent), in file coordinates. */
file_info *node_begin(lower *L, int n, unsigned *off);
gc_loc node_loc(lower *L, int n);
/* The same, when a macro expansion may start there: NULL when the node
 * starts with a token written in the main file (which starts no macro), and
 * the body being lowered is in the main file. */
file_info *node_macro_begin(lower *L, int n, unsigned *off);
/* Where a node starts, as a libclang location (not kept). */
CXSourceLocation node_begin_sl(lower *L, int n);
CXCursor node_ref(lower *L, int n);
bool node_int(lower *L, int n, long long *out);
int strip(lower *L, int n);

enum op {
  OP_UNKNOWN, OP_ASSIGN, OP_COMPOUND_ASSIGN, OP_LAND, OP_LOR, OP_COMMA, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
  OP_OTHER,
  OP_ADDROF, OP_DEREF, OP_LNOT, OP_INCDEC, OP_UOTHER
};
enum op binop(lower *L, int n);
enum op unop(lower *L, int n);
/* The token after a binary operator's left operand: its operator, as written. */
bool binop_spelling(lower *L, int n, char *out, size_t outsz);
/* The operator of a binary, compound-assignment or unary operator node, as
 * written, only when it is surely that one (what a correlation key or a
 * pure accessor may rest on); false when it cannot be told. */
bool op_exact(lower *L, int n, char *out, size_t outsz);
/* A cursor's extent in file coordinates, when it starts and ends in one file. */
file_info *extent_offsets(lower *L, CXCursor c, unsigned *s, unsigned *e);

/* ---------- blocks and events (expr.c) ---------- */

/* The place of node N, for an event that finish.c may yet drop (a store to a
 * local that is not tracked): looked up only for the events kept. */
extern const char LOC_LATER[];
static inline gc_loc loc_later(int n) { return (gc_loc){LOC_LATER, (unsigned)n, 0}; }

int new_block(lower *L);
void add_edge(lower *L, int from, int to, int cond, bool sense);
ir_event *add_event(lower *L, int kind, gc_loc loc);
void end_path(lower *L, int term, gc_loc loc, int ret_var);
void leave_regions(lower *L, int depth, gc_loc loc, const char *how);

/* ---------- locals and constants (expr.c) ---------- */

int add_var(lower *L, int decl);
int local_of(lower *L, int e);
int var_of_ref(lower *L, int ref);
bool is_null_const(lower *L, int e);
bool const_int(lower *L, int e, long long *out);
bool const_expr(lower *L, int e, long long *out);

/* ---------- expressions, conditions, statements ---------- */

void lower_expr(lower *L, int e, int res_to, int res_var);
/* Lowers condition E, branching to T when true and F when false; ORIGIN is
 * the statement or the operator that branches (the if, the loop, ?:, && or ||). */
void lower_cond(lower *L, int e, int t, int f, int origin);
void lower_stmt(lower *L, int s);
void lower_decl(lower *L, int d);
/* The local V given RHS's value by event E: noted for correlation (finish.c). */
void note_local_value(lower *L, ir_event *e, int v, int rhs);
/* local V = RHS, not a call (expr.c): the EV_ASSIGN with what is known of the value. */
void assign_local_value(lower *L, int v, int rhs, gc_loc loc);
const char *cond_key(lower *L, raw_cond *rc);
void finish_function(lower *L);
void resolve_gotos(lower *L);

/* ---------- functions' addresses (fnref.c) ---------- */

bool function_ref(lower *L, int e, CXCursor *fn);
void note_fnvar(lower *L, int v, int value);
void fnref_events(lower *L, int call, const callee_info *ci, int nargs, gc_loc loc);
void store_fnrefs(lower *L, int lhs, int rhs, gc_loc loc);
const char *slot_of(lower *L, int e, const char **name, const char **header, bool *python);
void scan_local_init(lower *L, int decl, int init, int v);
void scan_global_init(lower *L, CXCursor var, int init);
int arg_node(lower *L, int call, int nargs, int i);

/* ---------- callee.c: declarations, once each ---------- */

/* A declaration's name, and whether it is a builtin that makes no event. */
const callee_info *callee_of(lower *L, CXCursor decl);
/* The rest, for a call: where it is declared, api.def's facts, noreturn. */
const callee_info *callee_facts(lower *L, const callee_info *ci);
const char *callee_key(lower *L, const callee_info *ci);
uint8_t callee_annot(lower *L, const callee_info *ci);
bool callee_defined(lower *L, const callee_info *ci);
/* Is the function a pure accessor, whose call a correlation key may hold: a
 * static inline whose body is `return E;`, E reading its parameters, what
 * they point to, enumerators and literals, with no store, nothing volatile
 * and no call but to other pure accessors? */
bool callee_pure(lower *L, const callee_info *ci);
uint8_t annotations_of(lower *L, CXCursor fn);
/* gilcheck's annotate("gilcheck:...") attribute: its annot_bits, or 0. */
uint8_t annotation_bit(CXCursor attr);
void add_hint(lower *L, CXCursor fndecl, int kind, gc_loc loc, const char *why);

/* ---------- unit.c ---------- */

const char *macro_at(lower *L, file_info *f, unsigned off);
/* Does [S, E] of the body's file hold the start of an object macro's expansion? */
bool claimable_within(lower *L, unsigned s, unsigned e);
const char *macro_alias_at(lower *L, file_info *f, unsigned off);
void lower_function(lower *L, CXCursor c);

#endif
