#include <Python.h>
#include <winsock2.h>

/* Listed in the database, but only builds on Windows. */
int winsock_init(void) { WSADATA d; return WSAStartup(MAKEWORD(2, 2), &d); }
