/* ft-module-gil: a module that does not say whether it needs the GIL. In a
 * free-threaded build (CPython 3.13+), importing such a module turns the
 * GIL back on for the whole process, with a warning. A multi-phase module
 * says it with a Py_mod_gil slot, a single-phase one with
 * PyUnstable_Module_SetGIL on the module it creates; either counts where the
 * preprocessor skipped it in the build analysed (#if PY_VERSION_HEX >=
 * 0x030D0000, #ifdef Py_GIL_DISABLED). Reported at the module definition
 * when the function that creates it for an import (its PyInit_, or a
 * function PyInit_ calls) is walked, with the declaration to add. */
#include "checker.h"

#define MODULES_MAX 8

void ft_module_gil_on_end(check_ctx *c, const check_event *ev) {
  (void)ev;
  const check_module *m[MODULES_MAX];
  int n = check_modules_created(c, m, MODULES_MAX);
  for (int i = 0; i < n; i++) {
    if (m[i]->decl != GIL_DECL_NONE) continue;
    gc_finding *f = check_report(c, m[i]->loc,
                                 "module '%s' does not declare whether it needs the GIL: importing it turns the GIL "
                                 "back on in a free-threaded build",
                                 m[i]->name);
    if (!f) continue;
    gc_loc at = m[i]->created_at ? m[i]->created_at->loc : check_function(c)->loc;
    diag_note(f, at, "'%s' creates the module here", check_function(c)->name);
    if (m[i]->single_phase)
      diag_note(f, at,
                "once it is safe without the GIL, call 'PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)' on the new "
                "module, under '#ifdef Py_GIL_DISABLED'");
    else if (m[i]->slots)
      diag_note(f, m[i]->slots_loc,
                "once it is safe without the GIL, add '{Py_mod_gil, Py_MOD_GIL_NOT_USED},' to '%s', under '#if "
                "PY_VERSION_HEX >= 0x030D0000'",
                m[i]->slots);
    else
      diag_note(f, m[i]->loc,
                "once it is safe without the GIL, give it slots (m_slots) with '{Py_mod_gil, Py_MOD_GIL_NOT_USED}', "
                "under '#if PY_VERSION_HEX >= 0x030D0000'");
  }
}
