/* SPDX-License-Identifier: MIT */
/* The requests that only read: qstat (jobs, -B, -Q), tracejob and qacct.
 * Everyone may look at every job (as in PBS); a job's environment is shown
 * to its owner and root only, its script to no one. */
#include "boxqd.h"
#include "log.h"
#include "res.h"

#include <string.h>
#include <time.h>

struct stat_ctx {
  struct boxqd *d;
  struct pbuf *b;
  struct conn *c;
  int64_t flags;
  const struct pmsg *req; /* its A_USER strings, if any, select owners */
};

/* Is owner among the request's A_USER strings (or are there none)? */
static bool
owner_selected(const struct pmsg *req, const char *owner) {
  bool any = false;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(req, &off, &f)) {
    const char *u = f.tag == A_USER ? pfield_str(&f) : NULL;
    if (!u)
      continue;
    if (owner && strcmp(u, owner) == 0)
      return true;
    any = true;
  }
  return !any;
}

static void
fmt_local_time(int64_t t, char *buf, size_t len) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    snprintf(buf, len, "%lld", (long long)t);
}

/* What qstat shows of the scheduler's view: why a job waits (comment, as
 * PBS's "Not Running: ...") and its priority with the factors. */
static void
annotate(struct boxqd *d, struct job_rec *j) {
  char when[64];
  int64_t rid, rtime;
  _cleanup_free_ char *why = NULL;
  if (j->array_spec) {
    int64_t n[128];
    if (db_array_counts(d->db, j->id, n) == 0)
      j->array_counts = xasprintf("Queued:%lld Running:%lld Exiting:%lld Expired:%lld",
                                  (long long)(n['Q'] + n['H'] + n['W']), (long long)n['R'],
                                  (long long)n['E'], (long long)n['F']);
  }
  switch (j->state) {
    case JOB_HELD:
      if (j->hold_types && strchr(j->hold_types, 's') && j->depend)
        why = xasprintf("waiting for its dependencies (%s)", j->depend);
      else if (j->hold_types && strchr(j->hold_types, 's'))
        why = xstrdup("waiting for its array job's dependencies");
      else
        why = xstrdup("held (qrls releases it)");
      break;
    case JOB_WAITING:
      fmt_local_time(j->exec_time, when, sizeof(when));
      why = xasprintf("deferred until %s (-a)", when);
      break;
    case JOB_QUEUED: {
      if (j->array_spec)
        break;
      const struct sched_note *n = sched_note_of(d, j->id, j->array_id);
      if (!n) {
        why = xstrdup("not yet considered by the scheduler");
        break;
      }
      if (!cfg_queue(&d->cfg, j->queue))
        why = xasprintf("its queue %s is no longer in the configuration; it stays queued "
                        "(qmove moves it)",
                        j->queue);
      else if (d->offline)
        why = xstrdup("the node is offline (pbsnodes -o); no job starts until pbsnodes -c");
      else if (d->scheduling_off)
        why = xstrdup("scheduling is off (qmgr -c 'set server scheduling = true' turns it on)");
      else if (n->reason == SR_START && !d->worker_ready)
        why = xstrdup("waiting for boxq-worker to connect");
      else if (n->reason == SR_RESERVED && sched_reservation(d, &rid, &rtime) &&
               (rid == j->id || rid == j->array_id)) {
        fmt_local_time(rtime, when, sizeof(when));
        why = xasprintf("%s; expected to start by %s", sched_reason_text(n->reason), when);
      } else if (ready_has(d, j->id))
        why = xasprintf("%s; handed to the worker to start when a place it fits frees",
                        sched_reason_text(n->reason));
      else
        why = xstrdup(sched_reason_text(n->reason));
      j->sched_info = xasprintf("priority=%.0f queue=%.3f fairshare=%.3f age=%.3f size=%.3f "
                                "job=%.3f",
                                n->priority, (double)n->factor[SF_QUEUE],
                                (double)n->factor[SF_FAIRSHARE], (double)n->factor[SF_AGE],
                                (double)n->factor[SF_SIZE], (double)n->factor[SF_JOB]);
      break;
    }
    default:
      break;
  }
  if (why && !j->comment)
    j->comment = xasprintf("Not Running: %s", why);
}

