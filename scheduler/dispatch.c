/* SPDX-License-Identifier: MIT */
/* The link to boxq-worker and the scheduling pass that feeds it.
 *
 * A job goes Q -> R in one transaction when it is dispatched; the worker
 * answers STARTED when its shepherd runs and ENDED with the result, which
 * is stored before the worker is told to forget it (ENDED_ACK). On every
 * (re)connection the worker first lists the jobs it knows; a job the
 * scheduler thinks is running but the worker does not know was either
 * never started (requeued) or lost with its shepherd (recorded as lost). */
#include "boxqd.h"
#include "log.h"
#include "res.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#define RECONNECT_MS 500

static void connect_worker(struct boxqd *d);

static int64_t
now_sec(void) {
  return (int64_t)time(NULL);
}

/* ---- scheduling pass ---- */

struct queue_vec {
  struct sched_job *jobs;
  size_t n, cap;
};

static int
collect_queued(void *ud, struct job_rec *j) {
  struct queue_vec *q = ud;
  if (q->n == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 64;
    q->jobs = xrealloc(q->jobs, q->cap * sizeof(*q->jobs));
  }
  q->jobs[q->n++] = (struct sched_job){j->id, j->ncpus, j->mem};
  return 0;
}

struct running_ctx {
  struct sched_capacity used;
  struct cpuset busy; /* CPUs of running pinned jobs */
};

static int
sum_running(void *ud, struct job_rec *j) {
  struct running_ctx *rc = ud;
  rc->used.ncpus += j->ncpus;
  rc->used.mem += j->mem;
  struct cpuset s;
  if (j->cpus && *j->cpus && cpuset_parse(j->cpus, &s) == 0)
    for (size_t i = 0; i < ARRAY_SIZE(s.bits); i++)
      rc->busy.bits[i] |= s.bits[i];
  return 0;
}

/* With pin_cpus: the lowest free CPUs for job id, recorded with it. */
static int
pin_job(struct boxqd *d, struct running_ctx *rc, int64_t id, int64_t ncpus) {
  struct cpuset got;
  char list[CPUSET_MAX * 5];
  int r = cpuset_pick(&d->pin_cpus, &rc->busy, (int)ncpus, &got);
  if (r < 0)
    return r;
  for (size_t i = 0; i < ARRAY_SIZE(got.bits); i++)
    rc->busy.bits[i] |= got.bits[i];
  cpuset_format(&got, list, sizeof(list));
  return db_set_cpus(d->db, id, list);
}

static void
send_dispatch(struct boxqd *d, int64_t id) {
  struct job_rec j;
  if (db_get_job(d->db, id, true, &j) < 0) {
    log_error("job %lld: cannot read it back for dispatch: %s", (long long)id, db_errmsg(d->db));
    return;
  }
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  pb_end(&b);
  conn_send(d->worker, &b);
  pbuf_free(&b);
  job_rec_free(&j);
}

static void
sched_pass(struct boxqd *d) {
  if (!d->worker_ready || d->stopping)
    return;
  struct running_ctx rc = {{0, 0}, {{0}}};
  struct queue_vec q = {0};
  int r = db_list_running(d->db, sum_running, &rc);
  if (r == 0)
    r = db_list_queued(d->db, collect_queued, &q);
  if (r < 0) {
    log_error("scheduling pass: %s", db_errmsg(d->db));
    free(q.jobs);
    return;
  }
  size_t *chosen = xcalloc(q.n ? q.n : 1, sizeof(size_t));
  size_t n = sched_pick(&d->cap, &rc.used, q.jobs, q.n, chosen, q.n);
  if (n > 0) {
    /* One transaction for the whole pass: all of its starts, or none. */
    int64_t now = now_sec();
    r = db_begin(d->db);
    for (size_t i = 0; r == 0 && i < n; i++) {
      int64_t id = q.jobs[chosen[i]].id;
      r = db_set_state(d->db, id, JOB_RUNNING, "", now);
      if (r == 0 && d->cfg.pin_cpus)
        r = pin_job(d, &rc, id, q.jobs[chosen[i]].ncpus);
      if (r == 0)
        r = db_add_event(d->db, id, now, "dispatched", NULL);
    }
    if (r == 0)
      r = db_commit(d->db);
    else
      db_rollback(d->db);
    if (r < 0)
      log_error("scheduling pass: cannot record starts: %s", db_errmsg(d->db));
    else
      for (size_t i = 0; i < n; i++)
        send_dispatch(d, q.jobs[chosen[i]].id);
  }
  free(chosen);
  free(q.jobs);
}

