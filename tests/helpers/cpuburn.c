/* SPDX-License-Identifier: MIT */
/* cpuburn THREADS SECONDS: spins THREADS threads for SECONDS of wall time,
 * then prints the CPU time it got. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double deadline;

static double
now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
spin(void *arg) {
  volatile unsigned long x = 0;
  (void)arg;
  while (now() < deadline)
    for (int i = 0; i < 10000; i++)
      x += (unsigned long)i;
  return (void *)(uintptr_t)x; /* used: clang's -Wunused-but-set-variable */
}

int
main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cpuburn THREADS SECONDS\n");
    return 2;
  }
  int n = atoi(argv[1]);
  deadline = now() + atof(argv[2]);
  pthread_t t[64];
  if (n < 1 || n > 64)
    return 2;
  for (int i = 0; i < n; i++)
    pthread_create(&t[i], NULL, spin, NULL);
  for (int i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  struct timespec cpu;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  printf("cpuburn: %.3f s of CPU\n", cpu.tv_sec + cpu.tv_nsec / 1e9);
  return 0;
}
