/* SPDX-License-Identifier: MIT */
/* Scheduling policy: which queued jobs start now, and why the others wait.
 * Pure: no I/O and no clock (the caller passes "now"), so tests can play
 * out whole days of submissions exactly.
 *
 * The model is Slurm's multifactor priority with EASY backfill, made small:
 *   priority = w_queue * queue + w_fairshare * fairshare + w_age * age
 *            + w_size * size + w_job * job              (factors in [0, 1])
 * Jobs are tried in priority order. A job blocked by a limit (queue
 * stopped, queue or per-user caps, array cap) is skipped. The first job
 * blocked only by free CPUs/memory/devices gets a reservation: the
 * earliest time the running jobs' walltimes guarantee room for it. Later
 * jobs may start (backfill) only if they fit now and either end, by their
 * walltime, before that time, or fit in what the reserved job leaves over
 * then, or take only what it leaves over now, of resources it is not
 * waiting for (a CPU job behind a job waiting for a GPU: whatever the
 * walltimes); so the reserved job never starts later because of them.
 *
 * The ready set: a job that would start next into a running job's place
 * (or the place of a job this pass starts) is planned to follow it, and
 * handed to the worker, which starts it the moment a place it fits frees,
 * without a round trip through boxqd (HTCondor reuses a claim for the
 * same user's next job in the same way). It fits a place one for one:
 * same user, same queue, no more CPUs or memory (and for a job held back
 * by its array's %N, the same array), so no limit is ever exceeded when
 * it starts. The order holds: jobs are planned in priority order, and
 * planning stops at the first job that would take the next free
 * resources (blocked by resources or a queue limit) but has no place to
 * follow into; only jobs kept back by their own user's or array's limit,
 * which no other user's end frees, are passed over. */
#pragma once

#include "jobref.h" /* enum dep_kind */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_NEVER INT64_MAX
/* Device classes (devices.h): each a consumable count. */
#define SCHED_DEV_MAX 8

/* Consumable resources of the box. */
struct sched_capacity {
  int64_t ncpus;
  int64_t mem;
  int32_t dev[SCHED_DEV_MAX]; /* devices of each class */
};

/* Limits of one queue; 0 means "no limit". */
struct sched_queue {
  int64_t priority;
  bool started; /* false: its jobs stay queued */
  int64_t max_running, max_running_ncpus, max_running_mem;
  int64_t max_user_running, max_user_ncpus, max_user_mem;
};

enum sched_factor {
  SF_QUEUE,
  SF_FAIRSHARE,
  SF_AGE,
  SF_SIZE,
  SF_JOB, /* qsub -p */
  SF_MAX,
};

struct sched_params {
  double weight[SF_MAX];
  int64_t max_age; /* seconds of waiting at which the age factor is 1 */
  bool backfill;   /* false: strict priority order */
};

/* A queued or running job as the policy sees it. */
struct sched_job {
  int64_t id;
  uint32_t user;  /* index into sched_input.users */
  uint32_t queue; /* index into sched_input.queues */
  int64_t ncpus, mem;
  int64_t walltime;           /* seconds; 0 = unlimited (no known end) */
  int64_t job_priority;       /* qsub -p: -1024..1023 */
  int64_t qtime;              /* queued since */
  int64_t stime;              /* running jobs: when it started */
  int64_t array_id;           /* 0, or the array the task belongs to */
  int64_t array_limit;        /* most tasks of that array running at once; 0 = any */
  int64_t count;              /* queued: identical jobs this entry stands for (an
                               * array's waiting tasks); 0 or 1 = one */
  int16_t dev[SCHED_DEV_MAX]; /* devices of each class; a job holding
                               * devices never follows into a place */
};

/* A user's accounted usage (CPU-seconds allocated), decayed to now. */
struct sched_user {
  double usage;
};

/* A job a queued one may be planned to follow: a running job, or one
 * already planned to follow another (depth: how many are ahead of it). */
struct sched_slot {
  struct sched_job job;
  unsigned depth;
};

struct sched_input {
  struct sched_capacity cap;
  const struct sched_queue *queues;
  size_t nqueues;
  const struct sched_user *users;
  size_t nusers;
  const struct sched_job *running;
  size_t nrunning;
  const struct sched_job *queued;
  size_t nqueued;
  struct sched_params params;
  int64_t now;
  /* The ready set: running jobs' places (none: no ready set), and how
   * many planned jobs may queue behind one place (lookahead). */
  const struct sched_slot *slots;
  size_t nslots;
  unsigned max_depth;
};