static void
put_job(struct stat_ctx *sc, struct job_rec *j) {
  bool full = sc->flags & STAT_FULL;
  /* The script is never shown; the environment only to its owner and root. */
  free(j->script);
  j->script = NULL;
  j->script_len = 0;
  if (!full || (sc->c->uid != 0 && (int64_t)sc->c->uid != j->uid)) {
    for (size_t i = 0; j->env && j->env[i]; i++)
      free(j->env[i]);
    free(j->env);
    j->env = NULL;
  }
  size_t mark = pb_nest_begin(sc->b, T_JOB);
  if (sc->flags & STAT_BRIEF)
    job_rec_encode_brief(sc->b, j); /* no comment: no reason to compute */
  else {
    annotate(sc->d, j);
    job_rec_encode(sc->b, j);
  }
  pb_nest_end(sc->b, mark);
}

static int
stat_cb(void *ud, struct job_rec *j) {
  struct stat_ctx *sc = ud;
  if ((j->array_id && !(sc->flags & STAT_TASKS)) || !owner_selected(sc->req, j->owner))
    return 0;
  put_job(sc, j);
  return 0;
}

/* Torque keeps a finished job in qstat, as C, for keep_completed: while
 * it ended after now - keep_completed. */
static int64_t
completed_since(const struct boxqd *d) {
  return (int64_t)time(NULL) - d->cfg.keep_completed;
}

static bool
completed_shown(const struct boxqd *d, int64_t flags, const struct job_rec *j) {
  return (flags & STAT_COMPLETED) && j->state == JOB_FINISHED && j->etime > completed_since(d);
}

void
req_stat(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  int64_t flags = pmsg_i64_or(m, T_FLAGS, 0);
  bool full = flags & STAT_FULL;
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  struct stat_ctx sc = {d, &b, c, flags, m};
  int status = 0;
  size_t off = 0;
  struct pfield f;
  bool any_id = false;
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    struct berr err = {{0}};
    int r = ref_field(d, &f, &id, &err);
    if (r == 1)
      continue;
    any_id = true;
    if (r < 0) {
      reply_add_error(&b, &status, r, err.msg);
      continue;
    }
    struct job_rec j;
    r = db_get_job(d->db, id, full, &j);
    if (r == 0 && j.pruned && !(flags & (STAT_ACCOUNTING | STAT_COMPLETED))) {
      _cleanup_free_ char *name = job_display_id(&j, d->server_name);
      job_rec_free(&j);
      _cleanup_free_ char *msg = xasprintf(
          "Job history has expired (keep_history): %s; qacct -j still has its accounting", name);
      reply_add_error(&b, &status, -ENOENT, msg);
      continue;
    }
    bool hidden = r == 0 && j.state == JOB_FINISHED && !(flags & STAT_FINISHED) &&
                  !completed_shown(d, flags, &j);
    if (hidden && (flags & STAT_COMPLETED)) {
      job_rec_free(&j);
      r = -ENOENT; /* Torque has forgotten a job past keep_completed */
    } else if (hidden) {
      _cleanup_free_ char *name = job_display_id(&j, d->server_name);
      job_rec_free(&j);
      _cleanup_free_ char *msg = xasprintf(
          "Job has finished, use -x or -H to obtain historical job information: %s", name);
      reply_add_error(&b, &status, -ENOENT, msg);
      continue;
    }
    if (r < 0) {
      _cleanup_free_ char *msg =
          r == -ENOENT ? xasprintf("Unknown Job Id %lld.%s", (long long)id, d->server_name)
                       : xasprintf("%lld.%s: %s", (long long)id, d->server_name, db_errmsg(d->db));
      reply_add_error(&b, &status, r, msg);
      continue;
    }
    bool array = j.array_spec != NULL;
    put_job(&sc, &j);
    job_rec_free(&j);
    /* qstat -t ID[]: the array job and its tasks. */
    int64_t *tasks = NULL;
    size_t ntasks = 0;
    if (array && (flags & STAT_TASKS) && db_array_tasks(d->db, id, &tasks, &ntasks) == 0)
      for (size_t i = 0; i < ntasks; i++)
        if (db_get_job(d->db, tasks[i], full, &j) == 0) {
          if (j.state != JOB_FINISHED || (flags & STAT_FINISHED) || completed_shown(d, flags, &j))
            put_job(&sc, &j);
          job_rec_free(&j);
        }
    free(tasks);
  }
  if (!any_id) {
    unsigned lf = (flags & STAT_FINISHED ? DB_LIST_FINISHED : 0) | (full ? DB_LIST_FULL : 0) |
                  (flags & STAT_BRIEF ? DB_LIST_BRIEF : 0);
    int r = (flags & STAT_COMPLETED) && !(flags & STAT_FINISHED)
                ? db_list_recent(d->db, full, completed_since(d), stat_cb, &sc)
                : db_list_jobs(d->db, lf, stat_cb, &sc);
    if (r < 0)
      status = r;
  }
  reply_finish(d, c, &b, status);
}

