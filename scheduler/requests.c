/* SPDX-License-Identifier: MIT */
/* Client requests: submit, stat, delete, hold, release. Every handler
 * trusts nothing in the payload: the caller's identity is the socket's
 * SO_PEERCRED, every field is re-validated, and each state change is one
 * transaction committed before the reply. */
#include "boxqd.h"
#include "log.h"
#include "res.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <time.h>

#define MAX_ENV_VARS  4096
#define MAX_ENV_BYTES (1u << 20)
#define MAX_PATH_LEN  4096

static int64_t
now_sec(void) {
  return (int64_t)time(NULL);
}

static int
user_name(uid_t uid, char *buf, size_t len) {
  struct passwd pw, *res = NULL;
  char tmp[4096];
  if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) != 0 || !res)
    return -ENOENT;
  snprintf(buf, len, "%s", pw.pw_name);
  return 0;
}

static int
check_path(const char *what, const char *p, bool required, struct berr *err) {
  if (!p || !*p)
    return required ? berr_set(err, -EINVAL, "%s is missing", what) : 0;
  if (p[0] != '/')
    return berr_set(err, -EINVAL, "%s '%s' is not an absolute path", what, p);
  if (strlen(p) > MAX_PATH_LEN)
    return berr_set(err, -ENAMETOOLONG, "%s is longer than %d bytes", what, MAX_PATH_LEN);
  for (const char *s = p; *s; s++)
    if ((unsigned char)*s < ' ')
      return berr_set(err, -EINVAL, "%s contains a control character", what);
  return 0;
}

/* Validates a submission and fills in what the server decides. */
static int
validate_submit(struct boxqd *d, struct conn *c, struct job_rec *j, struct berr *err) {
  const struct boxq_config *cfg = &d->cfg;
  if (c->uid == 0 && !cfg->allow_root_jobs)
    return berr_set(err, -EPERM,
                    "jobs may not run as root on this server (allow_root_jobs = false)");
  char owner[256];
  if (user_name(c->uid, owner, sizeof(owner)) < 0)
    return berr_set(err, -EPERM, "uid %u has no user account", (unsigned)c->uid);
  /* Identity is the socket's, whatever the payload said. */
  j->uid = c->uid;
  j->gid = c->gid;
  free(j->owner);
  j->owner = xstrdup(owner);
  free(j->groups);
  j->groups = NULL;
  j->ngroups = 0;

  int r = job_name_check(j->name, err);
  if (r < 0)
    return r;
  if ((r = check_path("working directory", j->workdir, true, err)) < 0 ||
      (r = check_path("output path (-o)", j->out_path, false, err)) < 0 ||
      (r = check_path("error path (-e)", j->err_path, false, err)) < 0)
    return r;
  if (j->join < JOIN_NONE || j->join > JOIN_EO)
    return berr_set(err, -EINVAL, "bad join option");
  if (!j->script || j->script_len == 0)
    return berr_set(err, -EINVAL, "the job script is empty");
  if ((int64_t)j->script_len > cfg->max_script_size)
    return berr_set(err, -E2BIG, "the job script is %zu bytes; the limit is %lld", j->script_len,
                    (long long)cfg->max_script_size);
  if (memchr(j->script, '\0', j->script_len))
    return berr_set(err, -EINVAL, "the job script contains a NUL byte (is it a binary?)");
  size_t nenv = job_env_count(j->env), env_bytes = 0;
  for (size_t i = 0; i < nenv; i++)
    env_bytes += strlen(j->env[i]) + 1;
  if (nenv > MAX_ENV_VARS || env_bytes > MAX_ENV_BYTES)
    return berr_set(err, -E2BIG, "the job environment is too large (%zu variables, %zu bytes)",
                    nenv, env_bytes);

  if (j->ncpus == 0)
    j->ncpus = cfg->default_ncpus;
  if (j->mem == 0)
    j->mem = cfg->default_mem;
  if (j->walltime == 0)
    j->walltime = cfg->default_walltime;
  if (j->pids == 0)
    j->pids = cfg->default_pids;
  if (j->pids < 0 || j->pids > RES_PIDS_MAX)
    return berr_set(err, -EINVAL, "pids=%lld is out of range", (long long)j->pids);
  if (j->net && *j->net && strcmp(j->net, "none") != 0)
    return berr_set(err, -EINVAL, "net='%s': only 'none' (loopback only) is known", j->net);
  /* CPU pinning is the server's decision, never the submitter's. */
  free(j->cpus);
  j->cpus = NULL;
  if (j->ncpus < 1 || j->ncpus > RES_NCPUS_MAX)
    return berr_set(err, -EINVAL, "ncpus=%lld is out of range", (long long)j->ncpus);
  if (j->mem < 1 || j->mem > RES_SIZE_MAX)
    return berr_set(err, -EINVAL, "mem is out of range");
  if (j->walltime < 0 || j->walltime > RES_DURATION_MAX)
    return berr_set(err, -EINVAL, "walltime is out of range");
  if (j->ncpus > d->cap.ncpus)
    return berr_set(err, -E2BIG, "ncpus=%lld exceeds this server's %lld CPUs", (long long)j->ncpus,
                    (long long)d->cap.ncpus);
  if (j->mem > d->cap.mem) {
    char want[32], have[32];
    res_format_size(j->mem, want, sizeof(want));
    res_format_size(d->cap.mem, have, sizeof(have));
    return berr_set(err, -E2BIG, "mem=%s exceeds this server's %s for jobs", want, have);
  }
  if (j->hold_types && *j->hold_types && strspn(j->hold_types, "u") != strlen(j->hold_types))
    return berr_set(err, -EINVAL, "unknown hold type '%s' (only 'u')", j->hold_types);
  if (j->priority < -1024 || j->priority > 1023)
    return berr_set(err, -EINVAL, "priority %lld is outside -1024..1023", (long long)j->priority);

  free(j->queue);
  j->queue = xstrdup(cfg->default_queue);
  j->state = (j->hold_types && *j->hold_types) ? JOB_HELD : JOB_QUEUED;
  j->end_reason = END_NONE;
  j->has_exit = false;
  j->has_usage = false;
  j->ctime = j->qtime = j->mtime = now_sec();
  j->stime = j->etime = 0;
  free(j->comment);
  free(j->exec_host);
  free(j->cgroup);
  j->comment = j->exec_host = j->cgroup = NULL;
  return 0;
}

