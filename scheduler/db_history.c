/* SPDX-License-Identifier: MIT */
/* The store's side of history: job counts (qstat -B/-Q), accounting
 * queries (qacct) and retention. */
#include "db_internal.h"

#include <string.h>
#include <time.h>

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
  int64_t *v[] = {&g.jobs,      &g.completed, &g.failed,    &g.timeouts,       &g.oom_kills,
                  &g.cancelled, &g.cpu_usec,  &g.wall_usec, &g.cpu_alloc_usec, &g.mem_peak,
                  &g.gpu_usec,  &g.waited,    &g.wait_sec,  &g.wait_max_sec};
  for (size_t i = 0; i < ARRAY_SIZE(v); i++)
    *v[i] = sqlite3_column_int64(s, (int)i + 1);
  return gr->cb(gr->ud, &g);
}

/* ---- the summaries kept as jobs end (schema 019) ---- */

int
db__acct_settle(struct db *db) {
  int64_t *hours;
  size_t n;
  int r = db__collect_ids(db, db__stmt(db, ST_ACCT_DIRTY), &hours, &n);
  if (r < 0 || n == 0)
    return r;
  /* One hour at a time: a range of end times the index answers. */
  for (size_t i = 0; r == 0 && i < n; i++)
    if ((r = db__step_with(db, ST_ACCT_HOUR_DROP, hours[i])) == 0)
      r = db__step_with(db, ST_ACCT_HOUR_COUNT, hours[i]);
  for (size_t i = 0; r == 0 && i < n; i++) {
    if (i > 0 && hours[i] / 24 == hours[i - 1] / 24)
      continue; /* sorted: a day's hours are together */
    if ((r = db__step_with(db, ST_ACCT_DAY_DROP, hours[i] / 24)) == 0)
      r = db__step_with(db, ST_ACCT_DAY_SUM, hours[i] / 24);
  }
  if (r == 0)
    r = db__step_done(db, db__stmt(db, ST_ACCT_DIRTY_CLEAR));
  free(hours);
  return r;
}

/* Where each part of [since, until) is read from: whole UTC days from
 * acct_day, whole hours from acct_hour, the rest (less than an hour at
 * each end) from the jobs. Every range is [lo, hi); an empty one is
 * [0, 0). */
struct acct_spans {
  int64_t raw_a[2], hour_a[2], day[2], hour_b[2], raw_b[2];
};

static int64_t
div_up(int64_t a, int64_t b) {
  return a / b + (a % b > 0);
}

static void
acct_spans(int64_t since, int64_t until, bool use_days, bool raw_only, struct acct_spans *sp) {
  memset(sp, 0, sizeof(*sp));
  since = since > 0 ? since : 0;
  until = until > 0 ? until : INT64_MAX;
  if (until <= since)
    return;
  int64_t h0 = div_up(since, 3600), h1 = until / 3600;
  if (raw_only || h0 >= h1) {
    sp->raw_a[0] = since, sp->raw_a[1] = until;
    return;
  }
  sp->raw_a[0] = since, sp->raw_a[1] = h0 * 3600;
  sp->raw_b[0] = h1 * 3600, sp->raw_b[1] = until;
  int64_t d0 = div_up(h0, 24), d1 = h1 / 24;
  if (!use_days || d0 >= d1) {
    sp->hour_a[0] = h0, sp->hour_a[1] = h1;
    return;
  }
  sp->hour_a[0] = h0, sp->hour_a[1] = d0 * 24;
  sp->day[0] = d0, sp->day[1] = d1;
  sp->hour_b[0] = d1 * 24, sp->hour_b[1] = h1;
}

/* The local time zone's offset from UTC at t, in seconds (1 when unknown:
 * not whole hours, so such days are recounted). */
static long
zone_offset(int64_t t) {
  time_t tt = (time_t)(t > 0 ? t : 0);
  struct tm tm;
  return localtime_r(&tt, &tm) ? tm.tm_gmtoff : 1;
}

#define ACCT_FILTER                                                                                \
  "((?3 >> end_reason) & 1) = 1 "                                                                  \
  "AND (?4 IS NULL OR instr(?4, char(31) || owner || char(31)) > 0) "                              \
  "AND (?5 IS NULL OR instr(?5, char(31) || queue || char(31)) > 0) "                              \
  "AND (?6 IS NULL OR instr(?6, char(31) || account || char(31)) > 0) "                            \
  "AND (?7 IS NULL OR instr(?7, char(31) || project || char(31)) > 0)"
#define ACCT_PART                                                                                  \
  "SELECT %s AS k, end_reason, jobs, oom_kills, cpu_usec, wall_usec, cpu_alloc_usec, mem_peak, "   \
  "gpu_usec, waited, wait_sec, wait_max_sec FROM %s WHERE %s >= ?%d AND %s < ?%d AND " ACCT_FILTER

