/* SPDX-License-Identifier: MIT */
/* boxq configuration: one INI file (inih), every key described once in a
 * table with its type, range and default, so boxq runs with no file at all
 * and a bad file is refused with file:line and the key. */
#pragma once

#include "res.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>

#define BOXQ_DEFAULT_CONFIG    "/etc/boxq/boxq.ini"
#define BOXQ_DEFAULT_STATE_DIR "/var/lib/boxq"

/* One [queue NAME] section. Per-job defaults of -1 inherit [scheduler]'s;
 * every max_* of 0 means "no limit". */
struct boxq_queue {
  char *name;
  bool enabled; /* accepts new jobs */
  bool started; /* its jobs may start */
  int64_t priority;
  int64_t default_ncpus, default_mem, default_walltime, default_pids;
  int64_t max_ncpus, max_mem, max_walltime, max_pids; /* per job */
  int64_t max_job_priority;                           /* highest qsub -p allowed */
  char *acl_users;  /* who may submit: user names, comma-separated; "" = anyone */
  char *acl_groups; /* or members of these groups */
  int64_t max_running, max_running_ncpus, max_running_mem; /* the queue in all */
  int64_t max_user_running, max_user_ncpus, max_user_mem;  /* each user in it */
};

/* One [devices NAME] section (devices.h turns it into a device class):
 * its keys as written. */
struct boxq_devclass {
  char *name;
  char *nodes;        /* the device nodes, one per device, in order; globs allowed */
  char *common_nodes; /* nodes every job of the class also needs */
  char *local_cpus;   /* CPU lists near each device, space-separated; "" = from sysfs */
};

#define CFG_DEVCLASSES_MAX 8

/* A name a [devices NAME] section may take (it becomes a resource). */
bool cfg_devclass_name_ok(const char *name);

struct boxq_config {
  /* [boxq] */
  char *state_dir;
  char *server_name; /* "" = the host name */
  char *log_level;
  char *dialect; /* pbspro, torque or sge: the commands' language (cfg_dialect) */
  /* [scheduler] */
  int64_t ncpus;       /* capacity; 0 = the machine's online CPUs */
  int64_t mem;         /* capacity in bytes; 0 = the machine's memory less reserve */
  int64_t mem_reserve; /* kept back for the system when mem is 0 */
  bool allow_root_jobs;
  bool pin_cpus;       /* give each job its own CPUs (cpuset) */
  bool detect_devices; /* without [devices] sections: NVIDIA and DRM render nodes */
  char *managers;      /* users and @groups who may act on any job (and, later, the server) */
  char *operators;     /* users and @groups who may act on any job */
  char *default_queue;
  char *unknown_queue;    /* refuse, or default: to default_queue with a warning */
  char *suspend_releases; /* none, or cpus: a suspended job's CPUs go to the policy */
  char *cron_overlap;     /* skip, or queue: a schedule due while its last job runs */
  char *cron_missed;      /* once, or skip: schedules due while boxqd was down */
  char *queue_aliases;    /* "NAME=QUEUE,...": other clusters' queue names for ours */
  char *sendmail;         /* qsub -m mail goes through it; none there: recorded only */
  char *on_job_end;       /* a program run when a job ends; "" none */
  char *hook_user;        /* the user it runs as (when boxqd is root) */
  int64_t hook_timeout;   /* seconds before it (or sendmail) is killed */
  int64_t default_ncpus;
  int64_t default_mem;
  int64_t default_walltime; /* 0 = none */
  int64_t default_pids;     /* pids.max of a job that asks for none; 0 = none */
  int64_t max_script_size;
  int64_t max_array_size;           /* tasks one array job may have */
  int64_t max_connections_per_user; /* open client connections per uid */
  int64_t ncpus_reserve;            /* CPUs kept for the system when ncpus is 0 */
  bool backfill;                    /* start later jobs that cannot delay the top one */
  int64_t lookahead;                /* ready-set jobs per running job (ready.c) */
  char *multinode;                  /* merge (several nodes' CPUs summed) or refuse */
  char *unknown_resource;           /* warn, ignore or refuse (res.h) */
  int64_t weight_queue, weight_fairshare, weight_age, weight_size, weight_job;
  int64_t priority_max_age;    /* seconds of waiting that earn the full age factor */
  int64_t fairshare_half_life; /* seconds for past usage to count half */
  int64_t keep_history;        /* seconds a finished job stays in qstat -x; 0 = forever */
  int64_t keep_completed;      /* seconds a finished job shows as C under torque */
  int64_t keep_accounting;     /* seconds its accounting record stays; 0 = forever */
  int64_t prune_interval;      /* seconds between retention rounds */
  /* [worker] */
  char *cgroup_mode;       /* auto, v2, v1, hybrid */
  char *cgroup_mount;      /* where the cgroup file systems are, /sys/fs/cgroup */
  bool allow_no_cgroups;   /* run jobs without limits when there are no cgroups */
  char *cgroup_parent;     /* below the hierarchy root, e.g. "boxq" */
  char *cgroup_instance;   /* below cgroup_parent; "" = cfg_default_cgroup_instance */
  int64_t kill_grace;      /* seconds between SIGTERM and SIGKILL */
  char *scheduler_user;    /* the account boxqd runs as; only it (and root) reach the worker */
  int64_t sample_interval; /* seconds between usage samples of running jobs */
  char *nvml_library;      /* NVIDIA's management library, for GPU samples; "" none */
  int64_t shepherd_idle;   /* seconds an idle shepherd is kept; 0: none is */
  char *job_tmp;           /* memory (tmpfs in the job) or disk (below job_tmp_dir) */
  char *job_tmp_dir;       /* where per-job /tmp directories live; "" = state_dir/tmp */
  char *spool_dir;         /* running jobs' spool; "" = cfg_default_spool_dir(state_dir) */

