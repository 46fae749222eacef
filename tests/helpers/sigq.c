/* SPDX-License-Identifier: MIT */
/* sigq PID RTMIN_OFFSET VALUE: sigqueue(PID, SIGRTMIN + RTMIN_OFFSET, VALUE),
 * to send a shepherd a request signal as the worker does (shepherd.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sigq PID RTMIN_OFFSET VALUE\n");
    return 2;
  }
  union sigval v = {.sival_int = atoi(argv[3])};
  if (sigqueue(atoi(argv[1]), SIGRTMIN + atoi(argv[2]), v) < 0) {
    fprintf(stderr, "sigq: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
