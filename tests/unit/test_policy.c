/* SPDX-License-Identifier: MIT */
/* The scheduling policy, single passes and whole simulated days: a small
 * discrete-event simulator plays submissions, starts and ends on a fake
 * clock and checks the order of starts exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"

#include <stdlib.h>
#include <string.h>

#define GB (INT64_C(1) << 30)

static const struct sched_queue open_queue = {.started = true};

/* Plain FIFO: no factor but age (so the older job is first). */
static struct sched_params
fifo_params(void) {
  struct sched_params p = {.max_age = 1000000, .backfill = true};
  p.weight[SF_AGE] = 1000;
  return p;
}

struct pass {
  struct sched_verdict v[64];
  size_t starts[64];
  struct sched_result res;
};

static void
plan(struct sched_input *in, struct pass *p) {
  p->res = (struct sched_result){.verdict = p->v, .starts = p->starts};
  assert_true(in->nqueued <= 64);
  assert_int_equal(sched_plan(in, &p->res), 0);
}

static struct sched_input
input(int64_t ncpus, int64_t mem, struct sched_job *q, size_t nq, struct sched_job *run,
      size_t nrun) {
  static struct sched_user users[4];
  return (struct sched_input){.cap = {ncpus, mem},
                              .queues = &open_queue,
                              .nqueues = 1,
                              .users = users,
                              .nusers = 4,
                              .running = run,
                              .nrunning = nrun,
                              .queued = q,
                              .nqueued = nq,
                              .params = fifo_params(),
                              .now = 1000};
}

static void
fills_up_to_capacity(void **state) {
  (void)state;
  struct sched_job q[] = {{.id = 1, .ncpus = 1, .mem = GB, .qtime = 1},
                          {.id = 2, .ncpus = 1, .mem = GB, .qtime = 2},
                          {.id = 3, .ncpus = 1, .mem = GB, .qtime = 3}};
  struct sched_input in = input(2, 4 * GB, q, 3, NULL, 0);
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 2);
  assert_int_equal(p.starts[0], 0);
  assert_int_equal(p.starts[1], 1);
  assert_int_equal(p.v[2].reason, SR_RESERVED);
  assert_int_equal(p.res.reserved_id, 3);
  /* No running job has a walltime: no guaranteed start. */
  assert_true(p.res.reserved_time == SCHED_NEVER);
}

static void
memory_is_consumable_too(void **state) {
  (void)state;
  struct sched_job run[] = {{.id = 9, .ncpus = 1, .mem = 3 * GB, .stime = 900, .walltime = 300}};
  struct sched_job q[] = {{.id = 1, .ncpus = 1, .mem = 2 * GB, .qtime = 1}};
  struct sched_input in = input(8, 4 * GB, q, 1, run, 1);
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 0);
  assert_int_equal(p.res.reserved_time, 1200); /* when job 9's walltime runs out */
  run[0].mem = 2 * GB;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 1);
}

static void
too_big_is_skipped_not_reserved(void **state) {
  (void)state;
  struct sched_job q[] = {{.id = 1, .ncpus = 16, .mem = GB, .qtime = 1},
                          {.id = 2, .ncpus = 1, .mem = GB, .qtime = 2}};
  struct sched_input in = input(4, 4 * GB, q, 2, NULL, 0);
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.v[0].reason, SR_TOO_BIG);
  assert_int_equal(p.res.nstarts, 1);
  assert_int_equal(p.starts[0], 1);
}

/* Queue priority outranks age; qsub -p orders a user's own jobs. */
static void
priority_factors_order_jobs(void **state) {
  (void)state;
  struct sched_queue queues[2] = {{.started = true, .priority = 0},
                                  {.started = true, .priority = 100}};
  struct sched_job q[] = {
      {.id = 1, .queue = 0, .ncpus = 1, .mem = 1, .qtime = 0},
      {.id = 2, .queue = 1, .ncpus = 1, .mem = 1, .qtime = 900},
      {.id = 3, .queue = 0, .ncpus = 1, .mem = 1, .qtime = 0, .job_priority = 1023},
  };
  struct sched_input in = input(1, GB, q, 3, NULL, 0);
  in.queues = queues;
  in.nqueues = 2;
  in.params.weight[SF_QUEUE] = 10000;
  in.params.weight[SF_JOB] = 1000;
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 1);
  assert_int_equal(p.starts[0], 1); /* the high-priority queue first */
  assert_float_equal(p.v[1].factor[SF_QUEUE], 1.0, 1e-9);
  assert_true(p.v[2].priority > p.v[0].priority); /* -p 1023 before -p 0 */
  assert_float_equal(p.v[2].factor[SF_JOB], 1.0, 1e-9);
  assert_float_equal(p.v[0].factor[SF_AGE], 1000.0 / 1000000.0, 1e-9);
}

