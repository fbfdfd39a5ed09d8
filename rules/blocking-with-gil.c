/* blocking-with-gil (off by default): a known blocking call made while
 * holding the GIL — a missed chance to release it, or a deadlock. */
#include "flow.h"

void rule_blocking_with_gil(flow_ctx *c, const ir_event *e) {
  flow_finding(c, R_BLOCKING_WITH_GIL, e->loc,
               "'%s' may block while holding the GIL; release it around the call "
               "(Py_BEGIN_ALLOW_THREADS)", e->callee);
}
