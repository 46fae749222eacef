/* SPDX-License-Identifier: MIT */
/* The scheduling pass: reads the running jobs and the head of the queue,
 * asks the policy (policy.c) what starts now and what goes to the worker's
 * ready set (ready.c), records the starts in one transaction and hands
 * both to the worker link (dispatch.c).
 * Passes are coalesced: events ask for one, the loop runs it. */
#include "boxqd.h"
#include "log.h"
#include "res.h"
#include "timing.h"

#include <string.h>

/* What passes keep between them (boxqd's, made by sched_pass_init). */
struct pass_state {
  /* The head of the queue as the last full pass ranked it, best first:
   * passes that follow only jobs' starts and ends (most passes while a big
   * queue drains) plan over its first entries instead of rereading and
   * re-ranking the whole queue (sched_pass). */
  struct sched_job *qcache;
  size_t nqcache, qcache_first; /* entries before qcache_first are gone */
  uint64_t qcache_ms;           /* loop time of the full pass that made it */
  bool qcache_valid;
  bool queue_changed; /* since then: a submission, a release, an alter, ... */
  /* The last full pass's verdict on each queued job, sorted by id (qstat). */
  struct sched_note *notes;
  size_t nnotes;
  struct idmap note_of_array; /* an array's id -> its waiting tasks' note's index + 1 */
  int64_t reserved_id, reserved_time;
  int64_t last_pass;
  /* Passes are coalesced: events ask for one, the loop runs it. */
  uv_idle_t sched_idle;
  uv_timer_t sched_timer;   /* a pass that must wait (see run_pass) */
  uv_timer_t refresh_timer; /* a full pass some time after quick ones */
  uint64_t next_pass_ms;    /* loop time before which no pass starts */
  bool sched_pending;
  /* How long passes take: full ones (the whole queue read and ranked)
   * and quick ones apart. */
  struct timing full_timing, quick_timing;
};

/* The pass's input, read from the database: jobs keep the owner's uid in
 * .user until users are numbered densely for the policy. */
struct pass_input {
  struct boxqd *d;
  struct sched_job *running, *queued;
  size_t nrunning, nqueued, cap_running, cap_queued;
};

static uint32_t
queue_index(const struct boxqd *d, const char *name) {
  for (size_t i = 0; i < d->cfg.nqueues; i++)
    if (strcmp(d->cfg.queues[i].name, name) == 0)
      return (uint32_t)i;
  return (uint32_t)d->cfg.nqueues; /* a queue since removed from the config (policy_queues) */
}

_Static_assert(SCHED_DEV_MAX == DEV_CLASSES_MAX, "the policy counts every device class");

