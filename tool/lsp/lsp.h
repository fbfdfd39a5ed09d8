/* lsp.h: `gilcheck --lsp`, a Language Server over standard input and
 * output (lsp.c). */
#ifndef GILCHECK_LSP_H
#define GILCHECK_LSP_H

/* ARGV[1] is "--lsp"; the options after it are -v (log to standard error)
 * and -p BUILD_DIR (the compilation database for every document). Returns
 * the exit status: 0 after shutdown and exit, 1 on exit (or end of input)
 * without shutdown, 2 for a bad option. */
int lsp_main(int argc, char **argv);

#endif
