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
#include <unistd.h>

#include "db.h"
#include "jobref.h"

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

/* Every field the submission stores (job_fields.h, SUBMIT) reads back as
 * given: the INSERT is generated from the same list as the reader. */
static void
every_submitted_field_reads_back(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);
  struct job_rec j = sample_job();
  int n = 1;
  char strs[64][16];
#define SET_I64(f)          f = 1000 + n
#define SET_INT(f)          f = n % 3
#define SET_BOOL(f)         f = true
#define SET_STATE(f)        f = JOB_HELD
#define SET_STR(f)          (snprintf(strs[n], sizeof(strs[n]), "s%d", n), f = strs[n])
#define SET_STRN            SET_STR
#define SET_SUBMIT(kind, f) SET_##kind(f);
#define SET_LATER(kind, f)
#define SET_FIELD_(member, kind, tag, column, wire, stored)                                        \
  SET_##stored(kind, j.member);                                                                    \
  n++;
  JOB_FIELDS(SET_FIELD_)
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_insert_job(db, &j), 0);
  assert_int_equal(db_commit(db), 0);
  struct job_rec r;
  assert_int_equal(db_get_job(db, j.id, true, &r), 0);
#define CMP_I64(a, b)          assert_int_equal(a, b)
#define CMP_INT                CMP_I64
#define CMP_BOOL               CMP_I64
#define CMP_STATE              CMP_I64
#define CMP_STR(a, b)          assert_string_equal(a, b)
#define CMP_STRN               CMP_STR
#define CMP_SUBMIT(kind, a, b) CMP_##kind(a, b);
#define CMP_LATER(kind, a, b)
#define CMP_FIELD_(member, kind, tag, column, wire, stored) CMP_##stored(kind, r.member, j.member)
  JOB_FIELDS(CMP_FIELD_)
  job_rec_free(&r);
  db_close(db);
}

static int
count(void *ud, struct job_rec *j) {
  (void)j;
  (*(int *)ud)++;
  return 0;
}

struct sched_rows {
  int n;
  int64_t ids[16];
  int64_t jobs; /* the jobs the rows stand for */
};