static void
store_error(struct conn *c, struct boxqd *d, int r) {
  if (r == -ENOSPC || r == -EDQUOT)
    reply_status(c, r, "cannot store the job: the disk holding the queue is full (%s)",
                 d->cfg.state_dir);
  else if (r == -EROFS)
    reply_status(c, r, "cannot store the job: the queue database is read-only (%s)",
                 d->cfg.state_dir);
  else
    reply_status(c, r, "cannot store the job: %s", db_errmsg(d->db));
}

static void
req_submit(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  struct pfield f;
  struct pmsg sub;
  struct job_rec j;
  struct berr err = {{0}};
  if (!pmsg_find(m, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &j) < 0) {
    reply_status(c, -EBADMSG, "malformed submission");
    return;
  }
  int r = validate_submit(d, c, &j, &err);
  if (r < 0) {
    reply_status(c, r, "%s", err.msg);
    job_rec_free(&j);
    return;
  }
  r = db_begin(d->db);
  if (r == 0)
    r = db_insert_job(d->db, &j);
  if (r == 0)
    r = db_add_event(d->db, j.id, j.ctime, "submitted",
                     j.state == JOB_HELD ? "held at submission" : NULL);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0) {
    log_error("cannot store a job of uid %u: %s", (unsigned)c->uid, db_errmsg(d->db));
    store_error(c, d, r);
    job_rec_free(&j);
    return;
  }
  /* Committed (synchronous=FULL): now the id may be printed. */
  log_info("job %lld submitted by %s (ncpus=%lld mem=%lld walltime=%lld)", (long long)j.id, j.owner,
           (long long)j.ncpus, (long long)j.mem, (long long)j.walltime);
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  pb_i64(&b, T_STATUS, 0);
  pb_i64(&b, T_JOBID, j.id);
  pb_str(&b, T_SERVER, d->server_name);
  pb_end(&b);
  conn_send(c, &b);
  pbuf_free(&b);
  if (j.state == JOB_QUEUED)
    sched_request_pass(d);
  job_rec_free(&j);
}

enum stat_flags { STAT_FINISHED = 1, STAT_FULL = 2 };

struct stat_ctx {
  struct pbuf *b;
  struct conn *c;
  bool full;
};

