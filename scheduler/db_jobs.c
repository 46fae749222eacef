/* SPDX-License-Identifier: MIT */
/* The store's jobs, row by row: a submission written, a job read back
 * (one, a listing, the brief one qstat's table takes), its state changes,
 * its start, usage and end, its events. */
#include "db_internal.h"

#include <inttypes.h>
#include <string.h>

/* qstat's default table reads a few columns of every unfinished job; the
 * others read as NULL, which SQLite hands back without decoding the row's
 * record up to them (with the brief encoding, qstat of 10,000 queued
 * jobs: 113 -> 45 ms). The row keeps row_to_job's layout. */
char *
db__brief_list_sql(void) {
  static const char *const shown[] = {"id",          "owner",       "name",       "queue",
                                      "submit_host", "state",       "array_spec", "array_id",
                                      "array_index", "suspended_at"};
  static const char *const columns[] = {
#define COLUMN_NAME_(member, kind, tag, column, wire, stored) column,
      JOB_FIELDS(COLUMN_NAME_)
#undef COLUMN_NAME_
  };
  static const char *const usage[] = {
#define USAGE_NAME_(member, kind, tag) #member,
      JOB_USAGE_FIELDS(USAGE_NAME_)
#undef USAGE_NAME_
  };
  char *cols = xstrdup("");
  for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
    bool show = false;
    for (size_t k = 0; k < ARRAY_SIZE(shown); k++)
      show |= strcmp(columns[i], shown[k]) == 0;
    char *old = cols;
    cols = show ? xasprintf("%sj.%s, ", old, columns[i]) : xasprintf("%sNULL, ", old);
    free(old);
  }
  char *old = cols;
  cols = xasprintf("%sNULL, NULL, ", old); /* exit_status, groups */
  free(old);
  for (size_t i = 0; i < ARRAY_SIZE(usage); i++) {
    old = cols;
    cols = strcmp(usage[i], "cpu_usec") == 0 ? xasprintf("%su.cpu_usec, ", old)
                                             : xasprintf("%sNULL, ", old);
    free(old);
  }
  char *sql = xasprintf("SELECT %sNULL" FROM "WHERE j.state <> 'F' ORDER BY +j.id", cols);
  free(cols);
  return sql;
}

static char *
env_pack(char *const *env, size_t *ret_len) {
  size_t len = 0;
  for (size_t i = 0; env && env[i]; i++)
    len += strlen(env[i]) + 1;
  char *buf = xmalloc(len + 1), *p = buf;
  for (size_t i = 0; env && env[i]; i++) {
    size_t n = strlen(env[i]) + 1;
    memcpy(p, env[i], n);
    p += n;
  }
  *ret_len = len;
  return buf;
}

static char **
env_unpack(const char *buf, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\0')
      n++;
  /* Submissions are held far below it; a record is never read back
   * larger than the wire decoder takes (job.h). */
  if (n > JOB_ENV_MAX)
    n = JOB_ENV_MAX;
  char **env = xcalloc(n + 1, sizeof(char *));
  size_t k = 0;
  for (size_t off = 0; off < len && k < n;) {
    size_t l = strnlen(buf + off, len - off);
    env[k++] = xstrndup(buf + off, l);
    off += l + 1;
  }
  return env;
}

static char *
groups_pack(const int64_t *g, size_t n) {
  size_t cap = n * 21 + 1, len = 0;
  char *s = xmalloc(cap);
  s[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(s + len, cap - len, "%s%" PRId64, i ? " " : "", g[i]);
  return s;
}

static void
groups_unpack(const char *s, struct job_rec *j) {
  while (s && *s && j->ngroups < JOB_GROUPS_MAX) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s)
      break;
    j->groups = xrealloc(j->groups, (j->ngroups + 1) * sizeof(int64_t));
    j->groups[j->ngroups++] = v;
    s = end;
    while (*s == ' ')
      s++;
  }
}

/* Per kind: how a member is bound at submission (NULL strings as ""). */
static void
bind_I64(sqlite3_stmt *s, int i, int64_t v) {
  sqlite3_bind_int64(s, i, v);
}

static void
bind_INT(sqlite3_stmt *s, int i, int v) {
  sqlite3_bind_int(s, i, v);
}

static void
bind_BOOL(sqlite3_stmt *s, int i, bool v) {
  sqlite3_bind_int(s, i, v);
}

static void
bind_STATE(sqlite3_stmt *s, int i, int v) {
  char state[2] = {(char)v, 0};
  db__bind_text(s, i, state);
}