static int
take_row(void *ud, const struct db_sched_row *row) {
  struct sched_rows *r = ud;
  if (r->n < 16)
    r->ids[r->n] = row->id;
  r->n++;
  r->jobs += row->count;
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
  struct sched_rows queued = {0};
  assert_int_equal(db_list_sched(db, false, 64, take_row, &queued), 0);
  assert_true(queued.n >= 1);
  int n = 0;
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

static int
load_usage(void *ud, int64_t uid, double usage, int64_t updated) {
  (void)updated;
  if (uid == 1000)
    *(double *)ud = usage;
  return 0;
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

/* A database written by schema version 3 (before arrays) keeps its jobs,
 * their usage and events through the rebuild of the jobs table. */
static void
migrates_a_version_3_database(void **state) {
  (void)state;
  char p3[400];
  snprintf(p3, sizeof(p3), "%s/v3.db", dir);
  sqlite3 *s;
  assert_int_equal(sqlite3_open(p3, &s), SQLITE_OK);
  const char *v3 =
      "CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner_uid INTEGER NOT NULL, owner_gid INTEGER "
      "NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL, queue TEXT NOT NULL, submit_host TEXT "
      "NOT NULL DEFAULT '', state TEXT NOT NULL CHECK (state IN ('Q','H','W','R','E','F')), "
      "end_reason INTEGER NOT NULL DEFAULT 0, priority INTEGER NOT NULL DEFAULT 0, hold_types "
      "TEXT NOT NULL DEFAULT '', script BLOB NOT NULL, workdir TEXT NOT NULL, out_path TEXT NOT "
      "NULL, err_path TEXT NOT NULL, join_oe INTEGER NOT NULL DEFAULT 0, env BLOB NOT NULL, "
      "groups TEXT NOT NULL DEFAULT '', ncpus INTEGER NOT NULL, mem INTEGER NOT NULL, walltime "
      "INTEGER NOT NULL DEFAULT 0, ctime INTEGER NOT NULL, qtime INTEGER NOT NULL, stime INTEGER "
      "NOT NULL DEFAULT 0, etime INTEGER NOT NULL DEFAULT 0, mtime INTEGER NOT NULL, exit_status "
      "INTEGER, exec_host TEXT, cgroup TEXT, comment TEXT, pids INTEGER NOT NULL DEFAULT 0, net "
      "TEXT NOT NULL DEFAULT '', cpus TEXT NOT NULL DEFAULT '', rerunnable INTEGER NOT NULL "
      "DEFAULT 0, run_count INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE job_usage (job_id INTEGER PRIMARY KEY REFERENCES jobs(id), cpu_usec INTEGER "
      "NOT NULL, user_usec INTEGER NOT NULL, sys_usec INTEGER NOT NULL, mem_peak INTEGER NOT "
      "NULL, mem_peak_src INTEGER NOT NULL, oom_kills INTEGER NOT NULL, nr_throttled INTEGER NOT "
      "NULL, throttled_usec INTEGER NOT NULL, pids_peak INTEGER NOT NULL, io_rbytes INTEGER NOT "
      "NULL, io_wbytes INTEGER NOT NULL, wall_usec INTEGER NOT NULL, ru_utime_usec INTEGER NOT "
      "NULL, ru_stime_usec INTEGER NOT NULL, ru_maxrss_kb INTEGER NOT NULL, cg_backend TEXT NOT "
      "NULL, oom_events INTEGER NOT NULL DEFAULT -1, mem_max_events INTEGER NOT NULL DEFAULT -1, "
      "swap_peak INTEGER NOT NULL DEFAULT -1, final INTEGER NOT NULL DEFAULT 1);"
      "CREATE TABLE job_events (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, time INTEGER "
      "NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
      "INSERT INTO jobs (id, owner_uid, owner_gid, owner, name, queue, state, end_reason, script, "
      "workdir, out_path, err_path, env, ncpus, mem, ctime, qtime, mtime, exit_status, run_count) "
      "VALUES (41, 1000, 1000, 'alice', 'old', 'batch', 'F', 1, 'echo', '/w', '', '', '', 2, 100, "
      "1, 1, 2, 0, 1), (42, 1000, 1000, 'alice', 'waiting', 'batch', 'Q', 0, 'true', '/w', '', '', "
      "'', 1, 100, 3, 3, 3, NULL, 0);"
      "INSERT INTO job_usage VALUES (41, 5, 3, 2, 4096, 1, 0, 0, 0, 1, -1, -1, 7, 3, 2, 4, 'v1', "
      "-1, -1, -1, 1);"
      "INSERT INTO job_events (job_id, time, event) VALUES (41, 1, 'submitted');"
      "PRAGMA user_version = 3;";
  assert_int_equal(sqlite3_exec(s, v3, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(s);
  struct db *db;
  struct berr err = {{0}};
  if (db_open(p3, &db, &err) < 0)
    fail_msg("%s", err.msg);
  struct job_rec j;
  assert_int_equal(db_get_job(db, 41, true, &j), 0);
  assert_string_equal(j.name, "old");
  assert_int_equal(j.state, JOB_FINISHED);
  assert_true(j.has_usage);
  assert_int_equal(j.usage.mem_peak, 4096);
  assert_int_equal(j.run_count, 1);
  assert_int_equal(j.array_id, 0);
  assert_null(j.array_spec);
  assert_null(j.depend);
  job_rec_free(&j);
  int n = 0;
  db_list_jobs(db, DB_LIST_FINISHED, count, &n);
  assert_int_equal(n, 2);
  /* New ids continue after the old ones. */
  struct job_rec k = sample_job();
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_insert_job(db, &k), 0);
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(k.id, 43);
  db_close(db);
}

/* Arrays, holds over them, dependencies and fair-share usage. */
static void
arrays_holds_and_dependencies(void **state) {
  (void)state;
  char p4[400];
  snprintf(p4, sizeof(p4), "%s/v4.db", dir);
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(p4, &db, &err), 0);
  struct job_rec a = sample_job();
  a.array_spec = (char *)"1-9:4";
  a.array_limit = 2;
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_insert_job(db, &a), 0);
  assert_int_equal(db_insert_tasks(db, a.id, 1, 9, 4), 0);
  assert_int_equal(db_commit(db), 0);
  int64_t *tasks;
  size_t n;
  assert_int_equal(db_array_tasks(db, a.id, &tasks, &n), 0);
  assert_int_equal(n, 3); /* 1 5 9 */
  struct job_rec t;
  assert_int_equal(db_get_job(db, tasks[2], true, &t), 0);
  assert_int_equal(t.array_id, a.id);
  assert_int_equal(t.array_index, 9);
  assert_int_equal(t.array_limit, 2);
  assert_string_equal(t.script, "echo hi\n"); /* the array's script */
  assert_string_equal(t.env[0], "A=1");
  job_rec_free(&t);
  int64_t id;
  assert_int_equal(db_task_id(db, a.id, 5, &id), 0);
  assert_int_equal(id, tasks[1]);
  assert_int_equal(db_task_id(db, a.id, 2, &id), -ENOENT);

  /* The array job itself is never scheduled; its tasks are, as one entry
   * standing for the three, and the next ones come in index order. */
  struct sched_rows rows = {0};
  assert_int_equal(db_list_sched(db, false, 64, take_row, &rows), 0);
  assert_int_equal(rows.n, 1);
  assert_int_equal(rows.jobs, 3);
  assert_int_equal(rows.ids[0], a.id);
  rows = (struct sched_rows){0};
  assert_int_equal(db_list_sched(db, false, 2, take_row, &rows), 0);
  assert_int_equal(rows.jobs, 2); /* counted only as far as a pass can use */
  int64_t *next;
  size_t nnext;
  assert_int_equal(db_next_tasks(db, a.id, 2, &next, &nnext), 0);
  assert_int_equal(nnext, 2);
  assert_int_equal(next[0], tasks[0]);
  assert_int_equal(next[1], tasks[1]);
  free(next);

  /* A user hold on the array holds every task that has not started. */
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_set_state(db, tasks[0], JOB_RUNNING, "", 10), 0);
  assert_int_equal(db_hold_add(db, a.id, 'u', 11), 3); /* array + 2 tasks */
  assert_int_equal(db_commit(db), 0);
  rows.n = 0;
  db_list_sched(db, false, 64, take_row, &rows);
  assert_int_equal(rows.n, 0);
  rows.n = 0;
  db_list_sched(db, true, 0, take_row, &rows);
  assert_int_equal(rows.n, 1);
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_hold_add(db, a.id, 's', 12), 3);
  assert_int_equal(db_hold_remove(db, a.id, 'u', 13), 3);
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(db_get_job(db, tasks[1], false, &t), 0);
  assert_int_equal(t.state, JOB_HELD); /* the system hold remains */
  assert_string_equal(t.hold_types, "s");
  job_rec_free(&t);
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_hold_remove(db, a.id, 's', 14), 3);
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(db_get_job(db, tasks[1], false, &t), 0);
  assert_int_equal(t.state, JOB_QUEUED);
  assert_int_equal(t.qtime, 14);
  job_rec_free(&t);

  /* Deleting the array ends what has not started; one task still runs. */
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_finish_unstarted(db, a.id, END_CANCELLED, 15), 3);
  assert_int_equal(db_commit(db), 0);
  bool unfinished;
  assert_int_equal(db_array_unfinished(db, a.id, &unfinished), 0);
  assert_true(unfinished);
  int64_t counts[128];
  assert_int_equal(db_array_counts(db, a.id, counts), 0);
  assert_int_equal(counts['R'], 1);
  assert_int_equal(counts['F'], 2);

  /* Dependencies: who waits on whom. */
  struct job_rec b = sample_job();
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_insert_job(db, &b), 0);
  assert_int_equal(db_dep_add(db, b.id, DEP_AFTEROK, a.id), 0);
  assert_int_equal(db_dep_add(db, b.id, DEP_AFTEROK, a.id), 0); /* twice is once */
  assert_int_equal(db_dep_add(db, b.id, DEP_AFTERANY, tasks[0]), 0);
  assert_int_equal(db_commit(db), 0);
  int64_t *deps;
  assert_int_equal(db_dependents(db, a.id, &deps, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(deps[0], b.id);
  free(deps);
  assert_int_equal(db_task_dependents(db, a.id, &deps, &n), 0);
  assert_int_equal(n, 1);
  free(deps);

  /* Fair-share usage persists. */
  assert_int_equal(db_usage_save(db, 1000, 1234.5, 99), 0);
  db_close(db);
  assert_int_equal(db_open(p4, &db, &err), 0);
  double got = 0;
  assert_int_equal(db_usage_load(db, load_usage, &got), 0);
  assert_true(got > 1234.4 && got < 1234.6);
  free(tasks);
  db_close(db);
}

/* No statement reads a whole table: partial indexes are used only when a
 * query repeats their WHERE term, an easy thing to lose in an edit. */
static void
every_statement_uses_an_index(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);
  if (db_check_plans(db, &err) < 0)
    fail_msg("full scans: %s", err.msg);
  db_close(db);
}

