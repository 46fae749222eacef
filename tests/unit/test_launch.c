/* SPDX-License-Identifier: MIT */
/* The launch sequence's guard against running orphaned: a job whose
 * launching process (the shepherd) has gone before PID 1 set its
 * parent-death signal never starts. Needs root (new namespaces); skips
 * without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "launch.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/var/tmp/boxq-launch-XXXXXX";
static bool dir_made;

/* Launches `touch MARKER` with the given parent pidfd; returns whether
 * the job's script ran (the marker exists), after reaping its PID 1. */
static bool
job_ran(int parent_pidfd, const char *marker) {
  struct berr err = {{0}};
  int init_fd = launch_open_init(BOXQ_INIT_BUILT, NULL, 0, &err);
  assert_true(init_fd >= 0);
  char script[PATH_MAX], out[PATH_MAX];
  snprintf(script, sizeof(script), "%s/job.sh", dir);
  snprintf(out, sizeof(out), "%s/job.out", dir);
  FILE *f = fopen(script, "w");
  assert_non_null(f);
  fprintf(f, "#!/bin/sh\ntouch %s\n", marker);
  fclose(f);
  int script_fd = open(script, O_RDONLY | O_CLOEXEC);
  assert_true(script_fd >= 0);
  char *envp[] = {(char *)"PATH=/usr/bin:/bin", NULL};
  struct launch_spec spec = {.job_id = 1,
                             .workdir = dir,
                             .out_path = out,
                             .script_fd = script_fd,
                             .envp = envp,
                             .tmp_options = "mode=1777,size=1m",
                             .init_fd = init_fd,
                             .parent_pidfd = parent_pidfd};
  struct launched l = {.pidfd = -1, .status_fd = -1};
  int r = launch_job(&spec, NULL, &l, &err);
  assert_true(r >= 0);
  int status;
  while (waitpid(l.init_pid, &status, 0) < 0)
    assert_int_equal(errno, EINTR);
  if (r == 1)
    assert_non_null(strstr(err.msg, "launching process has gone"));
  close(l.pidfd);
  close(l.status_fd);
  close(script_fd);
  close(init_fd);
  return access(marker, F_OK) == 0;
}

static void
orphaned_pid1_never_starts_the_job(void **state) {
  (void)state;
  if (geteuid() != 0)
    UNIT_SKIP("test_launch needs root: it creates namespaces");
  assert_non_null(mkdtemp(dir));
  dir_made = true;
  chmod(dir, 0755);
  char marker[PATH_MAX];
  /* Control: the launching process alive, the job runs. */
  int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
  assert_true(self >= 0);
  snprintf(marker, sizeof(marker), "%s/alive", dir);
  assert_true(job_ran(self, marker));
  /* A parent that has exited (a zombie not yet reaped, as a SIGKILLed
   * shepherd is until the worker reaps it): the job never starts. */
  pid_t child = fork();
  if (child == 0)
    _exit(0);
  int dead = (int)syscall(SYS_pidfd_open, child, 0);
  assert_true(dead >= 0);
  struct pollfd p = {dead, POLLIN, 0};
  assert_int_equal(poll(&p, 1, 5000), 1);
  snprintf(marker, sizeof(marker), "%s/orphan", dir);
  assert_false(job_ran(dead, marker));
  waitpid(child, NULL, 0);
  close(dead);
  close(self);
}

/* The scratch directory goes, whatever the test's outcome. */
static int
remove_dir(void **state) {
  (void)state;
  if (!dir_made)
    return 0;
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(orphaned_pid1_never_starts_the_job),
  };
  return UNIT_RUN(tests, NULL, remove_dir);
}