static void
bind_STR(sqlite3_stmt *s, int i, const char *v) {
  db__bind_text(s, i, v ? v : "");
}

#define bind_STRN bind_STR

int
db_insert_job(struct db *db, struct job_rec *j) {
  sqlite3_stmt *s = db__stmt(db, ST_INSERT);
  size_t env_len;
  _cleanup_free_ char *env = env_pack(j->env, &env_len);
  _cleanup_free_ char *groups = groups_pack(j->groups, j->ngroups);
  int i = 1;
#define BIND_SUBMIT(kind, v) bind_##kind(s, i++, v);
#define BIND_LATER(kind, v)
#define BIND_FIELD_(member, kind, tag, column, wire, stored) BIND_##stored(kind, j->member)
  JOB_FIELDS(BIND_FIELD_)
#undef BIND_FIELD_
#undef BIND_LATER
#undef BIND_SUBMIT
  sqlite3_bind_blob(s, i++, j->script, (int)j->script_len, SQLITE_STATIC);
  sqlite3_bind_blob(s, i++, env, (int)env_len, SQLITE_STATIC);
  db__bind_text(s, i, groups);
  int r = db__step_done(db, s);
  if (r == 0) {
    j->id = sqlite3_last_insert_rowid(db->sql);
    db->counters.submitted++;
  }
  return r;
}

int
db_insert_tasks(struct db *db, int64_t array_id, int64_t first, int64_t last, int64_t step) {
  sqlite3_stmt *s = db__stmt(db, ST_INSERT_TASKS);
  sqlite3_bind_int64(s, 1, array_id);
  sqlite3_bind_int64(s, 2, first);
  sqlite3_bind_int64(s, 3, last);
  sqlite3_bind_int64(s, 4, step);
  return db__step_done(db, s);
}

static char *
col_str(sqlite3_stmt *s, int i) {
  const unsigned char *t = sqlite3_column_text(s, i);
  return t ? xstrdup((const char *)t) : NULL;
}

/* Per kind: how a column becomes a member. */
static void
rd_I64(sqlite3_stmt *s, int i, int64_t *dst) {
  *dst = sqlite3_column_int64(s, i);
}

static void
rd_INT(sqlite3_stmt *s, int i, int *dst) {
  *dst = sqlite3_column_int(s, i);
}

static void
rd_BOOL(sqlite3_stmt *s, int i, bool *dst) {
  *dst = sqlite3_column_int64(s, i) != 0;
}

static void
rd_STATE(sqlite3_stmt *s, int i, int *dst) {
  const unsigned char *st = sqlite3_column_text(s, i);
  *dst = st && st[0] ? st[0] : '?';
}

static void
rd_STR(sqlite3_stmt *s, int i, char **dst) {
  *dst = col_str(s, i);
}

static void
rd_STRN(sqlite3_stmt *s, int i, char **dst) {
  *dst = col_str(s, i);
  if (*dst && !**dst) {
    free(*dst);
    *dst = NULL;
  }
}

static void
row_to_job(sqlite3_stmt *s, bool full, struct job_rec *j) {
  *j = (struct job_rec){0};
  int i = 0;
#define RD_FIELD_(member, kind, tag, column, wire, stored) rd_##kind(s, i++, &j->member);
  JOB_FIELDS(RD_FIELD_)
#undef RD_FIELD_
  j->has_exit = sqlite3_column_type(s, i) != SQLITE_NULL;
  j->exit_status = sqlite3_column_int64(s, i++);
  groups_unpack((const char *)sqlite3_column_text(s, i++), j);
  j->has_usage = sqlite3_column_type(s, i) != SQLITE_NULL;
  struct job_usage *u = &j->usage;
#define RD_USAGE_(member, kind, tag) rd_##kind(s, i++, &u->member);
  JOB_USAGE_FIELDS(RD_USAGE_)
#undef RD_USAGE_
  const unsigned char *backend = sqlite3_column_text(s, i++);
  snprintf(u->cg_backend, sizeof(u->cg_backend), "%s", backend ? (const char *)backend : "");
  if (full) {
    const void *script = sqlite3_column_blob(s, i);
    j->script_len = (size_t)sqlite3_column_bytes(s, i++);
    j->script = xmalloc(j->script_len + 1);
    if (j->script_len)
      memcpy(j->script, script, j->script_len);
    j->script[j->script_len] = '\0';
    const void *env = sqlite3_column_blob(s, i);
    size_t env_len = (size_t)sqlite3_column_bytes(s, i++);
    j->env = env_unpack(env, env_len);
  }
}

