/* SPDX-License-Identifier: MIT */
/* The verbs that act on jobs already there: qdel, qhold, qrls, qsig
 * (signals, suspend, resume), qalter and qmove, qrerun, qrun. One request
 * names every job; each is loaded for a caller who owns it (or is
 * privileged), changed inside a savepoint of one transaction, and the
 * worker is told what follows (cancel, signal, dispatch) once it commits.
 * A request touching a job handed to the worker ahead of time waits until
 * the worker gives it back (ready.c). */
#include "boxqd.h"
#include "log.h"
#include "jobref.h"
#include "res.h"

#include <pwd.h>
#include <string.h>

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
  return principal_in_list(d->cfg.managers, pw.pw_name, pw.pw_gid) ||
         principal_in_list(d->cfg.operators, pw.pw_name, pw.pw_gid);
}

/* The action part of qdel/qhold/qrls/qsig/qalter/qrerun on one job the
 * caller may touch. Returns 0, or -errno with a message in err. Runs
 * inside a transaction; running jobs to end or signal once it commits go
 * to out. */
struct action_out {
  int64_t *ids; /* running jobs to tell the worker about */
  size_t n;
  int sig; /* 0: cancel them */
  bool changed;
  struct planned_start start; /* qrun: a job to dispatch (id 0: none) */
};

typedef int (*job_action_fn)(struct boxqd *d, struct job_rec *j, struct conn *c,
                             const struct pmsg *req, struct action_out *out, struct berr *err);

static void
out_add(struct action_out *out, int64_t id) {
  out->ids = xrealloc(out->ids, (out->n + 1) * sizeof(int64_t));
  out->ids[out->n++] = id;
}

/* The running tasks of an array job. */
static int
running_tasks(struct boxqd *d, int64_t array_id, struct action_out *out, bool cancel) {
  int64_t *ids;
  size_t n;
  int r = db_array_tasks(d->db, array_id, &ids, &n);
  for (size_t i = 0; r == 0 && i < n; i++) {
    struct job_rec t;
    if (db_get_job(d->db, ids[i], false, &t) < 0)
      continue;
    if (t.state == JOB_RUNNING || t.state == JOB_EXITING) {
      if (cancel)
        r = db_set_end_reason(d->db, t.id, END_CANCELLED);
      if (r == 0)
        out_add(out, t.id);
    }
    job_rec_free(&t);
  }
  free(ids);
  return r;
}

/* Ends a job that has not started, in its own transaction: the cancel
 * half of qdel for a client that can no longer ask (qsub -I gone). */
void
act_withdraw(struct boxqd *d, int64_t id, uid_t uid, const char *why) {
  struct job_rec j;
  if (db_get_job(d->db, id, false, &j) < 0)
    return;
  bool unstarted = (j.state == JOB_QUEUED || j.state == JOB_HELD || j.state == JOB_WAITING) &&
                   j.uid == (int64_t)uid && !j.array_spec;
  int64_t now = now_sec();
  if (unstarted && db_begin(d->db) == 0) {
    int r = db_finish_unstarted(d->db, id, END_CANCELLED, now);
    if (r >= 0)
      r = db_add_event(d->db, id, now, "cancelled", why);
    if (r == 0)
      r = wf_job_finished(d, &j, now);
    if (r == 0 && (r = db_commit(d->db)) == 0) {
      log_info("job %lld: withdrawn: %s", (long long)id, why);
      sched_request_pass(d);
    } else {
      db_rollback(d->db);
      log_error("job %lld: cannot withdraw it: %s", (long long)id, db_errmsg(d->db));
    }
  }
  job_rec_free(&j);
}

