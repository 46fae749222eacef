/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"

/* The same bits as MSG_STAT's STAT_* flags. */
enum {
  FETCH_FINISHED = STAT_FINISHED,
  FETCH_FULL = STAT_FULL,
  FETCH_TASKS = STAT_TASKS,
  FETCH_ACCOUNTING = STAT_ACCOUNTING,
  FETCH_COMPLETED = STAT_COMPLETED,
  FETCH_BRIEF = STAT_BRIEF, /* only what qstat's default table shows */
};

struct joblist {
  struct job_rec *jobs;
  size_t n;
};

/* Asks boxqd for the given ids (all active jobs, or all with
 * FETCH_FINISHED, when nids is 0). Unknown ids are printed to stderr and
 * counted in *ret_errors; the known ones are returned. */
int jobs_fetch(struct cli_ctx *ctx, int flags, char **ids, int nids, struct joblist *ret,
               int *ret_errors);
/* The same, only jobs of the users in the comma-separated list (filtered
 * by boxqd, so a busy queue is not sent whole). */
int jobs_fetch_users(struct cli_ctx *ctx, int flags, const char *users, char **ids, int nids,
                     struct joblist *ret, int *ret_errors);
/* jobs_fetch, and an array named brings its tasks after the jobs named
 * (sacct -j, Grid Engine's qacct -j: an array's id names its tasks). */
int jobs_fetch_arrays(struct cli_ctx *ctx, int flags, char **ids, int nids, struct joblist *ret,
                      int *ret_errors);
void joblist_free(struct joblist *l);
/* Appends the T_JOB records of a reply. */
void joblist_add_reply(struct joblist *l, const struct pmsg *reply);
/* Waits, without polling, until the jobs named have finished (boxqd
 * answers then), or with WAIT_STARTED in flags started (proto.h's
 * WAIT_*); *ret their records. Unknown ids are printed and counted in
 * *ret_errors. Ctrl-C or SIGTERM: -EINTR. */
int jobs_wait(struct cli_ctx *ctx, char **ids, int nids, int flags, struct joblist *ret,
              int *ret_errors);
