/* SPDX-License-Identifier: MIT */
#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_text[SR_MAX] = {
    [SR_NONE] = "not considered yet",
    [SR_START] = "chosen to start now",
    [SR_PRIORITY] = "waiting for higher-priority jobs (starting now would delay them)",
    [SR_RESOURCES] = "waiting for free CPUs or memory",
    [SR_RESERVED] = "next to run: CPUs and memory are reserved for it",
    [SR_TOO_BIG] = "asks for more CPUs or memory than the server has for jobs",
    [SR_QUEUE_STOPPED] = "its queue is stopped",
    [SR_QUEUE_RUNNING] = "its queue's limit of running jobs (max_running) is reached",
    [SR_QUEUE_NCPUS] = "its queue's CPU limit (max_running_ncpus) is reached",
    [SR_QUEUE_MEM] = "its queue's memory limit (max_running_mem) is reached",
    [SR_USER_RUNNING] =
        "the user's limit of running jobs in the queue (max_user_running) is reached",
    [SR_USER_NCPUS] = "the user's CPU limit in the queue (max_user_ncpus) is reached",
    [SR_USER_MEM] = "the user's memory limit in the queue (max_user_mem) is reached",
    [SR_ARRAY_LIMIT] = "its array's limit of running tasks (%N) is reached",
};

const char *
sched_reason_text(enum sched_reason r) {
  return (unsigned)r < SR_MAX ? reason_text[r] : "unknown";
}

/* Whether j fits in what a holds. */
static bool
cap_fits(const struct sched_capacity *a, const struct sched_job *j) {
  if (j->ncpus > a->ncpus || j->mem > a->mem)
    return false;
  for (int c = 0; c < SCHED_DEV_MAX; c++)
    if (j->dev[c] > a->dev[c])
      return false;
  return true;
}

/* a less (sign -1) or plus (+1) what j holds. */
static void
cap_add(struct sched_capacity *a, const struct sched_job *j, int sign) {
  a->ncpus += sign * j->ncpus;
  a->mem += sign * j->mem;
  for (int c = 0; c < SCHED_DEV_MAX; c++)
    a->dev[c] += sign * j->dev[c];
}

/* Whether j takes only what is left over now: of each resource it uses,
 * no more than slack (what stays free once the reserved job has its
 * share), and none of a resource the reserved job waits for. */
static bool
in_slack(const struct sched_capacity *slack, const struct sched_job *j) {
  if ((j->ncpus && j->ncpus > slack->ncpus) || (j->mem && j->mem > slack->mem))
    return false;
  for (int c = 0; c < SCHED_DEV_MAX; c++)
    if (j->dev[c] && j->dev[c] > slack->dev[c])
      return false;
  return true;
}

bool
sched_fits_box(const struct sched_capacity *cap, const struct sched_job *j) {
  return cap_fits(cap, j);
}

double
sched_decay(double usage, int64_t dt, int64_t half_life) {
  if (half_life <= 0 || dt <= 0)
    return usage;
  return usage * exp2(-(double)dt / (double)half_life);
}

/* ---- fair share and priority ---- */

void
sched_fairshare(const struct sched_input *in, double *factor) {
  size_t nu = in->nusers;
  double *usage = calloc(nu ? nu : 1, sizeof(double));
  bool *active = calloc(nu ? nu : 1, sizeof(bool));
  if (!usage || !active) {
    for (size_t u = 0; u < nu; u++)
      factor[u] = 1.0;
    free(usage);
    free(active);
    return;
  }
  for (size_t u = 0; u < nu; u++)
    usage[u] = in->users[u].usage > 0 ? in->users[u].usage : 0;
  for (size_t i = 0; i < in->nrunning; i++) {
    const struct sched_job *j = &in->running[i];
    if (j->user >= nu)
      continue;
    active[j->user] = true;
    if (in->now > j->stime)
      usage[j->user] += (double)j->ncpus * (double)(in->now - j->stime);
  }
  for (size_t i = 0; i < in->nqueued; i++)
    if (in->queued[i].user < nu)
      active[in->queued[i].user] = true;
  double total = 0;
  size_t nactive = 0;
  for (size_t u = 0; u < nu; u++)
    if (active[u]) {
      total += usage[u];
      nactive++;
    }
  for (size_t u = 0; u < nu; u++) {
    if (!active[u] || total <= 0 || nactive == 0)
      factor[u] = 1.0;
    else
      factor[u] = exp2(-(usage[u] / total) * (double)nactive);
  }
  free(usage);
  free(active);
}