struct state_counts {
  int64_t n[128];
  int64_t total;
};

static int
count_state(void *ud, const char *queue, int state, int64_t n) {
  (void)queue;
  struct state_counts *sc = ud;
  sc->n[state & 127] += n;
  sc->total += n;
  return 0;
}

/* Jobs by state as qstat shows them. Array tasks are not counted; their
 * array is. */
static int
count_active(struct boxqd *d, bool by_queue, db_count_cb cb, void *ud) {
  return db_count_active(d->db, by_queue, cb, ud);
}

/* For boxq-web's /metrics: counters since boxqd started, the database's
 * and the worker's health. */
static char *
health_status(struct boxqd *d) {
  const struct db_counters *k = db_counters(d->db);
  int64_t db_bytes, wal_bytes;
  db_sizes(d->db, &db_bytes, &wal_bytes);
  char *text =
      xasprintf("started_at=%lld\nworker_since=%lld\njobs_submitted=%lld\n"
                "db_commit_failures=%lld\ndb_bytes=%lld\ndb_wal_bytes=%lld\n",
                (long long)d->started_at, (long long)d->worker_since, (long long)k->submitted,
                (long long)k->commit_failures, (long long)db_bytes, (long long)wal_bytes);
  for (int e = END_NONE + 1; e < END_MAX; e++) {
    char *old = text;
    text = xasprintf("%sjobs_ended.%s=%lld\n", old, job_end_to_string(e), (long long)k->ended[e]);
    free(old);
  }
  return text;
}

/* boxq-web's plots: one job's usage series, anyone's (qstat shows every
 * job's usage to everyone). */
void
req_series(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = -EINVAL;
  struct berr err = {{0}};
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    int r = ref_field(d, &f, &id, &err);
    if (r == 1)
      continue;
    status = r;
    if (r < 0)
      break;
    struct series_point pts[SERIES_MAX];
    size_t n;
    if ((status = db_series_get(d->db, id, pts, &n)) < 0)
      break;
    pb_i64(&b, T_JOBID, id);
    pb_series(&b, pts, n);
    break; /* one job a request */
  }
  if (status < 0 && err.msg[0])
    pb_str(&b, T_MESSAGE, err.msg);
  reply_finish(d, c, &b, status);
}

/* Server status for qstat -B: capacity, the worker and its cgroup backend,
 * jobs by state (an array counts once), pass timings, counters, health. */
void
req_server_info(struct boxqd *d, struct conn *c) {
  struct state_counts sc = {{0}, 0};
  int r = count_active(d, false, count_state, &sc);
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  _cleanup_free_ char *info = xasprintf(
      "server_state=%s\nworker=%s\ncgroup_backend=%s\nncpus=%lld\nmem=%lld\ntotal_jobs=%lld\n"
      "queued=%lld\nheld=%lld\nwaiting=%lld\nrunning=%lld\nexiting=%lld\nbegun=%lld\n"
      "default_queue=%s\nbackfill=%s\nscheduling=%s\nnode_state=%s\npbs_version=boxq %s\n"
      "protocol=%d\n",
      d->worker_ready ? "Active" : "Idle", d->worker_ready ? "connected" : "disconnected",
      d->worker_ready ? d->worker_backend : "unknown", (long long)d->cap.ncpus,
      (long long)d->cap.mem, (long long)sc.total, (long long)sc.n[JOB_QUEUED],
      (long long)sc.n[JOB_HELD], (long long)sc.n[JOB_WAITING], (long long)sc.n[JOB_RUNNING],
      (long long)sc.n[JOB_EXITING], (long long)sc.n['B'], d->cfg.default_queue,
      d->cfg.backfill ? "True" : "False", d->scheduling_off ? "False" : "True",
      d->offline ? "offline" : "free", BOXQ_VERSION, BOXQ_PROTOCOL_VERSION);
  _cleanup_free_ char *devs = places_status(d);
  _cleanup_free_ char *passes = sched_pass_status(d);
  _cleanup_free_ char *health = health_status(d);
  _cleanup_free_ char *all = xasprintf("%s%s%s%s", info, devs, passes, health);
  pb_str(&b, T_INFO, all);
  reply_finish(d, c, &b, r < 0 ? r : 0);
}

