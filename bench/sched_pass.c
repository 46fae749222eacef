/* SPDX-License-Identifier: MIT */
/* bench/sched_pass: the cost of one scheduling pass at scale. Fills a
 * fresh database (the real schema, through the real db.c) with N queued
 * jobs of U users in Q queues, plus R running ones, then times what
 * boxqd's pass does: read the queue (db_list_sched) and plan (sched_plan),
 * over several repetitions. Prints one table; asserts nothing about time.
 *
 * Usage: sched_pass [-n queued] [-u users] [-r running] [-k repeats] DIR */
#include "db.h"
#include "policy.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct rows {
  struct sched_job *v;
  size_t n, cap;
};

static int
take(void *ud, const struct db_sched_row *row) {
  struct rows *r = ud;
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 1024;
    r->v = realloc(r->v, r->cap * sizeof(*r->v));
    if (!r->v)
      return -ENOMEM;
  }
  /* As boxqd does: users by uid (few here, so uid % 64 is dense enough). */
  r->v[r->n++] = (struct sched_job){.id = row->id,
                                    .user = (uint32_t)(row->uid % 64),
                                    .queue = row->queue[1] == 'a' ? 0 : 1,
                                    .ncpus = row->ncpus,
                                    .mem = row->mem,
                                    .walltime = row->walltime,
                                    .job_priority = row->priority,
                                    .qtime = row->qtime,
                                    .stime = row->stime,
                                    .array_id = row->array_id,
                                    .array_limit = row->array_limit};
  return 0;
}

static int
cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int
main(int argc, char **argv) {
  long nqueued = 100000, nusers = 50, nrunning = 16, repeats = 10;
  int o;
  while ((o = getopt(argc, argv, "n:u:r:k:")) != -1) {
    switch (o) {
      case 'n':
        nqueued = atol(optarg);
        break;
      case 'u':
        nusers = atol(optarg);
        break;
      case 'r':
        nrunning = atol(optarg);
        break;
      case 'k':
        repeats = atol(optarg);
        break;
      default:
        fprintf(stderr, "usage: sched_pass [-n queued] [-u users] [-r running] [-k repeats] DIR\n");
        return 2;
    }
  }
  if (optind + 1 != argc || nusers < 1 || nusers > 64 || repeats < 1) {
    fprintf(stderr,
            "usage: sched_pass [-n queued] [-u users(1-64)] [-r running] [-k repeats] DIR\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof(path), "%s/bench-sched.db", argv[optind]);
  unlink(path);
  struct db *db;
  struct berr err = {{0}};
  if (db_open(path, &db, &err) < 0) {
    fprintf(stderr, "sched_pass: %s\n", err.msg);
    return 1;
  }
  /* Fill: one transaction, as a burst of submissions would end up. */
  double t0 = now_ms();
  static char *env[] = {(char *)"PBS_O_WORKDIR=/w", NULL};
  db_begin(db);
  for (long i = 0; i < nqueued + nrunning; i++) {
    char owner[32];
    snprintf(owner, sizeof(owner), "user%ld", i % nusers);
    struct job_rec j = {.uid = 1000 + i % nusers,
                        .gid = 1000,
                        .owner = owner,
                        .name = (char *)"bench",
                        .queue = (char *)(i % 4 ? "batch" : "fast"),
                        .state = JOB_QUEUED,
                        .workdir = (char *)"/w",
                        .ncpus = 1 + i % 4,
                        .mem = (1 + i % 8) << 28,
                        .walltime = 60 + i % 7200,
                        .priority = i % 100,
                        .ctime = 1000 + i,
                        .qtime = 1000 + i,
                        .mtime = 1000 + i,
                        .env = env,
                        .script = (char *)"true\n",
                        .script_len = 5};
    if (db_insert_job(db, &j) < 0 ||
        (i < nrunning && db_set_state(db, j.id, JOB_RUNNING, "", 2000) < 0)) {
      fprintf(stderr, "sched_pass: insert: %s\n", db_errmsg(db));
      return 1;
    }
  }
  db_commit(db);
  double fill_ms = now_ms() - t0;

  struct sched_queue queues[2] = {{.started = true, .max_user_ncpus = 8},
                                  {.started = true, .priority = 100, .max_running = 4}};
  struct sched_user users[64];
  for (int u = 0; u < 64; u++)
    users[u].usage = 1000.0 * u;
  double *read_ms = calloc((size_t)repeats, sizeof(double));
  double *plan_ms = calloc((size_t)repeats, sizeof(double));
  size_t starts = 0, nq = 0;
  for (long k = 0; k < repeats; k++) {
    struct rows run = {0}, queued = {0};
    double a = now_ms();
    if (db_list_sched(db, true, 0, take, &run) < 0 ||
        db_list_sched(db, false, 65, take, &queued) < 0) {
      fprintf(stderr, "sched_pass: read: %s\n", db_errmsg(db));
      return 1;
    }
    double b = now_ms();
    struct sched_input in = {.cap = {64, INT64_C(256) << 30},
                             .queues = queues,
                             .nqueues = 2,
                             .users = users,
                             .nusers = 64,
                             .running = run.v,
                             .nrunning = run.n,
                             .queued = queued.v,
                             .nqueued = queued.n,
                             .params = {.weight = {10000, 10000, 1000, 1000, 1000},
                                        .max_age = 7 * 86400,
                                        .backfill = true},
                             .now = 100000};
    struct sched_result res = {.verdict = calloc(queued.n + 1, sizeof(struct sched_verdict)),
                               .starts = calloc(queued.n + 1, sizeof(size_t))};
    if (sched_plan(&in, &res) < 0)
      return 1;
    double c = now_ms();
    read_ms[k] = b - a;
    plan_ms[k] = c - b;
    starts = res.nstarts;
    nq = queued.n;
    free(res.verdict);
    free(res.starts);
    free(run.v);
    free(queued.v);
  }
  qsort(read_ms, (size_t)repeats, sizeof(double), cmp_double);
  qsort(plan_ms, (size_t)repeats, sizeof(double), cmp_double);
  printf("scheduling pass over %zu queued jobs (%ld users, %ld running, 64 CPUs):\n", nq, nusers,
         nrunning);
  printf("  %-28s %10s %10s\n", "step", "median ms", "max ms");
  printf("  %-28s %10.1f %10.1f\n", "read queue (SQLite)", read_ms[repeats / 2],
         read_ms[repeats - 1]);
  printf("  %-28s %10.1f %10.1f\n", "plan (priority+backfill)", plan_ms[repeats / 2],
         plan_ms[repeats - 1]);
  printf("  %-28s %10.1f\n", "whole pass (median sum)",
         read_ms[repeats / 2] + plan_ms[repeats / 2]);
  printf("  jobs chosen to start: %zu; filling the database took %.0f ms\n", starts, fill_ms);
  free(read_ms);
  free(plan_ms);
  db_close(db);
  unlink(path);
  return 0;
}
