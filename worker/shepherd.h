/* SPDX-License-Identifier: MIT */
/* The shepherd: a process forked by the worker that runs jobs one at a
 * time: creates a job's cgroup, launches it (launch.h), supervises it and
 * writes its result into the job's spool directory (spool.h). */
#pragma once

#include "cgroup.h"
#include "devices.h"
#include "job.h"
#include "usercache.h"

#include <signal.h>

/* Where the worker's command line and environment are (the same addresses
 * in its forked children). */
struct arg_area {
  unsigned long arg_start, arg_end, env_start, env_end;
};

struct shepherd_settings {
  /* The worker's open cgroup hierarchies, kept across the fork (mode
   * CG_MODE_NONE: no cgroups). */
  const struct cg_system *cg;
  int init_fd;          /* boxq-init (launch_spec.init_fd), kept across the fork */
  const char *tmp_root; /* job_tmp = disk: each job's /tmp is made below it; NULL: a tmpfs */
  const char *server;   /* the server name, for PBS_O_HOST and job ids */
  const char *spool;    /* the worker's spool directory, named while idle */
  const char *tty_dir;  /* where interactive jobs' terminals listen (ttyproto.h) */
  int64_t kill_grace_sec, sample_sec;
  const struct dev_table *devs; /* the box's device classes (devices.h) */
  const char *nvml_library;     /* for GPU samples (nvml.h); "" none */
  const struct arg_area *args;  /* to rename the child (all 0: unknown) */
  /* The worker's socket: jobs come in (handover.h), and the
   * shepherd writes a job's id (int64_t) once that job's result is
   * written. Its end (EOF) means: no more jobs, exit once idle. */
  int chan;
};

/* A shepherd serves one job at a time, and the next after it while the
 * worker that forked it lives: a fork and an exit per job cost more than
 * the job's own launch. Signals to it name the job in their value
 * (sigqueue): the handover's number, so that a signal meant for a job that
 * has just ended does not reach the next one. 0 names whatever job it
 * runs (a shepherd found after a restart serves no other). */
#define SHEPHERD_SIG_FORWARD (SIGRTMIN + 0) /* value: seq << 8 | signal */
#define SHEPHERD_SIG_CANCEL  (SIGRTMIN + 1) /* value: seq << 8 */
#define SHEPHERD_SEQ_MAX     0xffffffu      /* handover numbers wrap to 1 after it */
static inline int
shepherd_sigval(uint32_t seq, int sig) {
  return (int)((seq & SHEPHERD_SEQ_MAX) << 8 | ((unsigned)sig & 0xffu));
}
static inline uint32_t
shepherd_sigval_seq(int value) {
  return (uint32_t)value >> 8;
}
static inline int
shepherd_sigval_sig(int value) {
  return value & 0xff;
}

/* Called in the worker's freshly forked child, which it turns into a
 * shepherd: detached from the worker (own session, none of its
 * descriptors, handlers or environment), named "boxq-shepherd JOBDIR"
 * while it runs a job. Returns the process's exit status when the worker's
 * end of set->chan is gone and no job is left. */
int shepherd_main(const struct shepherd_settings *set);
/* The calling process's arg_area (the worker's, once at start). */
int shepherd_arg_area(struct arg_area *ret);