int
db_acct_groups(struct db *db, const struct db_acct_filter *f, enum db_acct_key key, db_group_cb cb,
               void *ud) {
  static const char *const keys[] = {
      [ACCT_BY_USER] = "owner",  [ACCT_BY_QUEUE] = "queue",     [ACCT_BY_DAY] = NULL,
      [ACCT_ALL] = "'all'",      [ACCT_BY_ACCOUNT] = "account", [ACCT_BY_PROJECT] = "project",
      [ACCT_BY_DAY_USER] = NULL,
  };
  if ((unsigned)key >= ARRAY_SIZE(keys))
    return -EINVAL;
  if (sqlite3_get_autocommit(db->sql)) {
    /* Marks left by a write outside a transaction: settled first. */
    int r = db_begin(db);
    if (r < 0 || (r = db_commit(db)) < 0)
      return r;
  }
  /* By local day: UTC days serve where local time is UTC, hours where
   * the offset is whole hours (not India, Nepal, Newfoundland), the jobs
   * themselves elsewhere. */
  bool by_day = key == ACCT_BY_DAY || key == ACCT_BY_DAY_USER;
  const char *with_user = key == ACCT_BY_DAY_USER ? " || ' ' || owner" : "";
  int64_t now = (int64_t)time(NULL);
  long off_since = zone_offset(f->since), off_now = zone_offset(now);
  tzset(); /* daylight and timezone: the zone's rules, UTC without summer time */
  bool use_days = !by_day || (daylight == 0 && timezone == 0);
  bool raw_only =
      f->recount ||
      (by_day && (off_since % 3600 != 0 || off_now % 3600 != 0 || timezone % 3600 != 0));
  _cleanup_free_ char *day_key =
      by_day ? xasprintf("date(day * 86400, 'unixepoch', 'localtime')%s", with_user)
             : xstrdup(keys[key]);
  _cleanup_free_ char *hour_key =
      by_day ? xasprintf("date(hour * 3600, 'unixepoch', 'localtime')%s", with_user)
             : xstrdup(keys[key]);
  _cleanup_free_ char *raw_key =
      by_day ? xasprintf("date(etime, 'unixepoch', 'localtime')%s", with_user) : xstrdup(keys[key]);
  struct acct_spans sp;
  acct_spans(f->since, f->until, use_days, raw_only, &sp);
  _cleanup_free_ char *day_part = xasprintf(ACCT_PART, day_key, "acct_day", "day", 12, "day", 13);
  _cleanup_free_ char *hour_a = xasprintf(ACCT_PART, hour_key, "acct_hour", "hour", 10, "hour", 11);
  _cleanup_free_ char *hour_b = xasprintf(ACCT_PART, hour_key, "acct_hour", "hour", 14, "hour", 15);
  _cleanup_free_ char *raw_a = xasprintf(ACCT_PART, raw_key, "acct_job", "etime", 8, "etime", 9);
  _cleanup_free_ char *raw_b = xasprintf(ACCT_PART, raw_key, "acct_job", "etime", 16, "etime", 17);
  _cleanup_free_ char *sql = xasprintf(
      "SELECT k, SUM(jobs), SUM((end_reason = %d) * jobs), "
      "SUM((end_reason IN (%d, %d, %d, %d, %d, %d)) * jobs), SUM((end_reason = %d) * jobs), "
      "SUM(oom_kills), SUM((end_reason IN (%d, %d)) * jobs), SUM(cpu_usec), SUM(wall_usec), "
      "SUM(cpu_alloc_usec), MAX(mem_peak), SUM(gpu_usec), SUM(waited), SUM(wait_sec), "
      "MAX(wait_max_sec) FROM (%s UNION ALL %s UNION ALL %s "
      "UNION ALL %s UNION ALL %s) GROUP BY k ORDER BY k",
      END_COMPLETED, END_FAILED, END_TIMEOUT, END_OOM, END_LOST, END_LAUNCH, END_CPUTIME,
      END_TIMEOUT, END_CANCELLED, END_DEPENDENCY, day_part, hour_a, hour_b, raw_a, raw_b);
  sqlite3_stmt *s;
  int r = acct_prepare(db, sql, f, &s);
  if (r < 0)
    return r;
  int64_t bounds[] = {sp.raw_a[0], sp.raw_a[1],  sp.hour_a[0], sp.hour_a[1], sp.day[0],
                      sp.day[1],   sp.hour_b[0], sp.hour_b[1], sp.raw_b[0],  sp.raw_b[1]};
  for (size_t i = 0; i < ARRAY_SIZE(bounds); i++)
    sqlite3_bind_int64(s, 8 + (int)i, bounds[i]);
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
  for (size_t i = 0; r == 0 && i < n; i++)
    r = db__step_with(db, id, ids[i]);
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
    enum stmt_id steps[] = {ST_PRUNE_EVENTS, ST_EXPIRE_USAGE, ST_EXPIRE_RUNS,
                            ST_EXPIRE_DEPS,  ST_SERIES_DROP,  ST_EXPIRE_JOB};
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
