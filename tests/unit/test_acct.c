/* SPDX-License-Identifier: MIT */
/* The accounting summaries kept as jobs end (schema 019): after every way
 * a finished job's figures change (an end, a second copy of a result,
 * qrerun, retention), the kept summaries equal a recount of the jobs, for
 * every grouping, filter and time window, in three kinds of time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

static char dir[256];
static char path[300];

static int
setup(void **state) {
  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/boxq-test-acct.XXXXXX");
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

/* A small deterministic generator: the same jobs on every run. */
static uint64_t rng = 88172645463325252ull;
static uint64_t
next(uint64_t n) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng % n;
}

#define T0 1767225600 /* 2026-01-01 00:00 UTC */

static const char *const owners[] = {"alice", "bob", "carol", "dave"};
static const char *const queues[] = {"batch", "fast"};
static const char *const accounts[] = {"", "physics"};
static const int reasons[] = {END_COMPLETED, END_COMPLETED, END_FAILED,
                              END_TIMEOUT,   END_OOM,       END_CANCELLED};

static int64_t
new_job(struct db *db, int64_t ctime) {
  struct job_rec j = {.uid = 1000,
                      .gid = 1000,
                      .owner = (char *)owners[next(4)],
                      .name = (char *)"j",
                      .queue = (char *)queues[next(2)],
                      .account = (char *)accounts[next(2)],
                      .project = (char *)accounts[next(2)],
                      .state = JOB_QUEUED,
                      .workdir = (char *)"/w",
                      .ncpus = 1 + (int)next(4),
                      .ngpus = (int)next(3),
                      .mem = 1 << 20,
                      .walltime = 60,
                      .ctime = ctime,
                      .qtime = ctime,
                      .mtime = ctime,
                      .script = (char *)"true\n",
                      .script_len = 5};
  assert_int_equal(db_insert_job(db, &j), 0);
  return j.id;
}

static void
run_and_end(struct db *db, int64_t id, int64_t etime) {
  assert_int_equal(db_set_state(db, id, JOB_RUNNING, "", etime - 60), 0);
  assert_int_equal(db_job_started(db, id, etime - 60, "host", "cg"), 0);
  struct job_rec end = {.id = id,
                        .end_reason = reasons[next(ARRAY_SIZE(reasons))],
                        .has_exit = true,
                        .etime = etime,
                        .has_usage = next(8) != 0};
  end.usage.cpu_usec = (int64_t)next(100000000);
  end.usage.wall_usec = (int64_t)next(60000000);
  end.usage.mem_peak = (int64_t)next(1ll << 33);
  end.usage.oom_kills = end.end_reason == END_OOM;
  assert_int_equal(db_job_ended(db, &end), 0);
}

struct text {
  char *buf;
  size_t len;
};

static int
add_group(void *ud, const struct db_acct_group *g) {
  struct text *t = ud;
  char line[512];
  int n = snprintf(line, sizeof(line),
                   "%s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld\n",
                   g->key, (long long)g->jobs, (long long)g->completed, (long long)g->failed,
                   (long long)g->timeouts, (long long)g->oom_kills, (long long)g->cancelled,
                   (long long)g->cpu_usec, (long long)g->wall_usec, (long long)g->cpu_alloc_usec,
                   (long long)g->mem_peak, (long long)g->gpu_usec, (long long)g->waited,
                   (long long)g->wait_sec, (long long)g->wait_max_sec);
  t->buf = realloc(t->buf, t->len + (size_t)n + 1);
  memcpy(t->buf + t->len, line, (size_t)n + 1);
  t->len += (size_t)n;
  return 0;
}

