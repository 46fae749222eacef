/* SPDX-License-Identifier: MIT */
/* The link to boxq-worker: what the passes (pass.c) start, and the jobs
 * they hand to the worker's ready set (ready.c), go out here, and what the
 * worker reports comes in.
 *
 * A job goes Q -> R in one transaction when it is dispatched, or when the
 * worker reports it started from the ready set; the worker answers STARTED
 * when its shepherd runs and ENDED with the result, which is stored before
 * the worker is told to forget it (ENDED_ACK). On every (re)connection the
 * worker first lists the jobs it knows; a job the scheduler thinks is
 * running but the worker does not know was either never started
 * (requeued) or lost with its shepherd (recorded as lost), and a queued
 * one the worker runs started from the ready set. */
#include "boxqd.h"
#include "cpuset.h"
#include "log.h"
#include "res.h"

#include <signal.h>
#include <string.h>

#define RECONNECT_MS 500

static void connect_worker(struct boxqd *d);

/* Worker messages that arrive together: one transaction (see flush_batch). */
struct worker_batch {
  bool open;
  bool pass;                    /* a pass is wanted after it */
  bool acks;                    /* it has results to acknowledge once on disk */
  size_t ack_mark;              /* walsync_acks_mark when it began */
  bool worker_starts;           /* it records jobs the worker started from the ready set */
  struct planned_start *starts; /* its pass's starts: sent once it commits */
  size_t nstarts;
};

static struct worker_batch *
b_of(struct boxqd *d) {
  if (!d->batch)
    d->batch = xcalloc(1, sizeof(*d->batch));
  return d->batch;
}

bool
worker_batch_open(const struct boxqd *d) {
  return d->batch && d->batch->open;
}

void
worker_batch_dispatch(struct boxqd *d, const struct planned_start *st, size_t n) {
  struct worker_batch *b = b_of(d);
  b->starts = xrealloc(b->starts, (b->nstarts + n + 1) * sizeof(*st));
  memcpy(b->starts + b->nstarts, st, n * sizeof(*st));
  b->nstarts += n;
}

void
worker_batch_free(struct boxqd *d) {
  if (d->batch)
    free(d->batch->starts);
  free(d->batch);
  d->batch = NULL;
}

/* ---- messages to the worker ---- */

void
worker_dispatch(struct boxqd *d, struct planned_start st) {
  struct job_rec j;
  if (db_get_job(d->db, st.id, true, &j) < 0) {
    log_error("job %lld: cannot read it back for dispatch: %s", (long long)st.id, db_errmsg(d->db));
    return;
  }
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  if (st.ready)
    pb_i64(&b, T_READY, 1);
  pb_end(&b);
  conn_send(d->worker, &b);
  pbuf_free(&b);
  job_rec_free(&j);
  if (st.ready)
    ready_added(d, st.id, st.array_id);
  else
    ready_gone(d, st.id); /* handed ahead before: now it starts (the worker drops it) */
}

/* ---- messages from the worker ---- */

