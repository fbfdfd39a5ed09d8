#ifndef INNER_H
#define INNER_H
static int inner_broken(void) { return undeclared_name; }
#endif
