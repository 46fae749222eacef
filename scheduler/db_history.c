/* SPDX-License-Identifier: MIT */
/* The store's side of history: job counts (qstat -B/-Q), accounting
 * queries (qacct) and retention. */
#include "db_internal.h"

#include <string.h>

/* ---- counts for qstat -B and -Q ---- */

struct count_rows {
  db_count_cb cb;
  void *ud;
  bool with_queue;
};

static int
state_count_row(sqlite3_stmt *s, void *ud) {
  struct count_rows *cr = ud;
  int k = cr->with_queue ? 1 : 0;
  const unsigned char *queue = cr->with_queue ? sqlite3_column_text(s, 0) : NULL;
  const unsigned char *st = sqlite3_column_text(s, k);
  return cr->cb(cr->ud, queue ? (const char *)queue : "", st ? st[0] : '?',
                sqlite3_column_int64(s, k + 1));
}

int
db_count_active(struct db *db, bool by_queue, db_count_cb cb, void *ud) {
  struct count_rows cr = {cb, ud, by_queue};
  return db__each_row(db, db__stmt(db, by_queue ? ST_QUEUE_COUNTS : ST_STATE_COUNTS),
                      state_count_row, &cr);
}

/* ---- qacct ---- */

/* The WHERE clause shared by per-job rows and summaries. Lists of users
 * and queues travel as one string with a separator no name can hold. */
#define ACCT_WHERE                                                                                 \
  " WHERE j.state = 'F' AND j.array_spec = '' AND j.etime >= ?1 AND j.etime < ?2 "                 \
  "AND ((?3 >> j.end_reason) & 1) = 1 "                                                            \
  "AND (?4 IS NULL OR instr(?4, char(31) || j.owner || char(31)) > 0) "                            \
  "AND (?5 IS NULL OR instr(?5, char(31) || j.queue || char(31)) > 0) "                            \
  "AND (?6 IS NULL OR instr(?6, char(31) || j.account || char(31)) > 0) "                          \
  "AND (?7 IS NULL OR instr(?7, char(31) || j.project || char(31)) > 0) "

static int
acct_prepare(struct db *db, const char *sql, const struct db_acct_filter *f, sqlite3_stmt **ret) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) != SQLITE_OK) {
    snprintf(db->last_error, sizeof(db->last_error), "%s", sqlite3_errmsg(db->sql));
    return -EIO;
  }
  sqlite3_bind_int64(s, 1, f->since);
  sqlite3_bind_int64(s, 2, f->until > 0 ? f->until : INT64_MAX);
  sqlite3_bind_int64(s, 3, f->reasons ? f->reasons : -1);
  db__bind_text(s, 4, f->users);
  db__bind_text(s, 5, f->queues);
  db__bind_text(s, 6, f->accounts);
  db__bind_text(s, 7, f->projects);
  *ret = s;
  return 0;
}

int
db_acct_jobs(struct db *db, const struct db_acct_filter *f, int64_t limit, db_job_cb cb, void *ud) {
  sqlite3_stmt *s;
  int r =
      acct_prepare(db, "SELECT " JOB_COLS FROM ACCT_WHERE "ORDER BY j.etime, j.id LIMIT ?8", f, &s);
  if (r < 0)
    return r;
  sqlite3_bind_int64(s, 8, limit > 0 ? limit : INT64_MAX);
  struct job_rows jr = {false, cb, ud};
  r = db__each_row(db, s, db__job_row, &jr);
  sqlite3_finalize(s);
  return r;
}

struct group_rows {
  db_group_cb cb;
  void *ud;
};

static int
group_row(sqlite3_stmt *s, void *ud) {
  struct group_rows *gr = ud;
  const unsigned char *key = sqlite3_column_text(s, 0);
  struct db_acct_group g = {.key = key ? (const char *)key : ""};
  int64_t *v[] = {&g.jobs,           &g.completed, &g.failed,   &g.timeouts,
                  &g.oom_kills,      &g.cancelled, &g.cpu_usec, &g.wall_usec,
                  &g.cpu_alloc_usec, &g.mem_peak,  &g.gpu_usec};
  for (size_t i = 0; i < ARRAY_SIZE(v); i++)
    *v[i] = sqlite3_column_int64(s, (int)i + 1);
  return gr->cb(gr->ud, &g);
}

