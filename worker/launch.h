/* SPDX-License-Identifier: MIT */
/* The launch sequence: how one job's processes come to exist.
 *
 *   shepherd ──clone3(NEWPID|NEWNS|NEWUTS|NEWIPC[|NEWNET], INTO_CGROUP)──▶ init (PID 1)
 *      │ attaches v1 cgroups, then releases init through the sync pipe
 *      ▼                                  │ private mounts: /proc, /tmp, /dev/shm
 *   reads the error pipe:                 │ fork
 *   EOF = the script was exec'd           ▼
 *                                      job: setsid, setgroups/setgid/setuid,
 *                                      chdir, open stdout/stderr as the user,
 *                                      exec the script
 *
 * init reaps every orphan, forwards SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2
 * to every process of the job, and when the job's main process exits it
 * writes that wait status to the status pipe and exits; the kernel then
 * kills whatever is left in the PID namespace. */
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
};

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

/* Returns 0 when the script was exec'd, 1 when the job was created but its
 * setup failed before exec (err says which step and why; init will exit on
 * its own), or -errno when no job process exists. */
int launch_job(const struct launch_spec *spec, struct cg_job *cg, struct launched *ret,
               struct berr *err);