/* Every grouping over every window and filter: kept == recounted. */
static int
compare_all(struct db *db) {
  const int64_t windows[][2] = {
      {0, 0},                                    /* everything */
      {T0 + 1234, T0 + 2 * 86400 + 5000},        /* ragged ends, whole days inside */
      {T0 + 5 * 3600, T0 + 9 * 3600},            /* whole hours */
      {T0 + 86400, T0 + 3 * 86400},              /* whole days */
      {T0 + 3 * 3600 + 17, T0 + 3 * 3600 + 900}, /* inside one hour */
      {T0 + 86400 - 1, 0},                       /* open-ended */
      {T0 + 4 * 86400, T0 + 5 * 86400},          /* nothing */
  };
  const struct db_acct_filter filters[] = {
      {0},
      {.users = "\x1f"
                "alice\x1f"
                "carol\x1f"},
      {.queues = "\x1f"
                 "fast\x1f",
       .reasons = 1 << END_COMPLETED | 1 << END_OOM},
      {.accounts = "\x1f"
                   "physics\x1f",
       .projects = "\x1f\x1f"},
  };
  int compared = 0;
  for (size_t w = 0; w < ARRAY_SIZE(windows); w++)
    for (size_t fi = 0; fi < ARRAY_SIZE(filters); fi++)
      for (int key = ACCT_BY_USER; key <= ACCT_BY_DAY_USER; key++) {
        struct db_acct_filter f = filters[fi];
        f.since = windows[w][0], f.until = windows[w][1];
        struct text kept = {0}, counted = {0};
        assert_int_equal(db_acct_groups(db, &f, key, add_group, &kept), 0);
        f.recount = true;
        assert_int_equal(db_acct_groups(db, &f, key, add_group, &counted), 0);
        if ((kept.buf != NULL) != (counted.buf != NULL) ||
            (kept.buf && strcmp(kept.buf, counted.buf) != 0))
          fail_msg("window %zu filter %zu key %d:\nkept:\n%s\nrecounted:\n%s", w, fi, key,
                   kept.buf ? kept.buf : "", counted.buf ? counted.buf : "");
        compared += kept.buf != NULL;
        free(kept.buf);
        free(counted.buf);
      }
  return compared;
}

static int64_t
count_rows(const char *table) {
  sqlite3 *s;
  assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
  char *sql = sqlite3_mprintf("SELECT COUNT(*) FROM %s", table);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_free(sql);
  sqlite3_close(s);
  return n;
}

static void
check_in_zones(struct db *db) {
  /* UTC; a zone of whole hours with summer time; one of half hours. */
  static const char *const zones[] = {"UTC0", "EST5EDT,M3.2.0,M11.1.0", "IST-5:30"};
  for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
    setenv("TZ", zones[z], 1);
    tzset();
    assert_true(compare_all(db) > 50);
  }
  unsetenv("TZ");
  tzset();
}

static void
summaries_equal_a_recount(void **state) {
  (void)state;
  struct db *db;
  struct berr err = {{0}};
  assert_int_equal(db_open(path, &db, &err), 0);

  /* 2,000 jobs ending over four days. */
  int64_t ids[2000];
  assert_int_equal(db_begin(db), 0);
  for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
    int64_t etime = T0 + (int64_t)next(4 * 86400);
    ids[i] = new_job(db, etime - 100);
    if (next(10) == 0)
      assert_int_equal(db_finish_unstarted(db, ids[i], END_CANCELLED, etime), 1);
    else
      run_and_end(db, ids[i], etime);
  }
  assert_int_equal(db_commit(db), 0);
  assert_true(count_rows("acct_day") > 0);
  assert_int_equal(count_rows("acct_dirty"), 0);
  check_in_zones(db);

  /* Changed after their end: qrerun (back in the queue, then ended in
   * another hour), a result stored a second time with other usage. */
  assert_int_equal(db_begin(db), 0);
  for (size_t i = 0; i < 100; i++) {
    int64_t id = ids[next(ARRAY_SIZE(ids))];
    if (i % 2 == 0) {
      assert_int_equal(db_requeue(db, id, T0), 0);
      if (i % 4 == 0)
        run_and_end(db, id, T0 + (int64_t)next(4 * 86400));
    } else {
      struct job_rec end = {.id = id, .end_reason = END_FAILED, .etime = T0 + 7, .has_usage = true};
      end.usage.mem_peak = 1ll << 40;
      end.usage.wall_usec = 5;
      assert_int_equal(db_job_ended(db, &end), 0);
    }
  }
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(count_rows("acct_dirty"), 0);
  check_in_zones(db);

  /* Retention removes the first day and a half, in batches. */
  int n;
  while ((n = db_prune_batch(db, T0 + 86400 + 43200, 97, true)) > 0)
    ;
  assert_int_equal(n, 0);
  check_in_zones(db);

  /* A database whose summaries were lost is recounted when opened. */
  db_close(db);
  sqlite3 *s;
  assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(s,
                   "DELETE FROM acct_hour; DELETE FROM acct_day; INSERT INTO acct_dirty "
                   "SELECT DISTINCT etime / 3600 FROM jobs WHERE state = 'F'",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(s);
  assert_int_equal(db_open(path, &db, &err), 0);
  assert_true(count_rows("acct_day") > 0);
  check_in_zones(db);
  db_close(db);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(summaries_equal_a_recount),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
