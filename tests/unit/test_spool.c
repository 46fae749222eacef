/* SPDX-License-Identifier: MIT */
/* The job spool: the shepherd's pid file names one process for good (pid
 * and start time), results round-trip, removal leaves nothing. */
#include "spool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];

static int
make_dir(void **state) {
  (void)state;
  snprintf(dir, sizeof(dir), "/var/tmp/boxq-spool-test.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int
remove_dir(void **state) {
  (void)state;
  spool_remove(dir);
  rmdir(dir);
  return 0;
}

static void
pid_file_names_this_process(void **state) {
  (void)state;
  assert_int_equal(spool_find_shepherd(dir), 0); /* no file yet */
  uint64_t own_start;
  assert_int_equal(proc_stat_fields(getpid(), 22, 1, &own_start), 0);
  assert_int_equal(spool_write_pid(dir, getpid(), own_start), 0);
  assert_int_equal(spool_find_shepherd(dir), getpid());
  /* The second number is this process's start time (stat field 22), as
   * proc_stat_fields read it: read here another way. */
  char path[128], text[64], stat[1024];
  snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_PID);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(text, sizeof(text), f));
  fclose(f);
  f = fopen("/proc/self/stat", "r");
  assert_non_null(f);
  assert_non_null(fgets(stat, sizeof(stat), f));
  fclose(f);
  unsigned long long start = 0;
  assert_int_equal(sscanf(strrchr(stat, ')') + 2,
                          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                          "%*d %*d %llu",
                          &start),
                   1);
  char expect[64];
  snprintf(expect, sizeof(expect), "%d %llu\n", (int)getpid(), start);
  assert_string_equal(text, expect);
}

static void
recycled_or_dead_pid_is_not_the_shepherd(void **state) {
  (void)state;
  char path[128], text[64];
  snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_PID);
  /* The right pid with another start time: a recycled pid. */
  int n = snprintf(text, sizeof(text), "%d 1\n", (int)getpid());
  assert_int_equal(write_file_atomic(path, text, (size_t)n, 0600, false), 0);
  assert_int_equal(spool_find_shepherd(dir), 0);
  /* A child that wrote its pid file, then exited. */
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    uint64_t start;
    _exit(proc_stat_fields(getpid(), 22, 1, &start) == 0 &&
                  spool_write_pid(dir, getpid(), start) == 0
              ? 0
              : 1);
  }
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(spool_find_shepherd(dir), 0);
  /* Garbage. */
  assert_int_equal(write_file_atomic(path, "x y\n", 4, 0600, false), 0);
  assert_int_equal(spool_find_shepherd(dir), 0);
}

static void
result_round_trips_and_removal_is_complete(void **state) {
  (void)state;
  struct job_rec end = {.id = 42,
                        .end_reason = END_COMPLETED,
                        .has_exit = true,
                        .exit_status = 3,
                        .etime = 1700000000};
  struct series_point series[2] = {{1000000, 500000, 4096, 4096}, {2500000, 900000, 0, 8192}};
  assert_int_equal(spool_write_result(dir, &end, series, 2), 0);
  uint8_t *data = NULL;
  size_t len = 0;
  assert_int_equal(spool_read(dir, SPOOL_RESULT, &data, &len), 0);
  struct pmsg m, sub;
  struct pfield f;
  assert_int_equal(proto_parse_frame(data, len, &m), 0);
  assert_int_equal(m.type, MSG_ENDED);
  assert_true(pmsg_find(&m, T_JOB, &f));
  assert_int_equal(pmsg_sub(&f, &sub), 0);
  struct job_rec back;
  assert_int_equal(job_rec_decode(&sub, &back), 0);
  assert_int_equal(back.id, 42);
  assert_int_equal(back.exit_status, 3);
  job_rec_free(&back);
  /* The series beside the record, as stored. */
  assert_true(pmsg_find(&m, T_SERIES, &f));
  struct series_point pts[SERIES_MAX];
  size_t n;
  assert_int_equal(series_decode(f.data, f.len, pts, &n), 0);
  assert_int_equal(n, 2);
  assert_memory_equal(pts, series, sizeof(series));
  free(data);
  assert_int_equal(spool_remove(dir), 0);
  struct stat st;
  assert_int_equal(stat(dir, &st), -1);
  assert_int_equal(spool_remove(dir), 0); /* already gone: fine */
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pid_file_names_this_process),
      cmocka_unit_test(recycled_or_dead_pid_is_not_the_shepherd),
      cmocka_unit_test(result_round_trips_and_removal_is_complete),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