  /* [queue NAME] sections, in file order; without any, one queue named
   * default_queue with the [scheduler] defaults. */
  struct boxq_queue *queues;
  size_t nqueues;
  /* [devices NAME] sections, in file order. */
  struct boxq_devclass *devclasses;
  size_t ndevclasses;

  /* Derived paths, filled by cfg_load. */
  char *config_path; /* the file read, or NULL */
  char *sched_socket, *worker_socket, *db_path;
  /* Where interactive jobs' terminals are attached (ttyproto.h). */
  char *tty_dir;
};

/* Loads path (or BOXQ_CONFIG, or the default file if it exists), then
 * applies BOXQ_STATE_DIR. path == NULL and no default file: defaults only. */
int cfg_load(const char *path, struct boxq_config *cfg, struct berr *err);
/* Parses INI text held in memory (tests); name is used in messages. */
int cfg_load_string(const char *text, const char *name, struct boxq_config *cfg, struct berr *err);
void cfg_free(struct boxq_config *cfg);
/* Prints every key with its value in INI form (boxqd --print-config). */
void cfg_print(const struct boxq_config *cfg, FILE *out);
/* /run/boxq/ESCAPED (or /dev/shm/boxq/ESCAPED where /run is not a tmpfs):
 * the spool of the instance with this state directory. */
char *cfg_default_spool_dir(const char *state_dir);
/* The state directory's last name (letters, digits, '.', '_', '-' kept, at
 * most 24) and 8 hex digits of a hash of its path: "boxq-5e1f0a3c". */
char *cfg_default_cgroup_instance(const char *state_dir);
/* The server name used in job ids ("1.myhost"). */
const char *cfg_server_name(const struct boxq_config *cfg);
/* The queue named name, or NULL. */
const struct boxq_queue *cfg_queue(const struct boxq_config *cfg, const char *name);
enum queue_route { QUEUE_AS_ASKED, QUEUE_ALIAS, QUEUE_DEFAULTED };
/* Where a job asking for queue name goes: that queue, the one
 * queue_aliases maps it to, or default_queue under unknown_queue =
 * default; *ret is the queue's name (in cfg). -ENOENT when refused. */
int cfg_route_queue(const struct boxq_config *cfg, const char *name, const char **ret);

enum boxq_dialect { DIALECT_PBSPRO, DIALECT_TORQUE, DIALECT_SGE };
/* The output dialect: $BOXQ_DIALECT if set (an unknown value is an error,
 * returned as -EINVAL with err), else the file's dialect. */
int cfg_dialect(const struct boxq_config *cfg, enum boxq_dialect *ret, struct berr *err);

/* What qsub -l does with other systems' forms on this server (res.h). */
struct res_policy cfg_res_policy(const struct boxq_config *cfg);
