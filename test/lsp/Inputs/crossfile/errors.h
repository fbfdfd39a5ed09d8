/* errors.h: the error helper of the two-file extension (crossfile.test). */
#ifndef NET_ERRORS_H
#define NET_ERRORS_H
int raise_io_error(const char *what);
#endif