static void
queue_and_user_limits(void **state) {
  (void)state;
  struct sched_queue q = {.started = true, .max_user_ncpus = 2, .max_running = 3};
  struct sched_job jobs[] = {
      {.id = 1, .user = 0, .ncpus = 1, .mem = 1, .qtime = 1},
      {.id = 2, .user = 0, .ncpus = 1, .mem = 1, .qtime = 2},
      {.id = 3, .user = 0, .ncpus = 1, .mem = 1, .qtime = 3},
      {.id = 4, .user = 1, .ncpus = 1, .mem = 1, .qtime = 4},
      {.id = 5, .user = 1, .ncpus = 1, .mem = 1, .qtime = 5},
  };
  struct sched_input in = input(8, 8 * GB, jobs, 5, NULL, 0);
  in.queues = &q;
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 3);
  assert_int_equal(p.v[0].reason, SR_START);
  assert_int_equal(p.v[1].reason, SR_START);
  assert_int_equal(p.v[2].reason, SR_USER_NCPUS);
  assert_int_equal(p.v[3].reason, SR_START);
  assert_int_equal(p.v[4].reason, SR_QUEUE_RUNNING);
  q.started = false;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 0);
  assert_int_equal(p.v[0].reason, SR_QUEUE_STOPPED);
  q = (struct sched_queue){.started = true, .max_user_mem = GB, .max_running_ncpus = 100};
  jobs[0].mem = GB;
  plan(&in, &p);
  assert_int_equal(p.v[1].reason, SR_USER_MEM);
  q = (struct sched_queue){.started = true, .max_running_mem = GB, .max_user_running = 5};
  plan(&in, &p);
  assert_int_equal(p.v[1].reason, SR_QUEUE_MEM);
  q = (struct sched_queue){.started = true, .max_running_ncpus = 1};
  plan(&in, &p);
  assert_int_equal(p.v[1].reason, SR_QUEUE_NCPUS);
  q = (struct sched_queue){.started = true, .max_user_running = 1};
  plan(&in, &p);
  assert_int_equal(p.v[1].reason, SR_USER_RUNNING);
  assert_int_equal(p.v[3].reason, SR_START);
  for (int r = 0; r < SR_MAX; r++)
    assert_non_null(strstr(sched_reason_text(r), " "));
}

/* ---- successors: the ready set's plan ---- */

struct follow_pass {
  struct pass p;
  struct sched_follow follows[16];
  struct sched_slot slots[8];
};

/* Plans with every running job as a place to follow into. */
static void
plan_follows(struct sched_input *in, struct follow_pass *f, unsigned max_depth, size_t max) {
  for (size_t i = 0; i < in->nrunning; i++)
    f->slots[i] = (struct sched_slot){.job = in->running[i]};
  in->slots = f->slots;
  in->nslots = in->nrunning;
  in->max_depth = max_depth;
  f->p.res = (struct sched_result){
      .verdict = f->p.v, .starts = f->p.starts, .follows = f->follows, .max_follows = max};
  assert_int_equal(sched_plan(in, &f->p.res), 0);
}

/* Two users' short jobs: each user's next jobs follow that user's own
 * running job, in priority order, two deep; nothing starts beside them. */
static void
successors_follow_their_users_jobs(void **state) {
  (void)state;
  struct sched_job run[] = {{.id = 1, .user = 0, .ncpus = 1, .mem = GB, .stime = 990},
                            {.id = 2, .user = 1, .ncpus = 1, .mem = GB, .stime = 995}};
  struct sched_job q[] = {{.id = 3, .user = 0, .ncpus = 1, .mem = GB, .qtime = 1},
                          {.id = 4, .user = 1, .ncpus = 1, .mem = GB, .qtime = 2},
                          {.id = 5, .user = 0, .ncpus = 1, .mem = GB, .qtime = 3},
                          {.id = 6, .user = 1, .ncpus = 1, .mem = GB, .qtime = 4},
                          {.id = 7, .user = 0, .ncpus = 1, .mem = GB, .qtime = 5}};
  struct sched_input in = input(2, 4 * GB, q, 5, run, 2);
  struct follow_pass f;
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.res.nstarts, 0);
  assert_int_equal(f.p.res.nfollows, 4);
  /* 3 after 1, 4 after 2, then 5 after 3 (the first planned: slot 2) and
   * 6 after 4 (slot 3); 7 would be a third behind 1: too deep, and it
   * then waits for the next free CPU, as before. */
  size_t want[][2] = {{0, 0}, {1, 1}, {2, 2}, {3, 3}};
  for (size_t k = 0; k < 4; k++) {
    assert_int_equal(f.follows[k].queued, want[k][0]);
    assert_int_equal(f.follows[k].slot, want[k][1]);
  }
  /* max_follows bounds them, depth 1 allows one each. */
  plan_follows(&in, &f, 2, 3);
  assert_int_equal(f.p.res.nfollows, 3);
  plan_follows(&in, &f, 1, 16);
  assert_int_equal(f.p.res.nfollows, 2);
  /* No places: none, and the pass is the same. */
  in.nslots = 0;
  assert_int_equal(sched_plan(&in, &f.p.res), 0);
  assert_int_equal(f.p.res.nfollows, 0);
  assert_int_equal(f.p.v[0].reason, SR_RESERVED);
}

/* The jobs a pass starts are places too: the next jobs are planned behind
 * them in the same pass (the ready set is full before they can end), after
 * the running jobs' places. */
static void
successors_follow_this_pass_starts(void **state) {
  (void)state;
  struct sched_job q[] = {{.id = 1, .user = 0, .ncpus = 1, .mem = GB, .qtime = 1},
                          {.id = 2, .user = 0, .ncpus = 1, .mem = GB, .qtime = 2},
                          {.id = 3, .user = 0, .ncpus = 1, .mem = GB, .qtime = 3},
                          {.id = 4, .user = 0, .ncpus = 1, .mem = GB, .qtime = 4}};
  struct sched_input in = input(2, 4 * GB, q, 4, NULL, 0);
  struct follow_pass f;
  plan_follows(&in, &f, 1, 16);
  assert_int_equal(f.p.res.nstarts, 2);
  assert_int_equal(f.p.res.nfollows, 2);
  /* 3 behind the first start (slot nslots + 0), 4 behind the second. */
  assert_int_equal(f.follows[0].queued, 2);
  assert_int_equal(f.follows[0].slot, 0);
  assert_int_equal(f.follows[1].queued, 3);
  assert_int_equal(f.follows[1].slot, 1);
  /* Without a ready set (max_follows 0), starts alone. */
  plan_follows(&in, &f, 1, 0);
  assert_int_equal(f.p.res.nstarts, 2);
  assert_int_equal(f.p.res.nfollows, 0);
}