struct queue_counts {
  const struct boxq_config *cfg;
  int64_t (*n)[128]; /* [nqueues][state] */
};

static int
count_queue_state(void *ud, const char *queue, int state, int64_t n) {
  struct queue_counts *qc = ud;
  for (size_t i = 0; i < qc->cfg->nqueues; i++)
    if (strcmp(qc->cfg->queues[i].name, queue) == 0)
      qc->n[i][state & 127] += n;
  return 0;
}

/* "resources_max.mem=4gb": a limit as PBS names it, only when set. */
static void
add_limit(char **text, const char *key, int64_t v, char kind) {
  if (v <= 0)
    return;
  char buf[32];
  if (kind == 's')
    res_format_size(v, buf, sizeof(buf));
  else if (kind == 't')
    res_format_duration(v, buf, sizeof(buf));
  else
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
  char *old = *text;
  *text = xasprintf("%s%s=%s\n", old, key, buf);
  free(old);
}

static char *
queue_text(const struct boxq_queue *q, const int64_t *n) {
  int64_t total = 0;
  for (int k = 0; k < 128; k++)
    total += n[k];
  char *t = xasprintf(
      "name=%s\nqueue_type=Execution\ntotal_jobs=%lld\n"
      "state_count=Transit:0 Queued:%lld Held:%lld Waiting:%lld Running:%lld Exiting:%lld "
      "Begun:%lld\njobs_queued=%lld\njobs_held=%lld\njobs_waiting=%lld\njobs_running=%lld\n"
      "jobs_exiting=%lld\nenabled=%s\nstarted=%s\nPriority=%lld\nmax_running=%lld\n",
      q->name, (long long)total, (long long)n['Q'], (long long)n['H'], (long long)n['W'],
      (long long)n['R'], (long long)n['E'], (long long)n['B'], (long long)n['Q'], (long long)n['H'],
      (long long)n['W'], (long long)n['R'], (long long)n['E'], q->enabled ? "True" : "False",
      q->started ? "True" : "False", (long long)q->priority, (long long)q->max_running);
  add_limit(&t, "resources_max.ncpus", q->max_ncpus, 'i');
  add_limit(&t, "resources_max.mem", q->max_mem, 's');
  add_limit(&t, "resources_max.walltime", q->max_walltime, 't');
  add_limit(&t, "resources_max.pids", q->max_pids, 'i');
  add_limit(&t, "resources_default.ncpus", q->default_ncpus, 'i');
  add_limit(&t, "resources_default.mem", q->default_mem, 's');
  add_limit(&t, "resources_default.walltime", q->default_walltime, 't');
  add_limit(&t, "resources_default.pids", q->default_pids, 'i');
  add_limit(&t, "max_run_res.ncpus", q->max_running_ncpus, 'i');
  add_limit(&t, "max_run_res.mem", q->max_running_mem, 's');
  add_limit(&t, "max_user_run", q->max_user_running, 'i');
  add_limit(&t, "max_user_res.ncpus", q->max_user_ncpus, 'i');
  add_limit(&t, "max_user_res.mem", q->max_user_mem, 's');
  char *old = t;
  t = xasprintf("%smax_job_priority=%lld\nacl_users=%s\nacl_groups=%s\n", old,
                (long long)q->max_job_priority, q->acl_users, q->acl_groups);
  free(old);
  return t;
}

