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

/* The pass's input, read from the database: jobs keep the owner's uid in
 * .user until users are numbered densely for the policy. */
struct pass_input {
  struct boxqd *d;
  struct sched_job *running, *queued;
  size_t nrunning, nqueued, cap_running, cap_queued;
  struct cpuset busy; /* CPUs of running pinned jobs */
};

static uint32_t
queue_index(const struct boxqd *d, const char *name) {
  for (size_t i = 0; i < d->cfg.nqueues; i++)
    if (strcmp(d->cfg.queues[i].name, name) == 0)
      return (uint32_t)i;
  return (uint32_t)d->cfg.nqueues; /* a queue since removed from the config: no queue limits */
}

static struct sched_job
sched_job_of(const struct boxqd *d, const struct db_sched_row *row) {
  return (struct sched_job){.id = row->id,
                            .user = (uint32_t)row->uid,
                            .queue = queue_index(d, row->queue),
                            .ncpus = row->ncpus,
                            .mem = row->mem,
                            .walltime = row->walltime,
                            .job_priority = row->priority,
                            .qtime = row->qtime,
                            .stime = row->stime,
                            .array_id = row->array_id,
                            .array_limit = row->array_limit,
                            .count = row->count};
}

static void
append(struct sched_job **v, size_t *n, size_t *cap, struct sched_job j) {
  *v = xgrow(*v, *n, cap, sizeof(**v), 256);
  (*v)[(*n)++] = j;
}

static int
collect_queued(void *ud, const struct db_sched_row *row) {
  struct pass_input *p = ud;
  append(&p->queued, &p->nqueued, &p->cap_queued, sched_job_of(p->d, row));
  return 0;
}

static int
collect_running(void *ud, const struct db_sched_row *row) {
  struct pass_input *p = ud;
  append(&p->running, &p->nrunning, &p->cap_running, sched_job_of(p->d, row));
  return 0;
}

static int
busy_cpus(void *ud, struct job_rec *j) {
  struct pass_input *p = ud;
  struct cpuset s;
  if (j->cpus && *j->cpus && cpuset_parse(j->cpus, &s) == 0)
    for (size_t i = 0; i < ARRAY_SIZE(s.bits); i++)
      p->busy.bits[i] |= s.bits[i];
  return 0;
}

static int
cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Numbers the users of the pass 0..n-1 (in place in the jobs) and gives
 * each its decayed usage. Returns the users array (allocated). */
static struct sched_user *
number_users(struct boxqd *d, struct pass_input *p, int64_t now, size_t *ret_n) {
  size_t total = p->nrunning + p->nqueued;
  uint32_t *uids = xmalloc((total ? total : 1) * sizeof(uint32_t));
  size_t n = 0;
  for (size_t i = 0; i < p->nrunning; i++)
    uids[n++] = p->running[i].user;
  for (size_t i = 0; i < p->nqueued; i++)
    uids[n++] = p->queued[i].user;
  qsort(uids, n, sizeof(uint32_t), cmp_u32);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || uids[u - 1] != uids[i])
      uids[u++] = uids[i];
  struct sched_user *users = xcalloc(u ? u : 1, sizeof(*users));
  for (size_t i = 0; i < u; i++)
    users[i].usage = wf_usage_now(d, wf_usage_of(d, uids[i]), now);
  for (size_t i = 0; i < p->nrunning; i++) {
    uint32_t *hit = bsearch(&p->running[i].user, uids, u, sizeof(uint32_t), cmp_u32);
    p->running[i].user = (uint32_t)(hit - uids);
  }
  for (size_t i = 0; i < p->nqueued; i++) {
    uint32_t *hit = bsearch(&p->queued[i].user, uids, u, sizeof(uint32_t), cmp_u32);
    p->queued[i].user = (uint32_t)(hit - uids);
  }
  free(uids);
  *ret_n = u;
  return users;
}