static void
on_sched_idle(uv_idle_t *h) {
  struct boxqd *d = h->data;
  uv_idle_stop(h);
  d->sched_pending = false;
  sched_pass(d);
}

void
sched_request_pass(struct boxqd *d) {
  if (d->sched_pending || d->stopping)
    return;
  d->sched_pending = true;
  uv_idle_start(&d->sched_idle, on_sched_idle);
}

/* ---- messages from the worker ---- */

static void
send_ack(struct boxqd *d, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_ENDED_ACK);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  conn_send(d->worker, &b);
  pbuf_free(&b);
}

int
worker_signal_job(struct boxqd *d, int64_t id, int sig, bool cancel) {
  if (!d->worker || !d->worker_ready)
    return -ENOTCONN; /* resent from the stored intent on reconnection */
  struct pbuf b = {0};
  pb_begin(&b, MSG_SIGNAL);
  pb_i64(&b, T_JOBID, id);
  pb_i64(&b, T_SIGNAL, sig);
  pb_i64(&b, T_FLAGS, cancel ? 1 : 0);
  pb_end(&b);
  int r = conn_send(d->worker, &b);
  pbuf_free(&b);
  return r;
}

struct reconcile_ctx {
  struct boxqd *d;
  int64_t *known;
  size_t nknown;
  int64_t *cancel;
  size_t ncancel;
};

static bool
known(const struct reconcile_ctx *rc, int64_t id) {
  for (size_t i = 0; i < rc->nknown; i++)
    if (rc->known[i] == id)
      return true;
  return false;
}

static int
reconcile_one(void *ud, struct job_rec *j) {
  struct reconcile_ctx *rc = ud;
  struct boxqd *d = rc->d;
  int64_t now = now_sec();
  if (known(rc, j->id)) {
    if (j->end_reason == END_CANCELLED) {
      rc->cancel = xrealloc(rc->cancel, (rc->ncancel + 1) * sizeof(int64_t));
      rc->cancel[rc->ncancel++] = j->id;
    }
    return 0;
  }
  int r;
  if (j->stime == 0 && j->end_reason != END_CANCELLED) {
    /* The worker never stored it, so no process of it ever ran. */
    r = db_set_state(d->db, j->id, JOB_QUEUED, "", now);
    if (r == 0)
      r = db_add_event(d->db, j->id, now, "requeued", "the worker never received it");
    log_warn("job %lld: requeued, the worker never received it", (long long)j->id);
  } else if (j->rerunnable && j->end_reason != END_CANCELLED) {
    r = db_requeue(d->db, j->id, now);
    if (r == 0)
      r = db_add_event(d->db, j->id, now, "requeued", "the worker no longer knows it; rerunnable");
    log_warn("job %lld: requeued, its run was lost (rerunnable)", (long long)j->id);
  } else {
    struct job_rec end = {.id = j->id,
                          .end_reason = j->stime == 0 ? END_CANCELLED : END_LOST,
                          .has_exit = true,
                          .exit_status =
                              j->stime == 0 ? JOB_EXEC_KILLED_BEFORE_START : JOB_EXEC_LOST,
                          .etime = now,
                          .comment = (char *)"the worker no longer knows this job"};
    r = db_job_ended(d->db, &end);
    if (r == 0)
      r = db_add_event(d->db, j->id, now, "lost", "the worker no longer knows this job");
    log_warn("job %lld: lost, the worker no longer knows it", (long long)j->id);
  }
  return r;
}

