/* main.c: gilcheck's entry point; everything happens in driver.c, or in
 * lsp.c when --lsp is among the options (wherever it is: `gilcheck -v --lsp`
 * is `gilcheck --lsp -v`). */
#include <string.h>
#include "driver.h"
#include "lsp.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (!strcmp(argv[i], "--lsp") || !strcmp(argv[i], "-lsp")) {
      /* lsp.c reads its options from argv[2] on */
      char *lsp = argv[i];
      memmove(argv + 2, argv + 1, sizeof(char *) * (size_t)(i - 1));
      argv[1] = lsp;
      return lsp_main(argc, argv);
    }
  return driver_main(argc, argv);
}