static struct sched_queue *
policy_queues(const struct boxqd *d) {
  struct sched_queue *qs = xcalloc(d->cfg.nqueues + 1, sizeof(*qs));
  for (size_t i = 0; i < d->cfg.nqueues; i++) {
    const struct boxq_queue *q = &d->cfg.queues[i];
    qs[i] = (struct sched_queue){.priority = q->priority,
                                 .started = q->started,
                                 .max_running = q->max_running,
                                 .max_running_ncpus = q->max_running_ncpus,
                                 .max_running_mem = q->max_running_mem,
                                 .max_user_running = q->max_user_running,
                                 .max_user_ncpus = q->max_user_ncpus,
                                 .max_user_mem = q->max_user_mem};
  }
  return qs;
}

static int
cmp_note(const void *a, const void *b) {
  const struct sched_note *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

const struct sched_note *
sched_note_of(struct boxqd *d, int64_t id, int64_t array_id) {
  struct sched_note key = {.id = id};
  const struct sched_note *n = bsearch(&key, d->notes, d->nnotes, sizeof(key), cmp_note);
  /* An array's waiting tasks share one entry: its note. */
  for (size_t i = 0; !n && array_id && i < d->nnotes; i++)
    if (d->notes[i].array_id == array_id)
      n = &d->notes[i];
  return n;
}

/* With pin_cpus: the lowest free CPUs for job id, recorded with it. */
static int
pin_job(struct boxqd *d, struct cpuset *busy, int64_t id, int64_t ncpus) {
  struct cpuset got;
  char list[CPUSET_MAX * 5];
  int r = cpuset_pick(&d->pin_cpus, busy, (int)ncpus, &got);
  if (r < 0)
    return r;
  for (size_t i = 0; i < ARRAY_SIZE(got.bits); i++)
    busy->bits[i] |= got.bits[i];
  cpuset_format(&got, list, sizeof(list));
  return db_set_cpus(d->db, id, list);
}

/* Sends a recorded start; a successor is noted as one (successors.c). */
static void
send_dispatch(struct boxqd *d, struct planned_start st) {
  struct job_rec j;
  if (db_get_job(d->db, st.id, true, &j) < 0) {
    log_error("job %lld: cannot read it back for dispatch: %s", (long long)st.id, db_errmsg(d->db));
    return;
  }
  if (st.after)
    succ_planned(d, st.after, st.id, st.reason);
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  if (st.after)
    pb_i64(&b, T_AFTER, st.after);
  pb_end(&b);
  conn_send(d->worker, &b);
  pbuf_free(&b);
  job_rec_free(&j);
}

static int
cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* The jobs the starts stand for: an entry's own id, or for an array's
 * tasks (an entry started k times) its first k waiting tasks. */
static int
resolve_starts(struct boxqd *d, struct pass_input *p, size_t *starts, size_t n, int64_t **ret,
               size_t **ret_entry, size_t *ret_n) {
  int64_t *ids = xcalloc(n + 1, sizeof(int64_t));
  size_t *entry = xcalloc(n + 1, sizeof(size_t));
  size_t m = 0;
  qsort(starts, n, sizeof(size_t), cmp_size);
  for (size_t i = 0; i < n;) {
    size_t k = i;
    while (k < n && starts[k] == starts[i])
      k++;
    const struct sched_job *j = &p->queued[starts[i]];
    if (j->count > 1 || j->array_id) {
      int64_t *tasks;
      size_t ntasks;
      int r = db_next_tasks(d->db, j->array_id, (int64_t)(k - i), &tasks, &ntasks);
      if (r < 0) {
        free(ids);
        free(entry);
        return r;
      }
      for (size_t t = 0; t < ntasks; t++) {
        entry[m] = starts[i];
        ids[m++] = tasks[t];
      }
      free(tasks);
    } else {
      entry[m] = starts[i];
      ids[m++] = j->id;
    }
    i = k;
  }
  *ret = ids;
  *ret_entry = entry;
  *ret_n = m;
  return 0;
}

/* A successor takes the CPUs of the job it follows (pin_cpus). */
static int
pin_like(struct boxqd *d, int64_t id, int64_t pred) {
  struct job_rec j;
  int r = db_get_job(d->db, pred, false, &j);
  if (r == 0)
    r = db_set_cpus(d->db, id, j.cpus ? j.cpus : "");
  job_rec_free(&j);
  return r;
}

/* The plan's starts and successors as jobs: st[] gets the starts, then
 * the successors in the plan's order (a successor's after is known only
 * once the one it follows is); *ret_n counts both. */
static int
resolve_plan(struct boxqd *d, struct pass_input *p, const struct sched_result *res,
             const struct sched_slot *slots, size_t nslots, struct planned_start **ret,
             size_t **ret_entry, size_t *ret_n) {
  size_t n = res->nstarts + res->nfollows;
  size_t *want = xcalloc(n + 1, sizeof(size_t));
  memcpy(want, res->starts, res->nstarts * sizeof(size_t));
  for (size_t k = 0; k < res->nfollows; k++)
    want[res->nstarts + k] = res->follows[k].queued;
  int64_t *ids;
  size_t *entry, nids;
  int r = resolve_starts(d, p, want, n, &ids, &entry, &nids);
  free(want);
  if (r < 0)
    return r;
  /* resolve_starts groups each entry's jobs: its starts take the first. */
  size_t nq = p->nqueued ? p->nqueued : 1;
  size_t *first = xcalloc(nq, sizeof(size_t)), *used = xcalloc(nq, sizeof(size_t));
  size_t *have = xcalloc(nq, sizeof(size_t));
  for (size_t i = nids; i-- > 0;) {
    first[entry[i]] = i;
    have[entry[i]]++;
  }
  struct planned_start *st = xcalloc(n + 1, sizeof(*st));
  size_t *st_entry = xcalloc(n + 1, sizeof(size_t));
  size_t m = 0;
  for (size_t k = 0; k < res->nstarts; k++) {
    size_t e = res->starts[k];
    if (used[e] < have[e]) {
      st_entry[m] = e;
      st[m++] = (struct planned_start){.id = ids[first[e] + used[e]++]};
    }
  }
  /* Successors: the job of follow k, or 0 if the entry had no job left
   * for it (then no successor follows it either). */
  int64_t *fid = xcalloc(res->nfollows + 1, sizeof(int64_t));
  for (size_t k = 0; k < res->nfollows; k++) {
    size_t e = res->follows[k].queued, s = res->follows[k].slot;
    int64_t after = s < nslots ? slots[s].job.id : fid[s - nslots];
    if (!after || used[e] >= have[e])
      continue;
    fid[k] = ids[first[e] + used[e]++];
    st_entry[m] = e;
    st[m++] =
        (struct planned_start){.id = fid[k], .after = after, .reason = res->verdict[e].reason};
  }
  free(fid);
  free(first);
  free(used);
  free(have);
  free(ids);
  free(entry);
  *ret = st;
  *ret_entry = st_entry;
  *ret_n = m;
  return 0;
}

/* Records the starts and successors of a pass in one transaction (all or
 * none), then sends them to the worker. */
static int
start_jobs(struct boxqd *d, struct pass_input *p, const struct sched_result *res,
           const struct sched_slot *slots, size_t nslots, int64_t now) {
  int r = 0;
  struct planned_start *st = NULL;
  size_t *entry = NULL, n = 0;
  if (d->cfg.pin_cpus)
    r = db_list_running(d->db, busy_cpus, p);
  if (r == 0)
    r = resolve_plan(d, p, res, slots, nslots, &st, &entry, &n);
  /* Relaxed: if boxqd dies before this reaches the disk, the worker's
   * hello after a restart shows which of these it received (the others go
   * back to the queue); nothing was promised to anyone yet. Inside the
   * batch of the results that freed the CPUs (flush_batch), a savepoint of
   * its transaction: one commit for both. */
  bool in_batch = d->batch_open;
  if (r == 0)
    r = in_batch ? db_savepoint(d->db) : db_begin_relaxed(d->db);
  for (size_t i = 0; r == 0 && i < n; i++) {
    const struct sched_job *j = &p->queued[entry[i]];
    r = db_set_state(d->db, st[i].id, JOB_RUNNING, "", now);
    if (r == 0 && d->cfg.pin_cpus)
      r = st[i].after ? pin_like(d, st[i].id, st[i].after)
                      : pin_job(d, &p->busy, st[i].id, j->ncpus);
    if (r == 0 && j->array_id)
      r = db_array_begun(d->db, j->array_id, now);
    _cleanup_free_ char *detail =
        st[i].after ? xasprintf("to start when job %lld ends", (long long)st[i].after) : NULL;
    if (r == 0)
      r = db_add_event(d->db, st[i].id, now, "dispatched", detail);
  }
  if (in_batch) {
    if (r == 0)
      r = db_release(d->db);
    else
      db_rollback_savepoint(d->db);
  } else if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0)
    log_error("scheduling pass: cannot record starts: %s", db_errmsg(d->db));
  else if (in_batch) {
    d->batch_starts = xrealloc(d->batch_starts, (d->nbatch_starts + n) * sizeof(*st));
    memcpy(d->batch_starts + d->nbatch_starts, st, n * sizeof(*st));
    d->nbatch_starts += n;
  } else
    for (size_t i = 0; i < n; i++)
      send_dispatch(d, st[i]);
  free(st);
  free(entry);
  return r;
}