static void
on_worker_hello(struct boxqd *d, const struct pmsg *m) {
  struct reconcile_ctx rc = {.d = d};
  const char *backend = pmsg_str(m, T_INFO);
  snprintf(d->worker_backend, sizeof(d->worker_backend), "%s", backend ? backend : "unknown");
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    if (f.tag == T_JOBID && pfield_i64(&f, &id) == 0) {
      rc.known = xrealloc(rc.known, (rc.nknown + 1) * sizeof(int64_t));
      rc.known[rc.nknown++] = id;
    }
  }
  int r = db_begin(d->db);
  if (r == 0)
    r = db_list_running(d->db, reconcile_one, &rc);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0)
    log_error("reconciling with the worker: %s", db_errmsg(d->db));
  d->worker_ready = true;
  log_info("worker ready (cgroup backend %s), %zu job(s) running there", d->worker_backend,
           rc.nknown);
  for (size_t i = 0; i < rc.ncancel; i++)
    worker_signal_job(d, rc.cancel[i], 0, true);
  free(rc.known);
  free(rc.cancel);
  sched_request_pass(d);
}

static void
on_started(struct boxqd *d, const struct pmsg *m) {
  int64_t id = pmsg_i64_or(m, T_JOBID, 0);
  int64_t stime = pmsg_i64_or(m, J_STIME, now_sec());
  const char *cg = pmsg_str(m, J_CGROUP);
  struct job_rec j = {0};
  _cleanup_free_ char *detail = NULL;
  char mem[32];
  if (db_get_job(d->db, id, false, &j) == 0) {
    res_format_size(j.mem, mem, sizeof(mem));
    detail = xasprintf("in cgroup %s with ncpus=%lld%s%s mem=%s walltime=%lld pids=%lld%s",
                       cg ? cg : "?", (long long)j.ncpus, j.cpus && *j.cpus ? " cpus=" : "",
                       j.cpus && *j.cpus ? j.cpus : "", mem, (long long)j.walltime,
                       (long long)j.pids, j.net && *j.net ? " net=none" : "");
  }
  job_rec_free(&j);
  int r = db_begin(d->db);
  if (r == 0)
    r = db_job_started(d->db, id, stime, d->server_name, cg);
  if (r == 0)
    r = db_add_event(d->db, id, stime, "started", detail ? detail : cg);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0)
    log_error("job %lld: cannot record start: %s", (long long)id, db_errmsg(d->db));
}

static void
on_ended(struct boxqd *d, const struct pmsg *m) {
  struct pfield f;
  struct pmsg sub;
  struct job_rec end;
  if (!pmsg_find(m, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &end) < 0) {
    log_error("malformed result from the worker");
    return;
  }
  struct job_rec cur = {0};
  int r = db_get_job(d->db, end.id, false, &cur);
  if (r == 0 && cur.state == JOB_FINISHED) {
    /* A result resent after a reconnection: already stored. */
    send_ack(d, end.id);
    goto out;
  }
  if (r < 0) {
    log_error("result for unknown job %lld", (long long)end.id);
    send_ack(d, end.id);
    goto out;
  }
  if (cur.end_reason == END_CANCELLED && end.end_reason != END_OOM)
    end.end_reason = END_CANCELLED;
  bool requeue = end.end_reason == END_LOST && cur.rerunnable;
  r = db_begin(d->db);
  if (r == 0 && requeue) {
    /* qsub -r y: a run lost with its machine or supervisor runs again. */
    r = db_requeue(d->db, end.id, end.etime);
    if (r == 0)
      r = db_add_event(d->db, end.id, end.etime, "requeued", "its run was lost; rerunnable");
    if (r == 0)
      r = db_commit(d->db);
    else
      db_rollback(d->db);
    if (r < 0)
      log_error("job %lld: cannot requeue: %s", (long long)end.id, db_errmsg(d->db));
    else {
      log_warn("job %lld: its run was lost; requeued (rerunnable)", (long long)end.id);
      send_ack(d, end.id);
      sched_request_pass(d);
    }
    goto out;
  }
  if (r == 0)
    r = db_job_ended(d->db, &end);
  if (r == 0) {
    _cleanup_free_ char *detail = xasprintf(
        "%s, exit status %lld%s%s", job_end_to_string(end.end_reason), (long long)end.exit_status,
        end.comment ? ": " : "", end.comment ? end.comment : "");
    r = db_add_event(d->db, end.id, end.etime, "ended", detail);
  }
  if (r == 0 && end.has_usage) {
    char peak[32];
    res_format_size(end.usage.mem_peak, peak, sizeof(peak));
    _cleanup_free_ char *acct = xasprintf(
        "cpu %.3fs (user %.3fs, system %.3fs), wall %.3fs, peak memory %s, oom kills %lld, "
        "backend %s",
        end.usage.cpu_usec / 1e6, end.usage.user_usec / 1e6, end.usage.sys_usec / 1e6,
        end.usage.wall_usec / 1e6, peak, (long long)end.usage.oom_kills, end.usage.cg_backend);
    r = db_add_event(d->db, end.id, end.etime, "accounted", acct);
  }
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0) {
    /* Not acknowledged: the worker keeps the result and sends it again. */
    log_error("job %lld: cannot store result: %s", (long long)end.id, db_errmsg(d->db));
    goto out;
  }
  log_info("job %lld ended: %s, exit status %lld", (long long)end.id,
           job_end_to_string(end.end_reason), (long long)end.exit_status);
  send_ack(d, end.id);
  sched_request_pass(d);
