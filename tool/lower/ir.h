/* ir.h: the tool's own picture of a function, lowered once from libclang's
 * cursors (tool/lower/) and read by the engine (tool/engine/) and the rules.
 *
 * A function is a control-flow graph of basic blocks. Each block holds the
 * GIL-relevant events of its straight-line code in evaluation order — calls,
 * object-internals macro uses, assignments to the few locals worth tracking,
 * jumps that leave a macro-opened region — and ends in edges (each maybe
 * guarded by a condition), a return, or a noreturn call. */
#ifndef GILCHECK_IR_H
#define GILCHECK_IR_H
#include <stdbool.h>
#include <stdint.h>
#include "api.h"
#include "diag.h"

#define IR_MAX_ARGS 4
#define IR_MAX_VARS 32      /* tracked locals per function */
#define IR_MAX_KEYS 32      /* repeated conditions correlated per function */

typedef enum ev_kind {
  EV_CALL,          /* a call: direct (callee known by name), or through a global or a
                       member (slot), or through anything else (neither) */
  EV_OBJMACRO,      /* an object-internals macro (PyTuple_GET_ITEM ...) */
  EV_ASSIGN,        /* a store to a local: tracked value and/or killed conditions */
  EV_ESCAPE,        /* a tracked local's value is stored where others can reach it */
  EV_LEAVE_REGION,  /* a jump leaves a compound statement opened by a macro */
  EV_FNREF,         /* a function's address is passed to a call or stored (fnref) */
  EV_GLOBAL,        /* a variable of static storage defined in the project is read, written or
                       named (free threading); callee: its name, callee_usr: its key */
} ev_kind;

typedef enum global_access {   /* EV_GLOBAL: what the code does to the variable */
  GA_READ = 0,            /* reads its value */
  GA_WRITE,               /* assigns it, a member or an element (=, op=, ++, Py_CLEAR(g)) */
  GA_ADDR,                /* names it without reading it: &g, an array that decays, g passed to an
                             atomic operation */
} global_access;

enum global_flags {       /* EV_GLOBAL: what the variable is */
  GF_STATIC = 1,          /* static at file scope: this unit's alone */
  GF_LOCAL_STATIC = 2,    /* static inside a function */
  GF_CONST = 4,           /* const: never written */
  GF_ATOMIC = 8,          /* _Atomic, or only ever reached through atomic operations */
  GF_THREAD_LOCAL = 16,   /* _Thread_local, __thread: one per thread */
  GF_VOLATILE = 32,       /* volatile: meant to be shared, judged by the user */
  GF_LOCK = 64,           /* a lock (PyMutex, pthread_mutex_t, ...) or a once-flag */
  GF_MODULE_DEF = 128,    /* a PyModuleDef */
  GF_INTEGER = 256,       /* an integer, enum or floating-point scalar (a counter, a flag) */
  GF_POINTER = 512,       /* a pointer (PyObject *cache) */
  GF_MEMBER = 1024,       /* GA_WRITE: a member or an element of it, not the whole */
  GF_CREATES_MODULE = 2048, /* GF_MODULE_DEF: given to a call that creates a module (PyModule_Create,
                               PyModuleDef_Init) */
  GF_SINGLE_PHASE = 4096, /* GF_CREATES_MODULE: by single-phase initialisation (PyModule_Create) */
  GF_COMPOUND = 8192,     /* GA_WRITE: read and written at once (+=, ++) */
  GF_ADDRESS_OF = 16384,  /* GA_ADDR: its address is taken ('&g'), not an array decaying */
};

enum call_ft_flags {      /* EV_CALL, EV_OBJMACRO and EV_ESCAPE: gflags (free threading) */
  CF_LOCK_TAKE = 1,       /* a project macro named like a lock that expands to nothing in this build
                             (the lock of the free-threaded build): takes it */
  CF_LOCK_GIVE = 2,       /* ... gives it back */
  CF_FILLS_NEW = 4,       /* changes a container this function itself stored where it is held
                             (x->m = PyDict_New(); PyDict_SetItem(x->m, ...)): building, not changing */
  CF_RETURNED = 8,        /* EV_ESCAPE: the local the block's return returns (handed to the caller) */
  CF_IDENTITY_ONLY = 16,  /* EV_CALL of a dict lookup: its result is only an operand of '==' or '!='
                             (PyDict_GetItem(d, k) == Py_None), never kept, dereferenced or passed on */
  CF_STATIC_CALLEE = 32,  /* EV_CALL: the function called is static (only this unit calls it) */
};