/* A relaxed commit becomes durable with db_sync, and the log is where
 * walsync.c syncs it: BOXQ.db-wal next to the database. */
static void
relaxed_commit_then_sync(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);
  struct job_rec j = sample_job();
  assert_int_equal(db_begin_relaxed(db), 0);
  assert_true(db_relaxed(db));
  assert_int_equal(db_insert_job(db, &j), 0);
  assert_int_equal(db_commit(db), 0);
  assert_false(db_relaxed(db));
  char wal[320];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  assert_int_equal(access(wal, F_OK), 0);
  assert_int_equal(db_sync(db), 0);
  db_close(db);
  assert_int_equal(db_open(path, &db, &err), 0);
  struct job_rec back;
  assert_int_equal(db_get_job(db, j.id, false, &back), 0);
  assert_string_equal(back.name, "j1");
  job_rec_free(&back);
  db_close(db);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(insert_and_read_back),
      cmocka_unit_test(every_submitted_field_reads_back),
      cmocka_unit_test(lifecycle_survives_reopen),
      cmocka_unit_test(refuses_newer_schema),
      cmocka_unit_test(rolled_back_change_leaves_nothing),
      cmocka_unit_test(migrates_a_version_3_database),
      cmocka_unit_test(arrays_holds_and_dependencies),
      cmocka_unit_test(every_statement_uses_an_index),
      cmocka_unit_test(relaxed_commit_then_sync),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
