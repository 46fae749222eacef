/* SPDX-License-Identifier: MIT */
/* The launch sequence: how one job's processes come to exist.
 *
 *   shepherd ──clone(VM|VFORK, NEWPID|NEWNS|NEWUTS|NEWIPC[|NEWNET])──▶ PID 1
 *      │ stopped until PID 1 execs:           │ enters the job's cgroups
 *      │ it borrows the shepherd's memory     │ private mounts: /proc, /tmp, /dev/shm
 *      │ (no page tables copied)              │ every signal blocked
 *      │                                      │ clone(VM|VFORK) ──▶ job: setsid,
 *      │                                      │   setgroups/setgid/setuid, chdir,
 *      │                                      │   stdout/stderr opened as the user,
 *      │                                      │   exec the script
 *      │                                      ▼ (resumes at the job's exec)
 *      │                                exec boxq-init (init.c: freestanding,
 *      ▼                                a few pages of its own)
 *   reads the error pipe, already complete:
 *   EOF = the script was exec'd
 *
 * boxq-init reaps every orphan, forwards SIGTERM/SIGINT/SIGHUP/SIGUSR1/
 * SIGUSR2/SIGQUIT/SIGALRM to every process of the job, and when the job's
 * main process exits it writes that wait status to the status pipe and
 * exits; the kernel then kills whatever is left in the PID namespace. */
#pragma once

#include "cgroup.h"
#include "util.h"

#include <stdbool.h>
#include <sys/types.h>

struct launch_spec {
  int64_t job_id;
  uid_t uid;
  gid_t gid;
  const gid_t *groups; /* supplementary groups, already looked up */
  size_t ngroups;
  const char *workdir;
  const char *out_path;
  const char *err_path; /* NULL: stderr goes to out_path (-j oe) */
  int script_fd;
  char *const *envp;
  const char *tmp_dir;     /* host directory bound on /tmp, or NULL */
  const char *tmp_options; /* without tmp_dir: a tmpfs on /tmp with these options */
  bool new_net;            /* a network namespace with loopback only */
  int init_fd;             /* boxq-init, from launch_open_init */
  int parent_pidfd;        /* the launching process's own pidfd, or -1 */
  /* PBS_NODEFILE's lines (one per CPU), written to LAUNCH_NODEFILE in the
   * job's private /dev/shm; NULL: none. */
  const char *nodefile;
  size_t nodefile_len;
  /* Grid Engine's PE_HOSTFILE, written to LAUNCH_PE_HOSTFILE; NULL: none. */
  const char *pe_hostfile;
  size_t pe_hostfile_len;
  /* Torque's PBS_GPUFILE, written to LAUNCH_GPUFILE; NULL: none. */
  const char *gpufile;
  size_t gpufile_len;
  /* Character devices the job may not have: left out of its private /dev
   * (devview.h); none: the host's /dev. */
  const dev_t *dev_hide;
  size_t ndev_hide;
  const char *shell; /* qsub -S: runs the script; NULL: its #! line, else sh */
  bool umask_set;    /* qsub -W umask= gave umask; else 022 */
  /* qsub -I: the job's terminal (tty.h), its stdin, stdout, stderr and
   * controlling terminal instead of /dev/null and the output files, when
   * on_tty. */
  bool on_tty;
  int tty_fd;
  mode_t umask;
};

/* Where a job finds its node file (PBS_NODEFILE): its own /dev/shm, which
 * every job gets, whatever its /tmp. */
#define LAUNCH_NODEFILE    "/dev/shm/pbs_nodefile"
#define LAUNCH_PE_HOSTFILE "/dev/shm/pe_hostfile"
#define LAUNCH_GPUFILE     "/dev/shm/pbs_gpufile"

struct launched {
  pid_t init_pid; /* in the shepherd's PID namespace */
  int pidfd;      /* of init, for poll */
  int status_fd;  /* init writes the main process's wait status here */
  int fail_code;  /* when setup failed before exec: JOB_EXEC_* (common/job.h) */
};

/* Signals 1..below-1 back to their default action, none blocked: what a
 * new program (NSIG: all) or a process that must keep nothing of its
 * parent starts with. */
void launch_reset_signals(int below);

/* The options of a job's tmpfs /tmp: world-writable with the sticky bit,
 * at most mem bytes (its pages count in the job's memory anyway). */
void launch_tmpfs_options(int64_t mem, char *buf, size_t len);

/* Opens the job init program: path, or (NULL) boxq-init beside the
 * running program, else in ../libexec/boxq from it, else in
 * BOXQ_LIBEXECDIR. It must be root's and
 * writable by no one else: every job's PID 1 runs it as root. Returns the
 * descriptor (close-on-exec; the launch execs it by descriptor, so it
 * cannot be swapped later), with the path in used; or -errno with err. */
int launch_open_init(const char *path, char *used, size_t used_len, struct berr *err);

/* Returns 0 when the script was exec'd, 1 when the job was created but its
 * setup failed before exec (err says which step and why; init will exit on
 * its own), or -errno when no job process exists. */
int launch_job(const struct launch_spec *spec, struct cg_job *cg, struct launched *ret,
               struct berr *err);
