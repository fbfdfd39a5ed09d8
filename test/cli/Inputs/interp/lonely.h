#ifndef LONELY_H
#define LONELY_H
/* No file includes this header. */
static inline int lonely(void) { return 0; }
#endif