/* A job that would take the next free CPUs but cannot follow anyone (other
 * user, or bigger) stops planning: nothing behind it goes first. */
static void
successors_never_overtake(void **state) {
  (void)state;
  struct sched_job run[] = {{.id = 1, .user = 0, .ncpus = 1, .mem = GB, .stime = 990}};
  struct sched_job q[] = {{.id = 2, .user = 2, .ncpus = 1, .mem = GB, .qtime = 1},
                          {.id = 3, .user = 0, .ncpus = 1, .mem = GB, .qtime = 2}};
  struct sched_input in = input(1, 4 * GB, q, 2, run, 1);
  struct follow_pass f;
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.res.nfollows, 0);
  /* Same user, but more CPUs or memory than the job it would follow. */
  q[0].user = 0;
  q[0].ncpus = 2;
  in.cap.ncpus = 2;
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.v[0].reason, SR_RESERVED);
  assert_int_equal(f.p.res.nfollows, 0);
  q[0].ncpus = 1;
  q[0].mem = 2 * GB;
  in.cap.ncpus = 1;
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.res.nfollows, 0);
  /* Another queue: not the same place. */
  static const struct sched_queue two[2] = {{.started = true}, {.started = true}};
  q[0].mem = GB;
  q[0].queue = 1;
  in.queues = two;
  in.nqueues = 2;
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.res.nfollows, 0);
  q[0].queue = 0;
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.res.nfollows, 2);
  assert_int_equal(f.follows[0].queued, 0);
  assert_int_equal(f.follows[1].queued, 1);
}

/* Jobs kept back by their own user's limit are passed over (only their own
 * user's end frees it); a queue limit, which any end frees, stops planning.
 * A job of an array with a %N cap follows only a task of that array. */
static void
successors_and_limits(void **state) {
  (void)state;
  struct sched_queue qu = {.started = true, .max_user_running = 1};
  struct sched_job run[] = {{.id = 1, .user = 0, .ncpus = 1, .mem = GB, .stime = 990},
                            {.id = 2, .user = 1, .ncpus = 1, .mem = GB, .stime = 990}};
  struct sched_job q[] = {{.id = 3, .user = 1, .ncpus = 1, .mem = GB, .qtime = 1},
                          {.id = 4, .user = 0, .ncpus = 1, .mem = GB, .qtime = 2}};
  struct sched_input in = input(4, 8 * GB, q, 2, run, 2);
  in.queues = &qu;
  struct follow_pass f;
  plan_follows(&in, &f, 2, 16);
  /* Only job 1 is a place (job 2's is taken, say): 3 is passed over. */
  in.nslots = 1;
  assert_int_equal(sched_plan(&in, &f.p.res), 0);
  assert_int_equal(f.p.v[0].reason, SR_USER_RUNNING);
  assert_int_equal(f.p.res.nfollows, 1);
  assert_int_equal(f.follows[0].queued, 1);
  /* A queue limit instead: 3 would take the next end's place; stop. */
  qu = (struct sched_queue){.started = true, .max_running = 2};
  assert_int_equal(sched_plan(&in, &f.p.res), 0);
  assert_int_equal(f.p.v[0].reason, SR_QUEUE_RUNNING);
  assert_int_equal(f.p.res.nfollows, 0);

  /* Array 50 (%1) has task 1 running; its waiting tasks follow it, not
   * user 0's plain job. */
  qu = (struct sched_queue){.started = true};
  struct sched_job arun[] = {
      {.id = 9, .user = 0, .ncpus = 1, .mem = GB, .stime = 980},
      {.id = 51, .user = 0, .ncpus = 1, .mem = GB, .stime = 990, .array_id = 50, .array_limit = 1}};
  struct sched_job aq[] = {{.id = 52,
                            .user = 0,
                            .ncpus = 1,
                            .mem = GB,
                            .qtime = 1,
                            .array_id = 50,
                            .array_limit = 1,
                            .count = 3}};
  in = input(2, 8 * GB, aq, 1, arun, 2);
  plan_follows(&in, &f, 2, 16);
  assert_int_equal(f.p.v[0].reason, SR_ARRAY_LIMIT);
  assert_int_equal(f.p.res.nfollows, 2);
  assert_int_equal(f.follows[0].slot, 1); /* task 51, though job 9 runs longer */
  assert_int_equal(f.follows[1].slot, 2); /* the task planned after it */
}

/* EASY backfill in one pass: the short job fits before the reservation,
 * the long and the unlimited ones do not; the one using only what the top
 * job leaves over may run as long as it likes. */
