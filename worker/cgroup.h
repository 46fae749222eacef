/* SPDX-License-Identifier: MIT */
/* One job's cgroup, behind one interface for every layout:
 *   v2      pure cgroup v2: limits, accounting, cgroup.kill, clone3 into it;
 *   v1      separate cpu, cpuacct, memory and pids hierarchies;
 *   hybrid  v1 controllers for limits and accounting, plus a directory in
 *           the controller-less v2 tree for clone3, cgroup.kill and
 *           cgroup.events.
 * cgroup.c orchestrates; cg_v2.c and cg_v1.c know each layout's files, so
 * v1 can be deleted whole once nobody runs it. */
#pragma once

#include "job.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cg_mode { CG_MODE_NONE = 0, CG_MODE_V2, CG_MODE_V1, CG_MODE_HYBRID };

/* No blkio: on current kernels v1 blkio counts a cgroup's I/O only while
 * a throttling rule exists on the device, so v1 jobs record I/O as not
 * counted (-1) rather than a false 0. */
/* cpuset is optional: used where mounted, and only for pinned jobs;
 * devices likewise, only for jobs on a box with device classes. */
enum cg_v1_ctrl {
  CG_V1_CPU,
  CG_V1_CPUACCT,
  CG_V1_MEMORY,
  CG_V1_PIDS,
  CG_V1_CPUSET,
  CG_V1_DEVICES,
  CG_V1_MAX
};
extern const char *const cg_v1_names[CG_V1_MAX];

/* Version-neutral limits; 0 means "no limit". */
struct cg_limits {
  int64_t ncpus;
  int64_t mem;
  int64_t pids_max;
  const char *cpus; /* pin to these CPUs ("0-1"); NULL or "" = not pinned */
  /* Character devices the job may not open (nor mknod): v1's
   * devices.deny, v2's BPF device program. */
  const dev_t *deny;
  size_t ndeny;
};

/* The hierarchy (or hierarchies) and the parent cgroup that holds jobs. */
struct cg_system {
  enum cg_mode mode;
  char *mount;  /* usually /sys/fs/cgroup */
  char *parent; /* relative to each hierarchy's root, e.g. "boxq" */
  int v2_parent_fd;
  int v1_parent_fd[CG_V1_MAX];
};

#define CG_STAT_FILES_MAX 12

struct cg_job {
  enum cg_mode mode;
  char *name; /* "job-<id>" */
  char *path; /* "<parent>/job-<id>", for people */
  int v2_parent_fd, v2_fd;
  int v1_parent_fd[CG_V1_MAX], v1_fd[CG_V1_MAX];
  bool v2_has_peak;
  int64_t mem_sampled_peak;
  /* Seen empty by cg_job_empty: nothing can enter it again (no process is
   * left to fork), so removal need not look again. */
  bool emptied;
  /* cg_job_remove has begun (its descriptors are closed); which
   * directories are still to remove. */
  bool closing, v2_left, v1_left[CG_V1_MAX];
  /* The stat files, opened while the job runs (cg_job_open_stats): at its
   * end, on the way to the next job, each costs one pread. fd -errno: it
   * could not be opened. */
  struct cg_stat_file {
    const char *name;
    int fd;
  } stats[CG_STAT_FILES_MAX];
  int nstats;
};

const char *cg_mode_name(enum cg_mode m);
/* Detects the layout under mount with statfs: v2, hybrid or v1. */
int cg_detect(const char *mount, enum cg_mode *ret, struct berr *err);
/* Detects (mode "auto") or checks the layout, then creates the parent
 * cgroup and, on v2, enables the controllers down to it. A parent starting
 * with "./" lies below the caller's own v2 cgroup (systemd delegation); if
 * the caller sits above the parent it moves itself into OWN/supervisor. */
int cg_system_open(struct cg_system *sys, const char *mount, const char *mode, const char *parent,
                   bool prepare, struct berr *err);
void cg_system_close(struct cg_system *sys);
/* Takes the lock that says "a live worker uses this parent" (flock on a
 * descriptor of its own, which shepherds do not keep): the descriptor to
 * hold while running, or -EWOULDBLOCK when another process holds it. */
int cg_system_lock(const struct cg_system *sys);

