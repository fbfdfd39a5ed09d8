/* summary.c: whole-program summaries to a fixed point. Every function
 * starts with the empty summary (needs nothing, does nothing); a worklist
 * recomputes a function whenever a callee's summary changed, so recursion
 * settles too. Summaries only grow along a finite chain (pre: none -> held |
 * released -> conflict; effect: none -> releases | acquires -> unknown),
 * and a hard bound on rounds keeps a pathological program finite. */
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "xalloc.h"

void summarize_program(engine_program *p) {
  int n = p->nfuncs;
  if (n <= 0) return;
  /* callers of each function, to re-queue them */
  int *ncallers = xcalloc((size_t)n, sizeof(int));
  int *capcallers = xcalloc((size_t)n, sizeof(int));
  int **callers = xcalloc((size_t)n, sizeof(int *));
  for (int f = 0; f < n; f++) {
    ir_func *fn = p->funcs[f];
    for (int b = 0; b < fn->nblocks; b++)
      for (int i = 0; i < fn->blocks[b].nev; i++) {
        int g = fn->blocks[b].ev[i].callee_fn;
        if (fn->blocks[b].ev[i].kind != EV_CALL || g < 0) continue;
        /* f's calls come together, so a repeat is always the last one */
        if (ncallers[g] && callers[g][ncallers[g] - 1] == f) continue;
        if (ncallers[g] == capcallers[g]) {
          capcallers[g] = capcallers[g] ? capcallers[g] * 2 : 4;
          callers[g] = xrealloc(callers[g], sizeof(int) * (size_t)capcallers[g]);
        }
        callers[g][ncallers[g]++] = f;
      }
  }
  int *queue = xmalloc(sizeof(int) * (size_t)n);
  char *queued = xcalloc((size_t)n, 1);
  int *count = xcalloc((size_t)n, sizeof(int));
  int head = 0, len = 0;
  /* callees first: functions are added in file order, so seed in reverse */
  for (int f = n - 1; f >= 0; f--) { queue[(head + len++) % n] = f; queued[f] = 1; }
  while (len > 0) {
    int f = queue[head];
    head = (head + 1) % n;
    len--;
    queued[f] = 0;
    if (++count[f] > 50) continue;   /* cannot happen on a monotone chain; a guard */
    if (!engine_summarize(p, f)) continue;
    for (int k = 0; k < ncallers[f]; k++) {
      int g = callers[f][k];
      if (!queued[g]) { queued[g] = 1; queue[(head + len++) % n] = g; }
    }
  }
  for (int f = 0; f < n; f++) free(callers[f]);
  free(callers);
  free(ncallers);
  free(capcallers);
  free(queue);
  free(queued);
  free(count);
}