static void
backfill_respects_the_reservation(void **state) {
  (void)state;
  struct sched_job run[] = {{.id = 10, .ncpus = 3, .mem = GB, .stime = 1000, .walltime = 600}};
  struct sched_job q[] = {
      {.id = 1, .ncpus = 4, .mem = GB, .qtime = 1},                   /* top: waits for 10 */
      {.id = 2, .ncpus = 1, .mem = GB, .qtime = 2, .walltime = 3600}, /* would delay 1 */
      {.id = 3, .ncpus = 1, .mem = GB, .qtime = 3},                   /* unlimited */
      {.id = 4, .ncpus = 1, .mem = GB, .qtime = 4, .walltime = 600},  /* ends in time */
  };
  struct sched_input in = input(4, 8 * GB, q, 4, run, 1);
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.res.reserved_id, 1);
  assert_int_equal(p.res.reserved_time, 1600);
  assert_int_equal(p.v[0].reason, SR_RESERVED);
  assert_int_equal(p.v[1].reason, SR_PRIORITY);
  assert_int_equal(p.v[2].reason, SR_PRIORITY);
  assert_int_equal(p.v[3].reason, SR_START);
  assert_int_equal(p.res.nstarts, 1);

  /* On a 5-CPU box one CPU is left over at 1600: the long job may use it. */
  in.cap.ncpus = 5;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 2);
  assert_int_equal(p.v[1].reason, SR_START);    /* takes the spare CPU */
  assert_int_equal(p.v[2].reason, SR_PRIORITY); /* nothing spare left */
  assert_int_equal(p.v[3].reason, SR_START);

  /* Without backfill, strict order. */
  in.params.backfill = false;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 0);
}

static void
array_cap_limits_running_tasks(void **state) {
  (void)state;
  struct sched_job run[] = {{.id = 10, .ncpus = 1, .mem = 1, .array_id = 7, .array_limit = 2}};
  struct sched_job q[6];
  for (int i = 0; i < 6; i++)
    q[i] = (struct sched_job){.id = 11 + i,
                              .ncpus = 1,
                              .mem = 1,
                              .qtime = i,
                              .array_id = i < 4 ? 7 : 8,
                              .array_limit = i < 4 ? 2 : 0};
  struct sched_input in = input(16, GB, q, 6, run, 1);
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.res.nstarts, 3); /* one more of array 7, both of array 8 */
  assert_int_equal(p.v[0].reason, SR_START);
  assert_int_equal(p.v[1].reason, SR_ARRAY_LIMIT);
  assert_int_equal(p.v[3].reason, SR_ARRAY_LIMIT);
  assert_int_equal(p.v[4].reason, SR_START);
  assert_int_equal(p.v[5].reason, SR_START);
}

/* One entry for an array's waiting tasks: as many start as fit, within
 * the array's cap; the rest wait behind, reserved like any job. */
static void
array_entry_starts_copies(void **state) {
  (void)state;
  struct sched_job q[] = {
      {.id = 20, .ncpus = 1, .mem = 1, .qtime = 1, .array_id = 7, .array_limit = 3, .count = 10},
      {.id = 40, .ncpus = 1, .mem = 1, .qtime = 1, .array_id = 8, .count = 10},
      {.id = 60, .ncpus = 1, .mem = 1, .qtime = 2},
  };
  struct sched_input in = input(4, GB, q, 3, NULL, 0);
  struct sched_verdict v[3];
  size_t starts[16];
  struct sched_result res = {.verdict = v, .starts = starts, .max_starts = 16};
  assert_int_equal(sched_plan(&in, &res), 0);
  assert_int_equal(res.nstarts, 4); /* three of array 7 (its cap), one of array 8 */
  assert_int_equal(starts[0], 0);
  assert_int_equal(starts[2], 0);
  assert_int_equal(starts[3], 1);
  assert_int_equal(v[0].reason, SR_START);
  assert_int_equal(v[1].reason, SR_START);
  assert_int_equal(res.reserved_id, 40); /* the next task of array 8 */
  assert_int_equal(v[2].reason, SR_RESOURCES);
  /* max_starts bounds a pass. */
  res.max_starts = 2;
  assert_int_equal(sched_plan(&in, &res), 0);
  assert_int_equal(res.nstarts, 2);
}

static void
dependency_rules(void **state) {
  (void)state;
  /* started, finished, ok */
  assert_int_equal(sched_dep_status(DEP_AFTER, false, false, false), DEP_PENDING);
  assert_int_equal(sched_dep_status(DEP_AFTER, true, false, false), DEP_SATISFIED);
  assert_int_equal(sched_dep_status(DEP_AFTER, false, true, false), DEP_NEVER);
  assert_int_equal(sched_dep_status(DEP_AFTEROK, true, false, false), DEP_PENDING);
  assert_int_equal(sched_dep_status(DEP_AFTEROK, true, true, true), DEP_SATISFIED);
  assert_int_equal(sched_dep_status(DEP_AFTEROK, true, true, false), DEP_NEVER);
  assert_int_equal(sched_dep_status(DEP_AFTERNOTOK, true, true, false), DEP_SATISFIED);
  assert_int_equal(sched_dep_status(DEP_AFTERNOTOK, true, true, true), DEP_NEVER);
  assert_int_equal(sched_dep_status(DEP_AFTERNOTOK, false, true, false), DEP_SATISFIED);
  assert_int_equal(sched_dep_status(DEP_AFTERANY, true, true, false), DEP_SATISFIED);
  assert_int_equal(sched_dep_status(DEP_AFTERANY, true, false, false), DEP_PENDING);
  assert_int_equal(sched_dep_combine(DEP_SATISFIED, DEP_SATISFIED), DEP_SATISFIED);
  assert_int_equal(sched_dep_combine(DEP_SATISFIED, DEP_PENDING), DEP_PENDING);
  assert_int_equal(sched_dep_combine(DEP_PENDING, DEP_NEVER), DEP_NEVER);
}

