/* SPDX-License-Identifier: MIT */
/* forkmany N: forks N children that sleep 2 s, then prints how many forks
 * succeeded and how many failed with EAGAIN (a pids limit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0, ok = 0, eagain = 0;
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) {
      sleep(2);
      _exit(0);
    }
    if (p > 0)
      ok++;
    else if (errno == EAGAIN)
      eagain++;
  }
  printf("forked=%d eagain=%d\n", ok, eagain);
  while (wait(NULL) > 0)
    ;
  return 0;
}
