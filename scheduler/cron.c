/* SPDX-License-Identifier: MIT */
/* Schedules: users' recurring jobs (boxq cron, qsub --cron), kept in the
 * database, each due time submitting a normal job (its limits, queue and
 * accounting) as its owner. A due time is handled once: the job it
 * submits and the entry's new next time are in one transaction. What each
 * did is recorded in cron_runs: the job, a skip (its last job has not
 * finished; cron_overlap = skip), a miss (boxqd was down; cron_missed =
 * skip), or a refusal (the queue is disabled now, say). The timer wakes
 * at the earliest due time, and at least once a minute, so that a changed
 * wall clock is noticed. */
#include "boxqd.h"
#include "cronexpr.h"
#include "log.h"

#include <string.h>
#include <time.h>

/* A due time handled more than this late came while boxqd was not
 * running (or the machine slept). */
#define CRON_LATE_SEC 120
/* Most entries a user may have, and the longest crontab. */
#define CRON_MAX_ENTRIES 256
#define CRON_MAX_TEXT    (64 * 1024)
/* Far enough never to come: the next time of a schedule that has none. */
#define CRON_NEVER ((int64_t)1 << 62)

static void
format_time(int64_t t, char *buf, size_t len) {
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

static int64_t
next_due(const char *spec, int64_t after) {
  struct cron_spec s;
  struct berr err = {{0}};
  if (cron_parse(spec, &s, &err) < 0)
    return CRON_NEVER;
  int64_t t = cron_next(&s, after);
  return t ? t : CRON_NEVER;
}

/* Whether job id has yet to finish. */
static bool
unfinished(struct boxqd *d, int64_t id) {
  struct job_rec j;
  if (id <= 0 || db_get_job(d->db, id, false, &j) < 0)
    return false;
  bool r = j.state != JOB_FINISHED;
  job_rec_free(&j);
  return r;
}

/* Handles entry e's due time: submits its job, or records why not, and
 * moves it to its next time; all in one transaction. */
static int
fire(struct boxqd *d, struct db_cron_entry *e, int64_t now) {
  int64_t due = e->next_run;
  bool late = now - due > CRON_LATE_SEC;
  char when[32], outcome[700];
  format_time(due, when, sizeof(when));
  int64_t job = 0;
  int r = db_begin(d->db);
  if (r < 0)
    return r;
  if (late && streq(d->cfg.cron_missed, "skip"))
    snprintf(outcome, sizeof(outcome), "missed: due at %s while boxqd was not running", when);
  else if (unfinished(d, e->last_job) && streq(d->cfg.cron_overlap, "skip"))
    snprintf(outcome, sizeof(outcome), "skipped: job %lld of the last run has not finished",
             (long long)e->last_job);
  else {
    struct pmsg m;
    struct job_rec j = {0};
    struct berr err = {{0}};
    if (pmsg_init(&m, 0, e->template, e->template_len) < 0 || job_rec_decode(&m, &j) < 0) {
      snprintf(outcome, sizeof(outcome), "refused: its stored job cannot be read");
      job_rec_free(&j);
    } else {
      bool after = unfinished(d, e->last_job); /* cron_overlap = queue */
      if (after) {
        free(j.depend);
        j.depend = xasprintf("afterany:%lld", (long long)e->last_job);
      }
      _cleanup_free_ char *note = xasprintf("by cron: '%s', due %s%s", e->spec, when,
                                            late ? " (late: boxqd was not running then)" : "");
      r = submit_store(d, (uid_t)e->uid, (gid_t)e->gid, &j, false, note, &err);
      if (r == 0) {
        job = j.id;
        snprintf(outcome, sizeof(outcome), "submitted job %lld%s%s", (long long)job,
                 after ? ", to run after the last one" : "",
                 late ? " (late: boxqd was not running when it was due)" : "");
      } else if (err.msg[0]) {
        snprintf(outcome, sizeof(outcome), "refused: %s", err.msg);
        r = 0;
      }
      job_rec_free(&j);
    }
  }
  int64_t next = next_due(e->spec, now);
  if (r == 0)
    r = db_cron_fired(d->db, e, due, now, next, job, outcome);
  if (r == 0)
    r = db_commit(d->db);
  if (r < 0) {
    db_rollback(d->db);
    return r;
  }
  log_info("cron: uid %lld, '%s %s' due %s: %s", (long long)e->uid, e->spec, e->command, when,
           outcome);
  if (job)
    sched_request_pass(d);
  return 0;
}

static void on_cron_timer(uv_timer_t *t);

/* Fires what is due, then sets the timer for the next. */
static void
cron_check(struct boxqd *d) {
  if (d->stopping)
    return;
  int64_t now = (int64_t)time(NULL);
  struct db_cron_entry *e = NULL;
  size_t n = 0;
  int r = db_cron_due(d->db, now, &e, &n);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = fire(d, &e[i], now);
  db_cron_entries_free(e, n);
  int64_t next = 0;
  if (r == 0)
    r = db_cron_next(d->db, &next);
  if (r < 0)
    log_error("cron: %s; trying again in 5 s", db_errmsg(d->db));
  uint64_t wait_ms = r < 0 ? 5000 : 60000;
  if (r == 0 && next > 0 && next - now < 60)
    wait_ms = next > now ? (uint64_t)(next - now) * 1000 : 0;
  uv_timer_start(&d->cron, on_cron_timer, wait_ms, 0);
}

static void
on_cron_timer(uv_timer_t *t) {
  cron_check(t->data);
}

void
cron_start(struct boxqd *d) {
  uv_timer_init(d->loop, &d->cron);
  d->cron.data = d;
  cron_check(d); /* what came due while boxqd was down */
}

void
cron_stop(struct boxqd *d) {
  uv_timer_stop(&d->cron);
  uv_close((uv_handle_t *)&d->cron, NULL);
}

/* ---- MSG_CRON ---- */

static void
add_status(struct boxqd *d, struct pbuf *b, const struct db_cron_entry *e) {
  size_t mark = pb_nest_begin(b, T_CRON);
  pb_i64(b, C_LINE, e->line);
  pb_str(b, C_SPEC, e->spec);
  pb_str(b, C_COMMAND, e->command);
  pb_i64(b, C_NEXT, e->next_run < CRON_NEVER ? e->next_run : 0);
  pb_i64(b, C_LAST, e->last_run);
  pb_i64(b, C_LAST_JOB, e->last_job);
  pb_str(b, C_OUTCOME, e->last_outcome);
  struct job_rec j;
  if (e->last_job > 0 && db_get_job(d->db, e->last_job, false, &j) == 0) {
    pb_i64(b, C_JOB_STATE, j.state);
    if (j.has_exit)
      pb_i64(b, C_EXIT, j.exit_status);
    job_rec_free(&j);
  }
  pb_nest_end(b, mark);
}

static void
cron_get(struct boxqd *d, struct conn *c, int64_t flags) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  pb_i64(&b, T_STATUS, 0);
  _cleanup_free_ char *text = NULL;
  int r = db_cron_text(d->db, c->uid, &text);
  if (r == 0)
    pb_str(&b, T_TEXT, text);
  struct db_cron_entry *e = NULL;
  size_t n = 0;
  if ((r == 0 || r == -ENOENT) && (r = db_cron_of_user(d->db, c->uid, &e, &n)) == 0)
    for (size_t i = 0; i < n; i++)
      add_status(d, &b, &e[i]);
  db_cron_entries_free(e, n);
  struct db_cron_run *runs = NULL;
  size_t nruns = 0;
  if (r == 0 && (flags & CRON_HISTORY) && (r = db_cron_runs(d->db, c->uid, 50, &runs, &nruns)) == 0)
    for (size_t i = 0; i < nruns; i++) {
      size_t mark = pb_nest_begin(&b, T_CRON_RUN);
      pb_str(&b, C_SPEC, runs[i].spec);
      pb_str(&b, C_COMMAND, runs[i].command);
      pb_i64(&b, C_DUE, runs[i].due);
      pb_i64(&b, C_AT, runs[i].at);
      pb_i64(&b, C_LAST_JOB, runs[i].job_id);
      pb_str(&b, C_OUTCOME, runs[i].outcome);
      pb_nest_end(&b, mark);
    }
  db_cron_runs_free(runs, nruns);
  if (r < 0) {
    pbuf_free(&b);
    reply_status(c, r, "cannot read the crontab: %s", db_errmsg(d->db));
    return;
  }
  pb_end(&b);
  conn_send(c, &b);
  pbuf_free(&b);
}

