/* SPDX-License-Identifier: MIT */
/* The store's side of schedules (cron.c): users' crontabs as written,
 * their entries with the jobs they submit, and what each due time did. */
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

static char *
column_dup(sqlite3_stmt *s, int i) {
  const unsigned char *t = sqlite3_column_text(s, i);
  return xstrdup(t ? (const char *)t : "");
}

void
db_cron_entries_free(struct db_cron_entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(e[i].spec);
    free(e[i].command);
    free(e[i].template);
    free(e[i].last_outcome);
  }
  free(e);
}

static int
text_row(sqlite3_stmt *s, void *ud) {
  *(char **)ud = column_dup(s, 0);
  return 1;
}

int
db_cron_text(struct db *db, int64_t uid, char **ret) {
  *ret = NULL;
  sqlite3_stmt *s = db__stmt(db, ST_CRON_TEXT);
  sqlite3_bind_int64(s, 1, uid);
  int r = db__each_row(db, s, text_row, ret);
  if (r < 0)
    return r;
  return *ret ? 0 : -ENOENT;
}

struct entry_list {
  struct db_cron_entry *e;
  size_t n, cap;
};

static int
entry_row(sqlite3_stmt *s, void *ud) {
  struct entry_list *l = ud;
  l->e = xgrow(l->e, l->n, &l->cap, sizeof(*l->e), 8);
  struct db_cron_entry *e = &l->e[l->n++];
  size_t len = (size_t)sqlite3_column_bytes(s, 6);
  const void *blob = sqlite3_column_blob(s, 6);
  *e = (struct db_cron_entry){
      .id = sqlite3_column_int64(s, 0),
      .uid = sqlite3_column_int64(s, 1),
      .gid = sqlite3_column_int64(s, 2),
      .line = sqlite3_column_int64(s, 3),
      .spec = column_dup(s, 4),
      .command = column_dup(s, 5),
      .template = xmalloc(len ? len : 1),
      .template_len = len,
      .next_run = sqlite3_column_int64(s, 7),
      .last_run = sqlite3_column_int64(s, 8),
      .last_job = sqlite3_column_int64(s, 9),
      .last_outcome = column_dup(s, 10),
  };
  if (len)
    memcpy(e->template, blob, len);
  return 0;
}

static int
entries(struct db *db, sqlite3_stmt *s, struct db_cron_entry **ret, size_t *ret_n) {
  struct entry_list l = {0};
  int r = db__each_row(db, s, entry_row, &l);
  if (r < 0) {
    db_cron_entries_free(l.e, l.n);
    return r;
  }
  *ret = l.e;
  *ret_n = l.n;
  return 0;
}

int
db_cron_of_user(struct db *db, int64_t uid, struct db_cron_entry **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_CRON_OF_USER);
  sqlite3_bind_int64(s, 1, uid);
  return entries(db, s, ret, ret_n);
}

int
db_cron_due(struct db *db, int64_t now, struct db_cron_entry **ret, size_t *ret_n) {
  sqlite3_stmt *s = db__stmt(db, ST_CRON_DUE);
  sqlite3_bind_int64(s, 1, now);
  return entries(db, s, ret, ret_n);
}

static int
int_row(sqlite3_stmt *s, void *ud) {
  *(int64_t *)ud = sqlite3_column_int64(s, 0);
  return 1;
}

int
db_cron_next(struct db *db, int64_t *ret) {
  *ret = 0;
  return db__each_row(db, db__stmt(db, ST_CRON_NEXT), int_row, ret);
}