static struct sched_job
sched_job_of(const struct boxqd *d, const struct db_sched_row *row) {
  struct dev_counts devs = {{0}};
  if (row->devreq && *row->devreq && dev_counts_parse(&d->devs, row->devreq, &devs) == -ENOENT)
    devs.n[0] = INT16_MAX; /* a class since removed: too big for the box */
  struct sched_job j = {.id = row->id,
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
  memcpy(j.dev, devs.n, sizeof(j.dev));
  return j;
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
  struct sched_job j = sched_job_of(p->d, row);
  if (sched_frees_cpus(p->d, row->suspended))
    j.ncpus = 0;
  if (j.dev[0] == INT16_MAX)
    j.dev[0] = 0; /* a class since removed: nothing of this box */
  append(&p->running, &p->nrunning, &p->cap_running, j);
  return 0;
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
  qsort(uids, n, sizeof(uint32_t), u32_cmp);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || uids[u - 1] != uids[i])
      uids[u++] = uids[i];
  struct sched_user *users = xcalloc(u ? u : 1, sizeof(*users));
  for (size_t i = 0; i < u; i++)
    users[i].usage = wf_usage_now(d, wf_usage_of(d, uids[i]), now);
  for (size_t i = 0; i < p->nrunning; i++) {
    uint32_t *hit = bsearch(&p->running[i].user, uids, u, sizeof(uint32_t), u32_cmp);
    p->running[i].user = (uint32_t)(hit - uids);
  }
  for (size_t i = 0; i < p->nqueued; i++) {
    uint32_t *hit = bsearch(&p->queued[i].user, uids, u, sizeof(uint32_t), u32_cmp);
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
  /* qs[nqueues], zeroed, stands for the queues removed from the
   * configuration (SIGHUP): stopped, so their jobs stay until qmove. */
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
  const struct sched_note *n =
      bsearch(&key, d->pass->notes, d->pass->nnotes, sizeof(key), cmp_note);
  /* An array's waiting tasks share one entry: its note. */
  size_t at = !n && array_id ? (size_t)(intptr_t)idmap_get(&d->pass->note_of_array, array_id) : 0;
  if (at)
    n = &d->pass->notes[at - 1];
  return n;
}

int
sched_start_now(struct boxqd *d, const struct job_rec *j, const char *detail, int64_t now,
                struct berr *err) {
  struct places h;
  if (places_held(d, &h) < 0)
    return berr_set(err, -EIO, "%s", db_errmsg(d->db));
  int64_t free_ncpus = d->cap.ncpus - h.ncpus, free_mem = d->cap.mem - h.mem;
  if (j->ncpus > free_ncpus || j->mem > free_mem) {
    char want[32], have[32];
    res_format_size(j->mem, want, sizeof(want));
    res_format_size(free_mem > 0 ? free_mem : 0, have, sizeof(have));
    return berr_set(err, -EBUSY,
                    "job %lld does not fit now: it asks for ncpus=%lld mem=%s; running jobs leave "
                    "%lld CPUs and %s",
                    (long long)j->id, (long long)j->ncpus, want,
                    (long long)(free_ncpus > 0 ? free_ncpus : 0), have);
  }
  struct dev_counts want = {{0}};
  if (j->devreq && *j->devreq && dev_counts_parse(&d->devs, j->devreq, &want) < 0)
    return berr_set(err, -EINVAL, "job %lld asks for devices this box does not have (%s)",
                    (long long)j->id, j->devreq);
  struct dev_set got;
  struct cpuset near;
  if (dev_pick(&d->devs, &h.devs, &want, &got, &near) < 0)
    return berr_set(err, -EBUSY,
                    "job %lld does not fit now: it asks for %s; running jobs hold them",
                    (long long)j->id, j->devreq);
  int r = sched_record_dispatch(d, j->id, j->array_id, NULL, detail, now);
  if (r == 0)
    r = place_job(d, &h, j->id, j->ncpus, want.n);
  if (r < 0)
    return berr_set(err, r, "cannot record the start: %s", db_errmsg(d->db));
  return 0;
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

/* The plan's starts and ready jobs as jobs: st[] gets the starts, then
 * the jobs for the ready set in the plan's order; *ret_n counts both. */
static int
resolve_plan(struct boxqd *d, struct pass_input *p, const struct sched_result *res,
             struct planned_start **ret, size_t **ret_entry, size_t *ret_n) {
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
  for (size_t k = 0; k < n; k++) {
    size_t e = k < res->nstarts ? res->starts[k] : res->follows[k - res->nstarts].queued;
    if (used[e] >= have[e])
      continue; /* an array with fewer waiting tasks than counted */
    st_entry[m] = e;
    st[m++] = (struct planned_start){.id = ids[first[e] + used[e]++],
                                     .array_id = p->queued[e].array_id,
                                     .ready = k >= res->nstarts};
  }
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

int
sched_record_dispatch(struct boxqd *d, int64_t id, int64_t array_id, const char *cpus,
                      const char *detail, int64_t now) {
  int r = db_set_state(d->db, id, JOB_RUNNING, "", now);
  if (r == 0 && cpus)
    r = db_set_cpus(d->db, id, cpus);
  if (r == 0 && array_id)
    r = db_array_begun(d->db, array_id, now);
  if (r == 0)
    r = db_add_event(d->db, id, now, "dispatched", detail);
  return r;
}

/* The worker starts the first job of its ready set, in the order handed,
 * that fits a freed place: the set must stay in the pass's order. So a job
 * of the set that the plan puts after one new to it goes back (it is
 * handed again behind it); and after a full pass, those it no longer
 * chose (a job ranked higher arrived, a limit changed). Returned, they
 * wait in the queue like the others. */
static void
keep_ready_set_in_order(struct boxqd *d, const struct planned_start *st, size_t n, bool full) {
  bool new_before = false;
  for (size_t k = 0; k < n; k++) {
    if (!st[k].ready)
      continue;
    if (!ready_has(d, st[k].id))
      new_before = new_before || !ready_claimed(d, st[k].id, st[k].array_id);
    else if (new_before)
      ready_take_back(d, st[k].id, "a job ranked higher goes before it");
  }
  for (size_t i = ready_count(d); full && i-- > 0;) {
    int64_t id = ready_id(d, i);
    bool chosen = false;
    for (size_t k = 0; k < n && !chosen; k++)
      chosen = st[k].id == id; /* a start: dispatched below */
    if (!chosen)
      ready_take_back(d, id, "no longer among the next to start");
  }
}

/* Records the starts of a pass in one transaction (all or none), then
 * sends them to the worker, with the jobs new to its ready set. */
static int
start_jobs(struct boxqd *d, struct pass_input *p, const struct sched_result *res, bool full,
           int64_t now) {
  int r = 0;
  struct planned_start *st = NULL;
  size_t *entry = NULL, n = 0;
  /* Which CPUs and devices are free matters only when jobs get their own. */
  struct places held = {.d = d};
  if (d->cfg.pin_cpus || d->devs.ncls)
    r = places_held(d, &held);
  if (r == 0)
    r = resolve_plan(d, p, res, &st, &entry, &n);
  if (r == 0)
    keep_ready_set_in_order(d, st, n, full);
  /* Relaxed: if boxqd dies before this reaches the disk, the worker's
   * hello after a restart shows which of these it received (the others go
   * back to the queue); nothing was promised to anyone yet. Inside the
   * batch of the results that freed the CPUs (flush_batch), a savepoint of
   * its transaction: one commit for both. */
  bool in_batch = worker_batch_open(d);
  if (r == 0)
    r = in_batch ? db_savepoint(d->db) : db_begin_relaxed(d->db);
  size_t m = 0;
  for (size_t i = 0; r == 0 && i < n; i++) {
    if (st[i].ready) {
      if (!ready_has(d, st[i].id) && !ready_claimed(d, st[i].id, st[i].array_id))
        st[m++] = st[i]; /* new to the set; nothing to record */
      continue;
    }
    const struct sched_job *j = &p->queued[entry[i]];
    r = sched_record_dispatch(d, st[i].id, j->array_id, NULL, NULL, now);
    if (r == 0)
      r = place_job(d, &held, st[i].id, j->ncpus, j->dev);
    st[m++] = st[i];
  }
  n = m;
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
  else if (in_batch)
    worker_batch_dispatch(d, st, n);
  else
    for (size_t i = 0; i < n; i++)
      worker_dispatch(d, st[i]);
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
  free(d->pass->qcache);
  d->pass->qcache = xcalloc(keep ? keep : 1, sizeof(struct sched_job));
  for (size_t i = 0; i < n; i++)
    pos[i] = SIZE_MAX;
  for (size_t k = 0; k < keep; k++) {
    d->pass->qcache[k] = saved[res->order[k]];
    pos[res->order[k]] = k;
  }
  d->pass->nqcache = keep;
  d->pass->qcache_first = 0;
  d->pass->qcache_ms = uv_now(d->loop);
  d->pass->qcache_valid = true;
}

/* A quick pass's queue: the first live entries of the cache; from[i] is
 * the cache entry of p->queued[i]. NULL when the cache kept only part of
 * the queue and less than a quick pass's depth of it is left: the pass
 * must read the queue again. */
static size_t *
qcache_head(struct boxqd *d, struct pass_input *p) {
  while (d->pass->qcache_first < d->pass->nqcache &&
         d->pass->qcache[d->pass->qcache_first].count < 0)
    d->pass->qcache_first++;
  size_t *from = xcalloc(QUICK_PASS_DEPTH, sizeof(size_t));
  for (size_t k = d->pass->qcache_first; k < d->pass->nqcache && p->nqueued < QUICK_PASS_DEPTH; k++)
    if (d->pass->qcache[k].count >= 0) {
      from[p->nqueued] = k;
      append(&p->queued, &p->nqueued, &p->cap_queued, d->pass->qcache[k]);
    }
  if (d->pass->nqcache == QCACHE_MAX && p->nqueued < QUICK_PASS_DEPTH) {
    free(from);
    p->nqueued = 0;
    return NULL;
  }
  return from;
}

/* One job of cache entry k has left the queue: the entry counts one less,
 * or is gone. An array whose counted tasks are all gone may have more:
 * the next pass rereads. */
static void
qcache_take(struct pass_state *ps, size_t k) {
  struct sched_job *c = &ps->qcache[k];
  if (c->count > 1)
    c->count--;
  else {
    if (c->array_id)
      ps->qcache_valid = false;
    c->count = -1;
  }
}

/* The pass started entries[starts]: they leave the cache. */
static void
qcache_consume(struct boxqd *d, const size_t *starts, size_t n, const size_t *pos) {
  for (size_t i = 0; i < n; i++) {
    size_t k = pos[starts[i]];
    if (k != SIZE_MAX)
      qcache_take(d->pass, k);
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

/* One scheduling pass. A full pass reads the whole queue and ranks it;
 * a quick one (only starts and ends since the last full pass, which is
 * less than QCACHE_MAX_AGE_MS old) plans over the head of that ranking
 * with fresh running jobs and fair share, as Slurm's event-triggered
 * passes look only QUEUE_DEPTH deep. */
static struct timing *
sched_pass(struct boxqd *d) {
  if (d->stopping)
    return NULL;
  int64_t now = now_sec();
  struct pass_input p = {.d = d};
  /* Jobs start when the worker is there and the node is not offline. */
  bool can_start = d->worker_ready && !d->offline && !d->scheduling_off;
  bool quick = d->pass->qcache_valid && !d->pass->queue_changed &&
               uv_now(d->loop) - d->pass->qcache_ms < QCACHE_MAX_AGE_MS;
  d->pass->queue_changed = false;
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
  struct timing *kind = quick ? &d->pass->quick_timing : &d->pass->full_timing;
  if (r < 0) {
    log_error("scheduling pass: %s", db_errmsg(d->db));
    d->pass->qcache_valid = false;
    goto out;
  }
  size_t nusers;
  struct sched_user *users = number_users(d, &p, now, &nusers);
  struct sched_queue *queues = policy_queues(d);
  /* Places the ready set's jobs may take: every running job's (policy.h). */
  struct sched_slot *slots = xcalloc(p.nrunning + 1, sizeof(*slots));
  size_t nslots = 0;
  for (size_t i = 0; d->cfg.lookahead > 0 && i < p.nrunning; i++)
    slots[nslots++] = (struct sched_slot){.job = p.running[i]};
  struct sched_input in = {
      .cap = d->cap,
      .queues = queues,
      .nqueues = d->cfg.nqueues + 1,
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
      .nslots = can_start ? nslots : 0,
      .max_depth = (unsigned)d->cfg.lookahead,
  };
  size_t nq = p.nqueued ? p.nqueued : 1;
  /* Every start takes at least one CPU: no more than the free ones. */
  size_t max_starts = p.nqueued + (size_t)(d->cap.ncpus > 0 ? d->cap.ncpus : 0);
  /* This pass's starts are places too. */
  size_t max_follows = d->cfg.lookahead > 0 && can_start
                           ? (nslots + (size_t)d->cap.ncpus) * (size_t)d->cfg.lookahead
                           : 0;
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
    free(d->pass->notes);
    d->pass->notes = xcalloc(nq, sizeof(struct sched_note));
    for (size_t i = 0; i < p.nqueued; i++)
      note_set(&d->pass->notes[i], &p.queued[i], &res.verdict[i]);
    d->pass->nnotes = p.nqueued;
    qsort(d->pass->notes, d->pass->nnotes, sizeof(struct sched_note), cmp_note);
    idmap_free(&d->pass->note_of_array);
    for (size_t i = 0; i < d->pass->nnotes; i++)
      if (d->pass->notes[i].array_id &&
          !idmap_get(&d->pass->note_of_array, d->pass->notes[i].array_id))
        idmap_put(&d->pass->note_of_array, d->pass->notes[i].array_id, (void *)(intptr_t)(i + 1));
    d->pass->last_pass = now;
  } else if (r == 0) {
    /* A quick pass's verdicts replace those of the jobs it looked at; a
     * full pass follows within QCACHE_MAX_AGE_MS for the rest. */
    for (size_t i = 0; i < p.nqueued; i++) {
      struct sched_note key = {.id = p.queued[i].id};
      struct sched_note *n = bsearch(&key, d->pass->notes, d->pass->nnotes, sizeof(key), cmp_note);
      if (n)
        note_set(n, &p.queued[i], &res.verdict[i]);
    }
    uv_timer_start(&d->pass->refresh_timer, on_refresh_timer, QCACHE_MAX_AGE_MS, 0);
  }
  if (r == 0) {
    d->pass->reserved_id = res.reserved_id;
    d->pass->reserved_time = res.reserved_time;
    if ((res.nstarts + res.nfollows > 0 || (!quick && ready_count(d))) && can_start) {
      if (start_jobs(d, &p, &res, !quick, now) == 0)
        qcache_consume(d, res.starts, res.nstarts, pos);
      else
        d->pass->qcache_valid = false;
    }
  } else
    log_error("scheduling pass: out of memory");
  free(res.verdict);
  free(res.starts);
  free(res.order);
  free(res.follows);
  free(slots);
  free(users);
  free(queues);
out:
  free(saved);
  free(pos);
  free(p.running);
  free(p.queued);
  return kind;
}

static void
run_pass(struct boxqd *d) {
  d->pass->sched_pending = false;
  waiters_check(d); /* whatever asked for this pass may have finished a job */
  uint64_t start = uv_hrtime();
  struct timing *kind = sched_pass(d);
  uint64_t took_us = (uv_hrtime() - start) / 1000;
  if (kind)
    timing_add(kind, took_us);
  if (d->waiters)
    waiters_check(d); /* the pass may have started a job a qsub -I waits for */
  uint64_t took_ms = (uv_hrtime() - start) / 1000000;
  /* A pass over a huge queue costs tens of milliseconds: the next one
   * then waits as long, so that passes never take more than half of the
   * daemon's time however fast requests arrive. Cheap passes are not
   * held back: each job's end wants one, to start the next job. */
  uv_update_time(d->loop);
  d->pass->next_pass_ms = uv_now(d->loop) + (took_ms >= 2 ? took_ms : 0);
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
  return !d->stopping && uv_now(d->loop) >= d->pass->next_pass_ms;
}

bool
sched_pass_now(struct boxqd *d) {
  if (!pass_due(d) || uv_is_active((uv_handle_t *)&d->pass->sched_timer))
    return false;
  uv_idle_stop(&d->pass->sched_idle);
  run_pass(d);
  return true;
}

void
sched_request_quick_pass(struct boxqd *d) {
  if (d->pass->sched_pending || d->stopping)
    return;
  d->pass->sched_pending = true;
  if (pass_due(d))
    uv_idle_start(&d->pass->sched_idle, on_sched_idle);
  else
    uv_timer_start(&d->pass->sched_timer, on_sched_timer, d->pass->next_pass_ms - uv_now(d->loop),
                   0);
}

void
sched_request_pass(struct boxqd *d) {
  d->pass->queue_changed = true;
  sched_request_quick_pass(d);
}

void
sched_pass_init(struct boxqd *d) {
  d->pass = xcalloc(1, sizeof(*d->pass));
  uv_idle_init(d->loop, &d->pass->sched_idle);
  d->pass->sched_idle.data = d;
  uv_timer_init(d->loop, &d->pass->sched_timer);
  d->pass->sched_timer.data = d;
  uv_timer_init(d->loop, &d->pass->refresh_timer);
  d->pass->refresh_timer.data = d;
}

void
sched_pass_stop(struct boxqd *d) {
  uv_close((uv_handle_t *)&d->pass->sched_idle, NULL);
  uv_timer_stop(&d->pass->sched_timer);
  uv_close((uv_handle_t *)&d->pass->sched_timer, NULL);
  uv_timer_stop(&d->pass->refresh_timer);
  uv_close((uv_handle_t *)&d->pass->refresh_timer, NULL);
}

void
sched_pass_free(struct boxqd *d) {
  if (!d->pass)
    return;
  free(d->pass->qcache);
  free(d->pass->notes);
  idmap_free(&d->pass->note_of_array);
  free(d->pass);
  d->pass = NULL;
}

void
sched_queue_changed(struct boxqd *d) {
  if (d->pass)
    d->pass->queue_changed = true;
}

void
sched_forget_ranking(struct boxqd *d) {
  if (d->pass)
    d->pass->qcache_valid = false;
}

bool
sched_reservation(const struct boxqd *d, int64_t *ret_id, int64_t *ret_time) {
  if (!d->pass || d->pass->reserved_time == SCHED_NEVER || !d->pass->reserved_id)
    return false;
  *ret_id = d->pass->reserved_id;
  *ret_time = d->pass->reserved_time;
  return true;
}

void
sched_job_left_queue(struct boxqd *d, int64_t id, int64_t array_id) {
  struct pass_state *ps = d->pass;
  if (!ps || !ps->qcache_valid)
    return;
  /* Handed ahead means ranked near the head: found within a few entries. */
  for (size_t k = ps->qcache_first; k < ps->nqcache; k++) {
    struct sched_job *c = &ps->qcache[k];
    if (c->count < 0 || (array_id ? c->array_id != array_id : c->id != id))
      continue;
    qcache_take(ps, k);
    return;
  }
}

/* For qstat -B -f: how long passes take. */
char *
sched_pass_status(const struct boxqd *d) {
  const struct timing *t[] = {&d->pass->full_timing, &d->pass->quick_timing};
  const char *name[] = {"full", "quick"};
  char *text = xstrdup("");
  for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
    char *old = text;
    _cleanup_free_ char *buckets = timing_buckets_text(t[i]);
    text =
        xasprintf("%ssched_%s_passes=%llu\nsched_%s_pass_p50_ms=%.3f\n"
                  "sched_%s_pass_p99_ms=%.3f\nsched_%s_pass_max_ms=%.3f\n"
                  "sched_%s_pass_sum_us=%llu\nsched_%s_pass_buckets_us=%s\n",
                  old, name[i], (unsigned long long)t[i]->n, name[i],
                  (double)timing_percentile(t[i], 50) / 1000, name[i],
                  (double)timing_percentile(t[i], 99) / 1000, name[i], (double)t[i]->max_us / 1000,
                  name[i], (unsigned long long)t[i]->sum_us, name[i], buckets);
    free(old);
  }
  return text;
}
