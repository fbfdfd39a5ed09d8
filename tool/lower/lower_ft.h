/* lower_ft.h: the free-threading part of the lowering (free_threading.c)
 * and the few services the rest of the lowering lends it (unit.c).
 *
 * The free-threading rules need, beyond the GIL's events: every use of a
 * variable of static storage defined in the project (EV_GLOBAL: read,
 * written, named), the module graph (which functions and variables a
 * table's initializer names, ir_global), what each module definition says
 * of the GIL (a Py_mod_gil slot, a PyUnstable_Module_SetGIL call, in code
 * this build compiles or in a branch it skips), the objects critical
 * sections lock (also in the default build, where Py_BEGIN_CRITICAL_SECTION
 * only opens a brace), and the arguments of the borrowed-reference macros.
 *
 * expr.c, stmt.c, unit.c and finish.c call the ft_lower_* hooks at the
 * places named below (each call is marked "free threading" there), and
 * unit.c implements the lower_* services over the lowering's structures
 * (lower_int.h); nothing else of the lowering is shared. */
#ifndef GILCHECK_LOWER_FT_H
#define GILCHECK_LOWER_FT_H
#include <clang-c/Index.h>
#include <stdbool.h>
#include "arena.h"
#include "ir.h"

typedef struct lower lower;

/* ---- services of the lowering (unit.c) ---- */

arena *lower_arena(lower *L);
CXTranslationUnit lower_cxtu(lower *L);
ir_tu *lower_unit(lower *L);
/* A slot for free_threading.c's own state for the unit (in the arena;
 * NULL at first). */
void **lower_ft_state(lower *L);
/* F's text, read once per unit (clang_getFileContents searches every
 * source entry of the unit on each call); NULL if it cannot be read. */
const char *lower_file_text(lower *L, CXFile f, size_t *size);
/* Does C's text hold an identifier (a table of numbers does not)? */
bool lower_names_anything(lower *L, CXCursor c);
/* Is F a file of the project (not a system or CPython header)? */
bool lower_in_project(lower *L, CXFile f);
/* Where the user wrote SL (a macro's use for its body); F and OFF may be NULL. */
gc_loc lower_loc(lower *L, CXSourceLocation sl, CXFile *f, unsigned *off);
/* The macro the user wrote at F:OFF, or NULL. */
const char *lower_macro_at(lower *L, CXFile f, unsigned off);
/* How a function or variable is known across the program (USR, made unique
 * per unit for statics of the main file). */
const char *lower_decl_key(lower *L, CXCursor decl);
/* A new event at the end of the current block (its region set). */
ir_event *lower_new_event(lower *L, int kind, gc_loc loc);
/* The current block's events (valid until the next new event). */
ir_event *lower_current_events(lower *L, int *n);
/* Removes event I of the current block. */
void lower_drop_event(lower *L, int i);
/* The function's blocks so far, with raw local indices. */
ir_block *lower_blocks(lower *L, int *n);
/* The raw local of that name (the innermost), or -1. */
int lower_local_named(lower *L, const char *name);
/* Makes a raw local worth a place in the engine's state. */
void lower_mark_interesting(lower *L, int raw_var);
/* Is the raw local's address taken (&x, not Py_CLEAR's own)? */
bool lower_local_addr_taken(lower *L, int raw_var);
/* The function's parameters: the raw locals 0 .. n-1, in order. */
int lower_nparams(lower *L);

/* ---- hooks, called by expr.c, stmt.c and unit.c ---- */

/* lower_expr, a DeclRefExpr: a use of a global is an EV_GLOBAL (read, or
 * named when its address is taken or it is an array). */
void ft_lower_ref(lower *L, CXCursor ref);
/* A store to something that is not a tracked local (=, op=, ++, --): a
 * write to a global, a member or an element of one. COMPOUND: read too. */
void ft_lower_store(lower *L, CXCursor lhs, gc_loc loc, bool compound);
/* lower_expr, '&' applied to the raw local VAR (OPERAND): inside the first
 * argument of Py_CLEAR / Py_SETREF / Py_XSETREF (3.12+ headers write
 * through '&(op)'), an assignment to VAR (EV_ASSIGN) and true: the address
 * is not taken for good. False otherwise. */
bool ft_lower_writer_addr(lower *L, CXCursor addrof, CXCursor operand, int var);
/* lower_call, once the call's event E is complete (F:OFF: where the call
 * is written): argument spellings for the free-threading rules, a module
 * created from a definition, atomic operations. */
void ft_lower_call(lower *L, CXCursor call, ir_event *e, CXFile f, unsigned off);
/* claim_objmacro, the event E of an object-internals macro written at
 * F:OFF: the arguments of the borrowed-reference macros. */
void ft_lower_objmacro(lower *L, ir_event *e, CXFile f, unsigned off);
/* lower_stmt, a compound statement opened by a macro (REGION): in the
 * default build Py_BEGIN_CRITICAL_SECTION(op) is only '{', so the begin
 * (BEGIN true, after the region is open) and the end (BEGIN false, before
 * it closes) are events of their own, as in the free-threaded build. */
void ft_lower_region(lower *L, CXCursor compound, int region, bool begin);
/* lower_stmt, an empty statement: 'MUTEX_LOCK(&m);' where the project's
 * lock macro expands to nothing in this build (#ifdef Py_GIL_DISABLED
 * PyMutex_Lock(m) #else nothing) is the lock it is in the free-threaded
 * build, judged by the macro's name (..._LOCK/ACQUIRE, ..._UNLOCK/RELEASE). */
void ft_lower_null_stmt(lower *L, CXCursor stmt);
/* lower_expr and lower_decl, a store to the raw local VAR: its value RHS
 * (a null cursor: not a plain value, as for 'x += 1'), SRC the raw local
 * it copies or -1, NUL a null constant. How a local is held (a copy of a
 * member, of a global, of a parameter) is worked out from all of them. */
void ft_lower_assign_local(lower *L, int var, CXCursor rhs, int src, bool nul);
/* lower_function, before the locals are chosen (raw indices): the module
 * the function declares for, the locals the rules need followed. */
void ft_lower_function(lower *L, CXCursor fn, ir_func *f);
/* visit_top, a variable at file scope of a project file, and lower_decl, a
 * static variable in a function: its entry in the module graph
 * (ir_tu.globals). */
void ft_lower_var(lower *L, CXCursor var);

#endif
