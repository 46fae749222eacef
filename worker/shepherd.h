/* SPDX-License-Identifier: MIT */
/* The shepherd: one process per job, forked by the worker, that creates
 * the job's cgroup, launches it (launch.h), supervises it and writes its
 * result into the job's spool directory (spool.h). */
#pragma once

#include "cgroup.h"
#include "job.h"
#include "usercache.h"

/* Where the worker's command line and environment are (the same addresses
 * in its forked children). */
struct arg_area {
  unsigned long arg_start, arg_end, env_start, env_end;
};

struct shepherd_settings {
  /* The worker's open cgroup hierarchies, kept across the fork (mode
   * CG_MODE_NONE: no cgroups). */
  const struct cg_system *cg;
  const char *tmp_root; /* job_tmp = disk: each job's /tmp is made below it; NULL: a tmpfs */
  const char *server;   /* the server name, for PBS_O_HOST and job ids */
  int64_t kill_grace_sec, sample_sec;
  const struct arg_area *args;  /* to rename the child (all 0: unknown) */
  const struct user_info *user; /* the job's user, or NULL: */
  const char *user_error;       /* why not (the job fails to start) */
  int user_errno;
  int done_fd; /* closed once the result is written; -1: none */
};

/* Called in the worker's freshly forked child, which it turns into job's
 * shepherd: detached from the worker (own session, none of its
 * descriptors, handlers or environment), named "boxq-shepherd JOBDIR".
 * Returns the process's exit status once JOBDIR/result is written. */
int shepherd_main(const char *jobdir, struct job_rec *job, const struct shepherd_settings *set);
/* The calling process's arg_area (the worker's, once at start). */
int shepherd_arg_area(struct arg_area *ret);