static int
act_delete(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
           struct action_out *out, struct berr *err) {
  (void)req;
  int64_t now = now_sec();
  _cleanup_free_ char *who = xasprintf("by uid %u", (unsigned)c->uid);
  if (j->state == JOB_FINISHED)
    return berr_set(err, -EALREADY, "Job has finished: %lld.%s", (long long)j->id, d->server_name);
  if (j->array_spec) {
    /* The whole array: tasks not started end now, running ones are told. */
    int r = db_finish_unstarted(d->db, j->id, END_CANCELLED, now);
    if (r >= 0)
      r = running_tasks(d, j->id, out, true);
    if (r == 0)
      r = db_add_event(d->db, j->id, now, "cancelled", who);
    if (r == 0)
      r = wf_array_check(d, j->id, now);
    return r;
  }
  switch (j->state) {
    case JOB_QUEUED:
    case JOB_HELD:
    case JOB_WAITING: {
      int r = db_finish_unstarted(d->db, j->id, END_CANCELLED, now);
      if (r >= 0)
        r = db_add_event(d->db, j->id, now, "cancelled", who);
      if (r == 0)
        r = wf_job_finished(d, j, now);
      return r;
    }
    case JOB_RUNNING:
    case JOB_EXITING: {
      /* The worker ends it; its result arrives as for any other end. The
       * intent is stored so that it survives a restart of either daemon. */
      int r = db_set_end_reason(d->db, j->id, END_CANCELLED);
      if (r == 0)
        r = db_add_event(d->db, j->id, now, "delete requested", who);
      if (r == 0)
        out_add(out, j->id);
      return r;
    }
    default:
      return berr_set(err, -EINVAL, "job is in an unknown state");
  }
}

static int suspend_running(struct boxqd *d, struct job_rec *j, struct conn *c, bool resume,
                           const char *how, struct action_out *out, struct berr *err);

static int
act_hold(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
         struct action_out *out, struct berr *err) {
  (void)req;
  if (j->state == JOB_HELD && j->hold_types && strchr(j->hold_types, 'u'))
    return 0;
  /* A running job cannot go back to the queue (nothing checkpoints it):
   * it is suspended where it runs, as qsig -s suspend does. */
  if (j->state == JOB_RUNNING && !j->array_spec)
    return suspend_running(d, j, c, false, "qhold", out, err);
  int64_t now = now_sec();
  int r = db_hold_add(d->db, j->id, 'u', now);
  if (r == 0)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c)",
                    (long long)j->id, d->server_name, j->state);
  if (r > 0)
    r = db_add_event(d->db, j->id, now, "held", "user hold");
  return r;
}

static int
act_release(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
            struct action_out *out, struct berr *err) {
  (void)req;
  if (j->state == JOB_RUNNING && j->suspended_at && !j->array_spec)
    return suspend_running(d, j, c, true, "qrls", out, err);
  int64_t now = now_sec();
  int r = db_hold_remove(d->db, j->id, 'u', now);
  if (r == 0)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c, no user hold)",
                    (long long)j->id, d->server_name, j->state);
  if (r > 0)
    r = db_add_event(d->db, j->id, now, "released", NULL);
  return r;
}

/* qsig: the signal travels in the request; only running jobs take one. */
static int
act_signal(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
           struct action_out *out, struct berr *err) {
  int sig = (int)pmsg_i64_or(req, T_SIGNAL, 0);
  out->sig = sig;
  if (j->array_spec) {
    size_t before = out->n;
    int r = running_tasks(d, j->id, out, false);
    if (r == 0 && out->n == before)
      return berr_set(err, -EBUSY, "Request invalid: no task of array %lld[].%s is running",
                      (long long)j->id, d->server_name);
    return r;
  }
  if (j->state != JOB_RUNNING)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c, not running)",
                    (long long)j->id, d->server_name, j->state);
  if (!d->worker_ready)
    return berr_set(err, -ENOTCONN, "cannot reach the worker to signal job %lld.%s",
                    (long long)j->id, d->server_name);
  out_add(out, j->id);
  _cleanup_free_ char *detail = xasprintf("signal %d by uid %u", sig, (unsigned)c->uid);
  return db_add_event(d->db, j->id, now_sec(), "signalled", detail);
}

