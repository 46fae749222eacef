/* SPDX-License-Identifier: MIT */
/* memhog MB [hold_seconds]: allocates and touches MB mebibytes, then holds
 * them. Used to show that a memory limit is enforced by the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: memhog MB [hold_seconds]\n");
    return 2;
  }
  long mb = atol(argv[1]);
  int hold = argc > 2 ? atoi(argv[2]) : 0;
  for (long i = 0; i < mb; i++) {
    char *p = malloc(1 << 20);
    if (!p) {
      fprintf(stderr, "memhog: malloc failed after %ld MiB\n", i);
      return 1;
    }
    memset(p, 0x5a, 1 << 20);
  }
  printf("memhog: touched %ld MiB\n", mb);
  fflush(stdout);
  if (hold > 0)
    sleep((unsigned)hold);
  return 0;
}