double
sched_priority(const struct sched_input *in, const struct sched_job *j, double fairshare,
               double factor[SF_MAX]) {
  int64_t top = 0;
  for (size_t q = 0; q < in->nqueues; q++)
    if (in->queues[q].priority > top)
      top = in->queues[q].priority;
  double qf = 0;
  if (top > 0 && j->queue < in->nqueues && in->queues[j->queue].priority > 0)
    qf = (double)in->queues[j->queue].priority / (double)top;
  double age = 0;
  if (in->now > j->qtime)
    age = in->params.max_age > 0 ? (double)(in->now - j->qtime) / (double)in->params.max_age : 1;
  if (age > 1)
    age = 1;
  double size = in->cap.ncpus > 0 ? (double)j->ncpus / (double)in->cap.ncpus : 0;
  if (size > 1)
    size = 1;
  int64_t p = j->job_priority < -1024 ? -1024 : j->job_priority > 1023 ? 1023 : j->job_priority;
  double f[SF_MAX] = {
      [SF_QUEUE] = qf,
      [SF_FAIRSHARE] = fairshare,
      [SF_AGE] = age,
      [SF_SIZE] = size,
      [SF_JOB] = (double)(p + 1024) / 2047.0,
  };
  double prio = 0;
  for (int k = 0; k < SF_MAX; k++) {
    prio += in->params.weight[k] * f[k];
    if (factor)
      factor[k] = f[k];
  }
  return prio;
}

/* ---- the pass ---- */

struct counter {
  int64_t n, ncpus, mem;
};

struct array_count {
  int64_t id, running;
};

static int
cmp_array(const void *a, const void *b) {
  const struct array_count *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

struct plan {
  const struct sched_input *in;
  struct sched_verdict *v;
  struct counter *per_queue;      /* [nqueues] */
  struct counter *per_user_queue; /* [nqueues * nusers] */
  struct array_count *arrays;
  size_t narrays;
  struct sched_job *holding; /* running jobs plus those started in this pass */
  size_t nholding;
};

static struct array_count *
array_of(struct plan *p, int64_t id) {
  struct array_count key = {id, 0};
  return bsearch(&key, p->arrays, p->narrays, sizeof(key), cmp_array);
}

static struct counter *
user_counter(struct plan *p, const struct sched_job *j) {
  if (j->queue >= p->in->nqueues || j->user >= p->in->nusers)
    return NULL;
  return &p->per_user_queue[(size_t)j->queue * p->in->nusers + j->user];
}

/* Counts a job as holding resources (running, or started in this pass). */
static void
account(struct plan *p, const struct sched_job *j) {
  if (j->queue < p->in->nqueues) {
    struct counter *q = &p->per_queue[j->queue];
    q->n++;
    q->ncpus += j->ncpus;
    q->mem += j->mem;
  }
  struct counter *u = user_counter(p, j);
  if (u) {
    u->n++;
    u->ncpus += j->ncpus;
    u->mem += j->mem;
  }
  if (j->array_id) {
    struct array_count *a = array_of(p, j->array_id);
    if (a)
      a->running++;
  }
  p->holding[p->nholding++] = *j;
}

static bool
over(int64_t limit, int64_t have, int64_t add) {
  return limit > 0 && have + add > limit;
}

/* The first limit (other than free resources) that keeps j from starting. */
static enum sched_reason
limit_reason(struct plan *p, const struct sched_job *j) {
  const struct sched_input *in = p->in;
  if (!sched_fits_box(&in->cap, j))
    return SR_TOO_BIG;
  if (j->queue < in->nqueues) {
    const struct sched_queue *q = &in->queues[j->queue];
    const struct counter *qc = &p->per_queue[j->queue];
    if (!q->started)
      return SR_QUEUE_STOPPED;
    if (over(q->max_running, qc->n, 1))
      return SR_QUEUE_RUNNING;
    if (over(q->max_running_ncpus, qc->ncpus, j->ncpus))
      return SR_QUEUE_NCPUS;
    if (over(q->max_running_mem, qc->mem, j->mem))
      return SR_QUEUE_MEM;
    const struct counter *uc = user_counter(p, j);
    if (uc && over(q->max_user_running, uc->n, 1))
      return SR_USER_RUNNING;
    if (uc && over(q->max_user_ncpus, uc->ncpus, j->ncpus))
      return SR_USER_NCPUS;
    if (uc && over(q->max_user_mem, uc->mem, j->mem))
      return SR_USER_MEM;
  }
  if (j->array_id && j->array_limit > 0) {
    struct array_count *a = array_of(p, j->array_id);
    if (a && a->running >= j->array_limit)
      return SR_ARRAY_LIMIT;
  }
  return SR_NONE;
}

struct ending {
  int64_t time;
  const struct sched_job *job;
};

static int
cmp_ending(const void *a, const void *b) {
  const struct ending *x = a, *y = b;
  return (x->time > y->time) - (x->time < y->time);
}

/* The reservation for job j: the earliest time at which the walltimes of
 * the jobs holding resources guarantee room for it, and what is left over
 * at that time. A holder without a walltime has no known end. */
static int
reserve(struct plan *p, const struct sched_job *j, struct sched_capacity free_now,
        int64_t *ret_time, struct sched_capacity *ret_extra) {
  struct ending *e = malloc((p->nholding ? p->nholding : 1) * sizeof(*e));
  if (!e)
    return -ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < p->nholding; i++) {
    const struct sched_job *h = &p->holding[i];
    if (h->walltime <= 0)
      continue;
    int64_t end = h->stime + h->walltime;
    e[n++] = (struct ending){end < p->in->now ? p->in->now : end, h};
  }
  qsort(e, n, sizeof(*e), cmp_ending);
  struct sched_capacity avail = free_now;
  *ret_time = SCHED_NEVER;
  for (size_t i = 0; i < n; i++) {
    cap_add(&avail, e[i].job, +1);
    /* Everything ending at the same second frees at once. */
    if (i + 1 < n && e[i + 1].time == e[i].time)
      continue;
    if (cap_fits(&avail, j)) {
      *ret_time = e[i].time;
      break;
    }
  }
  *ret_extra = avail;
  cap_add(ret_extra, j, -1);
  free(e);
  return 0;
}