/* ---- the cached head of the queue ---- */

/* How many entries of the cached queue a quick pass plans over, how many
 * a full pass keeps, and how old the cache may get before a pass rereads
 * the queue anyway (priorities age, fair share moves with every end). */
#define QUICK_PASS_DEPTH  256
#define QCACHE_MAX        4096
#define QCACHE_MAX_AGE_MS 1000

/* After a full pass: keep the queue's best entries (as read, uids and
 * all, in saved), in the pass's order; pos[i] is where entry i went, or
 * SIZE_MAX. */
static void
qcache_build(struct boxqd *d, struct sched_job *saved, size_t n, const struct sched_result *res,
             size_t *pos) {
  size_t keep = n < QCACHE_MAX ? n : QCACHE_MAX;
  free(d->qcache);
  d->qcache = xcalloc(keep ? keep : 1, sizeof(struct sched_job));
  for (size_t i = 0; i < n; i++)
    pos[i] = SIZE_MAX;
  for (size_t k = 0; k < keep; k++) {
    d->qcache[k] = saved[res->order[k]];
    pos[res->order[k]] = k;
  }
  d->nqcache = keep;
  d->qcache_first = 0;
  d->qcache_ms = uv_now(d->loop);
  d->qcache_valid = true;
}

/* A quick pass's queue: the first live entries of the cache; from[i] is
 * the cache entry of p->queued[i]. NULL when the cache kept only part of
 * the queue and less than a quick pass's depth of it is left: the pass
 * must read the queue again. */