static void
decay_halves_per_half_life(void **state) {
  (void)state;
  assert_float_equal(sched_decay(100, 3600, 3600), 50, 1e-9);
  assert_float_equal(sched_decay(100, 7200, 3600), 25, 1e-9);
  assert_float_equal(sched_decay(100, 7200, 0), 100, 1e-9);
}

/* ---- a simulated day ---- */

struct sim_job {
  int64_t id;
  uint32_t user, queue;
  int64_t ncpus, mem, walltime, runtime, submit, job_priority;
  int64_t array_id, array_limit;
  int dep;                /* index of the job it depends on, or -1 */
  enum dep_kind dep_kind; /* with dep */
  bool fails;             /* ends with a non-zero exit status */
  int16_t gpus;           /* devices of class 0 */
  /* outcome */
  bool started, done, never;
  int64_t start, end;
  int64_t promised; /* earliest reservation time it was given, or SCHED_NEVER */
};

struct sim {
  struct sim_job *jobs;
  size_t n;
  struct sched_capacity cap;
  const struct sched_queue *queues;
  size_t nqueues;
  struct sched_params params;
  int64_t half_life;
  double usage[4];
  int64_t usage_at[4];
  size_t npasses, nbackfilled, max_running_of_array;
  int64_t now;
  /* Devices: the most held at once, and GPU-seconds per user, accounted
   * as the jobs end (what qacct sums). */
  int64_t max_gpus_held;
  int64_t gpu_seconds[4];
};

static enum dep_status
sim_dep(const struct sim *s, const struct sim_job *j) {
  if (j->dep < 0)
    return DEP_SATISFIED;
  const struct sim_job *t = &s->jobs[j->dep];
  return sched_dep_status(j->dep_kind, t->started, t->done || t->never,
                          t->done && !t->fails && !t->never);
}

static void
sim_pass(struct sim *s) {
  struct sched_job *q = calloc(s->n, sizeof(*q)), *run = calloc(s->n, sizeof(*run));
  size_t *qi = calloc(s->n, sizeof(size_t));
  struct sched_verdict *v = calloc(s->n, sizeof(*v));
  size_t *starts = calloc(s->n, sizeof(size_t));
  size_t nq = 0, nrun = 0;
  struct sched_user users[4];
  for (int u = 0; u < 4; u++)
    users[u].usage = sched_decay(s->usage[u], s->now - s->usage_at[u], s->half_life);
  for (size_t i = 0; i < s->n; i++) {
    struct sim_job *j = &s->jobs[i];
    struct sched_job sj = {.id = j->id,
                           .user = j->user,
                           .queue = j->queue,
                           .ncpus = j->ncpus,
                           .mem = j->mem,
                           .walltime = j->walltime,
                           .job_priority = j->job_priority,
                           .qtime = j->submit,
                           .stime = j->start,
                           .array_id = j->array_id,
                           .array_limit = j->array_limit,
                           .dev = {j->gpus}};
    if (j->started && !j->done)
      run[nrun++] = sj;
    else if (!j->started && !j->never && j->submit <= s->now && sim_dep(s, j) == DEP_SATISFIED) {
      qi[nq] = i;
      q[nq++] = sj;
    }
  }
  struct sched_input in = {.cap = s->cap,
                           .queues = s->queues,
                           .nqueues = s->nqueues,
                           .users = users,
                           .nusers = 4,
                           .running = run,
                           .nrunning = nrun,
                           .queued = q,
                           .nqueued = nq,
                           .params = s->params,
                           .now = s->now};
  struct sched_result res = {.verdict = v, .starts = starts};
  assert_int_equal(sched_plan(&in, &res), 0);
  s->npasses++;
  const struct sched_job *top = NULL;
  for (size_t k = 0; k < nq; k++)
    if (q[k].id == res.reserved_id)
      top = &q[k];
  for (size_t k = 0; k < res.nstarts; k++) {
    struct sim_job *j = &s->jobs[qi[starts[k]]];
    j->started = true;
    j->start = s->now;
    j->end = s->now + j->runtime;
    /* Started although queued after the reserved job: backfilled. */
    if (top && (j->submit > top->qtime || (j->submit == top->qtime && j->id > top->id)))
      s->nbackfilled++;
  }
  for (size_t k = 0; k < nq; k++) {
    struct sim_job *j = &s->jobs[qi[k]];
    if (j->id == res.reserved_id && res.reserved_time < j->promised)
      j->promised = res.reserved_time;
  }
  /* Devices are never held beyond the box's. */
  int64_t held = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->jobs[i].started && !s->jobs[i].done)
      held += s->jobs[i].gpus;
  if (held > s->max_gpus_held)
    s->max_gpus_held = held;
  /* The array cap holds at every instant. */
  for (size_t i = 0; i < s->n; i++) {
    if (!s->jobs[i].array_id || !s->jobs[i].started || s->jobs[i].done)
      continue;
    size_t running = 0;
    for (size_t k = 0; k < s->n; k++)
      running +=
          s->jobs[k].array_id == s->jobs[i].array_id && s->jobs[k].started && !s->jobs[k].done;
    if (running > s->max_running_of_array)
      s->max_running_of_array = running;
  }
  free(q);
  free(run);
  free(qi);
  free(v);
  free(starts);
}