static void
put_job(struct pbuf *b, struct conn *c, struct job_rec *j, bool full) {
  /* The script is never shown; the environment only to its owner and root. */
  free(j->script);
  j->script = NULL;
  j->script_len = 0;
  if (!full || (c->uid != 0 && (int64_t)c->uid != j->uid)) {
    for (size_t i = 0; j->env && j->env[i]; i++)
      free(j->env[i]);
    free(j->env);
    j->env = NULL;
  }
  size_t mark = pb_nest_begin(b, T_JOB);
  job_rec_encode(b, j);
  pb_nest_end(b, mark);
}

static int
stat_cb(void *ud, struct job_rec *j) {
  struct stat_ctx *sc = ud;
  put_job(sc->b, sc->c, j, sc->full);
  return 0;
}

/* A per-id failure in a multi-id reply: the message goes to the client,
 * the first failure's code becomes the reply's status. */
static void
reply_add_error(struct pbuf *b, int *status, int r, const char *msg) {
  pb_str(b, T_ERROR, msg);
  if (*status == 0)
    *status = r;
}

/* Closes a reply begun with pb_begin(MSG_REPLY), sends it and frees it. */
static void
reply_finish(struct boxqd *d, struct conn *c, struct pbuf *b, int status) {
  pb_i64(b, T_STATUS, status);
  pb_str(b, T_SERVER, d->server_name);
  pb_end(b);
  conn_send(c, b);
  pbuf_free(b);
}

static void
req_stat(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  int64_t flags = pmsg_i64_or(m, T_FLAGS, 0);
  bool full = flags & STAT_FULL;
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  size_t off = 0;
  struct pfield f;
  bool any_id = false;
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    if (f.tag != T_JOBID || pfield_i64(&f, &id) < 0)
      continue;
    any_id = true;
    struct job_rec j;
    int r = db_get_job(d->db, id, full, &j);
    if (r == 0 && j.state == JOB_FINISHED && !(flags & STAT_FINISHED)) {
      job_rec_free(&j);
      r = -ENOENT;
      _cleanup_free_ char *msg =
          xasprintf("Job has finished, use -x or -H to obtain historical job information: %lld.%s",
                    (long long)id, d->server_name);
      pb_str(&b, T_ERROR, msg);
      status = -ENOENT;
      continue;
    }
    if (r < 0) {
      _cleanup_free_ char *msg =
          r == -ENOENT ? xasprintf("Unknown Job Id %lld.%s", (long long)id, d->server_name)
                       : xasprintf("%lld.%s: %s", (long long)id, d->server_name, db_errmsg(d->db));
      pb_str(&b, T_ERROR, msg);
      status = r;
      continue;
    }
    put_job(&b, c, &j, full);
    job_rec_free(&j);
  }
  if (!any_id) {
    struct stat_ctx sc = {&b, c, full};
    unsigned lf = (flags & STAT_FINISHED ? DB_LIST_FINISHED : 0) | (full ? DB_LIST_FULL : 0);
    int r = db_list_jobs(d->db, lf, stat_cb, &sc);
    if (r < 0)
      status = r;
  }
  reply_finish(d, c, &b, status);
}

/* Is user (with primary group gid) named in list ("alice,@admins")? */
static bool
in_list(const char *list, const char *user, gid_t gid) {
  if (!list || !*list)
    return false;
  gid_t groups[256];
  int ngroups = -1;
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
    if (item[0] != '@') {
      if (strcmp(item, user) == 0)
        return true;
      continue;
    }
    if (ngroups < 0) {
      ngroups = (int)ARRAY_SIZE(groups);
      if (getgrouplist(user, gid, groups, &ngroups) < 0)
        ngroups = 0; /* more groups than we look at: only named users match */
    }
    struct group gr, *res = NULL;
    char buf[16384];
    if (getgrnam_r(item + 1, &gr, buf, sizeof(buf), &res) != 0 || !res)
      continue;
    for (int i = 0; i < ngroups; i++)
      if (groups[i] == res->gr_gid)
        return true;
  }
  return false;
}

/* May the caller act on other users' jobs? root, managers and operators
 * may; the check uses the account of the socket's uid, never the payload. */
bool
may_act_on_any(struct boxqd *d, struct conn *c) {
  if (c->uid == 0)
    return true;
  if (!*d->cfg.managers && !*d->cfg.operators)
    return false;
  struct passwd pw, *res = NULL;
  char buf[16384];
  if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
    return false;
  return in_list(d->cfg.managers, pw.pw_name, pw.pw_gid) ||
         in_list(d->cfg.operators, pw.pw_name, pw.pw_gid);
}

/* The action part of qdel/qhold/qrls on one job the caller may touch.
 * Returns 0, or -errno with a message in err. Runs inside a transaction. */
