/* SPDX-License-Identifier: MIT */
#include "db_internal.h"

#include "migrate.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* A submission's columns: the fields stored at SUBMIT, then by hand the
 * script, the environment and the supplementary groups. */
#define INSERT_COL_SUBMIT(column) column ", "
#define INSERT_COL_LATER(column)
#define INSERT_COL_(member, kind, tag, column, wire, stored) INSERT_COL_##stored(column)
#define INSERT_PARAM_SUBMIT                                  "?, "
#define INSERT_PARAM_LATER
#define INSERT_PARAM_(member, kind, tag, column, wire, stored) INSERT_PARAM_##stored
#define SUBMIT_COLS                                            JOB_FIELDS(INSERT_COL_) "script, env, groups"
#define SUBMIT_PARAMS                                          JOB_FIELDS(INSERT_PARAM_) "?, ?, ?"

/* The indexes on unfinished jobs and on array tasks are partial (WHERE
 * state <> 'F', WHERE array_id <> 0): SQLite uses one only when the query
 * repeats that term word for word, so queries below do, even where another
 * term already implies it. Without it, a million finished jobs would be
 * scanned by every scheduling pass. */
static const char *const stmt_sql[ST_MAX] = {
    [ST_INSERT] = "INSERT INTO jobs (" SUBMIT_COLS ") VALUES (" SUBMIT_PARAMS ")",
    [ST_GET_BRIEF] = "SELECT " JOB_COLS FROM "WHERE j.id = ?",
    [ST_GET_FULL] = "SELECT " JOB_COLS FULL_COLS FROM "WHERE j.id = ?",
    [ST_LIST_ACTIVE] = "SELECT " JOB_COLS FROM "WHERE j.state <> 'F' ORDER BY +j.id",
    [ST_LIST_ALL] = "SELECT " JOB_COLS FROM "WHERE j.pruned = 0 ORDER BY j.id",
    [ST_LIST_ACTIVE_FULL] = "SELECT " JOB_COLS FULL_COLS FROM "WHERE j.state <> 'F' ORDER BY +j.id",
    [ST_LIST_ALL_FULL] = "SELECT " JOB_COLS FULL_COLS FROM "WHERE j.pruned = 0 ORDER BY j.id",
    /* Unfinished jobs and those finished since ?, in id order (Torque's
     * keep_completed): each half by its own partial index. */
    [ST_LIST_RECENT] = "SELECT * FROM (SELECT " JOB_COLS FROM
                       "WHERE j.state <> 'F' UNION ALL SELECT " JOB_COLS FROM
                       "WHERE j.state = 'F' AND j.etime > ? AND j.pruned = 0) ORDER BY +id",
    [ST_LIST_RECENT_FULL] = "SELECT * FROM (SELECT " JOB_COLS FULL_COLS FROM
                            "WHERE j.state <> 'F' UNION ALL SELECT " JOB_COLS FULL_COLS FROM
                            "WHERE j.state = 'F' AND j.etime > ? AND j.pruned = 0) ORDER BY +id",
    [ST_ATTR_GET] = "SELECT value FROM server_attrs WHERE name = ?",
    [ST_ATTR_SET] = "INSERT OR REPLACE INTO server_attrs (name, value) VALUES (?, ?)",
    [ST_ATTR_DEL] = "DELETE FROM server_attrs WHERE name = ?",
    [ST_LIST_RUNNING] =
        "SELECT " JOB_COLS FROM "WHERE j.state <> 'F' AND j.state IN ('R','E') ORDER BY +j.id",
    [ST_SET_STATE] = "UPDATE jobs SET state = ?, hold_types = ?, mtime = ?, "
                     "qtime = CASE WHEN ? = 'Q' THEN ? ELSE qtime END WHERE id = ?",
    [ST_SET_CPUS] = "UPDATE jobs SET cpus = ? WHERE id = ?",
    [ST_SET_DEVICES] = "UPDATE jobs SET devices = ? WHERE id = ?",
    [ST_REQUEUE] = "UPDATE jobs SET state = 'Q', end_reason = 0, exit_status = NULL, stime = 0, "
                   "etime = 0, cpus = '', devices = '', exec_host = NULL, qtime = ?, mtime = ?, "
                   "suspended_at = 0 WHERE id = ?",
    [ST_SUSPENDED] = "UPDATE jobs SET suspended_at = ?2, suspended_sec = suspended_sec + ?3, "
                     "mtime = ?4 WHERE id = ?1",
    [ST_DROP_USAGE] = "DELETE FROM job_usage WHERE job_id = ?",
    [ST_SET_END_REASON] = "UPDATE jobs SET end_reason = ? WHERE id = ?",
    [ST_STARTED] = "UPDATE jobs SET state = 'R', stime = ?, mtime = ?, exec_host = ?, cgroup = ?, "
                   "run_count = run_count + 1 WHERE id = ?",
    [ST_ENDED] = "UPDATE jobs SET state = 'F', end_reason = ?, exit_status = ?, "
                 "stime = CASE WHEN ? > 0 THEN ? ELSE stime END, etime = ?, mtime = ?, "
                 "suspended_sec = suspended_sec + CASE WHEN suspended_at > 0 "
                 "THEN MAX(?5 - suspended_at, 0) ELSE 0 END, " /* ?5: etime */
                 "suspended_at = 0, "
                 "comment = COALESCE(?, comment), cgroup = COALESCE(?, cgroup) WHERE id = ?",
/* job_usage's columns: job_id, the listed fields, cg_backend. */
#define USAGE_COL_(member, kind, tag)   #member ", "
#define USAGE_PARAM_(member, kind, tag) "?, "
#define USAGE_COLS                      "job_id, " JOB_USAGE_FIELDS(USAGE_COL_) "cg_backend"
#define USAGE_PARAMS                    "?, " JOB_USAGE_FIELDS(USAGE_PARAM_) "?"
    [ST_USAGE] = "INSERT OR REPLACE INTO job_usage (" USAGE_COLS ") VALUES (" USAGE_PARAMS ")",
    /* A live sample never replaces the final record. */
    [ST_USAGE_SAMPLE] =
        "INSERT OR REPLACE INTO job_usage (" USAGE_COLS ") SELECT " USAGE_PARAMS
        " WHERE NOT EXISTS (SELECT 1 FROM job_usage WHERE job_id = ?1 AND final = 1)",
    [ST_EVENT] = "INSERT INTO job_events (job_id, time, event, detail) VALUES (?,?,?,?)",
    [ST_EVENTS] = "SELECT time, event, detail FROM job_events WHERE job_id = ? ORDER BY id",
    /* One row per index, copied from the array job in one statement. */
    [ST_INSERT_TASKS] =
        "WITH RECURSIVE idx(i) AS (SELECT ?2 UNION ALL SELECT i + ?4 FROM idx WHERE i + ?4 <= ?3) "
        "INSERT INTO jobs (owner_uid, owner_gid, owner, name, queue, submit_host, state, "
        "priority, hold_types, script, workdir, out_path, err_path, join_oe, env, groups, ncpus, "
        "mem, walltime, ctime, qtime, mtime, pids, net, rerunnable, array_id, array_index, "
        "array_limit, exec_time, nodes, resources, shell, umask, account, project, group_list, "
        "cput, mail_points, mail_users, dialect, warn_after, warn_signal, notify, devreq, ngpus) "
        "SELECT owner_uid, owner_gid, owner, name, queue, submit_host, state, priority, "
        "hold_types, x'', workdir, out_path, err_path, join_oe, x'', groups, ncpus, mem, "
        "walltime, ctime, qtime, mtime, pids, net, rerunnable, id, i, array_limit, exec_time, "
        "nodes, resources, shell, umask, account, project, group_list, cput, mail_points, "
        "mail_users, dialect, warn_after, warn_signal, notify, devreq, ngpus "
        "FROM idx, jobs WHERE jobs.id = ?1",
#define SCHED_COLS                                                                                 \
  "id, owner_uid, queue, ncpus, mem, walltime, priority, qtime, array_id, array_limit"
    /* Queued jobs, and one row per array with waiting tasks: the tasks are
     * identical to their array job but for their index, so the array
     * stands for them, with how many wait, counted only up to ?1 (a pass
     * cannot start more). A 100,000-task array costs the pass one row. */
    [ST_SCHED_QUEUED] =
        "SELECT id, owner_uid, queue, ncpus, mem, walltime, priority, qtime, 0, 0, 0, 1, 0, devreq "
        "FROM jobs WHERE state <> 'F' AND state = 'Q' AND array_spec = '' AND array_id = 0 "
        "UNION ALL SELECT * FROM (SELECT p.id, p.owner_uid, p.queue, p.ncpus, p.mem, "
        "p.walltime, p.priority, p.qtime, p.id, p.array_limit, 0, (SELECT COUNT(*) FROM "
        "(SELECT 1 FROM jobs t WHERE t.array_id <> 0 AND t.array_id = p.id AND t.state = 'Q' "
        "LIMIT ?1)) AS waiting, 0, p.devreq FROM jobs p WHERE p.state <> 'F' AND p.state IN "
        "('Q','H','W','B') "
        "AND p.array_spec > '') WHERE waiting > 0",
    [ST_NEXT_TASKS] = "SELECT id FROM jobs WHERE array_id <> 0 AND array_id = ? AND "
                      "state = 'Q' ORDER BY array_index LIMIT ?",
    /* A job dispatched but not yet started holds its resources from then. */
    [ST_SCHED_RUNNING] = "SELECT " SCHED_COLS ", CASE WHEN stime = 0 THEN mtime ELSE stime END, 1, "
                         "suspended_at > 0, devreq FROM jobs WHERE state <> 'F' AND "
                         "state IN ('R','E')",
    [ST_ARRAY_BEGUN] = "UPDATE jobs SET state = 'B', stime = CASE WHEN stime = 0 THEN ?2 ELSE "
                       "stime END, mtime = ?2 WHERE id = ?1 AND state IN ('Q','H','W')",
    [ST_ARRAY_UNFINISHED] =
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE array_id <> 0 AND array_id = ? AND "
        "state IN ('Q','H','W','R','E'))",
    [ST_ARRAY_OUTCOME] =
        "SELECT end_reason, COUNT(*), MAX(stime) FROM jobs WHERE array_id <> 0 AND array_id = ? "
        "GROUP BY end_reason",
    [ST_ARRAY_COUNTS] =
        "SELECT state, COUNT(*) FROM jobs WHERE array_id <> 0 AND array_id = ? GROUP BY state",
    [ST_ARRAY_TASKS] =
        "SELECT id FROM jobs WHERE array_id <> 0 AND array_id = ? ORDER BY array_index",
    [ST_TASK_ID] = "SELECT id FROM jobs WHERE array_id <> 0 AND array_id = ? AND array_index = ?",
    [ST_DEP_ADD] = "INSERT OR IGNORE INTO job_deps (job_id, kind, dep_id) VALUES (?,?,?)",
    [ST_DEP_DROP] = "DELETE FROM job_deps WHERE job_id = ?",
    [ST_DEPENDENTS] = "SELECT DISTINCT job_id FROM job_deps WHERE dep_id = ?",
    [ST_DEPS_OF] = "SELECT d.kind, d.dep_id, j.state, j.end_reason, j.stime, j.run_count "
                   "FROM job_deps d LEFT JOIN jobs j ON j.id = d.dep_id WHERE d.job_id = ?",
    [ST_DEFERRED_DUE] = "SELECT id FROM jobs WHERE state <> 'F' AND state = 'W' AND exec_time <= ?",
    [ST_DEFERRED_NEXT] = "SELECT MIN(exec_time) FROM jobs WHERE state <> 'F' AND state = 'W'",
    [ST_USAGE_LOAD] = "SELECT uid, usage, updated FROM user_usage",
    [ST_USAGE_SAVE] = "INSERT OR REPLACE INTO user_usage (uid, usage, updated) VALUES (?,?,?)",
    [ST_ARCHIVE_RUN] =
        "INSERT OR REPLACE INTO job_runs (job_id, run, stime, etime, end_reason, exit_status, "
        "cpu_usec, mem_peak, wall_usec, oom_kills) SELECT j.id, j.run_count, j.stime, j.etime, "
        "j.end_reason, j.exit_status, u.cpu_usec, u.mem_peak, u.wall_usec, u.oom_kills "
        "FROM jobs j LEFT JOIN job_usage u ON u.job_id = j.id WHERE j.id = ?",
    /* qalter: an array job and its tasks that have not started change together. */
    [ST_ALTER] =
        "UPDATE jobs SET name = ?2, priority = ?3, ncpus = ?4, mem = ?5, walltime = ?6, "
        "pids = ?7, rerunnable = ?8, out_path = ?9, err_path = ?10, join_oe = ?11, "
        "array_limit = ?12, exec_time = ?13, mtime = ?14, "
        "depend = CASE WHEN id = ?1 THEN ?15 ELSE depend END, queue = ?16, resources = ?17, "
        "devreq = ?18, ngpus = ?19 "
        "WHERE id = ?1 OR (array_id <> 0 AND array_id = ?1 AND state IN ('Q','H','W'))",
/* Holds and ends of jobs that have not started: the job, or an array
 * job with every task that has not started. */
#define UNSTARTED                                                                                  \
  "(id = ?1 OR (array_id <> 0 AND array_id = ?1)) AND state <> 'F' AND state IN ('Q','H','W')"
    [ST_HOLD_ADD] = "UPDATE jobs SET hold_types = hold_types || ?2, state = 'H', mtime = ?3 "
                    "WHERE " UNSTARTED " AND instr(hold_types, ?2) = 0",
    [ST_HOLD_REMOVE] =
        "UPDATE jobs SET hold_types = replace(hold_types, ?2, ''), mtime = ?3, "
        "state = CASE WHEN replace(hold_types, ?2, '') <> '' THEN 'H' "
        "WHEN exec_time > ?3 THEN 'W' ELSE 'Q' END, "
        "qtime = CASE WHEN replace(hold_types, ?2, '') = '' AND exec_time <= ?3 THEN ?3 "
        "ELSE qtime END WHERE " UNSTARTED " AND instr(hold_types, ?2) > 0",
    [ST_FINISH_UNSTARTED] = "UPDATE jobs SET state = 'F', end_reason = ?2, etime = ?3, mtime = ?3 "
                            "WHERE " UNSTARTED,
    [ST_QUEUE_COUNTS] = "SELECT queue, state, COUNT(*) FROM jobs WHERE state <> 'F' AND "
                        "array_id = 0 GROUP BY queue, state",
    [ST_STATE_COUNTS] = "SELECT state, COUNT(*) FROM jobs WHERE state <> 'F' AND array_id = 0 "
                        "GROUP BY state",
    /* Retention, in batches: history first, the accounting row later. */
    [ST_PRUNE_PICK] = "SELECT id FROM jobs WHERE state = 'F' AND etime < ? AND pruned = 0 "
                      "LIMIT ?",
    [ST_PRUNE_JOB] = "UPDATE jobs SET pruned = 1, script = x'', env = x'' WHERE id = ?",
    [ST_PRUNE_EVENTS] = "DELETE FROM job_events WHERE job_id = ?",
    [ST_EXPIRE_PICK] = "SELECT id FROM jobs WHERE state = 'F' AND etime < ? LIMIT ?",
    [ST_EXPIRE_USAGE] = "DELETE FROM job_usage WHERE job_id = ?",
    [ST_EXPIRE_RUNS] = "DELETE FROM job_runs WHERE job_id = ?",
    [ST_EXPIRE_DEPS] = "DELETE FROM job_deps WHERE job_id = ?",
    [ST_EXPIRE_JOB] = "DELETE FROM jobs WHERE id = ?",
    [ST_SERIES_GET] = "SELECT points FROM job_series WHERE job_id = ?",
    [ST_SERIES_PUT] = "INSERT OR REPLACE INTO job_series (job_id, points) VALUES (?, ?)",
    [ST_SERIES_DROP] = "DELETE FROM job_series WHERE job_id = ?",
#define CRON_COLS                                                                                  \
  "id, uid, gid, line, spec, command, template, next_run, last_run, last_job, last_outcome"
    [ST_CRON_TEXT] = "SELECT text FROM crontabs WHERE uid = ?",
    [ST_CRON_TEXT_SET] = "INSERT OR REPLACE INTO crontabs (uid, text, mtime) VALUES (?,?,?)",
    [ST_CRON_TEXT_DEL] = "DELETE FROM crontabs WHERE uid = ?",
    [ST_CRON_OF_USER] = "SELECT " CRON_COLS " FROM cron_entries WHERE uid = ? ORDER BY uid, line",
    [ST_CRON_DEL_USER] = "DELETE FROM cron_entries WHERE uid = ?",
    [ST_CRON_INSERT] = "INSERT INTO cron_entries (uid, gid, line, spec, command, template, "
                       "next_run, last_run, last_job, last_outcome) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [ST_CRON_DUE] = "SELECT " CRON_COLS " FROM cron_entries WHERE next_run <= ? ORDER BY next_run",
    [ST_CRON_NEXT] = "SELECT MIN(next_run) FROM cron_entries",
    [ST_CRON_FIRED] = "UPDATE cron_entries SET next_run = ?2, last_run = ?3, last_job = ?4, "
                      "last_outcome = ?5 WHERE id = ?1",
    [ST_CRON_RUN] = "INSERT INTO cron_runs (uid, spec, command, due, at, job_id, outcome) "
                    "VALUES (?,?,?,?,?,?,?)",
    [ST_CRON_RUNS] = "SELECT spec, command, due, at, job_id, outcome FROM cron_runs WHERE uid = ? "
                     "ORDER BY uid DESC, due DESC LIMIT ?",
    [ST_CRON_PRUNE] = "DELETE FROM cron_runs WHERE uid = ? AND due < ?",
/* The summaries of hours marked dirty: recounted from the jobs, then
 * their days from their hours (schema 019). */
#define ACCT_KEY "owner, queue, account, project, end_reason"
#define ACCT_SUMS                                                                                  \
  "SUM(jobs), SUM(oom_kills), SUM(cpu_usec), SUM(wall_usec), SUM(cpu_alloc_usec), "                \
  "MAX(mem_peak), SUM(gpu_usec), SUM(waited), SUM(wait_sec), MAX(wait_max_sec)"
    [ST_ACCT_DIRTY] = "SELECT hour FROM acct_dirty ORDER BY hour",
    [ST_ACCT_HOUR_DROP] = "DELETE FROM acct_hour WHERE hour = ?1",
    [ST_ACCT_HOUR_COUNT] = "INSERT INTO acct_hour SELECT hour, " ACCT_KEY ", " ACCT_SUMS
                           " FROM acct_job WHERE etime >= ?1 * 3600 AND etime < ?1 * 3600 + 3600 "
                           "GROUP BY hour, " ACCT_KEY,
    [ST_ACCT_DAY_DROP] = "DELETE FROM acct_day WHERE day = ?1",
    [ST_ACCT_DAY_SUM] = "INSERT INTO acct_day SELECT ?1, " ACCT_KEY ", " ACCT_SUMS
                        " FROM acct_hour WHERE hour >= ?1 * 24 AND hour < ?1 * 24 + 24 "
                        "GROUP BY " ACCT_KEY,
    [ST_ACCT_DIRTY_CLEAR] = "DELETE FROM acct_dirty",
#undef ACCT_KEY
#undef ACCT_SUMS
    [ST_TX_BEGIN] = "BEGIN IMMEDIATE",
    [ST_TX_COMMIT] = "COMMIT",
    [ST_TX_SAVEPOINT] = "SAVEPOINT part",
    [ST_TX_RELEASE] = "RELEASE part",
    [ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
    [ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
    [ST_TASK_DEPENDENTS] =
        "SELECT DISTINCT d.job_id FROM jobs t JOIN job_deps d ON d.dep_id = t.id "
        "WHERE t.array_id <> 0 AND t.array_id = ?",
};

const char *
db_errmsg(struct db *db) {
  return db->last_error[0] ? db->last_error : sqlite3_errmsg(db->sql);
}

int
db_errno(struct db *db) {
  /* The OS error behind an I/O failure says more than SQLite's code: a
   * full disk or a read-only file system during a WAL write is IOERR. */
  int sys = sqlite3_system_errno(db->sql);
  if (sys == ENOSPC || sys == EROFS || sys == EDQUOT)
    return -sys;
  switch (sqlite3_errcode(db->sql)) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
      return 0;
    case SQLITE_FULL:
      return -ENOSPC;
    case SQLITE_READONLY:
      return -EROFS;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return -EBUSY;
    case SQLITE_NOMEM:
      return -ENOMEM;
    case SQLITE_CONSTRAINT:
      return -EEXIST;
    case SQLITE_NOTFOUND:
      return -ENOENT;
    default:
      return -EIO;
  }
}

static int
exec(struct db *db, const char *sql) {
  if (sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  snprintf(db->last_error, sizeof(db->last_error), "%s", sqlite3_errmsg(db->sql));
  return db_errno(db);
}

/* A read-only file system makes SQLite say only "unable to open database
 * file"; say what it is. */
static int
check_writable(const char *path, struct berr *err) {
  _cleanup_free_ char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir)
    *slash = '\0';
  struct statvfs vfs;
  if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    return berr_set(err, -EROFS, "the queue database %s is on a read-only file system", path);
  return 0;
}

/* The queue holds every job's script and environment: the database and
 * the files SQLite keeps beside it are its owner's alone from their first
 * byte. The database is created 0600 here (SQLite gives its -wal, -shm
 * and -journal the database's mode); files left more open by an older
 * boxq or by hand are closed up. */
static int
make_private(const char *path, struct berr *err) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return berr_set(err, -errno, "cannot open database %s: %s", path, strerror(errno));
  struct stat st;
  int r = fstat(fd, &st) < 0 ? -errno : 0;
  if (r == 0 && (st.st_mode & 077) && fchmod(fd, 0600) < 0)
    r = -errno;
  close(fd);
  if (r < 0)
    return berr_set(err, r, "cannot make database %s private: %s", path, strerror(-r));
  static const char *const companions[] = {"-wal", "-shm", "-journal"};
  for (size_t i = 0; i < ARRAY_SIZE(companions); i++) {
    _cleanup_free_ char *other = xasprintf("%s%s", path, companions[i]);
    if (lstat(other, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
        chmod(other, 0600) < 0)
      return berr_set(err, -errno, "cannot make %s private: %s", other, strerror(errno));
  }
  return 0;
}

int
db_open(const char *path, struct db **ret, struct berr *err) {
  int r = check_writable(path, err);
  if (r < 0 || (r = make_private(path, err)) < 0)
    return r;
  /* One thread uses SQLite here (walsync's only fdatasyncs a descriptor):
   * no allocation statistics, no mutexes, which cost boxqd a lock and an
   * unlock around every allocation and every call (about 5% of its time
   * in a drain of short jobs). Refused once SQLite is initialized: a
   * second database of the process keeps the first one's settings. */
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  struct db *db = xcalloc(1, sizeof(*db));
  if (sqlite3_open_v2(path, &db->sql,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    r = berr_set(err, -EIO, "cannot open database %s: %s", path,
                 db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(db->sql, 5000);
  sqlite3_extended_result_codes(db->sql, 0);
  /* WAL with synchronous=FULL: a commit is on disk before we acknowledge
   * it, which is what "qsub printed the id" promises. */
  if (exec(db, "PRAGMA journal_mode = WAL") < 0 || exec(db, "PRAGMA synchronous = FULL") < 0) {
    r = berr_set(err, -EIO, "cannot configure database %s: %s", path, sqlite3_errmsg(db->sql));
    goto fail;
  }
  /* Foreign keys are enforced only after the migrations: a migration that
   * rebuilds a table drops the old one, which the keys would refuse. */
  r = mig_apply(db->sql, err);
  if (r < 0) {
    berr_prefix(err, r, "%s", path);
    goto fail;
  }
  if (exec(db, "PRAGMA foreign_keys = ON") < 0) {
    r = berr_set(err, -EIO, "cannot configure database %s: %s", path, sqlite3_errmsg(db->sql));
    goto fail;
  }
  for (int i = 0; i < ST_MAX; i++) {
    if (sqlite3_prepare_v3(db->sql, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) !=
        SQLITE_OK) {
      r = berr_set(err, -EIO, "cannot prepare statement %d: %s", i, sqlite3_errmsg(db->sql));
      goto fail;
    }
  }
  char *brief = db__brief_list_sql();
  int rc = sqlite3_prepare_v3(db->sql, brief, -1, SQLITE_PREPARE_PERSISTENT, &db->list_brief, NULL);
  free(brief);
  if (rc != SQLITE_OK) {
    r = berr_set(err, -EIO, "cannot prepare the brief listing: %s", sqlite3_errmsg(db->sql));
    goto fail;
  }
  /* Summaries a migration or an import left to recount. */
  if ((r = db_begin(db)) < 0 || (r = db_commit(db)) < 0) {
    r = berr_set(err, r, "cannot recount the accounting summaries of %s: %s", path,
                 db->last_error[0] ? db->last_error : sqlite3_errmsg(db->sql));
    goto fail;
  }
  *ret = db;
  return 0;
fail:
  db_close(db);
  return r;
}

void
db_close(struct db *db) {
  if (!db)
    return;
  for (int i = 0; i < ST_MAX; i++)
    sqlite3_finalize(db->st[i]);
  sqlite3_finalize(db->list_brief);
  sqlite3_close(db->sql);
  free(db);
}

/* A prepared statement without parameters or rows: transaction control. */
static int
run(struct db *db, enum stmt_id id) {
  return db__step_done(db, db->st[id]);
}

int
db_begin(struct db *db) {
  db->last_error[0] = '\0';
  return run(db, ST_TX_BEGIN);
}

int
db_begin_relaxed(struct db *db) {
  db->last_error[0] = '\0';
  int r = run(db, ST_SYNC_NORMAL);
  if (r == 0)
    r = run(db, ST_TX_BEGIN);
  if (r < 0) {
    run(db, ST_SYNC_FULL);
    return r;
  }
  db->relaxed = true;
  return 0;
}

int
db_sync(struct db *db) {
  /* With synchronous = FULL a checkpoint syncs the log before copying it
   * into the database, and the database after. */
  int rc = sqlite3_wal_checkpoint_v2(db->sql, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : -EIO;
}

/* Back to durable commits after a relaxed transaction ended. */
static void
end_relaxed(struct db *db) {
  if (db->relaxed && sqlite3_get_autocommit(db->sql)) {
    run(db, ST_SYNC_FULL);
    db->relaxed = false;
  }
}

bool
db_relaxed(struct db *db) {
  return db->relaxed;
}

int
db_commit(struct db *db) {
  int r = db__acct_settle(db);
  if (r == 0)
    r = run(db, ST_TX_COMMIT);
  if (r < 0) {
    db->counters.commit_failures++;
    db_rollback(db);
  }
  end_relaxed(db);
  return r;
}

int
db__step_with(struct db *db, enum stmt_id id, int64_t v) {
  sqlite3_stmt *s = db__stmt(db, id);
  sqlite3_bind_int64(s, 1, v);
  return db__step_done(db, s);
}

void
db__count_ends(struct db *db, int end_reason, int64_t n) {
  if (end_reason >= 0 && end_reason < END_MAX)
    db->counters.ended[end_reason] += n;
}

const struct db_counters *
db_counters(const struct db *db) {
  return &db->counters;
}

static int64_t
pragma_i64(struct db *db, const char *sql) {
  sqlite3_stmt *s;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) != SQLITE_OK)
    return -1;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

void
db_sizes(struct db *db, int64_t *ret_db, int64_t *ret_wal) {
  int64_t pages = pragma_i64(db, "PRAGMA page_count"), size = pragma_i64(db, "PRAGMA page_size");
  *ret_db = pages >= 0 && size > 0 ? pages * size : -1;
  *ret_wal = -1;
  const char *file = sqlite3_db_filename(db->sql, "main");
  struct stat st;
  if (file && *file) {
    _cleanup_free_ char *wal = xasprintf("%s-wal", file);
    if (stat(wal, &st) == 0)
      *ret_wal = (int64_t)st.st_size;
  }
}

int
db_savepoint(struct db *db) {
  return run(db, ST_TX_SAVEPOINT);
}

int
db_release(struct db *db) {
  return run(db, ST_TX_RELEASE);
}

void
db_rollback_savepoint(struct db *db) {
  sqlite3_exec(db->sql, "ROLLBACK TO part; RELEASE part", NULL, NULL, NULL);
}

void
db_rollback(struct db *db) {
  if (!sqlite3_get_autocommit(db->sql))
    sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
  end_relaxed(db);
}

sqlite3_stmt *
db__stmt(struct db *db, enum stmt_id id) {
  sqlite3_stmt *s = db->st[id];
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

/* Runs a statement that returns no rows. */
int
db__step_done(struct db *db, sqlite3_stmt *s) {
  int rc = sqlite3_step(s);
  int r = rc == SQLITE_DONE ? 0 : db_errno(db);
  if (r < 0)
    snprintf(db->last_error, sizeof(db->last_error), "%s", sqlite3_errmsg(db->sql));
  sqlite3_reset(s);
  return r;
}

int
db__each_row(struct db *db, sqlite3_stmt *s, row_fn fn, void *ud) {
  int rc, r = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((r = fn(s, ud)) != 0)
      break;
  if (r == 0 && rc != SQLITE_DONE)
    r = db_errno(db);
  sqlite3_reset(s);
  return r < 0 ? r : 0;
}

void
db__bind_text(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

/* ---- the scheduler's projection of the queue ---- */

struct sched_rows {
  db_sched_cb cb;
  void *ud;
};

static int
sched_row(sqlite3_stmt *s, void *ud) {
  struct sched_rows *sr = ud;
  const unsigned char *queue = sqlite3_column_text(s, 2);
  struct db_sched_row row = {
      .id = sqlite3_column_int64(s, 0),
      .uid = sqlite3_column_int64(s, 1),
      .queue = queue ? (const char *)queue : "",
      .ncpus = sqlite3_column_int64(s, 3),
      .mem = sqlite3_column_int64(s, 4),
      .walltime = sqlite3_column_int64(s, 5),
      .priority = sqlite3_column_int64(s, 6),
      .qtime = sqlite3_column_int64(s, 7),
      .array_id = sqlite3_column_int64(s, 8),
      .array_limit = sqlite3_column_int64(s, 9),
      .stime = sqlite3_column_int64(s, 10),
      .count = sqlite3_column_int64(s, 11),
      .suspended = sqlite3_column_int(s, 12) != 0,
      .devreq = (const char *)sqlite3_column_text(s, 13),
  };
  return sr->cb(sr->ud, &row);
}

int
db_list_sched(struct db *db, bool running, int64_t max_count, db_sched_cb cb, void *ud) {
  struct sched_rows sr = {cb, ud};
  sqlite3_stmt *s = db__stmt(db, running ? ST_SCHED_RUNNING : ST_SCHED_QUEUED);
  if (!running)
    sqlite3_bind_int64(s, 1, max_count > 0 ? max_count : 1);
  return db__each_row(db, s, sched_row, &sr);
}

struct id_list {
  int64_t *ids;
  size_t n, cap;
};

static int
id_row(sqlite3_stmt *s, void *ud) {
  struct id_list *l = ud;
  l->ids = xgrow(l->ids, l->n, &l->cap, sizeof(int64_t), 16);
  l->ids[l->n++] = sqlite3_column_int64(s, 0);
  return 0;
}

/* Collects the integers of the first column of a statement's rows. */
int
db__collect_ids(struct db *db, sqlite3_stmt *s, int64_t **ret, size_t *ret_n) {
  struct id_list l = {0};
  int r = db__each_row(db, s, id_row, &l);
  if (r < 0) {
    free(l.ids);
    return r;
  }
  *ret = l.ids;
  *ret_n = l.n;
  return 0;
}

/* ---- query plans ---- */

int
db_check_plans(struct db *db, struct berr *err) {
  /* Statements meant to read everything: qstat -x lists all jobs, the
   * fair-share table holds one row per user, acct_dirty the hours to
   * recount. */
  static const enum stmt_id whole[] = {ST_LIST_ALL, ST_LIST_ALL_FULL, ST_USAGE_LOAD, ST_ACCT_DIRTY};
  int bad = 0;
  for (int i = 0; i < ST_MAX; i++) {
    bool allowed = false;
    for (size_t k = 0; k < ARRAY_SIZE(whole); k++)
      allowed |= whole[k] == (enum stmt_id)i;
    if (allowed)
      continue;
    _cleanup_free_ char *sql = xasprintf("EXPLAIN QUERY PLAN %s", stmt_sql[i]);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &s, NULL) != SQLITE_OK)
      return berr_set(err, -EIO, "statement %d: %s", i, sqlite3_errmsg(db->sql));
    while (sqlite3_step(s) == SQLITE_ROW) {
      const char *detail = (const char *)sqlite3_column_text(s, 3);
      /* "SCAN x" without an index reads a whole table (x: a table of ours or
       * its alias in the statements; a CTE or a subquery is not one). */
      static const char *const tables[] = {
          "jobs", "job_usage", "job_events", "job_deps", "job_runs", "user_usage", "j",
          "p",    "t",         "u",          "d",        "crontabs", "cron_runs",  "cron_entries"};
      bool table = false;
      if (detail && strncmp(detail, "SCAN ", 5) == 0 && !strstr(detail, "INDEX")) {
        size_t wlen = strcspn(detail + 5, " ");
        for (size_t k = 0; k < ARRAY_SIZE(tables); k++)
          table |= strlen(tables[k]) == wlen && strncmp(detail + 5, tables[k], wlen) == 0;
      }
      if (table) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, "%sstatement %d: %s", len ? "; " : "", i,
                 detail);
        bad++;
      }
    }
    sqlite3_finalize(s);
  }
  return bad ? -EINVAL : 0;
}