/* Creates the job's cgroup(s) and writes its limits. A stale cgroup of the
 * same name (a job that died with the machine) is emptied and replaced. */
int cg_job_create(const struct cg_system *sys, int64_t id, const struct cg_limits *lim,
                  struct cg_job **ret, struct berr *err);
/* Opens an existing job cgroup (recovery); -ENOENT if there is none. */
int cg_job_open(const struct cg_system *sys, int64_t id, struct cg_job **ret);
/* Moves the calling process ("0" in cgroup.procs) into each hierarchy of
 * the job's cgroup. Called by the job's first process before anything of
 * the job runs, while it still shares the shepherd's memory: it allocates
 * nothing. -errno, with *where naming the hierarchy that refused. */
int cg_job_enter(const struct cg_job *cg, const char **where);
/* Samples memory usage, for kernels without a peak file. */
void cg_job_sample(struct cg_job *cg);
/* SIGKILLs every process in the job's cgroup. */
int cg_job_kill(struct cg_job *cg);
bool cg_job_populated(struct cg_job *cg);
/* Kills and waits (bounded) until no process is left. -ETIMEDOUT otherwise. */
int cg_job_empty(struct cg_job *cg, int timeout_ms);
/* Opens the files cg_job_stats reads, while the job runs. Optional. */
void cg_job_open_stats(struct cg_job *cg);
void cg_job_stats(struct cg_job *cg, struct job_usage *u);
/* Freezes (or thaws) every process of the job: cgroup v2's freezer, also
 * in hybrid mode. -ENOTSUP without a v2 cgroup. */
int cg_job_freeze(struct cg_job *cg, bool frozen);
/* The CPU time the job's processes have used so far (usec), or -1. */
int64_t cg_job_cpu_usec(struct cg_job *cg);
/* The memory the job uses now (memory.current, memory.usage_in_bytes),
 * bytes; -1 if the cgroup does not say. */
int64_t cg_job_mem_current(struct cg_job *cg);
/* Removes the cgroup(s) and frees cg. Retries a busy rmdir a bounded number
 * of times: the kernel may still be releasing the last task. Blocks: for
 * the shepherd; the worker's loop uses cg_job_remove (worker/drain.c). */
int cg_job_destroy(struct cg_job *cg);
/* One try at removing the emptied cgroup(s), without waiting: 0 when
 * none is left, -EBUSY while the kernel still holds one (try again), or
 * another -errno. cg stays the caller's to free (cg_job_free). */
int cg_job_remove(struct cg_job *cg);
void cg_job_free(struct cg_job *cg);

/* Backends (cg_v2.c, cg_v1.c); used by cgroup.c only. */
int cg_v2__enable_controllers(int root_fd, const char *parent, struct berr *err);
int cg_v2__set_limits(int fd, const struct cg_limits *lim, struct berr *err);
/* Attaches a BPF device program to the cgroup that refuses the listed
 * character devices and lets everything else through to the programs
 * and rules above it (BPF_F_ALLOW_MULTI, as systemd and runc do). */
int cg_v2__deny_devices(int fd, const dev_t *deny, size_t n, struct berr *err);
void cg_v2__stats(struct cg_job *cg, struct job_usage *u);
int cg_v1__cpuset_prepare(const char *root, const char *parent, struct berr *err);
int cg_v1__set_limits(struct cg_job *cg, const struct cg_limits *lim, struct berr *err);
void cg_v1__stats(struct cg_job *cg, struct job_usage *u);
void cg_v2__open_stats(struct cg_job *cg);
void cg_v1__open_stats(struct cg_job *cg);
/* Shared helpers for the backends. */
/* Keeps dirfd's file open for the readers below. */
void cg__keep_stat(struct cg_job *cg, int dirfd, const char *file);
/* A cgroup file's text, through its kept descriptor, or opened now. */
int cg__stat_text(struct cg_job *cg, int dirfd, const char *file, size_t max, char **ret);
int cg__read_i64(struct cg_job *cg, int dirfd, const char *file, int64_t *ret);
int cg__read_keyed(struct cg_job *cg, int dirfd, const char *file, const char *key, int64_t *ret);
int cg__write(int dirfd, const char *file, const char *value);
