/* A C library that runs a struct of operations on its own threads while
 * ops_serve waits (test/entry). */
struct ops_table {
  int (*open)(const char *path, void *ctx);
  int (*read)(int fd, char *buf, int n, void *ctx);
  void (*close)(int fd, void *ctx);
};
int ops_serve(const struct ops_table *ops, void *ctx);