static size_t *
qcache_head(struct boxqd *d, struct pass_input *p) {
  while (d->qcache_first < d->nqcache && d->qcache[d->qcache_first].count < 0)
    d->qcache_first++;
  size_t *from = xcalloc(QUICK_PASS_DEPTH, sizeof(size_t));
  for (size_t k = d->qcache_first; k < d->nqcache && p->nqueued < QUICK_PASS_DEPTH; k++)
    if (d->qcache[k].count >= 0) {
      from[p->nqueued] = k;
      append(&p->queued, &p->nqueued, &p->cap_queued, d->qcache[k]);
    }
  if (d->nqcache == QCACHE_MAX && p->nqueued < QUICK_PASS_DEPTH) {
    free(from);
    p->nqueued = 0;
    return NULL;
  }
  return from;
}

/* The pass started entries[starts]: they leave the cache. An array whose
 * counted tasks are all started may have more: the next pass rereads. */
static void
qcache_consume(struct boxqd *d, const size_t *starts, size_t n, const size_t *pos) {
  for (size_t i = 0; i < n; i++) {
    size_t k = pos[starts[i]];
    if (k == SIZE_MAX)
      continue;
    struct sched_job *c = &d->qcache[k];
    if (c->count > 1)
      c->count--;
    else {
      if (c->array_id)
        d->qcache_valid = false;
      c->count = -1;
    }
  }
}

