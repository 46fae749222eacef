/* SPDX-License-Identifier: MIT */
/* The store's side of workflows: array tasks, dependencies, deferred jobs,
 * fair-share usage, qrerun/qalter, and holds and ends over whole arrays. */
#include "db_internal.h"

#include <string.h>

/* ---- arrays ---- */

int
db_next_tasks(struct db *db, int64_t array_id, int64_t n, int64_t **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_NEXT_TASKS);
  sqlite3_bind_int64(s, 1, array_id);
  sqlite3_bind_int64(s, 2, n);
  return db__collect_ids(db, s, ret, ret_n);
}

int
db_array_begun(struct db *db, int64_t array_id, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, ST_ARRAY_BEGUN);
  sqlite3_bind_int64(s, 1, array_id);
  sqlite3_bind_int64(s, 2, now);
  return db__step_done(db, s);
}

/* Runs a statement that returns one integer. */
static int
step_int(struct db *db, sqlite3_stmt *s, int64_t *ret) {
  int rc = sqlite3_step(s);
  int r = 0;
  if (rc == SQLITE_ROW)
    *ret = sqlite3_column_int64(s, 0);
  else
    r = rc == SQLITE_DONE ? -ENOENT : db_errno(db);
  sqlite3_reset(s);
  return r;
}

int
db_array_unfinished(struct db *db, int64_t array_id, bool *ret) {
  sqlite3_stmt *s = db__stmt(db, ST_ARRAY_UNFINISHED);
  sqlite3_bind_int64(s, 1, array_id);
  int64_t v = 0;
  int r = step_int(db, s, &v);
  *ret = v != 0;
  return r;
}

static int
outcome_row(sqlite3_stmt *s, void *ud) {
  struct db_array_outcome *o = ud;
  int reason = sqlite3_column_int(s, 0);
  int64_t n = sqlite3_column_int64(s, 1);
  o->tasks += n;
  if (reason == END_COMPLETED)
    o->completed += n;
  else if (reason == END_CANCELLED || reason == END_DEPENDENCY)
    o->cancelled += n;
  else
    o->failed += n;
  if (sqlite3_column_int64(s, 2) > 0)
    o->any_started = true;
  return 0;
}

int
db_array_outcome(struct db *db, int64_t array_id, struct db_array_outcome *ret) {
  *ret = (struct db_array_outcome){0};
  sqlite3_stmt *s = db__stmt(db, ST_ARRAY_OUTCOME);
  sqlite3_bind_int64(s, 1, array_id);
  return db__each_row(db, s, outcome_row, ret);
}

static int
count_row(sqlite3_stmt *s, void *ud) {
  int64_t *counts = ud;
  const unsigned char *st = sqlite3_column_text(s, 0);
  if (st)
    counts[st[0] & 127] += sqlite3_column_int64(s, 1);
  return 0;
}

int
db_array_counts(struct db *db, int64_t array_id, int64_t counts[128]) {
  memset(counts, 0, 128 * sizeof(int64_t));
  sqlite3_stmt *s = db__stmt(db, ST_ARRAY_COUNTS);
  sqlite3_bind_int64(s, 1, array_id);
  return db__each_row(db, s, count_row, counts);
}

int
db_array_tasks(struct db *db, int64_t array_id, int64_t **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_ARRAY_TASKS);
  sqlite3_bind_int64(s, 1, array_id);
  return db__collect_ids(db, s, ret, ret_n);
}

int
db_task_id(struct db *db, int64_t array_id, int64_t index, int64_t *ret) {
  sqlite3_stmt *s = db__stmt(db, ST_TASK_ID);
  sqlite3_bind_int64(s, 1, array_id);
  sqlite3_bind_int64(s, 2, index);
  return step_int(db, s, ret);
}

/* ---- dependencies ---- */

int
db_dep_add(struct db *db, int64_t job_id, int kind, int64_t dep_id) {
  sqlite3_stmt *s = db__stmt(db, ST_DEP_ADD);
  sqlite3_bind_int64(s, 1, job_id);
  sqlite3_bind_int(s, 2, kind);
  sqlite3_bind_int64(s, 3, dep_id);
  return db__step_done(db, s);
}

int
db_dep_drop(struct db *db, int64_t job_id) {
  return db__step_with(db, ST_DEP_DROP, job_id);
}

int
db_dependents(struct db *db, int64_t dep_id, int64_t **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_DEPENDENTS);
  sqlite3_bind_int64(s, 1, dep_id);
  return db__collect_ids(db, s, ret, ret_n);
}

struct dep_rows {
  db_dep_cb cb;
  void *ud;
};

static int
dep_row(sqlite3_stmt *s, void *ud) {
  struct dep_rows *dr = ud;
  const unsigned char *st = sqlite3_column_text(s, 2);
  struct db_dep_row row = {
      .kind = sqlite3_column_int(s, 0),
      .dep_id = sqlite3_column_int64(s, 1),
      .exists = st != NULL,
      .state = st ? st[0] : 0,
      .end_reason = sqlite3_column_int(s, 3),
      .stime = sqlite3_column_int64(s, 4),
      .run_count = sqlite3_column_int64(s, 5),
  };
  return dr->cb(dr->ud, &row);
}