/* qalter: changes of a job that has not started, within its queue's limits. */
static int
act_alter(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
          struct action_out *out, struct berr *err) {
  (void)out;
  int64_t flags = pmsg_i64_or(req, T_FLAGS, 0);
  struct pfield f;
  struct pmsg sub;
  struct job_rec a;
  if (!pmsg_find(req, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &a) < 0)
    return berr_set(err, -EBADMSG, "malformed qalter request");
  int r = 0;
  struct job_dep *deps = NULL;
  int64_t *dep_ids = NULL;
  size_t ndeps = 0;
  int64_t now = now_sec();
  if (j->array_id) {
    r = berr_set(err, -EPERM, "qalter applies to a whole array job (%lld[]), not to one task",
                 (long long)j->array_id);
    goto out;
  }
  if (j->state != JOB_QUEUED && j->state != JOB_HELD && j->state != JOB_WAITING) {
    r = berr_set(err, -EBUSY,
                 "Request invalid for state of job %lld.%s (state %c): only jobs that have not "
                 "started can be altered",
                 (long long)j->id, d->server_name, j->state);
    goto out;
  }
#define TAKE(flag, field)                                                                          \
  if (flags & (flag))                                                                              \
    j->field = a.field;
  TAKE(ALTER_PRIORITY, priority);
  TAKE(ALTER_NCPUS, ncpus);
  TAKE(ALTER_MEM, mem);
  TAKE(ALTER_WALLTIME, walltime);
  TAKE(ALTER_PIDS, pids);
  if (!j->interactive)
    TAKE(ALTER_RERUNNABLE, rerunnable);
  TAKE(ALTER_JOIN, join);
  TAKE(ALTER_ARRAY_LIMIT, array_limit);
  TAKE(ALTER_EXEC_TIME, exec_time);
#undef TAKE
  if (flags & ALTER_NAME) {
    if ((r = job_name_check(a.name, err)) < 0)
      goto out;
    free(j->name);
    j->name = xstrdup(a.name);
  }
  if (flags & (ALTER_OUT_PATH | ALTER_ERR_PATH)) {
    const char *p = flags & ALTER_OUT_PATH ? a.out_path : a.err_path;
    if ((r = check_path(flags & ALTER_OUT_PATH ? "output path (-o)" : "error path (-e)", p, true,
                        err)) < 0)
      goto out;
    char **dst = flags & ALTER_OUT_PATH ? &j->out_path : &j->err_path;
    free(*dst);
    *dst = xstrdup(p);
  }
  if (flags & ALTER_RESOURCES) {
    /* The forms given replace those of the same name; the device request
     * follows from the result, checked as at submission. */
    struct res_request have = {0}, given = {0};
    struct res_policy pol = {.unknown = RES_UNKNOWN_IGNORE};
    if (j->resources && *j->resources)
      res_parse_list(j->resources, &have, &pol, NULL);
    pol = cfg_res_policy(&d->cfg);
    r = a.resources && *a.resources ? res_parse_list(a.resources, &given, &pol, err)
                                    : berr_set(err, -EINVAL, "no resources to alter");
    if (r == 0) {
      res_merge(&have, &given);
      free(j->resources);
      j->resources = res_site_string(&have);
      r = check_site_resources(d, j, err);
    }
    res_request_free(&have);
    res_request_free(&given);
    if (r < 0)
      goto out;
  }
  if (j->ncpus < 1 || j->ncpus > d->cap.ncpus || j->mem < 1 || j->mem > d->cap.mem ||
      j->walltime < 0 || j->walltime > RES_DURATION_MAX || j->pids < 0 || j->pids > RES_PIDS_MAX ||
      j->priority < -1024 || j->priority > 1023 || j->array_limit < 0 || j->join < JOIN_NONE ||
      j->join > JOIN_EO || j->exec_time < 0) {
    r = berr_set(err, -EINVAL, "a new value is out of range for this server");
    goto out;
  }
  if (j->array_limit && !j->array_spec) {
    r = berr_set(err, -EINVAL, "%%N (array limit) applies only to array jobs");
    goto out;
  }
  if (flags & ALTER_QUEUE) {
    /* qmove: into a queue that takes jobs, within its limits (below). */
    const char *to = NULL;
    const struct boxq_queue *q =
        a.queue && cfg_route_queue(&d->cfg, a.queue, &to) >= 0 ? cfg_queue(&d->cfg, to) : NULL;
    if (!q) {
      r = berr_set(err, -ENOENT, "Unknown queue '%s' (see qstat -Q)", a.queue ? a.queue : "");
      goto out;
    }
    if (!q->enabled) {
      r = berr_set(err, -EPERM, "queue '%s' is not accepting jobs (qenable)", q->name);
      goto out;
    }
    free(j->queue);
    j->queue = xstrdup(q->name);
  }
  /* The owner's queue rules, checked for the owner (not the caller). */
  gid_t owner_gid = (gid_t)j->gid;
  if ((r = queue_admit(d, (uid_t)j->uid, owner_gid, j->owner, j, false, err)) < 0)
    goto out;
  if (flags & ALTER_DEPEND) {
    if (a.depend && *a.depend) {
      if ((r = resolve_depend(d, a.depend, &deps, &dep_ids, &ndeps, err)) < 0)
        goto out;
      for (size_t i = 0; i < ndeps; i++)
        if (dep_kind_per_task(deps[i].kind)) {
          r = berr_set(err, -EINVAL, "depend: %s is given when an array is submitted",
                       dep_kind_name(deps[i].kind));
          goto out;
        }
      free(j->depend);
      j->depend = ndeps ? job_depend_format(deps, ndeps) : NULL;
    } else {
      free(j->depend);
      j->depend = NULL;
    }
  }
  r = db_alter(d->db, j, now);
  if (r == 0 && (flags & ALTER_EXEC_TIME) && j->state != JOB_HELD) {
    int want = j->exec_time > now ? JOB_WAITING : JOB_QUEUED;
    if (want != j->state)
      r = db_set_state(d->db, j->id, want, j->hold_types, now);
  }
  if (r == 0 && (flags & ALTER_DEPEND)) {
    if (ndeps)
      r = store_depend(d, j->id, deps, dep_ids, ndeps, now);
    else {
      r = db_dep_drop(d->db, j->id);
      if (r == 0)
        r = wf_settle(d, j->id, now);
    }
  }
  if (r == 0) {
    _cleanup_free_ char *detail = xasprintf("by uid %u", (unsigned)c->uid);
    r = db_add_event(d->db, j->id, now, "altered", detail);
  }
out:
  free(deps);
  free(dep_ids);
  job_rec_free(&a);
  return r;
}