/* Runs until every job has ended or can never run; returns the makespan. */
static int64_t
sim_run(struct sim *s) {
  for (size_t i = 0; i < s->n; i++)
    s->jobs[i].promised = SCHED_NEVER;
  s->now = 0;
  for (;;) {
    /* Ends first, then what they unblock, then a pass. */
    for (size_t i = 0; i < s->n; i++) {
      struct sim_job *j = &s->jobs[i];
      if (j->started && !j->done && j->end <= s->now) {
        j->done = true;
        double used = (double)j->ncpus * (double)j->runtime;
        s->usage[j->user] =
            sched_decay(s->usage[j->user], s->now - s->usage_at[j->user], s->half_life) + used;
        s->usage_at[j->user] = s->now;
        s->gpu_seconds[j->user] += j->gpus * j->runtime;
      }
    }
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t i = 0; i < s->n; i++)
        if (!s->jobs[i].started && !s->jobs[i].never && sim_dep(s, &s->jobs[i]) == DEP_NEVER) {
          s->jobs[i].never = true;
          changed = true;
        }
    }
    sim_pass(s);
    int64_t next = INT64_MAX;
    bool pending = false;
    for (size_t i = 0; i < s->n; i++) {
      struct sim_job *j = &s->jobs[i];
      if (j->started && !j->done && j->end < next)
        next = j->end;
      if (!j->started && !j->never && j->submit > s->now && j->submit < next)
        next = j->submit;
      pending |= !j->done && !j->never;
    }
    if (!pending)
      break;
    assert_true(next != INT64_MAX); /* something must be able to happen */
    s->now = next;
  }
  int64_t makespan = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->jobs[i].done && s->jobs[i].end > makespan)
      makespan = s->jobs[i].end;
  return makespan;
}

static struct sim_job
sj(int64_t id, uint32_t user, int64_t ncpus, int64_t submit, int64_t runtime, int64_t walltime) {
  return (struct sim_job){.id = id,
                          .user = user,
                          .ncpus = ncpus,
                          .mem = 1,
                          .submit = submit,
                          .runtime = runtime,
                          .walltime = walltime,
                          .dep = -1};
}

/* Two users, one box: alice fills the queue first, bob arrives a second
 * later. Fair share lets bob in as soon as CPUs free up, and then the two
 * alternate instead of bob waiting for all of alice's jobs. */