/* Priority order: higher first, then the longer-waiting, then the older id. */
static int
cmp_order(const void *a, const void *b, void *ctx) {
  const struct plan *p = ctx;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  double px = p->v[x].priority, py = p->v[y].priority;
  if (px != py)
    return px > py ? -1 : 1;
  const struct sched_job *jx = &p->in->queued[x], *jy = &p->in->queued[y];
  if (jx->qtime != jy->qtime)
    return jx->qtime < jy->qtime ? -1 : 1;
  return (jx->id > jy->id) - (jx->id < jy->id);
}

static int
collect_arrays(struct plan *p) {
  const struct sched_input *in = p->in;
  size_t n = 0;
  for (size_t i = 0; i < in->nrunning; i++)
    n += in->running[i].array_id != 0;
  for (size_t i = 0; i < in->nqueued; i++)
    n += in->queued[i].array_id != 0;
  p->arrays = malloc((n ? n : 1) * sizeof(*p->arrays));
  if (!p->arrays)
    return -ENOMEM;
  n = 0;
  for (size_t i = 0; i < in->nrunning; i++)
    if (in->running[i].array_id)
      p->arrays[n++] = (struct array_count){in->running[i].array_id, 0};
  for (size_t i = 0; i < in->nqueued; i++)
    if (in->queued[i].array_id)
      p->arrays[n++] = (struct array_count){in->queued[i].array_id, 0};
  qsort(p->arrays, n, sizeof(*p->arrays), cmp_array);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || p->arrays[u - 1].id != p->arrays[i].id)
      p->arrays[u++] = p->arrays[i];
  p->narrays = u;
  return 0;
}

/* ---- successors ---- */

/* Then no later job may be planned ahead of it. Its own user's or
 * array's limit frees only when one of its own ends. */
bool
sched_waits_for_any_end(enum sched_reason why) {
  switch (why) {
    case SR_USER_RUNNING:
    case SR_USER_NCPUS:
    case SR_USER_MEM:
    case SR_ARRAY_LIMIT:
    case SR_TOO_BIG:
    case SR_QUEUE_STOPPED:
    case SR_START:
      return false;
    default:
      return true;
  }
}

static bool
any_devices(const struct sched_job *j) {
  for (int c = 0; c < SCHED_DEV_MAX; c++)
    if (j->dev[c])
      return true;
  return false;
}

/* The place for j to follow into: same user and queue, at least its CPUs
 * and memory, the same array if its array has a %N cap, not taken; the
 * shallowest, then the longest running. */