static void
note_set(struct sched_note *n, const struct sched_job *j, const struct sched_verdict *v) {
  n->id = j->id;
  n->array_id = j->array_id;
  n->priority = v->priority;
  n->reason = v->reason;
  for (int k = 0; k < SF_MAX; k++)
    n->factor[k] = (float)v->factor[k];
}

/* After quick passes, a full one: every waiting job's reason and the
 * ranking are at most that old, even when nothing else happens. */
static void
on_refresh_timer(uv_timer_t *t) {
  sched_request_pass(t->data);
}

static void
ask_back(struct boxqd *d, struct succ_link *l, const char *why) {
  l->taking_back = true;
  struct pbuf b = {0};
  pb_begin(&b, MSG_TAKE_BACK);
  pb_i64(&b, T_JOBID, l->succ);
  pb_end(&b);
  conn_send(d->worker, &b);
  pbuf_free(&b);
  log_debug("job %lld: asked back from the worker: %s", (long long)l->succ, why);
}

/* Held successors that should not wait where they are: after a full pass,
 * those ranked now below the best job left waiting for the next free
 * place (one submitted since with a higher priority, say: both ranked
 * with this pass's clock and fair share); after any pass that left CPUs
 * free with no queued job waiting for them, those that fit there now
 * (the tail of a drain: a place whose jobs ran short, the held ones
 * behind a longer job). They come back to the queue, to be started or
 * planned again. */
static void
take_back(struct boxqd *d, const struct sched_input *in, const struct sched_result *res, bool full,
          const struct sched_job *held, size_t nheld) {
  if (!nheld || !d->worker_ready)
    return;
  double best = -1;
  bool waiting = false;
  for (size_t i = 0; i < in->nqueued; i++) {
    const struct sched_verdict *v = &res->verdict[i];
    if (!sched_waits_for_any_end((enum sched_reason)v->reason))
      continue;
    bool planned = false;
    for (size_t k = 0; k < res->nfollows && !planned; k++)
      planned = res->follows[k].queued == i;
    if (!planned && (!waiting || v->priority > best)) {
      best = v->priority;
      waiting = true;
    }
  }
  struct sched_capacity free_now = in->cap;
  for (size_t i = 0; i < in->nrunning; i++) {
    free_now.ncpus -= in->running[i].ncpus;
    free_now.mem -= in->running[i].mem;
  }
  for (size_t k = 0; k < res->nstarts; k++) {
    free_now.ncpus -= in->queued[res->starts[k]].ncpus;
    free_now.mem -= in->queued[res->starts[k]].mem;
  }
  double *fs = NULL;
  if (full && waiting) {
    fs = xcalloc(in->nusers + 1, sizeof(double));
    sched_fairshare(in, fs);
  }
  for (size_t i = 0; i < nheld; i++) {
    struct succ_link *l = succ_link_of(d, held[i].id);
    if (!l || l->taking_back)
      continue;
    if (fs) {
      double f = held[i].user < in->nusers ? fs[held[i].user] : 1.0;
      if (sched_priority(in, &held[i], f, NULL) < best) {
        ask_back(d, l, "a job ranked higher waits");
        continue;
      }
    }
    /* Every one that would fit: back in the queue, the pass ranks them
     * and starts the best (the others are planned again). */
    if (!waiting && held[i].ncpus <= free_now.ncpus && held[i].mem <= free_now.mem)
      ask_back(d, l, "CPUs are free for it now");
  }
  free(fs);
}

/* One scheduling pass. A full pass reads the whole queue and ranks it;
 * a quick one (only starts and ends since the last full pass, which is
 * less than QCACHE_MAX_AGE_MS old) plans over the head of that ranking
 * with fresh running jobs and fair share, as Slurm's event-triggered
 * passes look only QUEUE_DEPTH deep. */