int
db_cron_replace(struct db *db, int64_t uid, const char *text, const struct db_cron_entry *e,
                size_t n, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, text ? ST_CRON_TEXT_SET : ST_CRON_TEXT_DEL);
  sqlite3_bind_int64(s, 1, uid);
  if (text) {
    db__bind_text(s, 2, text);
    sqlite3_bind_int64(s, 3, now);
  }
  int r = db__step_done(db, s);
  if (r == 0) {
    s = db__stmt(db, ST_CRON_DEL_USER);
    sqlite3_bind_int64(s, 1, uid);
    r = db__step_done(db, s);
  }
  for (size_t i = 0; r == 0 && i < n; i++) {
    s = db__stmt(db, ST_CRON_INSERT);
    sqlite3_bind_int64(s, 1, uid);
    sqlite3_bind_int64(s, 2, e[i].gid);
    sqlite3_bind_int64(s, 3, e[i].line);
    db__bind_text(s, 4, e[i].spec);
    db__bind_text(s, 5, e[i].command);
    sqlite3_bind_blob(s, 6, e[i].template, (int)e[i].template_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 7, e[i].next_run);
    sqlite3_bind_int64(s, 8, e[i].last_run);
    sqlite3_bind_int64(s, 9, e[i].last_job);
    db__bind_text(s, 10, e[i].last_outcome ? e[i].last_outcome : "");
    r = db__step_done(db, s);
  }
  return r;
}

int
db_cron_fired(struct db *db, const struct db_cron_entry *e, int64_t due, int64_t at,
              int64_t next_run, int64_t job_id, const char *outcome) {
  sqlite3_stmt *s = db__stmt(db, ST_CRON_FIRED);
  sqlite3_bind_int64(s, 1, e->id);
  sqlite3_bind_int64(s, 2, next_run);
  sqlite3_bind_int64(s, 3, due);
  sqlite3_bind_int64(s, 4, job_id ? job_id : e->last_job);
  db__bind_text(s, 5, outcome);
  int r = db__step_done(db, s);
  if (r < 0)
    return r;
  s = db__stmt(db, ST_CRON_RUN);
  sqlite3_bind_int64(s, 1, e->uid);
  db__bind_text(s, 2, e->spec);
  db__bind_text(s, 3, e->command);
  sqlite3_bind_int64(s, 4, due);
  sqlite3_bind_int64(s, 5, at);
  sqlite3_bind_int64(s, 6, job_id);
  db__bind_text(s, 7, outcome);
  r = db__step_done(db, s);
  if (r < 0)
    return r;
  /* The record of due times is kept for CRON_RUNS_KEEP_SEC: an every-
   * minute schedule would otherwise add half a million rows a year. */
  s = db__stmt(db, ST_CRON_PRUNE);
  sqlite3_bind_int64(s, 1, e->uid);
  sqlite3_bind_int64(s, 2, at - CRON_RUNS_KEEP_SEC);
  return db__step_done(db, s);
}

void
db_cron_runs_free(struct db_cron_run *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(r[i].spec);
    free(r[i].command);
    free(r[i].outcome);
  }
  free(r);
}

struct run_list {
  struct db_cron_run *r;
  size_t n, cap;
};

static int
run_row(sqlite3_stmt *s, void *ud) {
  struct run_list *l = ud;
  l->r = xgrow(l->r, l->n, &l->cap, sizeof(*l->r), 16);
  l->r[l->n++] = (struct db_cron_run){.spec = column_dup(s, 0),
                                      .command = column_dup(s, 1),
                                      .due = sqlite3_column_int64(s, 2),
                                      .at = sqlite3_column_int64(s, 3),
                                      .job_id = sqlite3_column_int64(s, 4),
                                      .outcome = column_dup(s, 5)};
  return 0;
}

int
db_cron_runs(struct db *db, int64_t uid, int64_t limit, struct db_cron_run **ret, size_t *ret_n) {
  struct run_list l = {0};
  sqlite3_stmt *s = db__stmt(db, ST_CRON_RUNS);
  sqlite3_bind_int64(s, 1, uid);
  sqlite3_bind_int64(s, 2, limit);
  int r = db__each_row(db, s, run_row, &l);
  if (r < 0) {
    db_cron_runs_free(l.r, l.n);
    return r;
  }
  *ret = l.r;
  *ret_n = l.n;
  return 0;
}
