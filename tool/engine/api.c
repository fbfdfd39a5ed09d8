/* api.c: lookups over the C-API and C-library knowledge in rules/api.def.
 *
 * Each row kind gets a static array built from the X-macro rows and an
 * string map (map.h: name -> row) built once, on first use, under
 * pthread_once; after that, lookups only read and are safe from any thread.
 * Facts from a project's configuration (api_add_*) are inserted into the same
 * tables, replacing a built-in row of the same name; they must be added
 * before analysis starts (not thread-safe). */
#include "api.h"
#include "map.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Built-in rows                                                        */
/* ------------------------------------------------------------------ */

static const api_fact api_rows[] = {
#define API(name, needs_gil, effect, since) { #name, (needs_gil) != 0, effect, since },
#include "api.def"
};

static const objmacro_fact objmacro_rows[] = {
#define OBJMACRO(name, needs_gil) { #name, (needs_gil) != 0 },
#include "api.def"
};

/* Rows with the same name are alternatives and stay adjacent (see
 * blocking_lookup_next). */
static const blocking_fact blocking_rows[] = {
#define BLOCKING(name, arg, value) { #name, arg, value },
#include "api.def"
};

static const thread_creator_fact thread_creator_rows[] = {
#define THREAD_CREATOR(name, fn_arg) { #name, fn_arg },
#include "api.def"
};

static const char *const noreturn_rows[] = {
#define NORETURN(name) #name,
#include "api.def"
};

static const registrar_fact registrar_rows[] = {
#define REGISTRAR(name, fn_arg, entry, why) { #name, fn_arg, entry, why },
#include "api.def"
};

static const hook_fact hook_rows[] = {
#define HOOK(name, entry, why) { #name, entry, why },
#include "api.def"
};

static const char *const signal_safe_rows[] = {
#define SIGNAL_SAFE(name) #name,
#include "api.def"
};

static const char *const runs_before_return_rows[] = {
#define RUNS_BEFORE_RETURN(name) #name,
#include "api.def"
};

static const struct { const char *word; callback_word_kind kind; } callback_word_rows[] = {
#define CALLBACK_WORD(word, kind) { #word, kind },
#include "api.def"
};

static const ft_borrowed_fact ft_borrowed_rows[] = {
#define FT_BORROWED(name, container_arg, kind, replacement) { #name, container_arg, kind, replacement },
#include "api.def"
};

static const char *const ft_fresh_rows[] = {
#define FT_FRESH(name) #name,
#include "api.def"
};

typedef struct ft_mutator_fact { const char *name; int arg; } ft_mutator_fact;
static const ft_mutator_fact ft_mutator_rows[] = {
#define FT_MUTATOR(name, container_arg) { #name, container_arg },
#include "api.def"
};

static const ft_mutator_fact ft_publish_rows[] = {
#define FT_PUBLISH(name, value_arg) { #name, value_arg },
#include "api.def"
};

static const ft_lock_fact ft_lock_rows[] = {
#define FT_LOCK(name, acquire) { #name, (acquire) != 0 },
#include "api.def"
};

static const char *const ft_atomic_rows[] = {
#define FT_ATOMIC(prefix) #prefix,
#include "api.def"
};

static const ft_module_fact ft_module_rows[] = {
#define FT_MODULE(name, def_arg, phase) { #name, def_arg, phase },
#include "api.def"
};