static size_t
find_slot(const struct sched_slot *slots, size_t n, const bool *taken, const struct sched_job *j,
          unsigned max_depth) {
  size_t best = SIZE_MAX;
  for (size_t s = 0; s < n; s++) {
    const struct sched_job *h = &slots[s].job;
    if (taken[s] || slots[s].depth >= max_depth || h->user != j->user || h->queue != j->queue ||
        h->ncpus < j->ncpus || h->mem < j->mem || any_devices(j) ||
        (j->array_limit > 0 && h->array_id != j->array_id))
      continue;
    if (best == SIZE_MAX || slots[s].depth < slots[best].depth ||
        (slots[s].depth == slots[best].depth && h->stime < slots[best].job.stime))
      best = s;
  }
  return best;
}

/* Plans successors over the pass's order (see policy.h); nstarted[i] is
 * how many jobs entry i started in this pass. */
static int
plan_successors(const struct plan *p, const size_t *order, const size_t *nstarted,
                struct sched_result *res) {
  const struct sched_input *in = p->in;
  res->nfollows = 0;
  if (!res->follows || !res->max_follows || !in->max_depth)
    return 0;
  /* The jobs this pass starts are places too, and each planned successor
   * is a place to follow in turn. */
  size_t cap = in->nslots + res->nstarts + res->max_follows;
  struct sched_slot *slots = malloc(cap * sizeof(*slots));
  bool *taken = calloc(cap, sizeof(bool));
  if (!slots || !taken) {
    free(slots);
    free(taken);
    return -ENOMEM;
  }
  memcpy(slots, in->slots, in->nslots * sizeof(*slots));
  size_t nslots = in->nslots;
  for (size_t k = 0; k < res->nstarts; k++) {
    struct sched_job started = in->queued[res->starts[k]];
    started.stime = in->now;
    slots[nslots++] = (struct sched_slot){.job = started};
  }
  for (size_t k = 0; k < in->nqueued && res->nfollows < res->max_follows; k++) {
    size_t i = order[k];
    const struct sched_job *j = &in->queued[i];
    enum sched_reason why = (enum sched_reason)p->v[i].reason;
    int64_t left = (j->count > 1 ? j->count : 1) - (int64_t)nstarted[i];
    if (left <= 0 || why == SR_TOO_BIG || why == SR_QUEUE_STOPPED)
      continue;
    if (why == SR_NONE)
      break; /* the pass stopped before it (max_starts) */
    for (; left > 0 && res->nfollows < res->max_follows; left--) {
      size_t s = find_slot(slots, nslots, taken, j, in->max_depth);
      if (s == SIZE_MAX) {
        /* SR_START: the rest of an entry partly started in this pass,
         * held back for a reason not recorded: taken as the next place's. */
        if (sched_waits_for_any_end(why) || why == SR_START)
          goto out;
        break;
      }
      taken[s] = true;
      res->follows[res->nfollows++] = (struct sched_follow){.queued = i, .slot = s};
      struct sched_job next = *j;
      next.stime = in->now;
      slots[nslots++] = (struct sched_slot){.job = next, .depth = slots[s].depth + 1};
    }
  }
out:
  free(slots);
  free(taken);
  return 0;
}