/* qrerun: a finished job runs again under its id; the last run's figures
 * are kept in job_runs. */
static int
act_rerun(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
          struct action_out *out, struct berr *err) {
  (void)req;
  (void)out;
  if (j->array_spec || j->array_id)
    return berr_set(err, -EPERM,
                    "qrerun of array jobs and their tasks is not supported; "
                    "resubmit the array");
  if (j->interactive)
    return berr_set(err, -EPERM,
                    "%lld.%s is an interactive job: nobody would be at its terminal; run qsub "
                    "-I again",
                    (long long)j->id, d->server_name);
  if (j->state != JOB_FINISHED)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c): qrerun runs finished "
                    "jobs again",
                    (long long)j->id, d->server_name, j->state);
  struct job_rec full;
  int r = db_get_job(d->db, j->id, true, &full);
  if (r < 0)
    return berr_set(err, r, "%lld.%s: %s", (long long)j->id, d->server_name, db_errmsg(d->db));
  bool has_script = full.script_len > 0;
  job_rec_free(&full);
  if (!has_script)
    return berr_set(err, -ENOENT, "the script of job %lld.%s is no longer kept", (long long)j->id,
                    d->server_name);
  if (j->uid == 0 && !d->cfg.allow_root_jobs)
    return berr_set(err, -EPERM, "jobs may not run as root on this server");
  if ((r = queue_admit(d, (uid_t)j->uid, (gid_t)j->gid, j->owner, j, false, err)) < 0)
    return r;
  int64_t now = now_sec();
  r = db_archive_run(d->db, j->id);
  if (r == 0)
    r = db_requeue(d->db, j->id, now);
  if (r == 0) {
    _cleanup_free_ char *detail = xasprintf("by uid %u (run %lld kept in the history)",
                                            (unsigned)c->uid, (long long)j->run_count);
    r = db_add_event(d->db, j->id, now, "rerun", detail);
  }
  return r;
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

int
next_own_job(struct boxqd *d, struct conn *c, const struct pmsg *m, size_t *off, int64_t *id,
             struct job_rec *j, struct berr *err) {
  *j = (struct job_rec){0};
  *err = (struct berr){{0}};
  *id = 0;
  struct pfield f;
  while (pmsg_next(m, off, &f)) {
    int r = ref_field(d, &f, id, err);
    if (r != 1)
      return r < 0 ? r : load_own_job(d, c, *id, j, err);
  }
  return 1;
}