int
db_get_job(struct db *db, int64_t id, bool full, struct job_rec *ret) {
  sqlite3_stmt *s = db__stmt(db, full ? ST_GET_FULL : ST_GET_BRIEF);
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  int r;
  if (rc == SQLITE_ROW) {
    row_to_job(s, full, ret);
    r = 0;
  } else
    r = rc == SQLITE_DONE ? -ENOENT : db_errno(db);
  sqlite3_reset(s);
  return r;
}

int
db__job_row(sqlite3_stmt *s, void *ud) {
  struct job_rows *jr = ud;
  struct job_rec j;
  row_to_job(s, jr->full, &j);
  int r = jr->cb(jr->ud, &j);
  job_rec_free(&j);
  return r;
}

static int
list(struct db *db, enum stmt_id id, bool full, db_job_cb cb, void *ud) {
  struct job_rows jr = {full, cb, ud};
  return db__each_row(db, db__stmt(db, id), db__job_row, &jr);
}

int
db_list_jobs(struct db *db, unsigned flags, db_job_cb cb, void *ud) {
  bool fin = flags & DB_LIST_FINISHED, full = flags & DB_LIST_FULL;
  if ((flags & DB_LIST_BRIEF) && !fin && !full) {
    struct job_rows jr = {false, cb, ud};
    sqlite3_reset(db->list_brief);
    return db__each_row(db, db->list_brief, db__job_row, &jr);
  }
  enum stmt_id id =
      fin ? (full ? ST_LIST_ALL_FULL : ST_LIST_ALL) : (full ? ST_LIST_ACTIVE_FULL : ST_LIST_ACTIVE);
  return list(db, id, full, cb, ud);
}

int
db_list_recent(struct db *db, bool full, int64_t since, db_job_cb cb, void *ud) {
  sqlite3_stmt *s = db__stmt(db, full ? ST_LIST_RECENT_FULL : ST_LIST_RECENT);
  sqlite3_bind_int64(s, 1, since);
  struct job_rows jr = {full, cb, ud};
  return db__each_row(db, s, db__job_row, &jr);
}

static int
attr_row(sqlite3_stmt *s, void *ud) {
  char **ret = ud;
  const char *v = (const char *)sqlite3_column_text(s, 0);
  *ret = xstrdup(v ? v : "");
  return 0;
}

int
db_get_attr(struct db *db, const char *name, char **ret) {
  *ret = NULL;
  sqlite3_stmt *s = db__stmt(db, ST_ATTR_GET);
  db__bind_text(s, 1, name);
  int r = db__each_row(db, s, attr_row, ret);
  if (r < 0)
    return r;
  return *ret ? 0 : -ENOENT;
}

int
db_set_attr(struct db *db, const char *name, const char *value) {
  sqlite3_stmt *s = db__stmt(db, value ? ST_ATTR_SET : ST_ATTR_DEL);
  db__bind_text(s, 1, name);
  if (value)
    db__bind_text(s, 2, value);
  return db__step_done(db, s);
}

int
db_list_running(struct db *db, db_job_cb cb, void *ud) {
  return list(db, ST_LIST_RUNNING, false, cb, ud);
}

int
db_set_state(struct db *db, int64_t id, int state, const char *hold_types, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, ST_SET_STATE);
  char st[2] = {(char)state, 0};
  db__bind_text(s, 1, st);
  db__bind_text(s, 2, hold_types ? hold_types : "");
  sqlite3_bind_int64(s, 3, now);
  db__bind_text(s, 4, st);
  sqlite3_bind_int64(s, 5, now);
  sqlite3_bind_int64(s, 6, id);
  return db__step_done(db, s);
}

int
db_requeue(struct db *db, int64_t id, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, ST_REQUEUE);
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int64(s, 2, now);
  sqlite3_bind_int64(s, 3, id);
  int r = db__step_done(db, s);
  if (r < 0)
    return r;
  r = db__step_with(db, ST_DROP_USAGE, id);
  return r < 0 ? r : db_series_drop(db, id);
}

int
db_set_suspended(struct db *db, int64_t id, int64_t at, int64_t add_sec, int64_t now) {
  sqlite3_stmt *s = db__stmt(db, ST_SUSPENDED);
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, at);
  sqlite3_bind_int64(s, 3, add_sec);
  sqlite3_bind_int64(s, 4, now);
  return db__step_done(db, s);
}

