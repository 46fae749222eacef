/* SPDX-License-Identifier: MIT */
/* The inside of the scheduler's store, shared by its parts: db.c (the
 * connection, transactions, job rows, the pass's projection, the statement
 * table), db_workflow.c (arrays, dependencies, deferred jobs, fair share,
 * holds) and db_history.c (counts, qacct, retention). Not for anyone else. */
#pragma once

#include "db.h"

#include <sqlite3.h>

enum stmt_id {
  ST_INSERT,
  ST_GET_BRIEF,
  ST_GET_FULL,
  ST_LIST_ACTIVE,
  ST_LIST_ALL,
  ST_LIST_ACTIVE_FULL,
  ST_LIST_ALL_FULL,
  ST_LIST_RECENT,
  ST_LIST_RECENT_FULL,
  ST_LIST_RUNNING,
  ST_ATTR_GET,
  ST_ATTR_SET,
  ST_ATTR_DEL,
  ST_SET_STATE,
  ST_SET_END_REASON,
  ST_SET_CPUS,
  ST_SET_DEVICES,
  ST_REQUEUE,
  ST_SUSPENDED,
  ST_DROP_USAGE,
  ST_STARTED,
  ST_ENDED,
  ST_USAGE,
  ST_USAGE_SAMPLE,
  ST_EVENT,
  ST_EVENTS,
  ST_INSERT_TASKS,
  ST_SCHED_QUEUED,
  ST_SCHED_RUNNING,
  ST_NEXT_TASKS,
  ST_ARRAY_BEGUN,
  ST_ARRAY_UNFINISHED,
  ST_ARRAY_OUTCOME,
  ST_ARRAY_COUNTS,
  ST_ARRAY_TASKS,
  ST_TASK_ID,
  ST_DEP_ADD,
  ST_DEP_DROP,
  ST_DEPENDENTS,
  ST_DEPS_OF,
  ST_DEFERRED_DUE,
  ST_DEFERRED_NEXT,
  ST_USAGE_LOAD,
  ST_USAGE_SAVE,
  ST_ARCHIVE_RUN,
  ST_ALTER,
  ST_HOLD_ADD,
  ST_HOLD_REMOVE,
  ST_FINISH_UNSTARTED,
  ST_TASK_DEPENDENTS,
  ST_QUEUE_COUNTS,
  ST_STATE_COUNTS,
  ST_PRUNE_PICK,
  ST_PRUNE_JOB,
  ST_PRUNE_EVENTS,
  ST_EXPIRE_PICK,
  ST_EXPIRE_USAGE,
  ST_EXPIRE_RUNS,
  ST_EXPIRE_DEPS,
  ST_EXPIRE_JOB,
  ST_SERIES_GET,
  ST_SERIES_PUT,
  ST_SERIES_DROP,
  ST_CRON_TEXT,
  ST_CRON_TEXT_SET,
  ST_CRON_TEXT_DEL,
  ST_CRON_OF_USER,
  ST_CRON_DEL_USER,
  ST_CRON_INSERT,
  ST_CRON_DUE,
  ST_CRON_NEXT,
  ST_CRON_FIRED,
  ST_CRON_RUN,
  ST_CRON_RUNS,
  ST_CRON_PRUNE,
  ST_ACCT_DIRTY,
  ST_ACCT_HOUR_DROP,
  ST_ACCT_HOUR_COUNT,
  ST_ACCT_DAY_DROP,
  ST_ACCT_DAY_SUM,
  ST_ACCT_DIRTY_CLEAR,
  /* Transaction control, prepared once: parsing them again cost more than
   * the rest of a job's start (tens of microseconds a job). */
  ST_TX_BEGIN,
  ST_TX_COMMIT,
  ST_TX_SAVEPOINT,
  ST_TX_RELEASE,
  ST_SYNC_NORMAL,
  ST_SYNC_FULL,
  ST_MAX
};

/* Columns of a job row, in the order row_to_job reads them: the listed
 * fields (common/job_fields.h), then the ones of their own shape. */
#define JOB_COLS                                                                                   \
  JOB_FIELDS(JOB_FIELD_COLUMN_)                                                                    \
  "j.exit_status, j.groups, " JOB_USAGE_FIELDS(JOB_USAGE_COLUMN_) "u.cg_backend"
/* A task runs its array's script with its array's environment. */
#define FULL_COLS                                                                                  \
  ", CASE WHEN j.array_id <> 0 THEN (SELECT p.script FROM jobs p WHERE p.id = j.array_id) "        \
  "ELSE j.script END, "                                                                            \
  "CASE WHEN j.array_id <> 0 THEN (SELECT p.env FROM jobs p WHERE p.id = j.array_id) "             \
  "ELSE j.env END"
#define FROM " FROM jobs j LEFT JOIN job_usage u ON u.job_id = j.id "

struct db {
  sqlite3 *sql;
  bool relaxed; /* the open transaction commits with synchronous = NORMAL */
  sqlite3_stmt *st[ST_MAX];
  sqlite3_stmt *list_brief; /* db__brief_list_sql (db_jobs.c) */
  char last_error[256];     /* kept past the ROLLBACK that clears SQLite's own */
  struct db_counters counters;
};

/* A statement of the table, reset and unbound. */
sqlite3_stmt *db__stmt(struct db *db, enum stmt_id id);
/* Runs a statement that returns no rows. */
int db__step_done(struct db *db, sqlite3_stmt *s);
/* The same for a statement of the table with one integer parameter. */
int db__step_with(struct db *db, enum stmt_id id, int64_t v);
/* n jobs ended with end_reason (enum job_end): the counters of /metrics. */
void db__count_ends(struct db *db, int end_reason, int64_t n);
/* Steps s through its rows, handing each to fn; fn returns non-zero to
 * stop (negative: an error, returned). */
typedef int (*row_fn)(sqlite3_stmt *s, void *ud);
int db__each_row(struct db *db, sqlite3_stmt *s, row_fn fn, void *ud);
void db__bind_text(sqlite3_stmt *s, int i, const char *v);
/* The brief listing's SQL (db_jobs.c), prepared by db_open. */
char *db__brief_list_sql(void);
/* Recounts the accounting summaries of the hours marked dirty (schema
 * 019), inside the open transaction. */
int db__acct_settle(struct db *db);
/* Collects the integers of the first column of a statement's rows. */
int db__collect_ids(struct db *db, sqlite3_stmt *s, int64_t **ret, size_t *ret_n);

/* Job rows to a db_job_cb (row_fn ud: a struct job_rows). */
struct job_rows {
  bool full;
  db_job_cb cb;
  void *ud;
};

int db__job_row(sqlite3_stmt *s, void *ud);