/* One T_CRON of a set request: checked as the caller's job would be. */
static int
take_entry(struct boxqd *d, struct conn *c, const struct pfield *f, struct db_cron_entry *e,
           int64_t now, struct berr *err) {
  struct pmsg m, jm;
  struct pfield jf;
  if (pmsg_sub(f, &m) < 0)
    return berr_set(err, -EBADMSG, "malformed schedule entry");
  e->line = pmsg_i64_or(&m, C_LINE, 0);
  const char *spec = pmsg_str(&m, C_SPEC), *command = pmsg_str(&m, C_COMMAND);
  if (!spec || !command || !pmsg_find(&m, T_JOB, &jf) || pmsg_sub(&jf, &jm) < 0)
    return berr_set(err, -EBADMSG, "malformed schedule entry");
  struct cron_spec cs;
  int r = cron_parse(spec, &cs, err);
  if (r < 0)
    return r;
  struct job_rec j = {0};
  if ((r = job_rec_decode(&jm, &j)) < 0) {
    job_rec_free(&j);
    return berr_set(err, r, "malformed job in the schedule entry");
  }
  if (j.interactive || j.array_spec)
    r = berr_set(err, -EINVAL, "a schedule's job can be neither interactive nor an array");
  else
    r = submit_check(d, c->uid, c->gid, &j, err);
  job_rec_free(&j);
  if (r < 0)
    return r;
  e->uid = c->uid;
  e->gid = c->gid;
  e->spec = xstrdup(spec);
  e->command = xstrdup(command);
  e->template = xmalloc(jf.len ? jf.len : 1);
  memcpy(e->template, jf.data, jf.len);
  e->template_len = jf.len;
  e->next_run = next_due(spec, now);
  e->last_outcome = xstrdup("");
  return 0;
}