static void
sim_fair_share_between_two_users(void **state) {
  (void)state;
  struct sim_job jobs[40];
  for (int i = 0; i < 20; i++)
    jobs[i] = sj(1 + i, 0, 1, 0, 100, 0);
  for (int i = 0; i < 20; i++)
    jobs[20 + i] = sj(21 + i, 1, 1, 1, 100, 0);
  struct sim s = {.jobs = jobs,
                  .n = 40,
                  .cap = {2, 100},
                  .queues = &open_queue,
                  .nqueues = 1,
                  .half_life = 7 * 86400};
  s.params.weight[SF_FAIRSHARE] = 10000;
  s.params.weight[SF_AGE] = 100;
  s.params.max_age = 86400;
  s.params.backfill = true;
  sim_run(&s);
  /* alice's first two start at 0; bob's first starts when the first CPU frees. */
  assert_int_equal(jobs[0].start, 0);
  assert_int_equal(jobs[1].start, 0);
  assert_int_equal(jobs[20].start, 100);
  /* From then on they take turns: at no time has one started more than a
   * pass's worth (2 jobs) more than the other. */
  for (int64_t t = 100; t <= 2000; t += 100) {
    int a = 0, b = 0;
    for (int i = 0; i < 40; i++)
      if (jobs[i].start <= t && jobs[i].start >= 100)
        *(i < 20 ? &a : &b) += 1;
    assert_true(abs(a - b) <= 2);
  }
  /* Without fair share it is first come, first served. */
  for (int i = 0; i < 40; i++)
    jobs[i].started = jobs[i].done = false;
  memset(s.usage, 0, sizeof(s.usage));
  s.params.weight[SF_FAIRSHARE] = 0;
  sim_run(&s);
  assert_int_equal(jobs[20].start, 1000);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* A day of random work on a 4-CPU box: every job's walltime is honest
 * (it runs at most that long). Backfill must start plenty of jobs early,
 * yet every job that ever held the reservation starts no later than the
 * first time it was promised. */
static void
sim_backfill_never_delays_the_top_job(void **state) {
  (void)state;
  enum { N = 400 };
  struct sim_job *jobs = calloc(N, sizeof(*jobs));
  int64_t t = 0;
  for (int i = 0; i < N; i++) {
    t += (int64_t)(rng() % 300);
    int64_t wall = 60 + (int64_t)(rng() % 3600);
    int64_t run = 1 + (int64_t)(rng() % (uint64_t)wall);
    jobs[i] = sj(i + 1, (uint32_t)(rng() % 3), 1 + (int64_t)(rng() % 4), t, run, wall);
  }
  struct sim s = {.jobs = jobs,
                  .n = N,
                  .cap = {4, 100},
                  .queues = &open_queue,
                  .nqueues = 1,
                  .params = fifo_params()};
  int64_t makespan_bf = sim_run(&s);
  size_t promised = 0;
  for (int i = 0; i < N; i++) {
    assert_true(jobs[i].done);
    if (jobs[i].promised != SCHED_NEVER) {
      promised++;
      assert_true(jobs[i].start <= jobs[i].promised);
    }
  }
  assert_true(promised > 20);
  assert_true(s.nbackfilled > 20);

  /* The same day in strict order takes longer. */
  struct sim_job *again = calloc(N, sizeof(*again));
  for (int i = 0; i < N; i++) {
    again[i] = jobs[i];
    again[i].started = again[i].done = false;
  }
  struct sim strict = s;
  strict.jobs = again;
  strict.params.backfill = false;
  int64_t makespan_strict = sim_run(&strict);
  assert_true(makespan_bf < makespan_strict);
  free(jobs);
  free(again);
}

/* A 4-CPU job behind a steady stream of 1-CPU jobs starts as soon as the
 * walltimes of the running ones allow, not after the stream ends. */
static void
sim_no_starvation_of_a_big_job(void **state) {
  (void)state;
  enum { N = 300 };
  struct sim_job jobs[N + 1];
  for (int i = 0; i < N; i++)
    jobs[i] = sj(i + 1, 0, 1, i * 15, 60, 60);
  jobs[N] = sj(N + 1, 1, 4, 100, 60, 60);
  struct sim s = {.jobs = jobs,
                  .n = N + 1,
                  .cap = {4, 100},
                  .queues = &open_queue,
                  .nqueues = 1,
                  .params = fifo_params()};
  sim_run(&s);
  /* Submitted at 100 it is the top job at once; the longest-running small
   * job then ends by 100 + 60. */
  assert_true(jobs[N].start <= 160);
  assert_true(jobs[N].start <= jobs[N].promised);
  /* And the stream went on: the last small jobs ran long after it. */
  assert_true(jobs[N - 1].start > jobs[N].end);
}

static void
sim_array_cap(void **state) {
  (void)state;
  struct sim_job jobs[10];
  for (int i = 0; i < 10; i++) {
    jobs[i] = sj(i + 1, 0, 1, 0, 50 + i, 0);
    jobs[i].array_id = 100;
    jobs[i].array_limit = 3;
  }
  struct sim s = {.jobs = jobs,
                  .n = 10,
                  .cap = {8, 100},
                  .queues = &open_queue,
                  .nqueues = 1,
                  .params = fifo_params()};
  sim_run(&s);
  assert_int_equal(s.max_running_of_array, 3);
  for (int i = 0; i < 10; i++)
    assert_true(jobs[i].done);
  assert_int_equal(jobs[3].start, 50); /* the fourth waits for the first to end */
}

/* prepare -> compute (afterok) -> report (afterok) plus a cleanup
 * (afternotok on compute) and a notify (afterany on compute). */
static void
sim_dependency_chains(void **state) {
  (void)state;
  for (int failing = 0; failing < 2; failing++) {
    struct sim_job jobs[5] = {sj(1, 0, 1, 0, 10, 0), sj(2, 0, 1, 0, 20, 0), sj(3, 0, 1, 0, 5, 0),
                              sj(4, 0, 1, 0, 5, 0), sj(5, 0, 1, 0, 5, 0)};
    jobs[1].dep = 0;
    jobs[1].dep_kind = DEP_AFTEROK;
    jobs[1].fails = failing;
    jobs[2].dep = 1;
    jobs[2].dep_kind = DEP_AFTEROK;
    jobs[3].dep = 1;
    jobs[3].dep_kind = DEP_AFTERNOTOK;
    jobs[4].dep = 1;
    jobs[4].dep_kind = DEP_AFTERANY;
    struct sim s = {.jobs = jobs,
                    .n = 5,
                    .cap = {8, 100},
                    .queues = &open_queue,
                    .nqueues = 1,
                    .params = fifo_params()};
    sim_run(&s);
    assert_int_equal(jobs[0].start, 0);
    assert_int_equal(jobs[1].start, 10);
    assert_int_equal(jobs[4].start, 30);
    if (!failing) {
      assert_int_equal(jobs[2].start, 30);
      assert_true(jobs[3].never && !jobs[3].started);
    } else {
      assert_true(jobs[2].never && !jobs[2].started);
      assert_int_equal(jobs[3].start, 30);
    }
  }
}

/* Per-user CPU caps in a queue, over time: alice never holds more than 2
 * CPUs even with the box idle, while bob uses the rest. */
static void
sim_user_limit(void **state) {
  (void)state;
  struct sim_job jobs[12];
  for (int i = 0; i < 6; i++)
    jobs[i] = sj(i + 1, 0, 1, 0, 100, 0);
  for (int i = 6; i < 12; i++)
    jobs[i] = sj(i + 1, 1, 1, 50, 100, 0);
  struct sched_queue q = {.started = true, .max_user_ncpus = 2};
  struct sim s = {
      .jobs = jobs, .n = 12, .cap = {8, 100}, .queues = &q, .nqueues = 1, .params = fifo_params()};
  sim_run(&s);
  for (int64_t t = 0; t < 400; t += 10) {
    int a = 0;
    for (int i = 0; i < 6; i++)
      a += jobs[i].start <= t && jobs[i].end > t;
    assert_true(a <= 2);
  }
  assert_int_equal(jobs[2].start, 100);
  assert_int_equal(jobs[6].start, 50);
  assert_int_equal(jobs[7].start, 50);
}

/* Devices are consumable like CPUs: a job asking for more than are free
 * waits (and is reserved for); a CPU job behind it starts at once even
 * without walltimes, as it takes nothing the GPU job waits for; a GPU
 * job behind it does not, as it would. */
static void
devices_are_consumable(void **state) {
  (void)state;
  struct sched_job run[] = {{.id = 1, .ncpus = 1, .mem = 1, .stime = 900, .dev = {3}}};
  struct sched_job q[] = {
      {.id = 2, .ncpus = 1, .mem = 1, .qtime = 10, .dev = {2}}, /* 1 of 4 free: waits */
      {.id = 3, .ncpus = 4, .mem = 1, .qtime = 20},             /* CPU job: starts */
      {.id = 4, .ncpus = 1, .mem = 1, .qtime = 30, .dev = {1}}, /* would take the last GPU */
      {.id = 5, .ncpus = 1, .mem = 1, .qtime = 40, .dev = {5}}, /* more than the box */
      {.id = 6, .ncpus = 3, .mem = 1, .qtime = 50},             /* would eat job 2's CPU */
      {.id = 7, .ncpus = 4, .mem = 1, .qtime = 60},             /* 3 CPUs free: does not fit */
  };
  struct sched_input in = input(8, 8 * GB, q, 6, run, 1);
  in.cap.dev[0] = 4;
  struct pass p;
  plan(&in, &p);
  assert_int_equal(p.v[0].reason, SR_RESERVED);
  assert_int_equal(p.v[1].reason, SR_START);
  assert_int_equal(p.v[2].reason, SR_PRIORITY);
  assert_int_equal(p.v[3].reason, SR_TOO_BIG);
  /* 8 CPUs: 1 held, 4 to job 3: 3 free, of which job 2 needs 1 */
  assert_int_equal(p.v[4].reason, SR_PRIORITY);
  assert_int_equal(p.v[5].reason, SR_RESOURCES);
  assert_int_equal(p.res.nstarts, 1);
  assert_int_equal(p.res.reserved_id, 2);
  /* A job with devices never follows into a place (the ready set). */
  struct sched_slot slots[] = {{.job = run[0]}};
  struct sched_job same[] = {{.id = 8, .ncpus = 1, .mem = 1, .qtime = 10, .dev = {1}}};
  struct sched_follow follows[4];
  in = input(8, 8 * GB, same, 1, run, 1);
  in.cap.dev[0] = 3; /* all held */
  in.slots = slots;
  in.nslots = 1;
  in.max_depth = 2;
  p.res = (struct sched_result){
      .verdict = p.v, .starts = p.starts, .follows = follows, .max_follows = 4};
  assert_int_equal(sched_plan(&in, &p.res), 0);
  assert_int_equal(p.res.nstarts, 0);
  assert_int_equal(p.res.nfollows, 0);
}

/* A day on a 4-GPU, 16-CPU box: trainings that hold every GPU for hours,
 * without walltimes, from two users, and a stream of CPU jobs from a
 * third. The CPU jobs never wait for the GPU jobs: each starts when it is
 * submitted. No more than 4 GPUs are ever held, and the GPU-seconds
 * accounted per user are what each user's jobs held. */
static void
sim_cpu_jobs_never_wait_for_gpus(void **state) {
  (void)state;
  struct sim_job jobs[48];
  size_t n = 0;
  for (int k = 0; k < 8; k++) {
    jobs[n] = sj(n + 1, (uint32_t)(k % 2), 2, k * 60, 4 * 3600, 0);
    jobs[n++].gpus = k % 3 == 0 ? 4 : 2;
  }
  for (int k = 0; k < 40; k++)
    jobs[n] = sj(n + 1, 2, 2, 600 + k * 1800, 1200, 0), n++;
  struct sim s = {.jobs = jobs, .n = n, .queues = &open_queue, .nqueues = 1};
  s.cap = (struct sched_capacity){.ncpus = 16, .mem = 64 * GB, .dev = {4}};
  s.params = fifo_params();
  sim_run(&s);
  int64_t want[2] = {0, 0};
  for (size_t i = 0; i < n; i++) {
    assert_true(jobs[i].done);
    if (jobs[i].gpus)
      want[jobs[i].user] += jobs[i].gpus * jobs[i].runtime;
    else
      assert_int_equal(jobs[i].start, jobs[i].submit); /* never waited */
  }
  assert_true(s.max_gpus_held <= 4);
  assert_int_equal(s.max_gpus_held, 4);
  assert_int_equal(s.gpu_seconds[0], want[0]);
  assert_int_equal(s.gpu_seconds[1], want[1]);
  assert_int_equal(s.gpu_seconds[2], 0);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fills_up_to_capacity),
      cmocka_unit_test(memory_is_consumable_too),
      cmocka_unit_test(too_big_is_skipped_not_reserved),
      cmocka_unit_test(priority_factors_order_jobs),
      cmocka_unit_test(queue_and_user_limits),
      cmocka_unit_test(backfill_respects_the_reservation),
      cmocka_unit_test(successors_follow_their_users_jobs),
      cmocka_unit_test(successors_follow_this_pass_starts),
      cmocka_unit_test(successors_never_overtake),
      cmocka_unit_test(successors_and_limits),
      cmocka_unit_test(array_cap_limits_running_tasks),
      cmocka_unit_test(array_entry_starts_copies),
      cmocka_unit_test(dependency_rules),
      cmocka_unit_test(decay_halves_per_half_life),
      cmocka_unit_test(sim_fair_share_between_two_users),
      cmocka_unit_test(sim_backfill_never_delays_the_top_job),
      cmocka_unit_test(sim_no_starvation_of_a_big_job),
      cmocka_unit_test(sim_array_cap),
      cmocka_unit_test(devices_are_consumable),
      cmocka_unit_test(sim_cpu_jobs_never_wait_for_gpus),
      cmocka_unit_test(sim_dependency_chains),
      cmocka_unit_test(sim_user_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