/* qstat -Q: the queues named (T_INFO), or all. */
void
req_queue_info(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  const struct boxq_config *cfg = &d->cfg;
  struct queue_counts qc = {cfg, xcalloc(cfg->nqueues, sizeof(*qc.n))};
  int r = count_active(d, true, count_queue_state, &qc);
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = r < 0 ? r : 0;
  bool named = false;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    const char *name = f.tag == T_INFO ? pfield_str(&f) : NULL;
    if (!name)
      continue;
    named = true;
    const struct boxq_queue *q = cfg_queue(cfg, name);
    if (!q) {
      _cleanup_free_ char *msg = xasprintf("Unknown queue '%.64s'", name);
      reply_add_error(&b, &status, -ENOENT, msg);
      continue;
    }
    _cleanup_free_ char *t = queue_text(q, qc.n[q - cfg->queues]);
    pb_str(&b, T_QUEUE, t);
  }
  for (size_t i = 0; !named && i < cfg->nqueues; i++) {
    _cleanup_free_ char *t = queue_text(&cfg->queues[i], qc.n[i]);
    pb_str(&b, T_QUEUE, t);
  }
  free(qc.n);
  reply_finish(d, c, &b, status);
}

/* Most per-job rows one qacct reply carries. */
#define ACCT_MAX_ROWS 200000

struct acct_ctx {
  struct pbuf *b;
  int64_t rows;
};

static int
acct_job(void *ud, struct job_rec *j) {
  struct acct_ctx *ac = ud;
  size_t mark = pb_nest_begin(ac->b, T_JOB);
  job_rec_encode(ac->b, j);
  pb_nest_end(ac->b, mark);
  ac->rows++;
  return 0;
}

static int
acct_group(void *ud, const struct db_acct_group *g) {
  struct acct_ctx *ac = ud;
  size_t mark = pb_nest_begin(ac->b, T_GROUP);
  pb_str(ac->b, G_KEY, g->key);
  pb_i64(ac->b, G_JOBS, g->jobs);
  pb_i64(ac->b, G_COMPLETED, g->completed);
  pb_i64(ac->b, G_FAILED, g->failed);
  pb_i64(ac->b, G_TIMEOUTS, g->timeouts);
  pb_i64(ac->b, G_OOM_KILLS, g->oom_kills);
  pb_i64(ac->b, G_CANCELLED, g->cancelled);
  pb_i64(ac->b, G_CPU_USEC, g->cpu_usec);
  pb_i64(ac->b, G_WALL_USEC, g->wall_usec);
  pb_i64(ac->b, G_CPU_ALLOC_USEC, g->cpu_alloc_usec);
  pb_i64(ac->b, G_GPU_USEC, g->gpu_usec);
  pb_i64(ac->b, G_MEM_PEAK, g->mem_peak);
  pb_i64(ac->b, G_WAITED, g->waited);
  pb_i64(ac->b, G_WAIT_SEC, g->wait_sec);
  pb_i64(ac->b, G_WAIT_MAX_SEC, g->wait_max_sec);
  pb_nest_end(ac->b, mark);
  ac->rows++;
  return 0;
}

/* Joins the strings of tag into "\x1fa\x1fb\x1f" (NULL if none); a name
 * holding the separator or a control character matches nothing. */
static char *
name_set(const struct pmsg *m, uint16_t tag) {
  char *set = NULL;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    const char *v = f.tag == tag ? pfield_str(&f) : NULL;
    if (!v || strlen(v) > 256)
      continue;
    char *old = set;
    set = xasprintf("%s%s\x1f", old ? old : "\x1f", v);
    free(old);
  }
  return set;
}

/* qacct: finished jobs by end time, user, queue, account, project and end
 * reason; one row per job, or sums grouped by one of those or by day. */