typedef enum res_kind {   /* where a call's result goes */
  RES_OTHER = 0,          /* used in an expression, or unknown */
  RES_DISCARD,            /* expression statement: thrown away */
  RES_LOCAL,              /* assigned to a local (tracked in result_var when tracked) */
  RES_NONLOCAL,           /* stored through a pointer, into a field, or a global */
  RES_RETURN,             /* returned */
} res_kind;

typedef enum val_kind {   /* what an EV_ASSIGN stores */
  VAL_UNKNOWN = 0,
  VAL_ZERO,               /* NULL, 0 */
  VAL_NONZERO,            /* a non-null constant, &x, a string */
  VAL_COPY,               /* another tracked local's value */
} val_kind;

typedef enum fnref_how {
  FNREF_ARG = 0,          /* the function is argument 'arg' of the call that follows */
  FNREF_MEMBER,           /* it is a member of a local struct passed by address as argument 'arg' */
  FNREF_GLOBAL,           /* a global struct is passed by address as argument 'arg': its
                             initializer's members ('slot' names the global) */
  FNREF_STORE,            /* it is stored into 'slot' (a global, or a member of a struct type) */
} fnref_how;

/* Where a function's address goes (EV_FNREF). The event of the call it is
 * passed to follows it in the same block; what happens to the function is
 * decided when the program is linked: a thread's start routine, a handler the
 * runtime or the OS runs, or a callback of a C library (entry-states.md). */
typedef struct ir_fnref {
  uint8_t how;            /* fnref_how */
  int8_t arg;             /* the argument of the call, for ARG, MEMBER, GLOBAL */
  bool registrar_python;  /* the function called (STORE: the variable written) is declared in a CPython header */
  bool registrar_defined; /* the unit sees its body (a static inline in a header): not a library */
  const char *fn;         /* the function named (NULL for GLOBAL) */
  const char *fn_usr;
  const char *field;      /* MEMBER, STORE: the member (or the variable) written */
  const char *slot;       /* GLOBAL: "var:USR" of the struct passed; STORE: the slot written */
  const char *registrar;  /* the function called (NULL for STORE) */
  const char *registrar_usr;
  const char *header;     /* the file declaring the function called, or for STORE the
                             variable written when a library or CPython declares it */
  const char *param;      /* the called function's parameter at 'arg', or NULL */
  const char *param_type; /* its type as written, or NULL */
} ir_fnref;

typedef struct ir_event {
  uint8_t kind;           /* ev_kind */
  uint8_t result_to;      /* res_kind, for EV_CALL */
  uint8_t val;            /* val_kind, for EV_ASSIGN */
  int8_t nargs;
  int16_t var;            /* EV_ASSIGN / EV_ESCAPE: tracked var, or -1 (an EV_ASSIGN to no
                             tracked local may still make keys stale: a store to memory) */
  int16_t src_var;        /* EV_ASSIGN VAL_COPY */
  int16_t result_var;     /* EV_CALL: tracked var receiving the result, or -1 */
  int16_t argvar[IR_MAX_ARGS];   /* tracked var passed as argument i, or -1 */
  uint8_t argnull;        /* bit i: argument i is a null constant */
  uint8_t argnonnull;     /* bit i: argument i is surely not null (&x, a string, a non-zero constant) */
  uint8_t argconst;       /* bit i: argument i is an integer constant, argval[i] */
  bool has_const;         /* EV_ASSIGN: the value is the integer constant val_const */
  int region;             /* EV_LEAVE_REGION: index into fn->regions */
  uint32_t kills;         /* conditions (key bits) made stale by this event */
  gc_loc loc;             /* where the user wrote it (the macro use, not the header) */
  const char *macro;      /* the user-written macro expanded here, or NULL */
  const char *callee;     /* EV_CALL: the function called; EV_OBJMACRO: the macro;
                             EV_FNREF: the function whose address is taken */
  const char *callee_usr; /* EV_CALL/EV_FNREF: libclang USR, for linking across files */
  const api_fact *api;    /* EV_CALL: built-in knowledge, or NULL */
  bool python_api;        /* EV_CALL: declared in a CPython header */
  bool noreturn;          /* EV_CALL: callee declared noreturn */
  bool needs_gil;         /* EV_OBJMACRO */
  uint8_t callee_annot;   /* EV_CALL: annot_bits on the callee's declaration */
  const char *argtext[IR_MAX_ARGS]; /* spelling of short arguments (blocking checks) */
  int64_t argval[IR_MAX_ARGS];      /* EV_CALL: argument i's value when argconst says */
  int64_t val_const;                /* EV_ASSIGN: the constant stored, when has_const */
  const ir_fnref *fnref;  /* EV_FNREF: where the address goes */
  const char *callee_header; /* EV_CALL: the file declaring the callee, when not CPython's (a
                             library's header: which calls go into the same library) */
  const char *slot;       /* EV_CALL through a pointer: "var:USR" of a global or static, or
                             "field:USR" of a struct member; NULL otherwise */
  int callee_fn;          /* EV_CALL/EV_FNREF: program-wide function index, -1 unknown (set at link) */
  int callee_set;         /* EV_CALL through a slot: the functions stored there (program.c), or -1 */
  uint8_t gaccess;        /* EV_GLOBAL: global_access */
  uint8_t gil_only;       /* free threading: in a branch no free-threaded build compiles
                             (#if PY_VERSION_HEX < 0x030D0000, #ifndef Py_GIL_DISABLED)
                             (set on EV_GLOBAL, borrowed-reference calls and macros) */
  uint16_t gflags;        /* EV_GLOBAL: global_flags; EV_CALL, EV_OBJMACRO: call_ft_flags */
  const char *held;       /* free threading, EV_CALL and EV_OBJMACRO: how the arguments that are
                             locals (and, for a call of a project function, the others) are held,
                             "I=S,S I=S": argument I, the shapes of everything assigned to it
                             ("m:NAME" a member, "g:NAME" a global, "p:J" the value of the
                             function's parameter J); an argument missing when any of it is not
                             known (an address taken, a call's result, another kind of value) */
  int8_t key_src;         /* EV_ASSIGN: the key bit (COND_KEY) of the side-effect-free expression
                             whose truth the local takes, or -1 */
  int16_t site;           /* EV_ASSIGN: the lowering's own note of the store (finish.c), or -1
                             (SITE_ANY_MEMORY: a store to memory it did not note); -1 after it */
} ir_event;