/* One action over the jobs a request names: one transaction for all, each
 * job in a savepoint of its own (one failing leaves the others done), one
 * commit before the reply, then the worker is told. A thousand qrls'ed
 * jobs wait for the disk once, not a thousand times. */
struct acted {
  int64_t id;
  struct action_out out;
};

/* A job of the worker's ready set is queued, but the worker may start it
 * any moment: a request that names one waits until the worker has given
 * it back or started it (ready.c), then acts on it as on any other. */
static bool
park_on_ready_set(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  bool touches = false;
  if (ready_count(d) > 0) {
    size_t off = 0;
    int64_t id;
    struct job_rec j;
    struct berr err;
    int r;
    while ((r = next_own_job(d, c, m, &off, &id, &j, &err)) != 1) {
      if (r == 0 && ready_claim(d, &j))
        touches = true;
      job_rec_free(&j);
    }
  }
  return ready_park(d, c, m, touches);
}

static void
req_job_action(struct boxqd *d, struct conn *c, const struct pmsg *m, job_action_fn fn,
               const char *verb) {
  if (park_on_ready_set(d, c, m))
    return;
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  struct acted *done = NULL;
  size_t ndone = 0, cap = 0;
  /* Relaxed, as a submission: the reply waits for the log's sync. */
  int tx = db_begin_relaxed(d->db);
  size_t off = 0;
  int64_t id;
  struct job_rec j;
  struct berr err;
  int r;
  while ((r = next_own_job(d, c, m, &off, &id, &j, &err)) != 1) {
    struct action_out out = {0};
    if (r == 0 && (r = tx) == 0 && (r = db_savepoint(d->db)) == 0) {
      r = fn(d, &j, c, m, &out, &err);
      if (r == 0)
        r = db_release(d->db);
      if (r < 0)
        db_rollback_savepoint(d->db);
    }
    if (r < 0 && !err.msg[0])
      berr_set(&err, r, "cannot update job %lld: %s", (long long)id, db_errmsg(d->db));
    if (r == 0) {
      done = xgrow(done, ndone, &cap, sizeof(*done), 16);
      done[ndone++] = (struct acted){id, out};
    } else {
      reply_add_error(&b, &status, r, err.msg);
      free(out.ids);
    }
    job_rec_free(&j);
  }
  r = tx == 0 ? db_commit(d->db) : tx;
  if (r < 0 && tx == 0)
    db_rollback(d->db);
  for (size_t i = 0; i < ndone; i++) {
    if (r < 0) {
      _cleanup_free_ char *msg =
          xasprintf("cannot update job %lld: %s", (long long)done[i].id, db_errmsg(d->db));
      reply_add_error(&b, &status, r, msg);
    } else {
      log_info("job %lld: %s by uid %u", (long long)done[i].id, verb, (unsigned)c->uid);
      for (size_t k = 0; k < done[i].out.n; k++)
        worker_signal_job(d, done[i].out.ids[k], done[i].out.sig, done[i].out.sig == 0);
      if (done[i].out.start.id)
        worker_dispatch(d, done[i].out.start);
    }
    free(done[i].out.ids);
  }
  pb_i64(&b, T_STATUS, status);
  pb_str(&b, T_SERVER, d->server_name);
  pb_end(&b);
  if (r == 0 && ndone > 0) {
    walsync_reply_later(d, c, &b, 0);
    wf_deferred_check(d); /* a release or a new -a time may change the next deferred job */
    sched_request_pass(d);
  } else {
    conn_send(c, &b); /* nothing changed: nothing to wait for */
    pbuf_free(&b);
  }
  free(done);
}

/* Freezes (thaws, with resume) running job j: cgroup v2's freezer, also
 * in hybrid mode. It keeps its CPUs and memory (unless suspend_releases =
 * cpus gives its CPUs to the policy), its walltime stops while frozen.
 * how says what asked, for tracejob. */