typedef int (*job_action_fn)(struct boxqd *d, struct job_rec *j, struct conn *c,
                             const struct pmsg *req, struct berr *err);

static int
act_delete(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
           struct berr *err) {
  (void)req;
  int64_t now = now_sec();
  _cleanup_free_ char *who = xasprintf("by uid %u", (unsigned)c->uid);
  switch (j->state) {
    case JOB_QUEUED:
    case JOB_HELD:
    case JOB_WAITING: {
      struct job_rec end = {.id = j->id, .end_reason = END_CANCELLED, .etime = now};
      int r = db_job_ended(d->db, &end);
      if (r == 0)
        r = db_add_event(d->db, j->id, now, "cancelled", who);
      return r;
    }
    case JOB_RUNNING:
    case JOB_EXITING: {
      /* The worker ends it; its result arrives as for any other end. The
       * intent is stored so that it survives a restart of either daemon. */
      int r = db_set_end_reason(d->db, j->id, END_CANCELLED);
      if (r == 0)
        r = db_add_event(d->db, j->id, now, "delete requested", who);
      return r;
    }
    case JOB_FINISHED:
      return berr_set(err, -EALREADY, "Job has finished: %lld.%s", (long long)j->id,
                      d->server_name);
    default:
      return berr_set(err, -EINVAL, "job is in an unknown state");
  }
}

static int
act_hold(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
         struct berr *err) {
  (void)req;
  (void)c;
  if (j->state == JOB_HELD)
    return 0;
  if (j->state != JOB_QUEUED && j->state != JOB_WAITING)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c)",
                    (long long)j->id, d->server_name, j->state);
  int64_t now = now_sec();
  int r = db_set_state(d->db, j->id, JOB_HELD, "u", now);
  if (r == 0)
    r = db_add_event(d->db, j->id, now, "held", "user hold");
  return r;
}

static int
act_release(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
            struct berr *err) {
  (void)req;
  (void)c;
  if (j->state != JOB_HELD)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c, not held)",
                    (long long)j->id, d->server_name, j->state);
  int64_t now = now_sec();
  int r = db_set_state(d->db, j->id, JOB_QUEUED, "", now);
  if (r == 0)
    r = db_add_event(d->db, j->id, now, "released", NULL);
  return r;
}

/* qsig: the signal travels in the request; only running jobs take one. */
static int
act_signal(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
           struct berr *err) {
  if (j->state != JOB_RUNNING)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c, not running)",
                    (long long)j->id, d->server_name, j->state);
  int sig = (int)pmsg_i64_or(req, T_SIGNAL, 0);
  int r = worker_signal_job(d, j->id, sig, false);
  if (r < 0)
    return berr_set(err, r, "cannot reach the worker to signal job %lld.%s", (long long)j->id,
                    d->server_name);
  _cleanup_free_ char *detail = xasprintf("signal %d by uid %u", sig, (unsigned)c->uid);
  return db_add_event(d->db, j->id, now_sec(), "signalled", detail);
}

/* Loads job id for a caller who must own it (or be privileged). 0, or
 * -errno with the PBS-style message in err. */
static int
load_own_job(struct boxqd *d, struct conn *c, int64_t id, struct job_rec *j, struct berr *err) {
  int r = db_get_job(d->db, id, false, j);
  if (r == -ENOENT)
    return berr_set(err, r, "Unknown Job Id %lld.%s", (long long)id, d->server_name);
  if (r < 0)
    return berr_set(err, r, "%lld.%s: %s", (long long)id, d->server_name, db_errmsg(d->db));
  if ((int64_t)c->uid != j->uid && !may_act_on_any(d, c))
    return berr_set(err, -EPERM, "Unauthorized Request: job %lld.%s belongs to %s", (long long)id,
                    d->server_name, j->owner);
  return 0;
}

static void
req_job_action(struct boxqd *d, struct conn *c, const struct pmsg *m, job_action_fn fn,
               const char *verb) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  bool changed = false;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    if (f.tag != T_JOBID || pfield_i64(&f, &id) < 0)
      continue;
    struct berr err = {{0}};
    struct job_rec j = {0};
    int r = load_own_job(d, c, id, &j, &err);
    if (r == 0) {
      bool running = j.state == JOB_RUNNING || j.state == JOB_EXITING;
      r = db_begin(d->db);
      if (r == 0) {
        r = fn(d, &j, c, m, &err);
        if (r == 0)
          r = db_commit(d->db);
        else
          db_rollback(d->db);
      }
      if (r < 0 && !err.msg[0])
        berr_set(&err, r, "cannot update job %lld: %s", (long long)id, db_errmsg(d->db));
      if (r == 0) {
        changed = true;
        log_info("job %lld: %s by uid %u", (long long)id, verb, (unsigned)c->uid);
        if (fn == act_delete && running)
          worker_signal_job(d, id, 0, true);
      }
    }
    if (r < 0)
      reply_add_error(&b, &status, r, err.msg);
    job_rec_free(&j);
  }
  reply_finish(d, c, &b, status);
  if (changed)
    sched_request_pass(d);
}