typedef enum cond_kind {
  COND_OPAQUE = 0,        /* nothing known: both branches feasible */
  COND_VAR,               /* truth of a tracked local (x, !x, x != NULL, x == 0 ...) */
  COND_KEY,               /* a side-effect-free condition written more than once */
  COND_GIL,               /* PyGILState_Check(): true exactly when the GIL is held */
  COND_CALL,              /* the result of the call just before it (a project function) */
  COND_RUNTIME,           /* Py_IsInitialized() or Py_IsFinalizing(): is Python still there */
  COND_CMP,               /* a tracked local compared with an integer constant: var cmp_op cmp_value */
  COND_KIND_COUNT
} cond_kind;

typedef struct ir_cond {
  uint8_t kind;
  int8_t key;             /* COND_KEY: bit index */
  int16_t var;            /* COND_VAR */
  gc_loc loc;
  const char *text;       /* as written, for notes (whitespace as one space, cut after a whole
                             token and "..." past COND_TEXT_MAX bytes): the condition's own
                             text; a macro argument's text when it is one; the macro's
                             invocation when it is written in a macro's body. NULL when the
                             condition is in no file's text */
  bool text_negated;      /* the text is true when the condition is false (x == NULL) */
  bool runtime_ending;    /* COND_RUNTIME: true means Python is finalizing (Py_IsFinalizing),
                             not that it is alive (Py_IsInitialized) */
  bool in_macro_body;     /* the branch (the if, the loop, the ?:, && or ||) is in a macro's own
                             body — Py_CLEAR's if, g_return_if_fail's — not written by the user */
  uint8_t cmp_op;         /* COND_CMP: cmp_op */
  int64_t cmp_value;      /* COND_CMP: the constant */
} ir_cond;

typedef enum cmp_op { CMP_EQ = 0, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } cmp_op;

typedef struct ir_edge {
  int to;
  int16_t cond;           /* index into fn->conds, or -1: unconditional */
  bool sense;             /* the edge is taken when cond is this */
} ir_edge;

typedef enum term_kind {
  TERM_EDGES = 0,         /* continue along the edges */
  TERM_RETURN,            /* leave the function */
  TERM_NORETURN,          /* the path ends in a noreturn call */
} term_kind;

typedef enum ret_value {  /* what a return returns, when it is a constant */
  RET_UNKNOWN = 0,        /* not a constant (or nothing) */
  RET_ZERO,               /* 0 or NULL */
  RET_POSITIVE,           /* a positive constant */
  RET_NEGATIVE,           /* a negative constant (-1: the usual error) */
} ret_value;

typedef enum ret_kind {    /* the function's return type */
  RK_VOID = 0,            /* void, or anything else */
  RK_INTEGER,             /* an integer or enum */
  RK_POINTER,
} ret_kind;