static void
sched_pass(struct boxqd *d) {
  if (d->stopping)
    return;
  int64_t now = now_sec();
  struct pass_input p = {.d = d};
  bool quick =
      d->qcache_valid && !d->queue_changed && uv_now(d->loop) - d->qcache_ms < QCACHE_MAX_AGE_MS;
  d->queue_changed = false;
  struct sched_job *saved = NULL;
  size_t *pos = NULL;
  int r = db_list_sched(d->db, true, 0, collect_running, &p);
  if (r == 0 && quick && !(pos = qcache_head(d, &p)))
    quick = false;
  if (r == 0 && !quick) {
    r = db_list_sched(d->db, false, d->cap.ncpus + 1, collect_queued, &p);
    if (r == 0 && p.nqueued) {
      /* As read: number_users below renumbers users in place. */
      saved = xmalloc(p.nqueued * sizeof(*saved));
      memcpy(saved, p.queued, p.nqueued * sizeof(*saved));
    }
  }
  if (r < 0) {
    log_error("scheduling pass: %s", db_errmsg(d->db));
    d->qcache_valid = false;
    goto out;
  }
  size_t nusers;
  struct sched_user *users = number_users(d, &p, now, &nusers);
  struct sched_queue *queues = policy_queues(d);
  /* Places a successor may follow into; a successor still waiting for its
   * predecessor holds nothing yet (successors.c). */
  struct sched_slot *slots = xcalloc(p.nrunning + 1, sizeof(*slots));
  struct sched_job *held = xcalloc(p.nrunning + 1, sizeof(*held));
  size_t nslots = 0, nrun = 0, nheld = 0;
  for (size_t i = 0; i < p.nrunning; i++) {
    int depth = d->cfg.lookahead > 0 ? succ_depth(d, p.running[i].id) : -1;
    if (depth >= 0 && depth < d->cfg.lookahead)
      slots[nslots++] = (struct sched_slot){.job = p.running[i], .depth = (unsigned)depth};
    if (succ_waiting(d, p.running[i].id))
      held[nheld++] = p.running[i];
    else
      p.running[nrun++] = p.running[i];
  }
  p.nrunning = nrun;
  struct sched_input in = {
      .cap = d->cap,
      .queues = queues,
      .nqueues = d->cfg.nqueues,
      .users = users,
      .nusers = nusers,
      .running = p.running,
      .nrunning = p.nrunning,
      .queued = p.queued,
      .nqueued = p.nqueued,
      .params = {.weight = {[SF_QUEUE] = (double)d->cfg.weight_queue,
                            [SF_FAIRSHARE] = (double)d->cfg.weight_fairshare,
                            [SF_AGE] = (double)d->cfg.weight_age,
                            [SF_SIZE] = (double)d->cfg.weight_size,
                            [SF_JOB] = (double)d->cfg.weight_job},
                 .max_age = d->cfg.priority_max_age,
                 .backfill = d->cfg.backfill},
      .now = now,
      .slots = slots,
      .nslots = d->worker_ready ? nslots : 0,
      .max_depth = (unsigned)d->cfg.lookahead,
  };
  size_t nq = p.nqueued ? p.nqueued : 1;
  size_t max_follows = nslots * (size_t)d->cfg.lookahead;
  /* Every start takes at least one CPU: no more than the free ones. */
  size_t max_starts = p.nqueued + (size_t)(d->cap.ncpus > 0 ? d->cap.ncpus : 0);
  /* A full pass keeps its ranking (qcache_build). */
  struct sched_result res = {.verdict = xcalloc(nq, sizeof(struct sched_verdict)),
                             .starts = xcalloc(max_starts + 1, sizeof(size_t)),
                             .max_starts = max_starts,
                             .order = quick ? NULL : xcalloc(nq, sizeof(size_t)),
                             .follows = xcalloc(max_follows + 1, sizeof(struct sched_follow)),
                             .max_follows = max_follows};
  r = sched_plan(&in, &res);
  if (r == 0 && !quick) {
    pos = xcalloc(nq, sizeof(size_t));
    qcache_build(d, saved, p.nqueued, &res, pos);
  }
  if (r == 0 && !quick) {
    /* Keep the verdicts for qstat, by id. */
    free(d->notes);
    d->notes = xcalloc(nq, sizeof(struct sched_note));
    for (size_t i = 0; i < p.nqueued; i++)
      note_set(&d->notes[i], &p.queued[i], &res.verdict[i]);
    d->nnotes = p.nqueued;
    qsort(d->notes, d->nnotes, sizeof(struct sched_note), cmp_note);
    d->last_pass = now;
  } else if (r == 0) {
    /* A quick pass's verdicts replace those of the jobs it looked at; a
     * full pass follows within QCACHE_MAX_AGE_MS for the rest. */
    for (size_t i = 0; i < p.nqueued; i++) {
      struct sched_note key = {.id = p.queued[i].id};
      struct sched_note *n = bsearch(&key, d->notes, d->nnotes, sizeof(key), cmp_note);
      if (n)
        note_set(n, &p.queued[i], &res.verdict[i]);
    }
    uv_timer_start(&d->refresh_timer, on_refresh_timer, QCACHE_MAX_AGE_MS, 0);
  }
  if (r == 0)
    take_back(d, &in, &res, !quick, held, nheld);
  if (r == 0) {
    d->reserved_id = res.reserved_id;
    d->reserved_time = res.reserved_time;
    if (res.nstarts + res.nfollows > 0 && d->worker_ready) {
      if (start_jobs(d, &p, &res, slots, nslots, now) == 0) {
        qcache_consume(d, res.starts, res.nstarts, pos);
        for (size_t k = 0; k < res.nfollows; k++)
          qcache_consume(d, &res.follows[k].queued, 1, pos);
      } else
        d->qcache_valid = false;
    }
  } else
    log_error("scheduling pass: out of memory");
  free(res.verdict);
  free(res.starts);
  free(res.order);
  free(res.follows);
  free(slots);
  free(held);
  free(users);
  free(queues);
out:
  free(saved);
  free(pos);
  free(p.running);
  free(p.queued);
}

