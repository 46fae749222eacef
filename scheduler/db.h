/* SPDX-License-Identifier: MIT */
/* The scheduler's SQLite store: jobs, their usage and their event log.
 * boxqd is its only writer. Mutating functions do not open transactions
 * themselves: callers wrap each state change in db_begin/db_commit so that
 * the change and its event are one transaction. */
#pragma once

#include "job.h"
#include "series.h"
#include "util.h"

#include <stdint.h>

struct db;

int db_open(const char *path, struct db **ret, struct berr *err);
void db_close(struct db *db);
const char *db_errmsg(struct db *db);

int db_begin(struct db *db); /* BEGIN IMMEDIATE */
/* Makes every commit so far durable, relaxed ones included (a checkpoint). */
int db_sync(struct db *db);
/* A transaction whose commit need not reach the disk at once (no fsync):
 * for boxqd's own bookkeeping, and for job results and clients' changes,
 * which the worker and the client are told are stored only after a sync
 * (walsync.c). It cannot be lost alone: the next durable commit or sync
 * writes it too, and after a crash of boxqd (not of the machine) it is
 * there. */
int db_begin_relaxed(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
/* Inside a transaction: a nested part that can be undone alone. */
int db_savepoint(struct db *db);
int db_release(struct db *db);
void db_rollback_savepoint(struct db *db);
bool db_relaxed(struct db *db); /* the open transaction is a relaxed one */

/* Inserts j (state, times and owner filled by the caller); sets j->id. */
int db_insert_job(struct db *db, struct job_rec *j);
/* full: also the script and environment. -ENOENT if no such job. */
int db_get_job(struct db *db, int64_t id, bool full, struct job_rec *ret);

typedef int (*db_job_cb)(void *ud, struct job_rec *j);
enum db_list_flags {
  DB_LIST_FINISHED = 1 << 0, /* include state F */
  DB_LIST_FULL = 1 << 1,     /* include script and environment */
  DB_LIST_BRIEF = 1 << 2,    /* unfinished jobs, only what qstat's table shows (not with FULL) */
};
int db_list_jobs(struct db *db, unsigned flags, db_job_cb cb, void *ud);
/* Unfinished jobs and the jobs finished after since, by id. */
int db_list_recent(struct db *db, bool full, int64_t since, db_job_cb cb, void *ud);
/* Schedules (cron.c; db_cron.c). An entry submits its template, an
 * encoded T_JOB payload, as uid/gid when due. */
struct db_cron_entry {
  int64_t id, uid, gid, line;
  char *spec, *command;
  uint8_t *template;
  size_t template_len;
  int64_t next_run, last_run, last_job;
  char *last_outcome;
};
void db_cron_entries_free(struct db_cron_entry *e, size_t n);
/* uid's crontab as written; -ENOENT: none. */
int db_cron_text(struct db *db, int64_t uid, char **ret);
/* Replaces uid's crontab (text NULL: removes it) and its entries, in the
 * caller's transaction. */
int db_cron_replace(struct db *db, int64_t uid, const char *text, const struct db_cron_entry *e,
                    size_t n, int64_t now);
int db_cron_of_user(struct db *db, int64_t uid, struct db_cron_entry **ret, size_t *ret_n);
/* Entries due at or before now, the earliest first. */
int db_cron_due(struct db *db, int64_t now, struct db_cron_entry **ret, size_t *ret_n);
/* The earliest next_run of all entries; 0: none. */
int db_cron_next(struct db *db, int64_t *ret);
/* What entry e's due time did (the entry updated, a cron_runs row; the
 * user's rows older than CRON_RUNS_KEEP_SEC dropped). */
#define CRON_RUNS_KEEP_SEC (90 * 86400)
int db_cron_fired(struct db *db, const struct db_cron_entry *e, int64_t due, int64_t at,
                  int64_t next_run, int64_t job_id, const char *outcome);
struct db_cron_run {
  char *spec, *command, *outcome;
  int64_t due, at, job_id;
};
void db_cron_runs_free(struct db_cron_run *r, size_t n);
/* uid's latest runs, newest first, at most limit. */
int db_cron_runs(struct db *db, int64_t uid, int64_t limit, struct db_cron_run **ret,
                 size_t *ret_n);

/* The server's own settings (server_attrs): *ret allocated, -ENOENT when
 * name has none; value NULL removes it. */
int db_get_attr(struct db *db, const char *name, char **ret);
int db_set_attr(struct db *db, const char *name, const char *value);
/* A running job suspended at at (0: resumed), add_sec more suspended. */
int db_set_suspended(struct db *db, int64_t id, int64_t at, int64_t add_sec, int64_t now);
/* Jobs the worker owns (R or E). */
int db_list_running(struct db *db, db_job_cb cb, void *ud);

int db_set_state(struct db *db, int64_t id, int state, const char *hold_types, int64_t now);
/* Back to the queue for another run: clears the last run's state. */
int db_requeue(struct db *db, int64_t id, int64_t now);
int db_set_cpus(struct db *db, int64_t id, const char *cpus);
/* The devices the job holds ("gpu:0,1", devices.h). */
int db_set_devices(struct db *db, int64_t id, const char *devices);
int db_set_end_reason(struct db *db, int64_t id, int end_reason);
int db_job_started(struct db *db, int64_t id, int64_t stime, const char *exec_host,
                   const char *cgroup);
/* Records the end: state F, reason, exit status, end time, comment, usage. */
int db_job_ended(struct db *db, const struct job_rec *end);
/* Stores a running job's usage so far, unless its final record exists. */
int db_usage_sample(struct db *db, int64_t id, const struct job_usage *u);
/* db_series.c: a job's usage series (common/series.h), for boxq-web's
 * plots. db_series_add adds a relayed sample to it;
 * db_series_get reads it (none: *ret_n 0); db_series_drop forgets it
 * (the job runs again). */
int db_series_add(struct db *db, int64_t id, const struct job_usage *u);
int db_series_get(struct db *db, int64_t id, struct series_point *pts, size_t *ret_n);
int db_series_drop(struct db *db, int64_t id);
/* Replaces it whole with the shepherd's own, denser (n points, 1 to
 * SERIES_MAX); only_if_newer: unless the stored one goes further (a late
 * sample after the end). */
int db_series_put(struct db *db, int64_t id, const struct series_point *pts, size_t n,
                  bool only_if_newer);

/* What the store has done since it was opened, for boxq-web's /metrics:
 * jobs stored as submitted, jobs ended by reason (enum job_end), commits
 * that failed (a full disk, an I/O error). A rolled-back change may have
 * been counted. */
struct db_counters {
  int64_t submitted;
  int64_t ended[END_MAX];
  int64_t commit_failures;
};
const struct db_counters *db_counters(const struct db *db);
/* The database's size in bytes and its write-ahead log's (-1: unknown). */
void db_sizes(struct db *db, int64_t *ret_db, int64_t *ret_wal);
typedef int (*db_event_cb)(void *ud, int64_t time, const char *event, const char *detail);
/* A job's event log, oldest first. */
int db_list_events(struct db *db, int64_t id, db_event_cb cb, void *ud);
int db_add_event(struct db *db, int64_t id, int64_t time, const char *event, const char *detail);

/* Creates the tasks first, first+step, ... <= last of array job array_id,
 * copying its fields (state, holds, resources). */
int db_insert_tasks(struct db *db, int64_t array_id, int64_t first, int64_t last, int64_t step);

/* What the scheduling pass needs of a job, without its script or
 * environment. queue points into the row: copy it to keep it. */
struct db_sched_row {
  int64_t id, uid;
  const char *queue;
  int64_t ncpus, mem, walltime, priority, qtime, stime;
  int64_t array_id, array_limit;
  int64_t count;      /* queued: an array's waiting tasks stand in one row (the array's) */
  bool suspended;     /* running: frozen (qsig -s suspend, qhold) */
  const char *devreq; /* devices asked of each class ("gpu=2"), or NULL */
};
typedef int (*db_sched_cb)(void *ud, const struct db_sched_row *row);
/* running: jobs in R or E (stime is their dispatch time until they start);
 * else jobs in Q that can run, an array's waiting tasks as one row (the
 * array job's, array_id set, count: how many wait, up to max_count). */
int db_list_sched(struct db *db, bool running, int64_t max_count, db_sched_cb cb, void *ud);

/* The first n waiting tasks of an array, in index order. */
int db_next_tasks(struct db *db, int64_t array_id, int64_t n, int64_t **ret, size_t *ret_n);

/* Arrays. An array job is Q/H/W until a task is dispatched (then B, with
 * that time as its stime), F once every task has ended. */
int db_array_begun(struct db *db, int64_t array_id, int64_t now);
int db_array_unfinished(struct db *db, int64_t array_id, bool *ret);
struct db_array_outcome {
  int64_t tasks, completed, failed, cancelled;
  bool any_started;
};
int db_array_outcome(struct db *db, int64_t array_id, struct db_array_outcome *ret);
/* Tasks by state letter. */
int db_array_counts(struct db *db, int64_t array_id, int64_t counts[128]);
/* Task ids in index order (allocated). */
int db_array_tasks(struct db *db, int64_t array_id, int64_t **ret, size_t *ret_n);
/* The id of task index of an array; -ENOENT if it has none. */
int db_task_id(struct db *db, int64_t array_id, int64_t index, int64_t *ret);

/* Dependencies: job_id waits on dep_id (kind: enum dep_kind). */
int db_dep_add(struct db *db, int64_t job_id, int kind, int64_t dep_id);
int db_dep_drop(struct db *db, int64_t job_id);
int db_dependents(struct db *db, int64_t dep_id, int64_t **ret, size_t *ret_n);
struct db_dep_row {
  int kind;
  int64_t dep_id;
  bool exists; /* false: the job it names is gone from the database */
  int state, end_reason;
  int64_t stime, run_count;
};
typedef int (*db_dep_cb)(void *ud, const struct db_dep_row *row);
int db_deps_of(struct db *db, int64_t job_id, db_dep_cb cb, void *ud);

/* Deferred jobs (state W, qsub -a): those due by now; the next due time (0: none). */
int db_deferred_due(struct db *db, int64_t now, int64_t **ret, size_t *ret_n);
int db_deferred_next(struct db *db, int64_t *ret);

/* Fair share: per-user decayed usage. */
typedef int (*db_usage_cb)(void *ud, int64_t uid, double usage, int64_t updated);
int db_usage_load(struct db *db, db_usage_cb cb, void *ud);
int db_usage_save(struct db *db, int64_t uid, double usage, int64_t updated);

/* qrerun: keeps the last run's figures in job_runs before it is cleared. */
int db_archive_run(struct db *db, int64_t id);
/* qalter: stores the alterable fields of j (and of its unstarted tasks). */
int db_alter(struct db *db, const struct job_rec *j, int64_t now);

/* On a job that has not started, or on an array job and every task of it
 * that has not: add or remove a hold type (the state follows: H while any
 * hold remains, else W before its -a time, else Q), or end them (state F,
 * no exit status). Return how many rows changed, or -errno. */
int db_hold_add(struct db *db, int64_t id, char type, int64_t now);
int db_hold_remove(struct db *db, int64_t id, char type, int64_t now);
int db_finish_unstarted(struct db *db, int64_t id, int end_reason, int64_t now);
/* Jobs that depend on some task of an array. */
int db_task_dependents(struct db *db, int64_t array_id, int64_t **ret, size_t *ret_n);

/* Unfinished jobs by state (array tasks not counted; their array is),
 * and by queue when by_queue. */
typedef int (*db_count_cb)(void *ud, const char *queue, int state, int64_t n);
int db_count_active(struct db *db, bool by_queue, db_count_cb cb, void *ud);

/* qacct: which finished jobs. */
struct db_acct_filter {
  int64_t since, until; /* end time in [since, until); until 0 = no bound */
  int64_t reasons;      /* bit mask of 1 << enum job_end; 0 = all */
  const char *users;    /* "\x1falice\x1fbob\x1f", or NULL for all */
  const char *queues;   /* the same for queues */
  const char *accounts; /* and for accounts (qsub -A) */
  const char *projects; /* and for projects (qsub -P) */
  bool recount;         /* summaries summed from the jobs, not the kept ones */
};
enum db_acct_key {
  ACCT_BY_USER,
  ACCT_BY_QUEUE,
  ACCT_BY_DAY,
  ACCT_ALL,
  ACCT_BY_ACCOUNT,
  ACCT_BY_PROJECT,
  ACCT_BY_DAY_USER, /* "2026-12-07 alice" */
};
struct db_acct_group {
  const char *key;
  int64_t jobs, completed, failed, timeouts, oom_kills, cancelled;
  int64_t cpu_usec, wall_usec, cpu_alloc_usec, mem_peak, gpu_usec;
  int64_t waited, wait_sec, wait_max_sec; /* jobs that started, their waits summed, the longest */
};
typedef int (*db_group_cb)(void *ud, const struct db_acct_group *g);
/* Finished jobs by end time (array jobs themselves left out: their tasks
 * are there), at most limit (0: all). */
int db_acct_jobs(struct db *db, const struct db_acct_filter *f, int64_t limit, db_job_cb cb,
                 void *ud);
int db_acct_groups(struct db *db, const struct db_acct_filter *f, enum db_acct_key key,
                   db_group_cb cb, void *ud);

/* Retention: one batch (one transaction) of finished jobs ended before
 * before. expire false: drop their script, environment and events (they
 * leave qstat -x, their accounting stays); true: delete them entirely.
 * Returns how many jobs the batch took (0: nothing left), or -errno. */
int db_prune_batch(struct db *db, int64_t before, int64_t batch, bool expire);

/* For tests: fails (-EINVAL, the statements in err) if a prepared
 * statement would read a whole table, which on a database with a million
 * finished jobs means a stalled scheduler; the few meant to are allowed. */
int db_check_plans(struct db *db, struct berr *err);

/* Maps the last SQLite error to -errno (-ENOSPC for a full disk, ...). */
int db_errno(struct db *db);