/* Why a queued job did not start in a pass. */
enum sched_reason {
  SR_NONE = 0,
  SR_START,         /* chosen to start */
  SR_PRIORITY,      /* fits, but would delay a higher-priority job */
  SR_RESOURCES,     /* not enough free CPUs, memory or devices */
  SR_RESERVED,      /* the top job: resources are reserved for it */
  SR_TOO_BIG,       /* more than the whole box */
  SR_QUEUE_STOPPED, /* its queue is not started */
  SR_QUEUE_RUNNING, /* queue's max_running reached */
  SR_QUEUE_NCPUS,   /* queue's max_running_ncpus reached */
  SR_QUEUE_MEM,     /* queue's max_running_mem reached */
  SR_USER_RUNNING,  /* user's max_user_running in the queue reached */
  SR_USER_NCPUS,    /* user's max_user_ncpus in the queue reached */
  SR_USER_MEM,      /* user's max_user_mem in the queue reached */
  SR_ARRAY_LIMIT,   /* its array's %N cap reached */
  SR_MAX,
};

/* Whether a job kept back for this reason takes the next resources any
 * job's end frees (not: its own user's or array's limit, a stopped queue,
 * a job too big for the box). */
bool sched_waits_for_any_end(enum sched_reason r);

/* A short sentence for qstat's comment. */
const char *sched_reason_text(enum sched_reason r);

struct sched_verdict {
  double priority;
  double factor[SF_MAX];
  uint8_t reason; /* enum sched_reason */
};

/* A queued job planned to follow another (for the ready set): queued's
 * entry (once per job, as starts), and whose place it is planned for: an
 * index into slots, then (nslots + k) the pass's k-th start, then the
 * jobs planned before it in the same pass. */
struct sched_follow {
  size_t queued;
  size_t slot;
};

struct sched_result {
  struct sched_verdict *verdict; /* [nqueued], caller-allocated */
  size_t *starts;                /* [max_starts], caller-allocated: indexes into queued, an
                                  * entry with count > 1 once per job started from it */
  size_t max_starts;             /* 0: nqueued */
  size_t *order;                 /* [nqueued], caller-allocated, or NULL: queued's indexes in
                                  * the order the pass considered them, best first */
  size_t nstarts;
  struct sched_follow *follows; /* [max_follows], caller-allocated, or NULL */
  size_t max_follows, nfollows;
  int64_t reserved_id;   /* the job holding the reservation, or 0 */
  int64_t reserved_time; /* its guaranteed start, or SCHED_NEVER if unknown */
};

/* Plans one pass. Allocates only scratch memory; returns -ENOMEM if that
 * fails (no result then), else 0. */
int sched_plan(const struct sched_input *in, struct sched_result *res);

/* The fair-share factor of each user in [0, 1] (users[] order), from
 * decayed usage plus what running jobs have held so far: 2^(-U/S), U the
 * user's part of the active users' usage, S an equal share among them. */
void sched_fairshare(const struct sched_input *in, double *factor /* [nusers] */);

/* One job's priority and its factors, given its user's fair-share factor. */
double sched_priority(const struct sched_input *in, const struct sched_job *j, double fairshare,
                      double factor[SF_MAX]);

/* Usage decayed by dt seconds with the given half-life (0: never decays). */
double sched_decay(double usage, int64_t dt, int64_t half_life);

/* True if a job could ever run on this box. */
bool sched_fits_box(const struct sched_capacity *cap, const struct sched_job *j);

/* ---- dependencies (qsub -W depend=...) ---- */

enum dep_status { DEP_PENDING, DEP_SATISFIED, DEP_NEVER };

/* What a dependency of this kind on a job in this state means now.
 * started: the job (or any task of an array) has begun. finished: it has
 * ended (an array: every task), ok: it completed with exit status 0
 * (an array: every task did). */
enum dep_status sched_dep_status(enum dep_kind kind, bool started, bool finished, bool ok);
/* Combines the statuses of a job's dependencies: all satisfied, or never
 * as soon as one can never be, else pending. */
enum dep_status sched_dep_combine(enum dep_status a, enum dep_status b);
