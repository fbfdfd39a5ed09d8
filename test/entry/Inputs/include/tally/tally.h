/* A counting library (test/entry) that the module only ever calls holding
 * the GIL: its hook may touch Python. */
extern void (*tally_overflow_hook)(long value);
void tally_add(long n);
