/* main.c: gilcheck's entry point; everything happens in driver.c, or in
 * lsp.c for `gilcheck --lsp`. */
#include <string.h>
#include "driver.h"
#include "lsp.h"

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "--lsp")) return lsp_main(argc, argv);
  return driver_main(argc, argv);
}