static void
run_pass(struct boxqd *d) {
  d->sched_pending = false;
  uint64_t start = uv_hrtime();
  sched_pass(d);
  uint64_t took_ms = (uv_hrtime() - start) / 1000000;
  /* A pass over a huge queue costs tens of milliseconds: the next one
   * then waits as long, so that passes never take more than half of the
   * daemon's time however fast requests arrive. Cheap passes are not
   * held back: each job's end wants one, to start the next job. */
  uv_update_time(d->loop);
  d->next_pass_ms = uv_now(d->loop) + (took_ms >= 2 ? took_ms : 0);
}

static void
on_sched_idle(uv_idle_t *h) {
  uv_idle_stop(h);
  run_pass(h->data);
}

static void
on_sched_timer(uv_timer_t *t) {
  run_pass(t->data);
}

/* Whether a pass may run now (passes are spaced by next_pass_ms). */
static bool
pass_due(struct boxqd *d) {
  return !d->stopping && uv_now(d->loop) >= d->next_pass_ms;
}

/* A pass after jobs' starts and ends only: quick, if the cache allows. */
static void
request_pass(struct boxqd *d) {
  if (d->sched_pending || d->stopping)
    return;
  d->sched_pending = true;
  if (pass_due(d))
    uv_idle_start(&d->sched_idle, on_sched_idle);
  else
    uv_timer_start(&d->sched_timer, on_sched_timer, d->next_pass_ms - uv_now(d->loop), 0);
}