static void
cron_set(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  const char *text = pmsg_str(m, T_TEXT);
  int64_t now = (int64_t)time(NULL);
  struct berr err = {{0}};
  int r = 0;
  if (text && strlen(text) > CRON_MAX_TEXT)
    r = berr_set(&err, -E2BIG, "the crontab is longer than %d bytes", CRON_MAX_TEXT);
  struct db_cron_entry *e = NULL;
  size_t n = 0;
  size_t off = 0;
  struct pfield f;
  while (r == 0 && pmsg_next(m, &off, &f)) {
    if (f.tag != T_CRON)
      continue;
    if (n >= CRON_MAX_ENTRIES) {
      r = berr_set(&err, -E2BIG, "more than %d schedules", CRON_MAX_ENTRIES);
      break;
    }
    e = xrealloc(e, (n + 1) * sizeof(*e));
    e[n] = (struct db_cron_entry){0};
    struct berr why = {{0}};
    r = take_entry(d, c, &f, &e[n], now, &why);
    n++;
    if (r < 0)
      berr_set(&err, r, "crontab:%lld: %s", (long long)e[n - 1].line, why.msg);
  }
  if (r < 0) {
    reply_status(c, r, "%s", err.msg);
    db_cron_entries_free(e, n);
    return;
  }
  /* An entry that was there before keeps its history: its last run. */
  struct db_cron_entry *old = NULL;
  size_t nold = 0;
  r = db_cron_of_user(d->db, c->uid, &old, &nold);
  for (size_t i = 0; r == 0 && i < n; i++)
    for (size_t k = 0; k < nold; k++)
      if (streq(old[k].spec, e[i].spec) && streq(old[k].command, e[i].command)) {
        e[i].last_run = old[k].last_run;
        e[i].last_job = old[k].last_job;
        free(e[i].last_outcome);
        e[i].last_outcome = xstrdup(old[k].last_outcome);
        break;
      }
  db_cron_entries_free(old, nold);
  if (r == 0)
    r = db_begin(d->db);
  if (r == 0) {
    r = db_cron_replace(d->db, c->uid, text && *text ? text : NULL, e, n, now);
    if (r == 0)
      r = db_commit(d->db);
    else
      db_rollback(d->db);
  }
  db_cron_entries_free(e, n);
  if (r < 0) {
    reply_status(c, r, "cannot store the crontab: %s", db_errmsg(d->db));
    return;
  }
  log_info("cron: uid %u installed %zu schedule(s)", (unsigned)c->uid, n);
  uv_timer_stop(&d->cron);
  cron_check(d); /* the timer, for the new earliest time */
  cron_get(d, c, 0);
}

void
req_cron(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  int64_t flags = pmsg_i64_or(m, T_FLAGS, 0);
  if (flags & CRON_SET)
    cron_set(d, c, m);
  else
    cron_get(d, c, flags);
}
