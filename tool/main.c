/* main.c: gilcheck's entry point; everything happens in driver.c. */
#include "driver.h"

int main(int argc, char **argv) { return driver_main(argc, argv); }
