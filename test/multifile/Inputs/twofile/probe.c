/* A configure probe: what a build system compiles to learn about the
 * platform. No Python in it. */
#include <sys/epoll.h>

int main(void) { return epoll_create1(0) < 0; }