int
sched_plan(const struct sched_input *in, struct sched_result *res) {
  struct plan p = {.in = in, .v = res->verdict};
  size_t nq = in->nqueued, nu = in->nusers;
  double *fs = malloc((nu ? nu : 1) * sizeof(double));
  size_t *order = malloc((nq ? nq : 1) * sizeof(size_t));
  p.per_queue = calloc(in->nqueues ? in->nqueues : 1, sizeof(struct counter));
  p.per_user_queue = calloc(in->nqueues * nu + 1, sizeof(struct counter));
  size_t max_starts = res->max_starts ? res->max_starts : nq;
  p.holding = malloc((in->nrunning + max_starts + 1) * sizeof(struct sched_job));
  int r = -ENOMEM;
  if (!fs || !order || !p.per_queue || !p.per_user_queue || !p.holding || collect_arrays(&p) < 0)
    goto out;

  res->nstarts = 0;
  res->reserved_id = 0;
  res->reserved_time = SCHED_NEVER;
  struct sched_capacity free_now = in->cap;
  for (size_t i = 0; i < in->nrunning; i++) {
    cap_add(&free_now, &in->running[i], -1);
    account(&p, &in->running[i]);
  }

  sched_fairshare(in, fs);
  for (size_t i = 0; i < nq; i++) {
    const struct sched_job *j = &in->queued[i];
    p.v[i].reason = SR_NONE;
    p.v[i].priority = sched_priority(in, j, j->user < nu ? fs[j->user] : 1.0, p.v[i].factor);
    order[i] = i;
  }
  qsort_r(order, nq, sizeof(size_t), cmp_order, &p);
  if (res->order && nq)
    memcpy(res->order, order, nq * sizeof(size_t));

  bool reserved = false, blocked = false;
  int64_t shadow = SCHED_NEVER;
  struct sched_capacity extra = {0}, slack = {0};
  for (size_t k = 0; k < nq && res->nstarts < max_starts; k++) {
    size_t i = order[k];
    const struct sched_job *j = &in->queued[i];
    /* An entry may stand for several identical jobs (an array's tasks):
     * each copy goes through the same checks, in turn. A reason is kept
     * only if no copy started. */
    int64_t copies = j->count > 1 ? j->count : 1;
    for (int64_t c = 0; c < copies && res->nstarts < max_starts; c++) {
      enum sched_reason why = limit_reason(&p, j);
      if (why != SR_NONE) {
        if (c == 0)
          p.v[i].reason = (uint8_t)why;
        break;
      }
      bool fits = cap_fits(&free_now, j);
      if (blocked) {
        /* Behind the top job: backfill only what cannot delay it. */
        if (!fits) {
          if (c == 0)
            p.v[i].reason = SR_RESOURCES;
          break;
        }
        bool ends_before =
            j->walltime > 0 && shadow != SCHED_NEVER && in->now + j->walltime <= shadow;
        bool in_extra = reserved && cap_fits(&extra, j);
        if (!in->params.backfill || (!ends_before && !in_extra && !in_slack(&slack, j))) {
          if (c == 0)
            p.v[i].reason = SR_PRIORITY;
          break;
        }
        if (!ends_before) {
          /* Both budgets shrink: the reserved job still fits at its time
           * and, of what it does not wait for, now. */
          cap_add(&extra, j, -1);
          cap_add(&slack, j, -1);
        }
      } else if (!fits) {
        blocked = true;
        if (c == 0)
          p.v[i].reason = SR_RESERVED;
        if (in->params.backfill) {
          r = reserve(&p, j, free_now, &shadow, &extra);
          if (r < 0)
            goto out;
          /* With no known start there is nothing to backfill against
           * but what it leaves over now of what it is not waiting for. */
          reserved = shadow != SCHED_NEVER;
          slack = free_now;
          cap_add(&slack, j, -1);
        }
        res->reserved_id = j->id;
        res->reserved_time = shadow;
        break;
      }
      p.v[i].reason = SR_START;
      cap_add(&free_now, j, -1);
      struct sched_job started = *j;
      started.stime = in->now;
      account(&p, &started);
      res->starts[res->nstarts++] = i;
    }
  }
  if (res->follows && res->max_follows) {
    size_t *nstarted = calloc(nq ? nq : 1, sizeof(size_t));
    if (!nstarted) {
      r = -ENOMEM;
      goto out;
    }
    for (size_t s = 0; s < res->nstarts; s++)
      nstarted[res->starts[s]]++;
    r = plan_successors(&p, order, nstarted, res);
    free(nstarted);
    if (r < 0)
      goto out;
  } else
    res->nfollows = 0;
  r = 0;
out:
  free(fs);
  free(order);
  free(p.per_queue);
  free(p.per_user_queue);
  free(p.holding);
  free(p.arrays);
  return r;
}

/* ---- dependencies ---- */

enum dep_status
sched_dep_status(enum dep_kind kind, bool started, bool finished, bool ok) {
  switch (kind) {
    case DEP_AFTER:
      if (started)
        return DEP_SATISFIED;
      return finished ? DEP_NEVER : DEP_PENDING; /* ended without ever starting */
    case DEP_AFTEROK:
      return !finished ? DEP_PENDING : ok ? DEP_SATISFIED : DEP_NEVER;
    case DEP_AFTERNOTOK:
      return !finished ? DEP_PENDING : ok ? DEP_NEVER : DEP_SATISFIED;
    case DEP_AFTERANY:
      return finished ? DEP_SATISFIED : DEP_PENDING;
    default:
      return DEP_NEVER;
  }
}

enum dep_status
sched_dep_combine(enum dep_status a, enum dep_status b) {
  if (a == DEP_NEVER || b == DEP_NEVER)
    return DEP_NEVER;
  if (a == DEP_PENDING || b == DEP_PENDING)
    return DEP_PENDING;
  return DEP_SATISFIED;
}