struct state_counts {
  int64_t n[128];
};

static int
count_state(void *ud, struct job_rec *j) {
  ((struct state_counts *)ud)->n[j->state & 127]++;
  return 0;
}

/* Server status for qstat -B: capacity, the worker and its cgroup backend,
 * jobs by state. */
static void
req_server_info(struct boxqd *d, struct conn *c) {
  struct state_counts sc = {{0}};
  db_list_jobs(d->db, 0, count_state, &sc);
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  pb_i64(&b, T_STATUS, 0);
  _cleanup_free_ char *info =
      xasprintf("server_state=%s\nworker=%s\ncgroup_backend=%s\nncpus=%lld\nmem=%lld\nqueued=%lld\n"
                "held=%lld\nwaiting=%lld\nrunning=%lld\nexiting=%lld\nprotocol=%d\n",
                d->worker_ready ? "Active" : "Idle", d->worker_ready ? "connected" : "disconnected",
                d->worker_ready ? d->worker_backend : "unknown", (long long)d->cap.ncpus,
                (long long)d->cap.mem, (long long)sc.n[JOB_QUEUED], (long long)sc.n[JOB_HELD],
                (long long)sc.n[JOB_WAITING], (long long)sc.n[JOB_RUNNING],
                (long long)sc.n[JOB_EXITING], BOXQ_PROTOCOL_VERSION);
  pb_str(&b, T_INFO, info);
  pb_str(&b, T_SERVER, d->server_name);
  pb_end(&b);
  conn_send(c, &b);
  pbuf_free(&b);
}

struct events_ctx {
  struct pbuf *b;
  int64_t id;
};

static int
put_event(void *ud, int64_t time, const char *event, const char *detail) {
  struct events_ctx *ec = ud;
  size_t mark = pb_nest_begin(ec->b, T_EVENT);
  pb_i64(ec->b, EV_JOBID, ec->id);
  pb_i64(ec->b, EV_TIME, time);
  pb_str(ec->b, EV_NAME, event);
  pb_str(ec->b, EV_DETAIL, detail);
  pb_nest_end(ec->b, mark);
  return 0;
}

/* tracejob: the event log of each job, for its owner and the privileged. */
static void
req_events(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    if (f.tag != T_JOBID || pfield_i64(&f, &id) < 0)
      continue;
    struct job_rec j = {0};
    struct berr err = {{0}};
    int r = load_own_job(d, c, id, &j, &err);
    if (r == 0) {
      size_t mark = pb_nest_begin(&b, T_JOB);
      job_rec_encode(&b, &j);
      pb_nest_end(&b, mark);
      struct events_ctx ec = {&b, id};
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

void
req_dispatch(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  switch (m->type) {
    case MSG_SUBMIT:
      req_submit(d, c, m);
      break;
    case MSG_STAT:
      req_stat(d, c, m);
      break;
    case MSG_DELETE:
      req_job_action(d, c, m, act_delete, "delete");
      break;
    case MSG_HOLD:
      req_job_action(d, c, m, act_hold, "hold");
      break;
    case MSG_RELEASE:
      req_job_action(d, c, m, act_release, "release");
      break;
    case MSG_SERVER_INFO:
      req_server_info(d, c);
      break;
    case MSG_EVENTS:
      req_events(d, c, m);
      break;
    case MSG_SIGNAL_JOB: {
      int64_t sig = pmsg_i64_or(m, T_SIGNAL, 0);
      if (sig <= 0 || sig > 64 || !job_signal_allowed((int)sig)) {
        reply_status(c, -EINVAL, "signal %lld cannot be sent to boxq jobs", (long long)sig);
        break;
      }
      req_job_action(d, c, m, act_signal, "signal");
      break;
    }
    default:
      reply_status(c, -EOPNOTSUPP, "unknown request type %u", m->type);
      break;
  }
}