static int
suspend_running(struct boxqd *d, struct job_rec *j, struct conn *c, bool resume, const char *how,
                struct action_out *out, struct berr *err) {
  const char *verb = resume ? "resume" : "suspend";
  if (j->array_spec)
    return berr_set(err, -EINVAL, "%s one task at a time (%lld[INDEX])", verb, (long long)j->id);
  if (j->state != JOB_RUNNING)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c): only a running job "
                    "can be %s",
                    (long long)j->id, d->server_name, j->state, resume ? "resumed" : "suspended");
  if (resume != (j->suspended_at != 0))
    return berr_set(err, -EBUSY, "job %lld.%s is %s", (long long)j->id, d->server_name,
                    resume ? "not suspended" : "suspended already");
  if (!d->worker_ready)
    return berr_set(err, -EAGAIN, "boxq-worker is not connected: try again");
  if (strcmp(d->worker_backend, "v2") != 0 && strcmp(d->worker_backend, "hybrid") != 0)
    return berr_set(err, -ENOTSUP,
                    "this server's jobs run in %s cgroups: boxq freezes jobs with cgroup v2's "
                    "freezer only",
                    d->worker_backend);
  int64_t now = now_sec();
  int64_t held = resume ? now - j->suspended_at : 0;
  int r = db_set_suspended(d->db, j->id, resume ? 0 : now, held > 0 ? held : 0, now);
  bool frees = streq(d->cfg.suspend_releases, "cpus");
  _cleanup_free_ char *detail =
      resume
          ? xasprintf("%s by uid %u, after %llds suspended", how, (unsigned)c->uid, (long long)held)
          : xasprintf("%s by uid %u (frozen; walltime stops; %s)", how, (unsigned)c->uid,
                      frees ? "its CPUs go to other jobs meanwhile" : "it keeps its CPUs");
  if (r == 0)
    r = db_add_event(d->db, j->id, now, resume ? "resumed" : "suspended", detail);
  if (r == 0) {
    out->ids = xcalloc(1, sizeof(int64_t));
    out->ids[0] = j->id;
    out->n = 1;
    out->sig = resume ? JOB_SIG_RESUME : JOB_SIG_SUSPEND;
    if (frees)
      sched_request_pass(d); /* CPUs freed (or taken back) */
  }
  return r;
}

/* qsig -s suspend|resume. Its owner, root, managers and operators. */
static int
act_suspend(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
            struct action_out *out, struct berr *err) {
  bool resume = pmsg_i64_or(req, T_FLAGS, 0) & 1;
  return suspend_running(d, j, c, resume, resume ? "qsig -s resume" : "qsig -s suspend", out, err);
}

/* qrun: a queued job (or task) starts now, past the policy (queue limits,
 * priorities, a stopped queue, scheduling off), if it fits in what running
 * jobs leave. For root, managers and operators. */
static int
act_run(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
        struct action_out *out, struct berr *err) {
  (void)req;
  if (!may_act_on_any(d, c))
    return berr_set(err, -EPERM, "qrun is for root, managers and operators");
  if (j->array_spec)
    return berr_set(err, -EINVAL, "qrun starts one job or one task: name a task (%lld[INDEX])",
                    (long long)j->id);
  if (j->state != JOB_QUEUED)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c): qrun starts queued "
                    "jobs (qrls releases held ones)",
                    (long long)j->id, d->server_name, j->state);
  if (!d->worker_ready)
    return berr_set(err, -EAGAIN, "boxq-worker is not connected: no job can start");
  char who[64];
  snprintf(who, sizeof(who), "by qrun (uid %u), past the policy", (unsigned)c->uid);
  int r = sched_start_now(d, j, who, now_sec(), err);
  if (r == 0)
    out->start = (struct planned_start){.id = j->id, .array_id = j->array_id};
  return r;
}

void
req_act(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  switch (m->type) {
    case MSG_DELETE:
      req_job_action(d, c, m, act_delete, "delete");
      break;
    case MSG_HOLD:
      req_job_action(d, c, m, act_hold, "hold");
      break;
    case MSG_RELEASE:
      req_job_action(d, c, m, act_release, "release");
      break;
    case MSG_ALTER:
      req_job_action(d, c, m, act_alter, "alter");
      break;
    case MSG_RERUN:
      req_job_action(d, c, m, act_rerun, "rerun");
      break;
    case MSG_RUN:
      req_job_action(d, c, m, act_run, "run (qrun)");
      break;
    case MSG_SUSPEND:
      req_job_action(d, c, m, act_suspend, pmsg_i64_or(m, T_FLAGS, 0) & 1 ? "resume" : "suspend");
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