void
req_acct(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  _cleanup_free_ char *users = name_set(m, A_USER), *queues = name_set(m, A_QUEUE);
  _cleanup_free_ char *accounts = name_set(m, A_ACCOUNT), *projects = name_set(m, A_PROJECT);
  struct db_acct_filter f = {.since = pmsg_i64_or(m, A_SINCE, 0),
                             .until = pmsg_i64_or(m, A_UNTIL, 0),
                             .reasons = pmsg_i64_or(m, A_REASONS, 0),
                             .users = users,
                             .queues = queues,
                             .accounts = accounts,
                             .projects = projects,
                             .recount = pmsg_i64_or(m, A_RECOUNT, 0) != 0};
  const char *by = pmsg_str(m, A_GROUP_BY);
  int64_t limit = pmsg_i64_or(m, A_LIMIT, ACCT_MAX_ROWS);
  if (limit <= 0 || limit > ACCT_MAX_ROWS)
    limit = ACCT_MAX_ROWS;
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  struct acct_ctx ac = {&b, 0};
  int r;
  if (!by)
    r = db_acct_jobs(d->db, &f, limit, acct_job, &ac);
  else {
    enum db_acct_key key = !strcmp(by, "user")       ? ACCT_BY_USER
                           : !strcmp(by, "queue")    ? ACCT_BY_QUEUE
                           : !strcmp(by, "day")      ? ACCT_BY_DAY
                           : !strcmp(by, "all")      ? ACCT_ALL
                           : !strcmp(by, "account")  ? ACCT_BY_ACCOUNT
                           : !strcmp(by, "project")  ? ACCT_BY_PROJECT
                           : !strcmp(by, "day,user") ? ACCT_BY_DAY_USER
                                                     : (enum db_acct_key) - 1;
    r = key == (enum db_acct_key) - 1 ? -EINVAL : db_acct_groups(d->db, &f, key, acct_group, &ac);
  }
  if (r < 0) {
    pbuf_free(&b);
    if (r == -EINVAL)
      reply_status(c, r,
                   "qacct: cannot group by '%s' (user, queue, day, account, project, day,user)",
                   by ? by : "");
    else
      reply_status(c, r, "qacct: %s", db_errmsg(d->db));
    return;
  }
  if (!by && ac.rows == limit)
    pb_str(&b, T_INFO, "truncated");
  reply_finish(d, c, &b, 0);
}

struct events_ctx {
  struct pbuf *b;
  int64_t id;
  bool details; /* the caller owns the job (or may act on any) */
};

static int
put_event(void *ud, int64_t time, const char *event, const char *detail) {
  struct events_ctx *ec = ud;
  size_t mark = pb_nest_begin(ec->b, T_EVENT);
  pb_i64(ec->b, EV_JOBID, ec->id);
  pb_i64(ec->b, EV_TIME, time);
  pb_str(ec->b, EV_NAME, event);
  if (ec->details)
    pb_str(ec->b, EV_DETAIL, detail);
  pb_nest_end(ec->b, mark);
  return 0;
}

/* The next job a request names, whoever owns it (EVENTS_PUBLIC). */
static int
next_any_job(struct boxqd *d, const struct pmsg *m, size_t *off, int64_t *id, struct job_rec *j,
             struct berr *err) {
  *j = (struct job_rec){0};
  *err = (struct berr){{0}};
  struct pfield f;
  while (pmsg_next(m, off, &f)) {
    int r = ref_field(d, &f, id, err);
    if (r == 1)
      continue;
    if (r == 0 && (r = db_get_job(d->db, *id, false, j)) < 0)
      berr_set(err, r, r == -ENOENT ? "Unknown Job Id %lld.%s" : "%lld.%s: cannot read it",
               (long long)*id, d->server_name);
    return r;
  }
  return 1;
}

/* tracejob: the event log of each job, for its owner and the privileged.
 * With EVENTS_PUBLIC (boxq-web), anyone's jobs, their events' names and
 * times only: when a job was submitted, started or ended, qstat shows
 * everyone; what happened in detail (mail addresses, who altered it) is
 * its owner's. */
void
req_events(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  size_t off = 0;
  int64_t id;
  struct job_rec j;
  struct berr err;
  int r;
  bool public = pmsg_i64_or(m, T_FLAGS, 0) & EVENTS_PUBLIC;
  while ((r = public ? next_any_job(d, m, &off, &id, &j, &err)
                     : next_own_job(d, c, m, &off, &id, &j, &err)) != 1) {
    if (r == 0) {
      free(j.script);
      j.script = NULL;
      j.script_len = 0;
      size_t mark = pb_nest_begin(&b, T_JOB);
      job_rec_encode(&b, &j);
      pb_nest_end(&b, mark);
      struct events_ctx ec = {&b, id, (int64_t)c->uid == j.uid || may_act_on_any(d, c)};
      r = db_list_events(d->db, id, put_event, &ec);
      if (r < 0)
        berr_set(&err, r, "%lld.%s: %s", (long long)id, d->server_name, db_errmsg(d->db));
    }
    if (r < 0)
      reply_add_error(&b, &status, r, err.msg);
    job_rec_free(&j);
  }
  reply_finish(d, c, &b, status);
}
