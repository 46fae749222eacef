/* SPDX-License-Identifier: MIT */
/* boxq configuration: one INI file (inih), every key described once in a
 * table with its type, range and default, so boxq runs with no file at all
 * and a bad file is refused with file:line and the key. */
#pragma once

#include "util.h"

#include <stdbool.h>
#include <stdint.h>

#define BOXQ_DEFAULT_CONFIG    "/etc/boxq/boxq.ini"
#define BOXQ_DEFAULT_STATE_DIR "/var/lib/boxq"

struct boxq_config {
  /* [boxq] */
  char *state_dir;
  char *server_name; /* "" = the host name */
  char *log_level;
  /* [scheduler] */
  int64_t ncpus;       /* capacity; 0 = the machine's online CPUs */
  int64_t mem;         /* capacity in bytes; 0 = the machine's memory less reserve */
  int64_t mem_reserve; /* kept back for the system when mem is 0 */
  bool allow_root_jobs;
  bool pin_cpus;   /* give each job its own CPUs (cpuset) */
  char *managers;  /* users and @groups who may act on any job (and, later, the server) */
  char *operators; /* users and @groups who may act on any job */
  char *default_queue;
  int64_t default_ncpus;
  int64_t default_mem;
  int64_t default_walltime; /* 0 = none */
  int64_t default_pids;     /* pids.max of a job that asks for none; 0 = none */
  int64_t max_script_size;
  int64_t max_connections_per_user; /* open client connections per uid */
  /* [worker] */
  char *cgroup_mode;       /* auto, v2, v1, hybrid */
  char *cgroup_mount;      /* where the cgroup file systems are, /sys/fs/cgroup */
  bool allow_no_cgroups;   /* run jobs without limits when there are no cgroups */
  char *cgroup_parent;     /* below the hierarchy root, e.g. "boxq" */
  int64_t kill_grace;      /* seconds between SIGTERM and SIGKILL */
  char *scheduler_user;    /* the account boxqd runs as; only it (and root) reach the worker */
  int64_t sample_interval; /* seconds between usage samples of running jobs */
  char *job_tmp_dir;       /* where per-job /tmp directories live; "" = state_dir/tmp */

  /* Derived paths, filled by cfg_load. */
  char *config_path; /* the file read, or NULL */
  char *sched_socket, *worker_socket, *db_path, *jobs_dir;
};

/* Loads path (or BOXQ_CONFIG, or the default file if it exists), then
 * applies BOXQ_STATE_DIR. path == NULL and no default file: defaults only. */
int cfg_load(const char *path, struct boxq_config *cfg, struct berr *err);
/* Parses INI text held in memory (tests); name is used in messages. */
int cfg_load_string(const char *text, const char *name, struct boxq_config *cfg, struct berr *err);
void cfg_free(struct boxq_config *cfg);
/* Prints every key with its value in INI form (boxqd --print-config). */
void cfg_print(const struct boxq_config *cfg, FILE *out);
/* The server name used in job ids ("1.myhost"). */
const char *cfg_server_name(const struct boxq_config *cfg);