int
db_deps_of(struct db *db, int64_t job_id, db_dep_cb cb, void *ud) {
  sqlite3_stmt *s = db__stmt(db, ST_DEPS_OF);
  sqlite3_bind_int64(s, 1, job_id);
  struct dep_rows dr = {cb, ud};
  return db__each_row(db, s, dep_row, &dr);
}

/* ---- deferred start (qsub -a) ---- */

int
db_deferred_due(struct db *db, int64_t now, int64_t **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_DEFERRED_DUE);
  sqlite3_bind_int64(s, 1, now);
  return db__collect_ids(db, s, ret, ret_n);
}

int
db_deferred_next(struct db *db, int64_t *ret) {
  sqlite3_stmt *s = db__stmt(db, ST_DEFERRED_NEXT);
  int64_t v = 0;
  int rc = sqlite3_step(s);
  int r = 0;
  if (rc == SQLITE_ROW)
    v = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 0);
  else
    r = db_errno(db);
  sqlite3_reset(s);
  *ret = v;
  return r;
}

/* ---- fair share ---- */

struct usage_rows {
  db_usage_cb cb;
  void *ud;
};

static int
usage_row(sqlite3_stmt *s, void *ud) {
  struct usage_rows *ur = ud;
  return ur->cb(ur->ud, sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1),
                sqlite3_column_int64(s, 2));
}

int
db_usage_load(struct db *db, db_usage_cb cb, void *ud) {
  struct usage_rows ur = {cb, ud};
  return db__each_row(db, db__stmt(db, ST_USAGE_LOAD), usage_row, &ur);
}

int
db_usage_save(struct db *db, int64_t uid, double usage, int64_t updated) {
  sqlite3_stmt *s = db__stmt(db, ST_USAGE_SAVE);
  sqlite3_bind_int64(s, 1, uid);
  sqlite3_bind_double(s, 2, usage);
  sqlite3_bind_int64(s, 3, updated);
  return db__step_done(db, s);
}

/* ---- qrerun and qalter ---- */

int
db_archive_run(struct db *db, int64_t id) {
  sqlite3_stmt *s = db__stmt(db, ST_ARCHIVE_RUN);
  sqlite3_bind_int64(s, 1, id);
  return db__step_done(db, s);
}

int
db_alter(struct db *db, const struct job_rec *j, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, ST_ALTER);
  sqlite3_bind_int64(s, 1, j->id);
  db__bind_text(s, 2, j->name);
  sqlite3_bind_int64(s, 3, j->priority);
  sqlite3_bind_int64(s, 4, j->ncpus);
  sqlite3_bind_int64(s, 5, j->mem);
  sqlite3_bind_int64(s, 6, j->walltime);
  sqlite3_bind_int64(s, 7, j->pids);
  sqlite3_bind_int(s, 8, j->rerunnable);
  db__bind_text(s, 9, j->out_path ? j->out_path : "");
  db__bind_text(s, 10, j->err_path ? j->err_path : "");
  sqlite3_bind_int(s, 11, j->join);
  sqlite3_bind_int64(s, 12, j->array_limit);
  sqlite3_bind_int64(s, 13, j->exec_time);
  sqlite3_bind_int64(s, 14, now);
  db__bind_text(s, 15, j->depend ? j->depend : "");
  db__bind_text(s, 16, j->queue);
  db__bind_text(s, 17, j->resources ? j->resources : "");
  db__bind_text(s, 18, j->devreq ? j->devreq : "");
  sqlite3_bind_int64(s, 19, j->ngpus);
  return db__step_done(db, s);
}

static int
bulk(struct db *db, enum stmt_id id, int64_t job, const char *text, int64_t v, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, id);
  sqlite3_bind_int64(s, 1, job);
  if (text)
    db__bind_text(s, 2, text);
  else
    sqlite3_bind_int64(s, 2, v);
  sqlite3_bind_int64(s, 3, now);
  int r = db__step_done(db, s);
  return r < 0 ? r : sqlite3_changes(db->sql);
}

int
db_hold_add(struct db *db, int64_t id, char type, int64_t now) {
  char t[2] = {type, 0};
  return bulk(db, ST_HOLD_ADD, id, t, 0, now);
}

int
db_hold_remove(struct db *db, int64_t id, char type, int64_t now) {
  char t[2] = {type, 0};
  return bulk(db, ST_HOLD_REMOVE, id, t, 0, now);
}

int
db_finish_unstarted(struct db *db, int64_t id, int end_reason, int64_t now) {
  int r = bulk(db, ST_FINISH_UNSTARTED, id, NULL, end_reason, now);
  if (r > 0)
    db__count_ends(db, end_reason, r);
  return r;
}

int
db_task_dependents(struct db *db, int64_t array_id, int64_t **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_TASK_DEPENDENTS);
  sqlite3_bind_int64(s, 1, array_id);
  return db__collect_ids(db, s, ret, ret_n);
}