void
worker_ack_result(struct boxqd *d, int64_t id) {
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

static int
cmp_id(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* The worker's jobs, sorted: a hello with thousands running is
 * reconciled in n log n, not n squared. */
static bool
known(const struct reconcile_ctx *rc, int64_t id) {
  return rc->nknown && bsearch(&id, rc->known, rc->nknown, sizeof(int64_t), cmp_id);
}

/* Job id, queued here, runs in the worker: started from the ready set in
 * the place of job instead (0: unknown). Recorded as dispatched then, with
 * the CPUs the worker gave it (the lowest of that place's). 1 if it was
 * queued, 0 if not, or -errno. Inside the caller's transaction. */
static int
record_worker_start(struct boxqd *d, int64_t id, int64_t instead, int64_t now) {
  struct job_rec j, place = {0};
  int r = db_get_job(d->db, id, false, &j);
  if (r < 0)
    return r == -ENOENT ? 0 : r;
  bool queued = j.state == JOB_QUEUED;
  _cleanup_free_ char *cpus = NULL;
  if (d->cfg.pin_cpus && instead > 0 && db_get_job(d->db, instead, false, &place) == 0)
    cpus = cpuset_first(place.cpus, (int)j.ncpus);
  if (queued) {
    _cleanup_free_ char *detail =
        instead > 0
            ? xasprintf("started by the worker in the place of job %lld", (long long)instead)
            : xstrdup("started by the worker from its ready set");
    r = sched_record_dispatch(d, id, j.array_id, cpus, detail, now);
    if (r == 0) {
      sched_job_left_queue(d, id, j.array_id);
      b_of(d)->worker_starts = true;
    }
  } else if (cpus && j.state == JOB_RUNNING) {
    /* Dispatched by a pass while the worker started it in another's place:
     * it holds that place's CPUs, and the one planned for it is free. */
    r = db_set_cpus(d->db, id, cpus);
    b_of(d)->pass = true;
  }
  job_rec_free(&j);
  job_rec_free(&place);
  return r < 0 ? r : queued;
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
    if (r == 0)
      r = wf_job_finished(d, j, now);
    log_warn("job %lld: lost, the worker no longer knows it", (long long)j->id);
  }
  return r;
}

/* Worker messages that arrive together are stored in one transaction: one
 * fsync for all of them, which is what lets short jobs flow. Each message
 * is a savepoint of its own, so a failed one is undone alone; results are
 * acknowledged only once committed, so "acknowledged" still means "on
 * disk" (an unacknowledged result is sent again). */
static void flush_batch(struct boxqd *d);

/* durable: the message is acknowledged (a result): its batch must reach
 * the disk before the acknowledgement. Starts and usage samples are only
 * boxqd's bookkeeping, committed without waiting for the disk. */
static int
part_begin(struct boxqd *d, bool durable) {
  struct worker_batch *b = b_of(d);
  if (b->open && durable && db_relaxed(d->db))
    flush_batch(d); /* a relaxed batch cannot become durable: end it */
  if (!b->open) {
    int r = durable ? db_begin(d->db) : db_begin_relaxed(d->db);
    if (r < 0)
      return r;
    b->open = true;
    b->ack_mark = walsync_acks_mark(d);
  }
  return db_savepoint(d->db);
}

static void
part_end(struct boxqd *d, int r) {
  if (r == 0 && db_release(d->db) == 0)
    return;
  db_rollback_savepoint(d->db);
}

/* Results of this batch: acknowledged after its commit is on disk. */
static void
ack_later(struct boxqd *d, int64_t id) {
  walsync_ack_later(d, id);
  b_of(d)->acks = true;
}

static void
flush_batch(struct boxqd *d) {
  struct worker_batch *b = b_of(d);
  bool acks = b->acks;
  b->acks = false;
  /* The pass the batch asks for runs inside its transaction when it may
   * run now: the next jobs' starts share the commit of the results that
   * made room for them, and are sent after it. */
  if (b->open && b->pass && sched_pass_now(d))
    b->pass = false;
  if (b->open) {
    b->open = false;
    if (db_commit(d->db) < 0) {
      /* Nothing of it is stored: the worker sends its results again, and
       * the starts were not made. */
      log_error("cannot store the worker's reports: %s", db_errmsg(d->db));
      walsync_drop_acks(d, b->ack_mark); /* none of this batch's may be acknowledged */
      b->nstarts = 0;
      if (b->worker_starts && d->worker) {
        /* Jobs the worker started from the ready set are queued in the
         * database again: its hello on a new connection records them. */
        b->worker_starts = false;
        conn_close(d->worker);
      }
      sched_forget_ranking(d);
      sched_request_pass(d);
      return;
    }
  }
  b->worker_starts = false;
  for (size_t i = 0; i < b->nstarts; i++)
    worker_dispatch(d, b->starts[i]);
  b->nstarts = 0;
  if (b->pass)
    sched_request_quick_pass(d);
  b->pass = false;
  if (acks)
    walsync_start(d);
}

static void
on_worker_batch_end(struct conn *c) {
  flush_batch(c->data);
}

static void
on_worker_hello(struct boxqd *d, const struct pmsg *m) {
  flush_batch(d); /* reconciliation has a transaction of its own */
  struct reconcile_ctx rc = {.d = d};
  const char *backend = pmsg_str(m, T_INFO);
  snprintf(d->worker_backend, sizeof(d->worker_backend), "%s", backend ? backend : "unknown");
  size_t off = 0, cap = 0;
  struct pfield f;
  int r = db_begin(d->db);
  int64_t now = now_sec();
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    if (f.tag == T_JOBID && pfield_i64(&f, &id) == 0) {
      rc.known = xgrow(rc.known, rc.nknown, &cap, sizeof(int64_t), 64);
      rc.known[rc.nknown++] = id;
      /* Queued here: started from the ready set, its report lost with
       * the old connection (a T_INSTEAD after it names the place). */
      size_t peek = off;
      struct pfield g;
      int64_t instead = 0;
      if (pmsg_next(m, &peek, &g) && g.tag == T_INSTEAD && pfield_i64(&g, &instead) == 0)
        off = peek;
      if (r == 0 && (r = record_worker_start(d, id, instead, now)) > 0) {
        log_warn("job %lld: runs in the worker, started from its ready set", (long long)id);
        r = 0;
      }
    }
  }
  b_of(d)->worker_starts = false; /* committed here, not in a batch */
  if (rc.nknown)
    qsort(rc.known, rc.nknown, sizeof(int64_t), cmp_id);
  if (r == 0)
    r = db_list_running(d->db, reconcile_one, &rc);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0)
    log_error("reconciling with the worker: %s", db_errmsg(d->db));
  /* The new connection starts with an empty ready set: requests parked on
   * the old one run again, against what the hello showed. */
  ready_forget_all(d);
  d->worker_ready = true;
  d->worker_since = (int64_t)time(NULL);
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
  int64_t instead = pmsg_i64_or(m, T_INSTEAD, 0);
  int r = 0;
  if (instead > 0) {
    /* Started from the ready set: dispatched now, as far as boxqd goes. */
    r = part_begin(d, false);
    if (r == 0)
      r = record_worker_start(d, id, instead, stime);
    part_end(d, r < 0 ? r : 0);
    if (r < 0)
      log_error("job %lld: cannot record its start from the ready set: %s", (long long)id,
                db_errmsg(d->db));
    ready_gone(d, id);
  }
  struct job_rec j = {0};
  _cleanup_free_ char *detail = NULL;
  char mem[32];
  r = db_get_job(d->db, id, false, &j);
  if (r == 0) {
    res_format_size(j.mem, mem, sizeof(mem));
    detail = xasprintf("in cgroup %s with ncpus=%lld%s%s mem=%s walltime=%lld pids=%lld%s",
                       cg ? cg : "?", (long long)j.ncpus, j.cpus && *j.cpus ? " cpus=" : "",
                       j.cpus && *j.cpus ? j.cpus : "", mem, (long long)j.walltime,
                       (long long)j.pids, j.net && *j.net ? " net=none" : "");
  }
  bool known = r == 0;
  if (r == -ENOENT)
    r = 0; /* recorded as before; nothing follows from an unknown job */
  if (r == 0)
    r = part_begin(d, false);
  if (r == 0)
    r = db_job_started(d->db, id, stime, d->server_name, cg);
  if (r == 0)
    r = db_add_event(d->db, id, stime, "started", detail ? detail : cg);
  if (r == 0 && known)
    r = wf_job_started(d, &j, stime);
  if (r == 0 && known)
    r = mail_job(d, &j, NULL, 'b');
  part_end(d, r);
  job_rec_free(&j);
  b_of(d)->pass = true; /* an 'after' dependency may have been met */
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
  /* One of the ready set whose launch failed ends without a start. */
  ready_gone(d, end.id);
  struct job_rec cur = {0};
  int r = db_get_job(d->db, end.id, false, &cur);
  if (r == 0 && cur.state == JOB_FINISHED) {
    /* A result resent after a reconnection: already stored. */
    ack_later(d, end.id);
    goto out;
  }
  if (r < 0) {
    log_error("result for unknown job %lld", (long long)end.id);
    ack_later(d, end.id);
    goto out;
  }
  if (cur.end_reason == END_CANCELLED && end.end_reason != END_OOM)
    end.end_reason = END_CANCELLED;
  bool requeue = end.end_reason == END_LOST && cur.rerunnable;
  /* Relaxed: acknowledged only once on disk (walsync.c). */
  r = part_begin(d, false);
  if (r == 0 && requeue) {
    /* qsub -r y: a run lost with its machine or supervisor runs again. */
    r = db_requeue(d->db, end.id, end.etime);
    if (r == 0)
      r = db_add_event(d->db, end.id, end.etime, "requeued", "its run was lost; rerunnable");
    part_end(d, r);
    if (r < 0)
      log_error("job %lld: cannot requeue: %s", (long long)end.id, db_errmsg(d->db));
    else {
      log_warn("job %lld: its run was lost; requeued (rerunnable)", (long long)end.id);
      ack_later(d, end.id);
      b_of(d)->pass = true;
      sched_queue_changed(d); /* back in the queue: a full pass ranks it */
    }
    goto out;
  }
  if (r == 0)
    r = db_job_ended(d->db, &end);
  /* The shepherd's series (a point a second over the first minute)
   * replaces the one built from the relayed samples; a malformed one is
   * ignored, the relayed one kept. */
  struct series_point pts[SERIES_MAX];
  size_t npts;
  if (r == 0 && pmsg_series(m, pts, &npts) == 1 && npts > 0)
    r = db_series_put(d->db, end.id, pts, npts, false);
  /* What ended it, as its own event: tracejob shows OOM kills and
   * walltime at a glance. */
  if (r == 0 && end.end_reason == END_OOM)
    r = db_add_event(d->db, end.id, end.etime, "oom",
                     end.comment ? end.comment : "the kernel's OOM killer ended the job");
  if (r == 0 && end.end_reason == END_TIMEOUT) {
    char wall[32];
    res_format_duration(cur.walltime, wall, sizeof(wall));
    _cleanup_free_ char *detail =
        xasprintf("walltime %s exceeded: SIGTERM, then SIGKILL after kill_grace", wall);
    r = db_add_event(d->db, end.id, end.etime, "walltime", detail);
  }
  if (r == 0 && end.end_reason == END_CPUTIME)
    r = db_add_event(d->db, end.id, end.etime, "cput",
                     end.comment ? end.comment : "cput exceeded: SIGTERM, then SIGKILL");
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
    r = mail_job(d, &cur, &end, 'e');
  if (r == 0)
    r = hook_job_end(d, &cur, &end);
  if (r == 0) {
    /* Fair share charges what the job kept from others: its CPUs for as
     * long as it held them. */
    int64_t stime = end.stime ? end.stime : cur.stime;
    double wall = end.has_usage ? (double)end.usage.wall_usec / 1e6
                                : (double)(stime && end.etime > stime ? end.etime - stime : 0);
    r = wf_charge(d, cur.uid, (double)cur.ncpus * wall, end.etime);
  }
  if (r == 0)
    r = wf_job_finished(d, &cur, end.etime);
  part_end(d, r);
  if (r < 0) {
    /* Not acknowledged: the worker keeps the result and sends it again. */
    log_error("job %lld: cannot store result: %s", (long long)end.id, db_errmsg(d->db));
    goto out;
  }
  log_info("job %lld ended: %s, exit status %lld", (long long)end.id,
           job_end_to_string(end.end_reason), (long long)end.exit_status);
  ack_later(d, end.id);
  b_of(d)->pass = true;