void
sched_request_pass(struct boxqd *d) {
  d->queue_changed = true;
  request_pass(d);
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
  if (d->batch_open && durable && db_relaxed(d->db))
    flush_batch(d); /* a relaxed batch cannot become durable: end it */
  if (!d->batch_open) {
    int r = durable ? db_begin(d->db) : db_begin_relaxed(d->db);
    if (r < 0)
      return r;
    d->batch_open = true;
    d->batch_ack_mark = d->nsync_acks;
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
  d->batch_acks = true;
}

static void
flush_batch(struct boxqd *d) {
  bool acks = d->batch_acks;
  d->batch_acks = false;
  /* The pass the batch asks for runs inside its transaction when it may
   * run now: the next jobs' starts share the commit of the results that
   * made room for them, and are sent after it. */
  if (d->batch_open && d->batch_pass && pass_due(d) &&
      !uv_is_active((uv_handle_t *)&d->sched_timer)) {
    uv_idle_stop(&d->sched_idle);
    d->batch_pass = false;
    run_pass(d);
  }
  if (d->batch_open) {
    d->batch_open = false;
    if (db_commit(d->db) < 0) {
      /* Nothing of it is stored: the worker sends its results again, and
       * the starts were not made. */
      log_error("cannot store the worker's reports: %s", db_errmsg(d->db));
      d->nsync_acks = d->batch_ack_mark; /* none of this batch's may be acknowledged */
      d->nbatch_starts = 0;
      d->qcache_valid = false;
      sched_request_pass(d);
      return;
    }
  }
  for (size_t i = 0; i < d->nbatch_starts; i++)
    send_dispatch(d, d->batch_starts[i]);
  d->nbatch_starts = 0;
  if (d->batch_pass)
    request_pass(d);
  d->batch_pass = false;
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
  /* Successors it holds count as running until they start. */
  succ_forget_all(d);
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
  succ_started(d, id, pmsg_i64_or(m, T_INSTEAD, 0));
  struct job_rec j = {0};
  _cleanup_free_ char *detail = NULL;
  char mem[32];
  int r = db_get_job(d->db, id, false, &j);
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
  part_end(d, r);
  job_rec_free(&j);
  d->batch_pass = true; /* an 'after' dependency may have been met */
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
  /* A successor of it runs from now on (or it was one, ended unstarted). */
  succ_ended(d, end.id);
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
      d->batch_pass = true;
      d->queue_changed = true; /* back in the queue: a full pass ranks it */
    }
    goto out;
  }
  if (r == 0)
    r = db_job_ended(d->db, &end);
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
  d->batch_pass = true;
out:
  job_rec_free(&cur);
  job_rec_free(&end);
}

/* A successor the worker gave back unstarted (the job it was to follow
 * ran longer than the worker holds one): queued again, as it was. */
static void
on_returned(struct boxqd *d, const struct pmsg *m) {
  int64_t id = pmsg_i64_or(m, T_JOBID, 0);
  succ_returned(d, id);
  int64_t now = now_sec();
  int r = part_begin(d, false);
  if (r == 0)
    r = db_undispatch(d->db, id, now);
  if (r == 0)
    r = db_add_event(d->db, id, now, "returned",
                     "the job it was to follow still runs: back in the queue");
  part_end(d, r);
  if (r == -ESRCH)
    return; /* ended (cancelled) or started meanwhile: nothing to undo */
  if (r < 0) {
    log_error("job %lld: cannot queue it again: %s", (long long)id, db_errmsg(d->db));
    return;
  }
  log_debug("job %lld: returned by the worker, queued again", (long long)id);
  d->batch_pass = true;
  d->queue_changed = true; /* back in the queue: a full pass ranks it */
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
  c->on_batch_end = on_worker_batch_end;
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
  uv_timer_init(d->loop, &d->sched_timer);
  d->sched_timer.data = d;
  uv_timer_init(d->loop, &d->refresh_timer);
  d->refresh_timer.data = d;
  connect_worker(d);
  sched_request_pass(d); /* so that qstat can say why jobs wait, worker or not */
}

void
worker_link_stop(struct boxqd *d) {
  d->stopping = true;
  uv_timer_stop(&d->reconnect);
  uv_close((uv_handle_t *)&d->reconnect, NULL);
  uv_close((uv_handle_t *)&d->sched_idle, NULL);
  uv_timer_stop(&d->sched_timer);
  uv_close((uv_handle_t *)&d->sched_timer, NULL);
  uv_timer_stop(&d->refresh_timer);
  uv_close((uv_handle_t *)&d->refresh_timer, NULL);
  if (d->worker)
    conn_close(d->worker);
}
