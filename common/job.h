/* SPDX-License-Identifier: MIT */
/* The job model shared by the scheduler, the worker and the CLI: states,
 * end reasons, the job record and its wire encoding. */
#pragma once

#include "job_fields.h"
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
  END_CPUTIME,    /* used the CPU time it asked for (-l cput) */
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
/* Pseudo-signals sent to a running job's shepherd (MSG_SIGNAL): freeze or
 * thaw its cgroup. Above any real signal, within a byte. */
#define JOB_SIG_SUSPEND 126
#define JOB_SIG_RESUME  127

/* Where a peak memory figure came from. */
enum mem_peak_src {
  MEM_PEAK_NONE = 0,
  MEM_PEAK_KERNEL,  /* memory.peak (v2) or memory.max_usage_in_bytes (v1) */
  MEM_PEAK_SAMPLED, /* maximum of samples of memory.current */
  MEM_PEAK_RUSAGE,  /* ru_maxrss of the largest process only */
};

/* What a job used (common/job_fields.h lists its fields). io_rbytes,
 * io_wbytes, oom_events, mem_max_events and swap_peak are -1 when the
 * kernel does not say; final is false for a sample taken while the job
 * runs; ru_maxrss_kb (wait4()'s, a cross-check) is -1 when it is not
 * known to be the job's own (below the launcher's resident size). */
struct job_usage {
#define JOB_USAGE_MEMBER_(member, kind, tag) JOB_CTYPE_##kind member;
  JOB_USAGE_FIELDS(JOB_USAGE_MEMBER_)
#undef JOB_USAGE_MEMBER_
  char cg_backend[16];
};

enum job_join { JOIN_NONE = 0, JOIN_OE, JOIN_EO };

/* A job record. Its plain fields are listed in common/job_fields.h (with
 * their wire tags and database columns); here, the ones of their own
 * shape. state is an enum job_state letter, end_reason an enum job_end,
 * join an enum job_join; array_id is 0 but for an array's task; depend is
 * "afterok:12:13,afterany:14" or NULL; sched_info and array_counts are
 * filled by boxqd for its replies only. */
struct job_rec {
#define JOB_REC_MEMBER_(member, kind, tag, column, wire, stored) JOB_CTYPE_##kind member;
  JOB_FIELDS(JOB_REC_MEMBER_)
  JOB_STAT_FIELDS(JOB_REC_MEMBER_)
#undef JOB_REC_MEMBER_
  bool has_exit;
  int64_t exit_status;
  char **env; /* NULL-terminated "K=V" list, may be NULL */
  char *script;
  size_t script_len;
  int64_t *groups; /* supplementary gids (boxqd fills them) */
  size_t ngroups;
  bool has_usage;
  struct job_usage usage;
};

/* Most environment variables a job record may carry, and most
 * supplementary groups (the kernel's NGROUPS_MAX). */
#define JOB_ENV_MAX    65536
#define JOB_GROUPS_MAX 65536

void job_rec_free(struct job_rec *j);
void job_rec_encode(struct pbuf *b, const struct job_rec *j);
/* Only what qstat's default table shows: its id (and array's), name,
 * owner and submission host, state (and suspension), queue and CPU time
 * used. A listing of 10,000 jobs: a tenth of the bytes to send and decode. */
void job_rec_encode_brief(struct pbuf *b, const struct job_rec *j);
void job_usage_encode(struct pbuf *b, const struct job_usage *u);
/* Decodes what job_rec_encode wrote; unknown tags are ignored so that a
 * newer peer's extra fields do not break an older reader. */
int job_rec_decode(const struct pmsg *m, struct job_rec *j);
void job_usage_decode(const struct pmsg *m, struct job_usage *u);
size_t job_env_count(char *const *env);
/* The value of NAME in a job's environment (what qsub sent), or NULL. */
const char *job_env_value(const struct job_rec *j, const char *name);

/* The stdout/stderr path a job uses: the given one, its ^array_index^,
 * $PBS_JOBID, ${PBS_JOBID}, $PBS_JOBNAME, $PBS_ARRAYID, Grid Engine's
 * $JOB_ID, $TASK_ID, $JOB_NAME (and braced forms) replaced (the id with server's name), or PBS's
 * default WORKDIR/NAME.oID (NAME.eID). Returned string is allocated. */
char *job_out_path(const struct job_rec *j, const char *server);
char *job_err_path(const struct job_rec *j, const char *server);
/* A finished job's status as a shell would give it: its exit status,
 * 128+N when signal N killed it, 1 when it never ran (or ended with one
 * of boxq's negative codes). */
int job_shell_status(const struct job_rec *j);
/* "ID.SERVER" */
char *job_id_string(int64_t id, const char *server);
/* How PBS names the job: "ID.SERVER", "ID[].SERVER" for an array job,
 * "ARRAY[INDEX].SERVER" for one of its tasks. */
char *job_display_id(const struct job_rec *j, const char *server);
/* Validates a job name as PBS does: 1-236 printable characters, no '/',
 * no whitespace. */
int job_name_check(const char *name, struct berr *err);