int
db_acct_groups(struct db *db, const struct db_acct_filter *f, enum db_acct_key key, db_group_cb cb,
               void *ud) {
  static const char *const keys[] = {
      [ACCT_BY_USER] = "j.owner",
      [ACCT_BY_QUEUE] = "j.queue",
      [ACCT_BY_DAY] = "date(j.etime, 'unixepoch', 'localtime')",
      [ACCT_ALL] = "'all'",
      [ACCT_BY_ACCOUNT] = "j.account",
      [ACCT_BY_PROJECT] = "j.project",
  };
  if ((unsigned)key >= ARRAY_SIZE(keys))
    return -EINVAL;
  _cleanup_free_ char *sql = xasprintf(
      "SELECT %s AS k, COUNT(*), SUM(j.end_reason = %d), SUM(j.end_reason IN (%d, %d, %d, %d, "
      "%d, %d)), "
      "SUM(j.end_reason = %d), SUM(COALESCE(u.oom_kills, 0)), SUM(j.end_reason IN (%d, %d)), "
      "SUM(COALESCE(u.cpu_usec, 0)), SUM(COALESCE(u.wall_usec, 0)), "
      "SUM(j.ncpus * COALESCE(u.wall_usec, 0)), MAX(COALESCE(u.mem_peak, 0)), "
      "SUM(j.ngpus * COALESCE(u.wall_usec, 0))" FROM ACCT_WHERE "GROUP BY k ORDER BY k",
      keys[key], END_COMPLETED, END_FAILED, END_TIMEOUT, END_OOM, END_LOST, END_LAUNCH, END_CPUTIME,
      END_TIMEOUT, END_CANCELLED, END_DEPENDENCY);
  sqlite3_stmt *s;
  int r = acct_prepare(db, sql, f, &s);
  if (r < 0)
    return r;
  struct group_rows gr = {cb, ud};
  r = db__each_row(db, s, group_row, &gr);
  sqlite3_finalize(s);
  return r;
}

/* ---- retention ---- */

/* Runs a one-parameter statement for each id. */
static int
for_ids(struct db *db, enum stmt_id id, const int64_t *ids, size_t n) {
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++) {
    sqlite3_stmt *s = db__stmt(db, id);
    sqlite3_bind_int64(s, 1, ids[i]);
    r = db__step_done(db, s);
  }
  return r;
}

int
db_prune_batch(struct db *db, int64_t before, int64_t batch, bool expire) {
  sqlite3_stmt *s = db__stmt(db, expire ? ST_EXPIRE_PICK : ST_PRUNE_PICK);
  sqlite3_bind_int64(s, 1, before);
  sqlite3_bind_int64(s, 2, batch);
  int64_t *ids;
  size_t n;
  int r = db__collect_ids(db, s, &ids, &n);
  if (r < 0 || n == 0)
    return r < 0 ? r : 0;
  r = db_begin(db);
  if (r == 0 && !expire) {
    r = for_ids(db, ST_PRUNE_EVENTS, ids, n);
    if (r == 0)
      r = for_ids(db, ST_PRUNE_JOB, ids, n);
  } else if (r == 0) {
    enum stmt_id steps[] = {ST_PRUNE_EVENTS, ST_EXPIRE_USAGE, ST_EXPIRE_RUNS, ST_EXPIRE_DEPS,
                            ST_EXPIRE_JOB};
    for (size_t k = 0; r == 0 && k < ARRAY_SIZE(steps); k++)
      r = for_ids(db, steps[k], ids, n);
  }
  if (r == 0)
    r = db_commit(db);
  else
    db_rollback(db);
  free(ids);
  return r < 0 ? r : (int)n;
}
