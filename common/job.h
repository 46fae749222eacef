/* SPDX-License-Identifier: MIT */
/* The job model shared by the scheduler, the worker and the CLI: states,
 * end reasons, the job record and its wire encoding. */
#pragma once

#include "proto.h"
#include "util.h"

#include <stdint.h>

/* PBS state letters. */
enum job_state {
  JOB_QUEUED = 'Q',
  JOB_HELD = 'H',
  JOB_WAITING = 'W',
  JOB_RUNNING = 'R',
  JOB_EXITING = 'E',
  JOB_FINISHED = 'F',
};

enum job_end {
  END_NONE = 0,
  END_COMPLETED,  /* exited 0 */
  END_FAILED,     /* exited non-zero, or killed by a signal */
  END_TIMEOUT,    /* walltime exceeded */
  END_OOM,        /* the kernel's OOM killer ended it */
  END_CANCELLED,  /* qdel */
  END_LOST,       /* its shepherd or the machine went away */
  END_LAUNCH,     /* could not be started (no job process ran the script) */
  END_DEPENDENCY, /* its dependencies can never be satisfied; it never ran */
  END_MAX,
};

const char *job_end_to_string(enum job_end e);
int job_end_from_string(const char *s); /* -EINVAL */

/* PBS-style special exit statuses for jobs that never ran their script
 * (documented in qsub(1)); each says where the launch stopped. */
#define JOB_EXEC_FAIL                (-1) /* the sandbox could not be set up (cgroup, namespaces) */
#define JOB_EXEC_FAIL_FILES          (-2) /* working directory or output/error file unusable */
#define JOB_EXEC_LOST                (-3) /* the job's supervisor went away */
#define JOB_EXEC_KILLED_BEFORE_START (-4) /* deleted or lost before it started */
#define JOB_EXEC_FAIL_EXEC           (-5) /* the script could not be executed */
#define JOB_EXEC_FAIL_UID            (-10) /* the user is unknown or its credentials failed */
/* Signals qsig may send: init forwards these to every job process
 * (SIGKILL ends the whole job at once). */
bool job_signal_allowed(int sig);

/* Exit status of a job killed by signal N, as PBS reports it. */
#define JOB_EXIT_SIGNAL_BASE 256

/* Where a peak memory figure came from. */
enum mem_peak_src {
  MEM_PEAK_NONE = 0,
  MEM_PEAK_KERNEL,  /* memory.peak (v2) or memory.max_usage_in_bytes (v1) */
  MEM_PEAK_SAMPLED, /* maximum of samples of memory.current */
  MEM_PEAK_RUSAGE,  /* ru_maxrss of the largest process only */
};

struct job_usage {
  int64_t cpu_usec, user_usec, sys_usec;
  int64_t mem_peak;
  int64_t mem_peak_src;
  int64_t oom_kills;
  int64_t nr_throttled, throttled_usec;
  int64_t pids_peak;
  int64_t io_rbytes, io_wbytes; /* -1 when the kernel does not say */
  int64_t wall_usec;
  int64_t oom_events;     /* times the kernel was out of memory in the job; -1 unknown */
  int64_t mem_max_events; /* times usage hit the limit; -1 unknown */
  int64_t swap_peak;      /* -1 unknown */
  bool final;             /* false for a sample taken while the job runs */
  /* wait4()'s, a cross-check; ru_maxrss_kb -1: not known to be the job's
   * own (below the launcher's resident size, shepherd.c) */
  int64_t ru_utime_usec, ru_stime_usec, ru_maxrss_kb;
  char cg_backend[16];
};

enum job_join { JOIN_NONE = 0, JOIN_OE, JOIN_EO };

struct job_rec {
  int64_t id;
  int64_t uid, gid;
  char *owner, *name, *queue, *submit_host;
  int state; /* enum job_state */
  int end_reason;
  int64_t priority;
  char *workdir, *out_path, *err_path;
  int join;
  int64_t ncpus, mem, walltime, pids;
  char *net;           /* "" or "none" */
  char *cpus;          /* pinned CPUs, "" if not pinned */
  bool rerunnable;     /* qsub -r y: requeued, not lost, when its run is lost */
  int64_t array_id;    /* a task: the id of its array job; 0 for any other job */
  int64_t array_index; /* a task: its index in the array */
  char *array_spec;    /* an array job: its index range ("1-100:2"); NULL otherwise */
  int64_t array_limit; /* an array job's %N: tasks running at once; 0 = no cap */
  char *depend;        /* dependencies, "afterok:12:13,afterany:14", or NULL */
  int64_t exec_time;   /* qsub -a: eligible from this time; 0 = at once */
  bool pruned;         /* its history expired: only its accounting is left */
  char *sched_info;    /* stat replies: why a queued job waits, its priority */
  char *array_counts;  /* stat replies: an array's tasks by state */
  int64_t run_count;   /* times the job was started */
  int64_t ctime, qtime, stime, etime, mtime; /* unix seconds, 0 = not yet */
  bool has_exit;
  int64_t exit_status;
  char *comment, *exec_host, *cgroup, *hold_types;
  char **env; /* NULL-terminated "K=V" list, may be NULL */
  char *script;
  size_t script_len;
  int64_t *groups;
  size_t ngroups;
  bool has_usage;
  struct job_usage usage;
};

/* Most environment variables a job record may carry. */
#define JOB_ENV_MAX 65536

void job_rec_free(struct job_rec *j);
void job_rec_encode(struct pbuf *b, const struct job_rec *j);
void job_usage_encode(struct pbuf *b, const struct job_usage *u);
/* Decodes what job_rec_encode wrote; unknown tags are ignored so that a
 * newer peer's extra fields do not break an older reader. */
int job_rec_decode(const struct pmsg *m, struct job_rec *j);
void job_usage_decode(const struct pmsg *m, struct job_usage *u);
size_t job_env_count(char *const *env);

/* The stdout/stderr path a job uses: the given one, or PBS's default
 * WORKDIR/NAME.oID (NAME.eID). Returned string is allocated. */
char *job_out_path(const struct job_rec *j);
char *job_err_path(const struct job_rec *j);
/* "ID.SERVER" */
char *job_id_string(int64_t id, const char *server);
/* How PBS names the job: "ID.SERVER", "ID[].SERVER" for an array job,
 * "ARRAY[INDEX].SERVER" for one of its tasks. */
char *job_display_id(const struct job_rec *j, const char *server);
/* Validates a job name as PBS does: 1-236 printable characters, no '/',
 * no whitespace. */
int job_name_check(const char *name, struct berr *err);