/* Where a running job is: one text column (its CPUs, its devices). */
static int
set_placement(struct db *db, enum stmt_id stmt, int64_t id, const char *text) {
  sqlite3_stmt *s = db__stmt(db, stmt);
  db__bind_text(s, 1, text);
  sqlite3_bind_int64(s, 2, id);
  return db__step_done(db, s);
}

int
db_set_cpus(struct db *db, int64_t id, const char *cpus) {
  return set_placement(db, ST_SET_CPUS, id, cpus);
}

int
db_set_devices(struct db *db, int64_t id, const char *devices) {
  return set_placement(db, ST_SET_DEVICES, id, devices);
}

int
db_set_end_reason(struct db *db, int64_t id, int end_reason) {
  sqlite3_stmt *s = db__stmt(db, ST_SET_END_REASON);
  sqlite3_bind_int(s, 1, end_reason);
  sqlite3_bind_int64(s, 2, id);
  return db__step_done(db, s);
}

int
db_job_started(struct db *db, int64_t id, int64_t stime, const char *exec_host,
               const char *cgroup) {
  sqlite3_stmt *s = db__stmt(db, ST_STARTED);
  sqlite3_bind_int64(s, 1, stime);
  sqlite3_bind_int64(s, 2, stime);
  db__bind_text(s, 3, exec_host);
  db__bind_text(s, 4, cgroup);
  sqlite3_bind_int64(s, 5, id);
  return db__step_done(db, s);
}

static int
bind_usage_and_step(struct db *db, sqlite3_stmt *s, int64_t id, const struct job_usage *u) {
  int k = 1;
  sqlite3_bind_int64(s, k++, id);
#define BIND_USAGE_(member, kind, tag) sqlite3_bind_int64(s, k++, (int64_t)u->member);
  JOB_USAGE_FIELDS(BIND_USAGE_)
#undef BIND_USAGE_
  db__bind_text(s, k, u->cg_backend);
  return db__step_done(db, s);
}

int
db_usage_sample(struct db *db, int64_t id, const struct job_usage *u) {
  return bind_usage_and_step(db, db__stmt(db, ST_USAGE_SAMPLE), id, u);
}

int
db_job_ended(struct db *db, const struct job_rec *e) {
  /* The usage first: the end adds the job to the accounting summaries
   * (schema 019), usage and all, in one step. */
  if (e->has_usage) {
    /* The series' last point comes with the shepherd's series (on_ended);
     * a job that ended before its first sample keeps none: no row for
     * each of a million short jobs. */
    int r = bind_usage_and_step(db, db__stmt(db, ST_USAGE), e->id, &e->usage);
    if (r < 0)
      return r;
  }
  sqlite3_stmt *s = db__stmt(db, ST_ENDED);
  int i = 1;
  sqlite3_bind_int(s, i++, e->end_reason);
  if (e->has_exit)
    sqlite3_bind_int64(s, i++, e->exit_status);
  else
    sqlite3_bind_null(s, i++);
  sqlite3_bind_int64(s, i++, e->stime);
  sqlite3_bind_int64(s, i++, e->stime);
  sqlite3_bind_int64(s, i++, e->etime);
  sqlite3_bind_int64(s, i++, e->etime);
  db__bind_text(s, i++, e->comment);
  db__bind_text(s, i++, e->cgroup);
  sqlite3_bind_int64(s, i++, e->id);
  int r = db__step_done(db, s);
  if (r == 0 && sqlite3_changes(db->sql) > 0)
    db__count_ends(db, e->end_reason, 1);
  return r;
}

struct event_rows {
  db_event_cb cb;
  void *ud;
};

static int
event_row(sqlite3_stmt *s, void *ud) {
  struct event_rows *er = ud;
  const unsigned char *name = sqlite3_column_text(s, 1), *detail = sqlite3_column_text(s, 2);
  return er->cb(er->ud, sqlite3_column_int64(s, 0), name ? (const char *)name : "",
                detail ? (const char *)detail : "");
}

int
db_list_events(struct db *db, int64_t id, db_event_cb cb, void *ud) {
  sqlite3_stmt *s = db__stmt(db, ST_EVENTS);
  sqlite3_bind_int64(s, 1, id);
  struct event_rows er = {cb, ud};
  return db__each_row(db, s, event_row, &er);
}

int
db_add_event(struct db *db, int64_t id, int64_t time, const char *event, const char *detail) {
  sqlite3_stmt *s = db__stmt(db, ST_EVENT);
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, time);
  db__bind_text(s, 3, event);
  db__bind_text(s, 4, detail ? detail : "");
  return db__step_done(db, s);
}