out:
  job_rec_free(&cur);
  job_rec_free(&end);
}

/* A running job's usage so far: stored for qstat, replaced by the final
 * record when the job ends. */
static void
on_usage(struct boxqd *d, const struct pmsg *m) {
  struct pfield f;
  struct pmsg sub;
  struct job_rec snap;
  if (!pmsg_find(m, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &snap) < 0)
    return;
  if (snap.has_usage) {
    snap.usage.final = false;
    if (db_usage_sample(d->db, snap.id, &snap.usage) < 0)
      log_warn("job %lld: cannot store a usage sample: %s", (long long)snap.id, db_errmsg(d->db));
  }
  job_rec_free(&snap);
}

static void
on_worker_msg(struct conn *c, const struct pmsg *m) {
  struct boxqd *d = c->data;
  switch (m->type) {
    case MSG_WORKER_HELLO:
      on_worker_hello(d, m);
      break;
    case MSG_STARTED:
      on_started(d, m);
      break;
    case MSG_ENDED:
      on_ended(d, m);
      break;
    case MSG_USAGE:
      on_usage(d, m);
      break;
    default:
      log_warn("unexpected message %u from the worker", m->type);
      break;
  }
}

static void
on_reconnect_timer(uv_timer_t *t) {
  connect_worker(t->data);
}

static void
on_worker_close(struct conn *c) {
  struct boxqd *d = c->data;
  if (d->worker == c) {
    d->worker = NULL;
    if (d->worker_ready)
      log_warn("lost the connection to the worker; reconnecting");
    d->worker_ready = false;
    if (!d->stopping)
      uv_timer_start(&d->reconnect, on_reconnect_timer, RECONNECT_MS, 0);
  }
}

static void
on_connected(uv_connect_t *req, int status) {
  struct conn *c = req->data;
  struct boxqd *d = c->data;
  if (status < 0) {
    log_debug("worker not reachable at %s: %s", d->cfg.worker_socket, uv_strerror(status));
    conn_close(c);
    return;
  }
  conn_start(c);
}

static void
connect_worker(struct boxqd *d) {
  if (d->stopping || d->worker)
    return;
  struct conn *c = conn_new(d->loop, d, on_worker_msg, on_worker_close);
  d->worker = c;
  d->connect_req.data = c;
  uv_pipe_connect(&d->connect_req, &c->pipe, d->cfg.worker_socket, on_connected);
}

void
worker_link_start(struct boxqd *d) {
  uv_timer_init(d->loop, &d->reconnect);
  d->reconnect.data = d;
  uv_idle_init(d->loop, &d->sched_idle);
  d->sched_idle.data = d;
  connect_worker(d);
}

void
worker_link_stop(struct boxqd *d) {
  d->stopping = true;
  uv_timer_stop(&d->reconnect);
  uv_close((uv_handle_t *)&d->reconnect, NULL);
  uv_close((uv_handle_t *)&d->sched_idle, NULL);
  if (d->worker)
    conn_close(d->worker);
}
