/* entry.h: who calls each function, and so the state it starts in
 * (entry.c, docs/entry-states.md). */
#ifndef GILCHECK_ENTRY_H
#define GILCHECK_ENTRY_H
#include <stdbool.h>
#include "arena.h"
#include "engine.h"
#include "ir.h"
#include "map.h"

/* The program's units, for what is decided across them. */
typedef struct entry_world {
  ir_tu *const *tus;
  int ntus;
  const strmap *usrs;    /* function key -> index + 1 */
  arena *A;              /* lives as long as the program is linked */
} entry_world;

/* At link time: the targets of calls through pointers, and the entries the
 * runtime and the OS decide (thread creators, Py_AtExit, signal handlers,
 * thread-key destructors, PyOS_InputHook). */
void entry_link(engine_program *p, const entry_world *w);

/* After the summaries: callbacks of C libraries that may be entered
 * without the GIL, from the states the walks saw. Returns whether an entry
 * changed (the summaries must then be computed again). */
bool entry_update(engine_program *p, const entry_world *w);

#endif