out:
  job_rec_free(&cur);
  job_rec_free(&end);
}

/* A job of the ready set the worker gave back unstarted, as asked: it
 * was queued all along. */
static void
on_returned(struct boxqd *d, const struct pmsg *m) {
  int64_t id = pmsg_i64_or(m, T_JOBID, 0);
  log_debug("job %lld: returned by the worker", (long long)id);
  ready_gone(d, id);
  b_of(d)->pass = true;
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
    int r = part_begin(d, false);
    if (r == 0)
      r = db_usage_sample(d->db, snap.id, &snap.usage);
    /* The shepherd's series so far (a point a second over the first
     * minute) replaces the stored one; without it (its first second), the
     * sample extends it. */
    struct series_point pts[SERIES_MAX];
    size_t n;
    if (r == 0 && pmsg_series(m, pts, &n) == 1 && n > 0)
      r = db_series_put(d->db, snap.id, pts, n, true);
    else if (r == 0)
      r = db_series_add(d->db, snap.id, &snap.usage);
    part_end(d, r);
    if (r < 0)
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
    case MSG_RETURNED:
      on_returned(d, m);
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
    ready_worker_lost(d);
    if (d->worker_ready)
      log_warn("lost the connection to the worker; reconnecting");
    d->worker_ready = false;
    d->worker_since = (int64_t)time(NULL);
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
  c->on_batch_end = on_worker_batch_end;
  d->worker = c;
  d->connect_req.data = c;
  uv_pipe_connect(&d->connect_req, &c->pipe, d->cfg.worker_socket, on_connected);
}

void
worker_link_start(struct boxqd *d) {
  uv_timer_init(d->loop, &d->reconnect);
  d->reconnect.data = d;
  sched_pass_init(d);
  ready_start(d);
  connect_worker(d);
  sched_request_pass(d); /* so that qstat can say why jobs wait, worker or not */
}

void
worker_link_stop(struct boxqd *d) {
  d->stopping = true;
  uv_timer_stop(&d->reconnect);
  uv_close((uv_handle_t *)&d->reconnect, NULL);
  sched_pass_stop(d);
  ready_stop(d);
  if (d->worker)
    conn_close(d->worker);
}