static const char *const ft_writer_macro_rows[] = {
#define FT_WRITER_MACRO(name) #name,
#include "api.def"
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Building the tables once                                             */
/* ------------------------------------------------------------------ */

static strmap registrar_table, hook_table, signal_safe_table, runs_before_return_table, callback_word_table;
static strmap api_table, objmacro_table, blocking_table, thread_creator_table,
    noreturn_table;
static strmap ft_borrowed_table, ft_fresh_table, ft_lock_table, ft_module_table, ft_writer_table,
    ft_mutator_table, ft_publish_table;
static pthread_once_t built_once = PTHREAD_ONCE_INIT;

/* The first row of a name wins. */
static void put_first(strmap *t, const char *key, const void *val) {
  void **slot = strmap_at(t, key);
  if (!*slot) *slot = (void *)val;
}

static const void *table_get(const strmap *t, const char *name) {
  return name ? strmap_get(t, name) : NULL;
}

static void build_tables(void) {
  /* Built-in rows: the first row of a name wins (only BLOCKING rows repeat
   * a name, as alternatives reached through blocking_lookup_next). */
  for (size_t i = 0; i < COUNT(api_rows); i++)
    put_first(&api_table, api_rows[i].name, &api_rows[i]);
  for (size_t i = 0; i < COUNT(objmacro_rows); i++)
    put_first(&objmacro_table, objmacro_rows[i].name, &objmacro_rows[i]);
  for (size_t i = 0; i < COUNT(blocking_rows); i++)
    put_first(&blocking_table, blocking_rows[i].name, &blocking_rows[i]);
  for (size_t i = 0; i < COUNT(thread_creator_rows); i++)
    put_first(&thread_creator_table, thread_creator_rows[i].name,
              &thread_creator_rows[i]);
  for (size_t i = 0; i < COUNT(registrar_rows); i++)
    put_first(&registrar_table, registrar_rows[i].name, &registrar_rows[i]);
  for (size_t i = 0; i < COUNT(hook_rows); i++) put_first(&hook_table, hook_rows[i].name, &hook_rows[i]);
  for (size_t i = 0; i < COUNT(signal_safe_rows); i++)
    put_first(&signal_safe_table, signal_safe_rows[i], signal_safe_rows[i]);
  for (size_t i = 0; i < COUNT(runs_before_return_rows); i++)
    put_first(&runs_before_return_table, runs_before_return_rows[i], runs_before_return_rows[i]);
  for (size_t i = 0; i < COUNT(callback_word_rows); i++)
    put_first(&callback_word_table, callback_word_rows[i].word, &callback_word_rows[i]);
  for (size_t i = 0; i < COUNT(noreturn_rows); i++)
    put_first(&noreturn_table, noreturn_rows[i], noreturn_rows[i]);
  for (size_t i = 0; i < COUNT(ft_borrowed_rows); i++)
    put_first(&ft_borrowed_table, ft_borrowed_rows[i].name, &ft_borrowed_rows[i]);
  for (size_t i = 0; i < COUNT(ft_fresh_rows); i++)
    put_first(&ft_fresh_table, ft_fresh_rows[i], ft_fresh_rows[i]);
  for (size_t i = 0; i < COUNT(ft_mutator_rows); i++)
    put_first(&ft_mutator_table, ft_mutator_rows[i].name, &ft_mutator_rows[i]);
  for (size_t i = 0; i < COUNT(ft_publish_rows); i++)
    put_first(&ft_publish_table, ft_publish_rows[i].name, &ft_publish_rows[i]);
  for (size_t i = 0; i < COUNT(ft_lock_rows); i++)
    put_first(&ft_lock_table, ft_lock_rows[i].name, &ft_lock_rows[i]);
  for (size_t i = 0; i < COUNT(ft_module_rows); i++)
    put_first(&ft_module_table, ft_module_rows[i].name, &ft_module_rows[i]);
  for (size_t i = 0; i < COUNT(ft_writer_macro_rows); i++)
    put_first(&ft_writer_table, ft_writer_macro_rows[i], ft_writer_macro_rows[i]);
}

static void ensure_built(void) {
  pthread_once(&built_once, build_tables);
}

/* ------------------------------------------------------------------ */
/* Lookups                                                              */
/* ------------------------------------------------------------------ */

const api_fact *api_lookup(const char *name) {
  ensure_built();
  return table_get(&api_table, name);
}

const objmacro_fact *objmacro_lookup(const char *name) {
  ensure_built();
  return table_get(&objmacro_table, name);
}

const blocking_fact *blocking_lookup(const char *name) {
  ensure_built();
  return table_get(&blocking_table, name);
}

const blocking_fact *blocking_lookup_next(const blocking_fact *f) {
  const blocking_fact *end = blocking_rows + COUNT(blocking_rows);
  if (!f || f < blocking_rows || f >= end)
    return NULL;                 /* a configured fact has no alternatives */
  if (f + 1 < end && strcmp(f[1].name, f->name) == 0)
    return f + 1;
  return NULL;
}

const thread_creator_fact *thread_creator_lookup(const char *name) {
  ensure_built();
  return table_get(&thread_creator_table, name);
}

const registrar_fact *registrar_lookup(const char *name) {
  ensure_built();
  return table_get(&registrar_table, name);
}

const hook_fact *hook_lookup(const char *name) {
  ensure_built();
  return table_get(&hook_table, name);
}

bool api_is_signal_safe(const char *name) {
  ensure_built();
  return table_get(&signal_safe_table, name) != NULL;
}

bool api_runs_callbacks_before_return(const char *name) {
  ensure_built();
  return table_get(&runs_before_return_table, name) != NULL;
}

callback_word_kind api_callback_word(const char *word) {
  ensure_built();
  const struct { const char *word; callback_word_kind kind; } *row = table_get(&callback_word_table, word);
  return row ? row->kind : CB_NONE;
}

bool api_is_noreturn_libc(const char *name) {
  ensure_built();
  return table_get(&noreturn_table, name) != NULL;
}

/* Free threading (the ft-* rules). */

const ft_borrowed_fact *ft_borrowed_lookup(const char *name) {
  ensure_built();
  return table_get(&ft_borrowed_table, name);
}

bool ft_is_fresh(const char *name) {
  ensure_built();
  return table_get(&ft_fresh_table, name) != NULL;
}

int ft_mutator_arg(const char *name) {
  ensure_built();
  const ft_mutator_fact *f = table_get(&ft_mutator_table, name);
  return f ? f->arg : -1;
}

int ft_publish_arg(const char *name) {
  ensure_built();
  const ft_mutator_fact *f = table_get(&ft_publish_table, name);
  return f ? f->arg : -1;
}

const ft_lock_fact *ft_lock_lookup(const char *name) {
  ensure_built();
  return table_get(&ft_lock_table, name);
}

bool ft_is_atomic(const char *name) {
  if (!name) return false;
  for (size_t i = 0; i < COUNT(ft_atomic_rows); i++)
    if (!strncmp(name, ft_atomic_rows[i], strlen(ft_atomic_rows[i]))) return true;
  return false;
}

const ft_module_fact *ft_module_lookup(const char *name) {
  ensure_built();
  return table_get(&ft_module_table, name);
}

bool ft_is_writer_macro(const char *name) {
  ensure_built();
  return table_get(&ft_writer_table, name) != NULL;
}

int ft_cs_object_arg(const char *name) {
  if (!name) return -1;
  if (!strncmp(name, "Py_BEGIN_CRITICAL_SECTION", 25)) return strstr(name, "MUTEX") ? -1 : 0;
  if (!strncmp(name, "PyCriticalSection", 17) && strstr(name, "_Begin")) return strstr(name, "Mutex") ? -1 : 1;
  return -1;
}

/* ------------------------------------------------------------------ */
/* Configured facts (take precedence; never freed)                      */
/* ------------------------------------------------------------------ */

void api_add_extra(const char *name, bool needs_gil, api_effect effect) {
  if (!name)
    return;
  ensure_built();
  api_fact *f = xcalloc(1, sizeof *f);
  f->name = xstrdup(name);
  f->needs_gil = needs_gil;
  f->effect = effect;
  f->since = "";
  *strmap_at(&api_table, f->name) = f;
}

void api_add_blocking(const char *name) {
  if (!name)
    return;
  ensure_built();
  blocking_fact *f = xcalloc(1, sizeof *f);
  f->name = xstrdup(name);
  f->arg = -1;
  f->value = "";
  *strmap_at(&blocking_table, f->name) = f;
}

/* A configured callback API: a registrar whose callback runs without the
 * GIL (never freed). */
void api_add_callback_without_gil(const char *name, int fn_arg) {
  if (!name)
    return;
  ensure_built();
  registrar_fact *f = xcalloc(1, sizeof *f);
  f->name = xstrdup(name);
  f->fn_arg = fn_arg;
  f->entry = ENTRY_RELEASED;
  f->why = "registered with '%s' here, which calls it back without the GIL (configured in .gilcheck.yml)";
  *strmap_at(&registrar_table, f->name) = f;
}

/* ------------------------------------------------------------------ */
/* The lowering's rows: few, matched by prefix or substring in order    */
/* ------------------------------------------------------------------ */

static const char *const table_type_rows[] = {
#define TABLE_TYPE(name) #name,
#include "api.def"
};

static const char *const type_slot_prefix_rows[] = {
#define TYPE_SLOT_PREFIX(prefix) #prefix,
#include "api.def"
};

static const char *const module_init_prefix_rows[] = {
#define MODULE_INIT_PREFIX(prefix) #prefix,
#include "api.def"
};

static const char *const builtin_prefix_rows[] = {
#define BUILTIN_PREFIX(prefix) #prefix,
#include "api.def"
};

static const char *const noreturn_type_word_rows[] = {
#define NORETURN_TYPE_WORD(word) #word,
#include "api.def"
};

static bool has_prefix(const char *const *rows, size_t n, const char *s) {
  for (size_t i = 0; s && i < n; i++)
    if (!strncmp(s, rows[i], strlen(rows[i]))) return true;
  return false;
}

const char *api_table_type(const char *type_spelling) {
  for (size_t i = 0; type_spelling && i < COUNT(table_type_rows); i++)
    if (strstr(type_spelling, table_type_rows[i])) return table_type_rows[i];
  return NULL;
}

bool api_is_type_slot(const char *member) {
  return has_prefix(type_slot_prefix_rows, COUNT(type_slot_prefix_rows), member);
}

bool api_is_module_init(const char *name) {
  return has_prefix(module_init_prefix_rows, COUNT(module_init_prefix_rows), name);
}

bool api_is_builtin(const char *name) {
  return has_prefix(builtin_prefix_rows, COUNT(builtin_prefix_rows), name);
}

bool api_type_says_noreturn(const char *type_spelling) {
  for (size_t i = 0; type_spelling && i < COUNT(noreturn_type_word_rows); i++)
    if (strstr(type_spelling, noreturn_type_word_rows[i])) return true;
  return false;
}
