#ifndef ERRORS_H
#define ERRORS_H
int net_error(const char *what);
#endif