typedef struct ir_block {
  ir_event *ev;
  int nev, cap_ev;
  ir_edge *succ;
  int nsucc, cap_succ;
  uint8_t term;
  gc_loc term_loc;        /* TERM_RETURN: the return, or the function's closing brace */
  int16_t ret_var;        /* TERM_RETURN: tracked var returned, or -1 */
  uint8_t ret_const;      /* TERM_RETURN: ret_value of a constant returned */
} ir_block;

typedef struct ir_region {  /* a compound statement opened by a macro */
  gc_loc loc;
  const char *macro;
  bool critical_section;
} ir_region;

enum annot_bits {          /* from gilcheck.h's annotate("gilcheck:...") */
  ANNOT_REQUIRES_GIL = 1,
  ANNOT_NO_GIL = 2,
  ANNOT_RELEASES_GIL = 4,
  ANNOT_ACQUIRES_GIL = 8,
};

typedef struct ir_func {
  const char *name;
  const char *usr;
  gc_loc loc;             /* the function's name in its definition */
  bool is_static;
  uint8_t annot;          /* annot_bits */
  uint8_t ret_kind;       /* ret_kind */
  uint8_t nparams;        /* parameters, up to IR_MAX_ARGS counted */
  uint16_t py_version;    /* the CPython headers' version the unit was parsed with, 311 for 3.11
                             (0: not known); notes word some effects by it */
  int16_t param_var[IR_MAX_ARGS]; /* the tracked local of parameter i, or -1 */
  ir_block *blocks;
  int nblocks;
  int entry;              /* entry block */
  const char **var_names; /* tracked locals */
  int nvars;
  ir_cond *conds;
  int nconds;
  ir_region *regions;
  int nregions;
  const char *abandoned;  /* why the engine gives up on this function, or NULL */
  uint8_t gil_decl;       /* gil_decl: PyUnstable_Module_SetGIL(m, ...) in its body (free threading),
                             in code this build compiles or in a branch it skips */
} ir_func;

/* Why a function's entry state is known: a method table, a thread creator. */
typedef struct ir_entry_hint {
  const char *usr;
  const char *name;
  uint8_t kind;           /* entry_kind */
  gc_loc loc;             /* where the table or the call is */
  const char *why;        /* "in the method table 'spam_methods'", "started by 'pthread_create'" */
} ir_entry_hint;

/* A function's address stored where calls through a pointer read it: an
 * assignment, or a global's initializer (a table of operations). */
typedef struct ir_fnstore {
  const char *slot;       /* "var:USR" or "field:USR" */
  const char *owner;      /* "var:USR" of the global whose initializer holds it, or NULL */
  const char *field;      /* the member's or the variable's name */
  const char *fn;
  const char *fn_usr;
  gc_loc loc;
} ir_fnstore;
/* What a module says of the GIL (free threading). */
typedef enum gil_decl {
  GIL_DECL_NONE = 0,      /* nothing: importing it turns the GIL back on in a free-threaded build */
  GIL_DECL_NOT_USED,      /* Py_MOD_GIL_NOT_USED: safe to run without the GIL */
  GIL_DECL_USED,          /* Py_MOD_GIL_USED: needs the GIL */
} gil_decl;

typedef enum global_kind {
  GK_PLAIN = 0,
  GK_MODULE_DEF,          /* a PyModuleDef */
  GK_MODULE_SLOTS,        /* an array of PyModuleDef_Slot */
} global_kind;

/* A variable of static storage defined in the project whose initializer
 * names functions or other such variables (method tables, type objects,
 * module definitions and their slots): the edges of the module graph that
 * decides where the free-threading rules are on. */
typedef struct ir_global {
  const char *usr;        /* its key (as EV_GLOBAL's callee_usr) */
  const char *name;
  gc_loc loc;
  uint8_t kind;           /* global_kind */
  uint8_t gil_decl;       /* GK_MODULE_*: a Py_mod_gil slot in its initializer (gil_decl) */
  uint8_t pad[2];
  int nrefs;
  const char **refs;      /* the keys of the functions and variables its initializer names */
} ir_global;

typedef struct ir_tu {
  const char *path;
  const char **deps;      /* every file the unit read (main file and includes) */
  int ndeps;
  ir_func **funcs;
  int nfuncs;
  ir_entry_hint *hints;
  int nhints;
  ir_fnstore *stores;
  int nstores;
  ir_global *globals;     /* variables that name functions or variables, and module definitions */
  int nglobals;
} ir_tu;

#endif
