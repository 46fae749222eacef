/* SPDX-License-Identifier: MIT */
/* The SQLite store on a real database file: migrations, insert/read back,
 * state changes, results, reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <string.h>

#include "db.h"

static char dir[256];
static char path[300];

static int
setup(void **state) {
  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/boxq-test-db.XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(path, sizeof(path), "%s/boxq.db", dir);
  return 0;
}

static int
teardown(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static struct job_rec
sample_job(void) {
  static char *env[] = {(char *)"A=1", (char *)"PBS_O_WORKDIR=/w", NULL};
  struct job_rec j = {.uid = 1000,
                      .gid = 1000,
                      .owner = (char *)"alice",
                      .name = (char *)"j1",
                      .queue = (char *)"batch",
                      .state = JOB_QUEUED,
                      .workdir = (char *)"/w",
                      .ncpus = 1,
                      .mem = 1 << 20,
                      .walltime = 60,
                      .ctime = 100,
                      .qtime = 100,
                      .mtime = 100,
                      .env = env,
                      .script = (char *)"echo hi\n",
                      .script_len = 8};
  return j;
}

static void
insert_and_read_back(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);
  struct job_rec j = sample_job();
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_insert_job(db, &j), 0);
  assert_int_equal(db_add_event(db, j.id, 100, "submitted", NULL), 0);
  assert_int_equal(db_commit(db), 0);
  assert_true(j.id > 0);
  struct job_rec r;
  assert_int_equal(db_get_job(db, j.id, true, &r), 0);
  assert_string_equal(r.owner, "alice");
  assert_int_equal(r.state, JOB_QUEUED);
  assert_int_equal(r.script_len, 8);
  assert_string_equal(r.script, "echo hi\n");
  assert_string_equal(r.env[1], "PBS_O_WORKDIR=/w");
  assert_null(r.env[2]);
  assert_false(r.has_exit);
  assert_false(r.has_usage);
  job_rec_free(&r);
  assert_int_equal(db_get_job(db, 9999, false, &r), -ENOENT);
  db_close(db);
}

static int
count(void *ud, struct job_rec *j) {
  (void)j;
  (*(int *)ud)++;
  return 0;
}

static void
lifecycle_survives_reopen(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);
  struct job_rec j = sample_job();
  assert_int_equal(db_insert_job(db, &j), 0);
  int n = 0;
  assert_int_equal(db_list_queued(db, count, &n), 0);
  assert_true(n >= 1);
  assert_int_equal(db_set_state(db, j.id, JOB_RUNNING, "", 200), 0);
  assert_int_equal(db_job_started(db, j.id, 201, "host", "v2:boxq/job-1"), 0);
  n = 0;
  assert_int_equal(db_list_running(db, count, &n), 0);
  assert_int_equal(n, 1);
  struct job_rec end = {.id = j.id,
                        .end_reason = END_OOM,
                        .has_exit = true,
                        .exit_status = 265,
                        .etime = 300,
                        .comment = (char *)"oom",
                        .has_usage = true};
  end.usage.cpu_usec = 5000;
  end.usage.oom_kills = 1;
  end.usage.io_rbytes = -1;
  snprintf(end.usage.cg_backend, sizeof(end.usage.cg_backend), "hybrid");
  assert_int_equal(db_job_ended(db, &end), 0);
  db_close(db);

  /* Everything is still there after reopening (and re-running migrations). */
  assert_int_equal(db_open(path, &db, &err), 0);
  struct job_rec r;
  assert_int_equal(db_get_job(db, j.id, false, &r), 0);
  assert_int_equal(r.state, JOB_FINISHED);
  assert_int_equal(r.end_reason, END_OOM);
  assert_true(r.has_exit);
  assert_int_equal(r.exit_status, 265);
  assert_int_equal(r.stime, 201);
  assert_int_equal(r.etime, 300);
  assert_string_equal(r.comment, "oom");
  assert_true(r.has_usage);
  assert_int_equal(r.usage.cpu_usec, 5000);
  assert_int_equal(r.usage.oom_kills, 1);
  assert_int_equal(r.usage.io_rbytes, -1);
  assert_string_equal(r.usage.cg_backend, "hybrid");
  job_rec_free(&r);
  n = 0;
  assert_int_equal(db_list_jobs(db, 0, count, &n), 0);
  int all = 0;
  assert_int_equal(db_list_jobs(db, DB_LIST_FINISHED, count, &all), 0);
  assert_true(all > n);
  db_close(db);
}

static void
refuses_newer_schema(void **state) {
  (void)state;
  char p2[400];
  snprintf(p2, sizeof(p2), "%s/newer.db", dir);
  sqlite3 *s;
  assert_int_equal(sqlite3_open(p2, &s), SQLITE_OK);
  assert_int_equal(sqlite3_exec(s, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(s);
  struct db *db;
  struct berr err = {{0}};
  assert_true(db_open(p2, &db, &err) < 0);
  assert_non_null(strstr(err.msg, "newer"));
}

static void
rolled_back_change_leaves_nothing(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);
  int before = 0, after = 0;
  db_list_jobs(db, DB_LIST_FINISHED, count, &before);
  struct job_rec j = sample_job();
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_insert_job(db, &j), 0);
  db_rollback(db);
  db_list_jobs(db, DB_LIST_FINISHED, count, &after);
  assert_int_equal(before, after);
  db_close(db);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(insert_and_read_back),
      cmocka_unit_test(lifecycle_survives_reopen),
      cmocka_unit_test(refuses_newer_schema),
      cmocka_unit_test(rolled_back_change_leaves_nothing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
