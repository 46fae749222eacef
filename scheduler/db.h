/* SPDX-License-Identifier: MIT */
/* The scheduler's SQLite store: jobs, their usage and their event log.
 * boxqd is its only writer. Mutating functions do not open transactions
 * themselves: callers wrap each state change in db_begin/db_commit so that
 * the change and its event are one transaction. */
#pragma once

#include "job.h"
#include "util.h"

#include <stdint.h>

struct db;

int db_open(const char *path, struct db **ret, struct berr *err);
void db_close(struct db *db);
const char *db_errmsg(struct db *db);

int db_begin(struct db *db); /* BEGIN IMMEDIATE */
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Inserts j (state, times and owner filled by the caller); sets j->id. */
int db_insert_job(struct db *db, struct job_rec *j);
/* full: also the script and environment. -ENOENT if no such job. */
int db_get_job(struct db *db, int64_t id, bool full, struct job_rec *ret);

typedef int (*db_job_cb)(void *ud, struct job_rec *j);
enum db_list_flags {
  DB_LIST_FINISHED = 1 << 0, /* include state F */
  DB_LIST_FULL = 1 << 1,     /* include script and environment */
};
int db_list_jobs(struct db *db, unsigned flags, db_job_cb cb, void *ud);
/* Jobs in state Q, in the order the policy considers them. */
int db_list_queued(struct db *db, db_job_cb cb, void *ud);
/* Jobs the worker owns (R or E). */
int db_list_running(struct db *db, db_job_cb cb, void *ud);

int db_set_state(struct db *db, int64_t id, int state, const char *hold_types, int64_t now);
/* Back to the queue for another run: clears the last run's state. */
int db_requeue(struct db *db, int64_t id, int64_t now);
int db_set_cpus(struct db *db, int64_t id, const char *cpus);
int db_set_end_reason(struct db *db, int64_t id, int end_reason);
int db_job_started(struct db *db, int64_t id, int64_t stime, const char *exec_host,
                   const char *cgroup);
/* Records the end: state F, reason, exit status, end time, comment, usage. */
int db_job_ended(struct db *db, const struct job_rec *end);
/* Stores a running job's usage so far, unless its final record exists. */
int db_usage_sample(struct db *db, int64_t id, const struct job_usage *u);
typedef int (*db_event_cb)(void *ud, int64_t time, const char *event, const char *detail);
/* A job's event log, oldest first. */
int db_list_events(struct db *db, int64_t id, db_event_cb cb, void *ud);
int db_add_event(struct db *db, int64_t id, int64_t time, const char *event, const char *detail);

/* Maps the last SQLite error to -errno (-ENOSPC for a full disk, ...). */
int db_errno(struct db *db);
