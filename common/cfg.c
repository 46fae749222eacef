/* SPDX-License-Identifier: MIT */
#include "cfg.h"

#include "jobref.h"
#include "res.h"

#include <ctype.h>
#include <ini.h>
#include <inttypes.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

enum cfg_type { CFG_STR, CFG_BOOL, CFG_INT, CFG_SIZE, CFG_DURATION, CFG_ENUM };

struct cfg_key {
  const char *section, *name;
  enum cfg_type type;
  size_t offset;
  const char *dflt;
  int64_t min, max;           /* CFG_INT, CFG_SIZE, CFG_DURATION */
  const char *const *choices; /* CFG_ENUM */
  const char *help;
};

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const multinode_kinds[] = {"merge", "refuse", NULL};
/* enum res_unknown's order. */
static const char *const unknown_resource_kinds[] = {"warn", "ignore", "refuse", NULL};
static const char *const cgroup_modes[] = {"auto", "v2", "v1", "hybrid", NULL};
static const char *const job_tmp_kinds[] = {"memory", "disk", NULL};
static const char *const dialects[] = {"pbspro", "torque", "sge", NULL};
static const char *const unknown_queue_kinds[] = {"refuse", "default", NULL};
static const char *const suspend_releases_kinds[] = {"none", "cpus", NULL};
static const char *const cron_overlap_kinds[] = {"skip", "queue", NULL};
static const char *const cron_missed_kinds[] = {"once", "skip", NULL};

#define OFF(f) offsetof(struct boxq_config, f)
static const struct cfg_key cfg_table[] = {
    {"boxq", "state_dir", CFG_STR, OFF(state_dir), BOXQ_DEFAULT_STATE_DIR, 0, 0, NULL,
     "database, sockets and job spool (BOXQ_STATE_DIR overrides)"},
    {"boxq", "server_name", CFG_STR, OFF(server_name), "", 0, 0, NULL,
     "name in job ids (1.NAME); empty: the host name"},
    {"boxq", "log_level", CFG_ENUM, OFF(log_level), "info", 0, 0, log_levels,
     "error, warn, info or debug"},
    {"boxq", "dialect", CFG_ENUM, OFF(dialect), "pbspro", 0, 0, dialects,
     "whose output the commands print: pbspro, or torque (finished jobs stay in qstat as C for "
     "keep_completed, qstat -x is Torque's XML, Torque's tables); BOXQ_DIALECT overrides it"},
    {"scheduler", "ncpus", CFG_INT, OFF(ncpus), "0", 0, RES_NCPUS_MAX, NULL,
     "CPUs jobs may request in all; 0: every online CPU"},
    {"scheduler", "mem", CFG_SIZE, OFF(mem), "0", 0, RES_SIZE_MAX, NULL,
     "memory jobs may request in all; 0: physical memory less mem_reserve"},
    {"scheduler", "mem_reserve", CFG_SIZE, OFF(mem_reserve), "512mb", 0, RES_SIZE_MAX, NULL,
     "memory kept for the system when mem is 0"},
    {"scheduler", "allow_root_jobs", CFG_BOOL, OFF(allow_root_jobs), "false", 0, 0, NULL,
     "accept jobs submitted by root (they run as root)"},
    {"scheduler", "pin_cpus", CFG_BOOL, OFF(pin_cpus), "false", 0, 0, NULL,
     "pin each job to CPUs of its own (cpuset), so running jobs never share a CPU"},
    {"scheduler", "detect_devices", CFG_BOOL, OFF(detect_devices), "true", 0, 0, NULL,
     "without [devices NAME] sections, find NVIDIA and DRM render nodes at start (class gpu)"},
    {"scheduler", "managers", CFG_STR, OFF(managers), "", 0, 0, NULL,
     "users and @groups who may act on any job, comma-separated (root always may)"},
    {"scheduler", "operators", CFG_STR, OFF(operators), "", 0, 0, NULL,
     "users and @groups who may delete, hold, release and signal any job"},
    {"scheduler", "default_queue", CFG_STR, OFF(default_queue), "batch", 0, 0, NULL,
     "queue for jobs that name none"},
    {"scheduler", "unknown_queue", CFG_ENUM, OFF(unknown_queue), "refuse", 0, 0,
     unknown_queue_kinds,
     "a job for a queue this server does not have (a site's route or short queue, not in "
     "queue_aliases): refuse it, or send it to default_queue (qsub says so)"},
    {"scheduler", "suspend_releases", CFG_ENUM, OFF(suspend_releases), "none", 0, 0,
     suspend_releases_kinds,
     "what a suspended job gives back to the policy: none (it keeps its CPUs and memory), or "
     "cpus (other jobs may start on its CPUs; it may share them once resumed)"},
    {"scheduler", "cron_overlap", CFG_ENUM, OFF(cron_overlap), "skip", 0, 0, cron_overlap_kinds,
     "a schedule due while its last job has not finished: skip this time (recorded), or queue "
     "a job that runs after it"},
    {"scheduler", "cron_missed", CFG_ENUM, OFF(cron_missed), "once", 0, 0, cron_missed_kinds,
     "schedules that came due while boxqd was not running: run once when it starts, or skip "
     "them (recorded)"},
    {"scheduler", "queue_aliases", CFG_STR, OFF(queue_aliases), "", 0, 0, NULL,
     "other clusters' queue names for this server's: NAME=QUEUE, comma-separated (e.g. "
     "route=batch,short=fast)"},
    {"scheduler", "sendmail", CFG_STR, OFF(sendmail), "/usr/sbin/sendmail", 0, 0, NULL,
     "the program job mail (qsub -m, -M) goes through; when it is not there, the mail is "
     "recorded in the job's events only"},
    {"scheduler", "on_job_end", CFG_STR, OFF(on_job_end), "", 0, 0, NULL,
     "a program (absolute path) run when any job ends, with the job's fields in BOXQ_JOB_* "
     "variables, as hook_user, killed after hook_timeout; empty: none"},
    {"scheduler", "hook_user", CFG_STR, OFF(hook_user), "nobody", 0, 0, NULL,
     "the user on_job_end runs as (when boxqd runs as root; otherwise as boxqd's user)"},
    {"scheduler", "hook_timeout", CFG_DURATION, OFF(hook_timeout), "30", 1, 3600, NULL,
     "seconds on_job_end and sendmail may run before they are killed"},
    {"scheduler", "default_ncpus", CFG_INT, OFF(default_ncpus), "1", 1, RES_NCPUS_MAX, NULL,
     "ncpus of a job that asks for none"},
    {"scheduler", "default_mem", CFG_SIZE, OFF(default_mem), "1gb", 1, RES_SIZE_MAX, NULL,
     "mem of a job that asks for none"},
    {"scheduler", "default_walltime", CFG_DURATION, OFF(default_walltime), "0", 0, RES_DURATION_MAX,
     NULL, "walltime of a job that asks for none; 0: unlimited"},
    {"scheduler", "default_pids", CFG_INT, OFF(default_pids), "4096", 0, RES_PIDS_MAX, NULL,
     "processes a job may have at once if it asks for no pids; 0: no limit"},
    {"scheduler", "max_script_size", CFG_SIZE, OFF(max_script_size), "1mb", 1, 8 << 20, NULL,
     "largest job script accepted"},
    {"scheduler", "max_array_size", CFG_INT, OFF(max_array_size), "100000", 1, JOB_ARRAY_MAX, NULL,
     "tasks one array job (qsub -J) may have"},
    {"scheduler", "max_connections_per_user", CFG_INT, OFF(max_connections_per_user), "64", 1,
     65536, NULL, "open client connections one user may hold; more are refused"},
    {"scheduler", "ncpus_reserve", CFG_INT, OFF(ncpus_reserve), "0", 0, RES_NCPUS_MAX, NULL,
     "CPUs kept for the system when ncpus is 0"},
    {"scheduler", "backfill", CFG_BOOL, OFF(backfill), "true", 0, 0, NULL,
     "let later jobs start if, by their walltime, they cannot delay the next job in line"},
    {"scheduler", "multinode", CFG_ENUM, OFF(multinode), "merge", 0, 0, multinode_kinds,
     "a job asking for several nodes (nodes=2:ppn=4, select=2:...): merge them on this machine "
     "(their CPUs and memory summed) or refuse it"},
    {"scheduler", "unknown_resource", CFG_ENUM, OFF(unknown_resource), "warn", 0, 0,
     unknown_resource_kinds,
     "a resource this server gives no meaning (a site's own, such as jobfs): warn (accepted, "
     "kept in Resource_List, qsub says it is not enforced), ignore (the same, silently) or "
     "refuse"},
    {"scheduler", "lookahead", CFG_INT, OFF(lookahead), "2", 0, 8, NULL,
     "jobs per running job handed to the worker ahead of time, started the moment a running "
     "job of the same user and queue ends; 0: none"},
    {"scheduler", "priority_weight_queue", CFG_INT, OFF(weight_queue), "10000", 0, 1000000, NULL,
     "weight of the queue's priority in a job's priority"},
    {"scheduler", "priority_weight_fairshare", CFG_INT, OFF(weight_fairshare), "10000", 0, 1000000,
     NULL, "weight of the user's fair share (less recent usage, more priority)"},
    {"scheduler", "priority_weight_age", CFG_INT, OFF(weight_age), "1000", 0, 1000000, NULL,
     "weight of the time a job has waited"},
    {"scheduler", "priority_weight_size", CFG_INT, OFF(weight_size), "1000", 0, 1000000, NULL,
     "weight of a job's share of the server's CPUs (favours big jobs against starvation)"},
    {"scheduler", "priority_weight_job", CFG_INT, OFF(weight_job), "1000", 0, 1000000, NULL,
     "weight of the job's own priority (qsub -p)"},
    {"scheduler", "priority_max_age", CFG_DURATION, OFF(priority_max_age), "7:00:00:00", 1,
     RES_DURATION_MAX, NULL, "waiting time that earns the full age factor"},
    {"scheduler", "keep_history", CFG_DURATION, OFF(keep_history), "30:00:00:00", 0,
     RES_DURATION_MAX, NULL,
     "how long a finished job keeps its script, environment and events and shows in qstat -x "
     "(its accounting stays); 0: forever"},
    {"scheduler", "keep_completed", CFG_DURATION, OFF(keep_completed), "300", 0, RES_DURATION_MAX,
     NULL, "under the torque dialect, how long a finished job still shows in qstat (state C)"},
    {"scheduler", "keep_accounting", CFG_DURATION, OFF(keep_accounting), "0", 0, RES_DURATION_MAX,
     NULL, "how long the accounting record of a finished job is kept (qacct); 0: forever"},
    {"scheduler", "prune_interval", CFG_DURATION, OFF(prune_interval), "60", 1, 86400, NULL,
     "seconds between rounds of removing expired history"},
    {"scheduler", "fairshare_half_life", CFG_DURATION, OFF(fairshare_half_life), "7:00:00:00", 0,
     RES_DURATION_MAX, NULL, "time after which past usage counts half; 0: never forgotten"},
    {"worker", "cgroup_mode", CFG_ENUM, OFF(cgroup_mode), "auto", 0, 0, cgroup_modes,
     "auto (detect), v2, v1 or hybrid"},
    {"worker", "scheduler_user", CFG_STR, OFF(scheduler_user), "root", 0, 0, NULL,
     "the account boxqd runs as: the only one (besides root) the worker accepts"},
    {"worker", "cgroup_mount", CFG_STR, OFF(cgroup_mount), "/sys/fs/cgroup", 0, 0, NULL,
     "where the cgroup file systems are mounted"},
    {"worker", "allow_no_cgroups", CFG_BOOL, OFF(allow_no_cgroups), "false", 0, 0, NULL,
     "without usable cgroups, run jobs with no limits (each record says so) instead of refusing"},
    {"worker", "cgroup_parent", CFG_STR, OFF(cgroup_parent), "boxq", 0, 0, NULL,
     "cgroup below each hierarchy's root that holds the jobs"},
    {"worker", "cgroup_instance", CFG_STR, OFF(cgroup_instance), "", 0, 0, NULL,
     "this instance's cgroup below cgroup_parent, which holds its jobs (job-ID) and which its "
     "worker locks: instances on one machine never share one; empty: the state directory's "
     "last name and a hash of its path"},
    {"worker", "kill_grace", CFG_DURATION, OFF(kill_grace), "10", 0, 3600, NULL,
     "seconds between SIGTERM and SIGKILL at walltime or qdel"},
    {"worker", "sample_interval", CFG_DURATION, OFF(sample_interval), "10", 1, 3600, NULL,
     "seconds between usage samples of running jobs (qstat -f resources_used)"},
    {"worker", "nvml_library", CFG_STR, OFF(nvml_library), "libnvidia-ml.so.1", 0, 0, NULL,
     "NVIDIA's management library, loaded (never linked) to sample jobs' GPU utilisation and "
     "memory where the driver has it; empty: never"},
    {"worker", "shepherd_idle", CFG_DURATION, OFF(shepherd_idle), "60", 0, 86400, NULL,
     "seconds a shepherd is kept for the next job once its job is done (at most one idle per "
     "CPU); 0: a new shepherd for every job"},
    {"worker", "job_tmp", CFG_ENUM, OFF(job_tmp), "memory", 0, 0, job_tmp_kinds,
     "each job's private /tmp: memory (a tmpfs counted in its mem, gone with it) or disk "
     "(a directory below job_tmp_dir, removed after)"},
    {"worker", "job_tmp_dir", CFG_STR, OFF(job_tmp_dir), "", 0, 0, NULL,
     "where job_tmp = disk makes each job's /tmp; empty: STATE_DIR/tmp"},
    {"worker", "spool_dir", CFG_STR, OFF(spool_dir), "", 0, 0, NULL,
     "where running jobs' spool files live (best on tmpfs: they must outlive the worker, not "
     "the machine); empty: /run/boxq/ESCAPED_STATE_DIR, or /dev/shm/boxq/... where /run is "
     "not a tmpfs"},
};
#undef OFF

/* Keys of a [queue NAME] section. A NULL default means "inherit" (-1). */
#define QOFF(f) offsetof(struct boxq_queue, f)
static const struct cfg_key queue_table[] = {
    {"queue", "enabled", CFG_BOOL, QOFF(enabled), "true", 0, 0, NULL, "accepts new jobs (qsub)"},
    {"queue", "started", CFG_BOOL, QOFF(started), "true", 0, 0, NULL,
     "its jobs may start; false keeps them queued"},
    {"queue", "priority", CFG_INT, QOFF(priority), "0", 0, 1000000, NULL,
     "weighs in every job's priority (priority_weight_queue)"},
    {"queue", "default_ncpus", CFG_INT, QOFF(default_ncpus), NULL, 1, RES_NCPUS_MAX, NULL,
     "ncpus of a job that asks for none; unset: [scheduler]'s"},
    {"queue", "default_mem", CFG_SIZE, QOFF(default_mem), NULL, 1, RES_SIZE_MAX, NULL,
     "mem of a job that asks for none"},
    {"queue", "default_walltime", CFG_DURATION, QOFF(default_walltime), NULL, 0, RES_DURATION_MAX,
     NULL, "walltime of a job that asks for none; 0: unlimited"},
    {"queue", "default_pids", CFG_INT, QOFF(default_pids), NULL, 0, RES_PIDS_MAX, NULL,
     "pids of a job that asks for none; 0: no limit"},
    {"queue", "max_ncpus", CFG_INT, QOFF(max_ncpus), "0", 0, RES_NCPUS_MAX, NULL,
     "most ncpus one job may ask for; 0: the server's"},
    {"queue", "max_mem", CFG_SIZE, QOFF(max_mem), "0", 0, RES_SIZE_MAX, NULL,
     "most mem one job may ask for"},
    {"queue", "max_walltime", CFG_DURATION, QOFF(max_walltime), "0", 0, RES_DURATION_MAX, NULL,
     "longest walltime one job may ask for (jobs must then give one)"},
    {"queue", "max_pids", CFG_INT, QOFF(max_pids), "0", 0, RES_PIDS_MAX, NULL,
     "most pids one job may ask for (jobs must then have a limit)"},
    {"queue", "max_job_priority", CFG_INT, QOFF(max_job_priority), "1023", -1024, 1023, NULL,
     "highest priority a job may give itself with qsub -p"},
    {"queue", "acl_users", CFG_STR, QOFF(acl_users), "", 0, 0, NULL,
     "users who may submit, comma-separated; empty (with acl_groups empty): anyone"},
    {"queue", "acl_groups", CFG_STR, QOFF(acl_groups), "", 0, 0, NULL,
     "groups whose members may submit, comma-separated"},
    {"queue", "max_running", CFG_INT, QOFF(max_running), "0", 0, INT32_MAX, NULL,
     "jobs of this queue running at once"},
    {"queue", "max_running_ncpus", CFG_INT, QOFF(max_running_ncpus), "0", 0, RES_NCPUS_MAX, NULL,
     "CPUs the running jobs of this queue hold in all"},
    {"queue", "max_running_mem", CFG_SIZE, QOFF(max_running_mem), "0", 0, RES_SIZE_MAX, NULL,
     "memory the running jobs of this queue hold in all"},
    {"queue", "max_user_running", CFG_INT, QOFF(max_user_running), "0", 0, INT32_MAX, NULL,
     "jobs one user may have running in this queue"},
    {"queue", "max_user_ncpus", CFG_INT, QOFF(max_user_ncpus), "0", 0, RES_NCPUS_MAX, NULL,
     "CPUs one user's running jobs in this queue may hold"},
    {"queue", "max_user_mem", CFG_SIZE, QOFF(max_user_mem), "0", 0, RES_SIZE_MAX, NULL,
     "memory one user's running jobs in this queue may hold"},
};
#undef QOFF

#define QUEUE_PREFIX   "queue "
#define DEVICES_PREFIX "devices "
#define QUEUE_NAME_MAX 15

struct parse_ctx {
  struct boxq_config *cfg;
  struct berr *err;
};

static const struct cfg_key *
find_key(const char *section, const char *name) {
  for (size_t i = 0; i < ARRAY_SIZE(cfg_table); i++)
    if (strcmp(cfg_table[i].section, section) == 0 && strcmp(cfg_table[i].name, name) == 0)
      return &cfg_table[i];
  return NULL;
}

static bool
known_section(const char *section) {
  for (size_t i = 0; i < ARRAY_SIZE(cfg_table); i++)
    if (strcmp(cfg_table[i].section, section) == 0)
      return true;
  return false;
}

static const struct cfg_key *
find_queue_key(const char *name) {
  for (size_t i = 0; i < ARRAY_SIZE(queue_table); i++)
    if (strcmp(queue_table[i].name, name) == 0)
      return &queue_table[i];
  return NULL;
}

/* Sets one key in base (a struct boxq_config or a struct boxq_queue). */
static int
set_value(void *base, const struct cfg_key *k, const char *value, struct berr *err) {
  void *field = (char *)base + k->offset;
  int64_t v = 0;
  int r = 0;
  switch (k->type) {
    case CFG_STR:
      free(*(char **)field);
      *(char **)field = xstrdup(value);
      return 0;
    case CFG_ENUM:
      for (size_t i = 0; k->choices[i]; i++)
        if (strcmp(value, k->choices[i]) == 0) {
          free(*(char **)field);
          *(char **)field = xstrdup(value);
          return 0;
        }
      return berr_set(err, -EINVAL, "'%s' is not one of the allowed values", value);
    case CFG_BOOL:
      if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1") ||
          !strcmp(value, "on"))
        *(bool *)field = true;
      else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0") ||
               !strcmp(value, "off"))
        *(bool *)field = false;
      else
        return berr_set(err, -EINVAL, "'%s' is not a boolean (true/false)", value);
      return 0;
    case CFG_INT:
      r = parse_i64(value, INT64_MIN, INT64_MAX, &v);
      if (r < 0)
        return berr_set(err, r, "'%s' is not a whole number", value);
      break;
    case CFG_SIZE:
      r = res_parse_size(value, &v, err);
      if (r < 0)
        return r;
      break;
    case CFG_DURATION:
      r = res_parse_duration(value, &v, err);
      if (r < 0)
        return r;
      break;
  }
  if (v < k->min || v > k->max)
    return berr_set(err, -ERANGE, "'%s' is out of range [%" PRId64 ", %" PRId64 "]", value, k->min,
                    k->max);
  *(int64_t *)field = v;
  return 0;
}

static void
queue_defaults(struct boxq_queue *q) {
  for (size_t i = 0; i < ARRAY_SIZE(queue_table); i++) {
    if (queue_table[i].dflt) {
      if (set_value(q, &queue_table[i], queue_table[i].dflt, NULL) < 0)
        abort();
    } else
      *(int64_t *)((char *)q + queue_table[i].offset) = -1;
  }
}

static struct boxq_queue *
add_queue(struct boxq_config *cfg, const char *name) {
  cfg->queues = xrealloc(cfg->queues, (cfg->nqueues + 1) * sizeof(*cfg->queues));
  struct boxq_queue *q = &cfg->queues[cfg->nqueues++];
  *q = (struct boxq_queue){.name = xstrdup(name)};
  queue_defaults(q);
  return q;
}

static int
check_queue_name(const char *name, struct berr *err) {
  size_t len = strlen(name);
  if (len == 0 || len > QUEUE_NAME_MAX || !isalpha((unsigned char)name[0]))
    return berr_set(err, -EINVAL, "queue name '%s' must be 1-%d characters and start with a letter",
                    name, QUEUE_NAME_MAX);
  for (size_t i = 0; i < len; i++)
    if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
      return berr_set(err, -EINVAL, "queue name '%s' may hold only letters, digits, '_' and '-'",
                      name);
  return 0;
}

/* A key of a [queue NAME] section. */
static int
on_queue_entry(struct parse_ctx *ctx, const char *section, const char *name, const char *value) {
  const char *qname = section + strlen(QUEUE_PREFIX);
  while (*qname == ' ')
    qname++;
  struct berr e = {{0}};
  if (check_queue_name(qname, &e) < 0) {
    berr_set(ctx->err, -EINVAL, "[%s]: %s", section, e.msg);
    return 0;
  }
  const struct cfg_key *k = find_queue_key(name);
  if (!k) {
    berr_set(ctx->err, -EINVAL, "unknown key '%s' in section [%s]", name, section);
    return 0;
  }
  struct boxq_queue *q = (struct boxq_queue *)cfg_queue(ctx->cfg, qname);
  if (!q)
    q = add_queue(ctx->cfg, qname);
  if (set_value(q, k, value, &e) < 0) {
    berr_set(ctx->err, -EINVAL, "[%s] %s: %s", section, name, e.msg);
    return 0;
  }
  return 1;
}

/* A key of a [devices NAME] section; the nodes themselves are looked at
 * when a daemon starts (devices.c). */
static int
on_devices_entry(struct parse_ctx *ctx, const char *section, const char *name, const char *value) {
  const char *cname = section + strlen(DEVICES_PREFIX);
  while (*cname == ' ')
    cname++;
  if (!cfg_devclass_name_ok(cname)) {
    berr_set(ctx->err, -EINVAL,
             "[%s]: a device class name is 1-15 lowercase letters, digits or '_', starting with a "
             "letter, and not one of boxq's resources (ncpus, mem, ...)",
             section);
    return 0;
  }
  struct boxq_devclass *c = NULL;
  for (size_t i = 0; i < ctx->cfg->ndevclasses; i++)
    if (!strcmp(ctx->cfg->devclasses[i].name, cname))
      c = &ctx->cfg->devclasses[i];
  if (!c) {
    if (ctx->cfg->ndevclasses >= CFG_DEVCLASSES_MAX) {
      berr_set(ctx->err, -EINVAL, "[%s]: at most %d device classes", section, CFG_DEVCLASSES_MAX);
      return 0;
    }
    ctx->cfg->devclasses =
        xrealloc(ctx->cfg->devclasses, (ctx->cfg->ndevclasses + 1) * sizeof(*ctx->cfg->devclasses));
    c = &ctx->cfg->devclasses[ctx->cfg->ndevclasses++];
    *c = (struct boxq_devclass){.name = xstrdup(cname),
                                .nodes = xstrdup(""),
                                .common_nodes = xstrdup(""),
                                .local_cpus = xstrdup("")};
  }
  char **field = !strcmp(name, "nodes")          ? &c->nodes
                 : !strcmp(name, "common_nodes") ? &c->common_nodes
                 : !strcmp(name, "local_cpus")   ? &c->local_cpus
                                                 : NULL;
  if (!field) {
    berr_set(ctx->err, -EINVAL,
             "unknown key '%s' in section [%s] (nodes, common_nodes, local_cpus)", name, section);
    return 0;
  }
  for (const char *p = value; *p; p++)
    if (*p != ' ' && *p != '\t' && !isgraph((unsigned char)*p)) {
      berr_set(ctx->err, -EINVAL, "[%s] %s: only printable characters", section, name);
      return 0;
    }
  if (field != &c->local_cpus) {
    for (const char *p = value; *p;) {
      p += strspn(p, " \t");
      size_t n = strcspn(p, " \t");
      if (n && *p != '/') {
        berr_set(ctx->err, -EINVAL, "[%s] %s: '%.*s' is not an absolute path", section, name,
                 (int)n, p);
        return 0;
      }
      p += n;
    }
  }
  free(*field);
  *field = xstrdup(value);
  return 1;
}

bool
cfg_devclass_name_ok(const char *name) {
  static const char *const taken[] = {"ncpus", "mem",    "walltime", "cput", "pids", "net",
                                      "nodes", "select", "procs",    "vmem", "pmem", "pvmem",
                                      "ngpus", "gpus",   "place",    "host", "arch", "file"};
  size_t len = strlen(name);
  if (len == 0 || len > 15 || !islower((unsigned char)name[0]))
    return false;
  for (size_t i = 0; i < len; i++)
    if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '_')
      return false;
  for (size_t i = 0; i < ARRAY_SIZE(taken); i++)
    if (!strcmp(name, taken[i]))
      return false;
  return true;
}

static int
on_ini_entry(void *user, const char *section, const char *name, const char *value) {
  struct parse_ctx *ctx = user;
  if (!name) /* section header alone (INI_CALL_HANDLER_ON_NEW_SECTION builds) */
    return 1;
  if (strncmp(section, QUEUE_PREFIX, strlen(QUEUE_PREFIX)) == 0)
    return on_queue_entry(ctx, section, name, value);
  if (strncmp(section, DEVICES_PREFIX, strlen(DEVICES_PREFIX)) == 0)
    return on_devices_entry(ctx, section, name, value);
  const struct cfg_key *k = find_key(section, name);
  if (!k) {
    if (!known_section(section))
      berr_set(ctx->err, -EINVAL, "unknown section [%s] (key '%s')", section, name);
    else
      berr_set(ctx->err, -EINVAL, "unknown key '%s' in section [%s]", name, section);
    return 0;
  }
  struct berr e = {{0}};
  if (set_value(ctx->cfg, k, value, &e) < 0) {
    berr_set(ctx->err, -EINVAL, "[%s] %s: %s", section, name, e.msg);
    return 0;
  }
  return 1;
}

static void
apply_defaults(struct boxq_config *cfg) {
  for (size_t i = 0; i < ARRAY_SIZE(cfg_table); i++) {
    int r = set_value(cfg, &cfg_table[i], cfg_table[i].dflt, NULL);
    if (r < 0)
      abort(); /* a broken default is a programming error */
  }
}

char *
cfg_default_spool_dir(const char *state_dir) {
  /* In memory: /run where it is a tmpfs, as on most systems, else
   * /dev/shm (the worker checks that its directory there is root's).
   * One directory per state directory, so that two instances never share
   * a spool: '/' becomes '-', and '-', '%' and anything unusual %XX. */
  struct statfs fs;
  const char *prefix =
      statfs("/run", &fs) == 0 && fs.f_type == TMPFS_MAGIC ? "/run/boxq/" : "/dev/shm/boxq/";
  char *out = xmalloc(strlen(prefix) + 3 * strlen(state_dir) + 5);
  char *o = stpcpy(out, prefix);
  const char *p = state_dir;
  while (*p == '/')
    p++;
  if (!*p)
    o = stpcpy(o, "root");
  for (; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '/')
      *o++ = '-';
    else if (isalnum(c) || c == '.' || c == '_')
      *o++ = (char)c;
    else
      o += sprintf(o, "%%%02X", c);
  }
  *o = '\0';
  return out;
}

/* "a/b" or "./a/b": relative, no empty, "." or ".." component. */
static bool
cgroup_path_ok(const char *p) {
  if (strncmp(p, "./", 2) == 0)
    p += 2;
  if (!*p || *p == '/')
    return false;
  for (const char *c = p; *c;) {
    size_t n = strcspn(c, "/");
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    c += n;
    if (*c == '/' && !*++c)
      return false; /* a trailing '/' */
  }
  return true;
}

char *
cfg_default_cgroup_instance(const char *state_dir) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const char *p = state_dir; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  const char *end = state_dir + strlen(state_dir);
  while (end > state_dir && end[-1] == '/')
    end--;
  const char *base = end;
  while (base > state_dir && base[-1] != '/')
    base--;
  char name[25];
  size_t n = 0;
  for (const char *p = base; p < end && n < sizeof(name) - 1; p++)
    if (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')
      name[n++] = *p;
  name[n] = '\0';
  return xasprintf("%s%s%08x", n && name[0] != '.' ? name : "boxq", "-", h);
}

static void
derive_paths(struct boxq_config *cfg) {
  free(cfg->sched_socket);
  free(cfg->worker_socket);
  free(cfg->db_path);
  free(cfg->tty_dir);
  cfg->sched_socket = xasprintf("%s/boxqd.sock", cfg->state_dir);
  cfg->worker_socket = xasprintf("%s/worker.sock", cfg->state_dir);
  cfg->db_path = xasprintf("%s/boxq.db", cfg->state_dir);
  cfg->tty_dir = xasprintf("%s/tty", cfg->state_dir);
  if (!*cfg->spool_dir) {
    free(cfg->spool_dir);
    cfg->spool_dir = cfg_default_spool_dir(cfg->state_dir);
  }
  if (!*cfg->cgroup_instance) {
    free(cfg->cgroup_instance);
    cfg->cgroup_instance = cfg_default_cgroup_instance(cfg->state_dir);
  }
  if (!*cfg->job_tmp_dir) {
    free(cfg->job_tmp_dir);
    cfg->job_tmp_dir = xasprintf("%s/tmp", cfg->state_dir);
  }
}

/* Fills what queues inherit and checks that each is consistent. */
/* queue_aliases: NAME=QUEUE items, each QUEUE one of ours. */
static int
check_queue_aliases(const struct boxq_config *cfg, const char *name, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(cfg->queue_aliases ? cfg->queue_aliases : "");
  char *rest = copy;
  for (char *item; (item = strsep(&rest, ","));) {
    if (!*item && !rest && item == copy)
      break; /* an empty setting */
    char *eq = strchr(item, '=');
    if (!eq || eq == item || !eq[1])
      return berr_set(err, -EINVAL,
                      "%s: [scheduler] queue_aliases: '%s' is not NAME=QUEUE (e.g. route=batch)",
                      name, item);
    *eq = '\0';
    if (!cfg_queue(cfg, eq + 1))
      return berr_set(err, -EINVAL,
                      "%s: [scheduler] queue_aliases: %s=%s names no queue of this server", name,
                      item, eq + 1);
    if (cfg_queue(cfg, item))
      return berr_set(err, -EINVAL,
                      "%s: [scheduler] queue_aliases: '%s' is a queue of this server already", name,
                      item);
  }
  return 0;
}

static int
finish_queues(struct boxq_config *cfg, const char *name, struct berr *err) {
  if (cfg->nqueues == 0) {
    struct berr e = {{0}};
    if (check_queue_name(cfg->default_queue, &e) < 0)
      return berr_set(err, -EINVAL, "%s: [scheduler] default_queue: %s", name, e.msg);
    add_queue(cfg, cfg->default_queue);
  } else if (!cfg_queue(cfg, cfg->default_queue))
    return berr_set(err, -EINVAL, "%s: [scheduler] default_queue '%s' is not a [queue %s] section",
                    name, cfg->default_queue, cfg->default_queue);
  for (size_t i = 0; i < cfg->nqueues; i++) {
    struct boxq_queue *q = &cfg->queues[i];
    if (q->default_ncpus < 0)
      q->default_ncpus = cfg->default_ncpus;
    if (q->default_mem < 0)
      q->default_mem = cfg->default_mem;
    if (q->default_walltime < 0)
      q->default_walltime = cfg->default_walltime;
    if (q->default_pids < 0)
      q->default_pids = cfg->default_pids;
    const struct {
      const char *what;
      int64_t dflt, max;
    } pairs[] = {{"ncpus", q->default_ncpus, q->max_ncpus},
                 {"mem", q->default_mem, q->max_mem},
                 {"walltime", q->default_walltime, q->max_walltime},
                 {"pids", q->default_pids, q->max_pids}};
    for (size_t k = 0; k < ARRAY_SIZE(pairs); k++) {
      if (pairs[k].max == 0)
        continue;
      /* A 0 default for walltime or pids means "unlimited", which a max forbids. */
      if (pairs[k].dflt > pairs[k].max || pairs[k].dflt == 0)
        return berr_set(err, -EINVAL,
                        "%s: [queue %s] default_%s (%lld, inherited unless set) must be from 1 to "
                        "max_%s (%lld)",
                        name, q->name, pairs[k].what, (long long)pairs[k].dflt, pairs[k].what,
                        (long long)pairs[k].max);
    }
  }
  return 0;
}

static int
finish(struct boxq_config *cfg, const char *name, struct berr *err) {
  const char *env_state = getenv("BOXQ_STATE_DIR");
  if (env_state && *env_state) {
    free(cfg->state_dir);
    cfg->state_dir = xstrdup(env_state);
  }
  if (cfg->state_dir[0] != '/')
    return berr_set(err, -EINVAL, "%s: state_dir '%s' must be an absolute path", name,
                    cfg->state_dir);
  /* Sockets live in the state directory: keep room for the socket name in
   * sun_path (108 bytes). */
  if (strlen(cfg->state_dir) > 90)
    return berr_set(err, -ENAMETOOLONG, "%s: state_dir '%s' is too long for a socket path", name,
                    cfg->state_dir);
  if (*cfg->spool_dir && cfg->spool_dir[0] != '/')
    return berr_set(err, -EINVAL, "%s: [worker] spool_dir '%s' must be an absolute path", name,
                    cfg->spool_dir);
  if (*cfg->job_tmp_dir && cfg->job_tmp_dir[0] != '/')
    return berr_set(err, -EINVAL, "%s: [worker] job_tmp_dir '%s' must be an absolute path", name,
                    cfg->job_tmp_dir);
  if (!cgroup_path_ok(cfg->cgroup_parent))
    return berr_set(err, -EINVAL,
                    "%s: [worker] cgroup_parent '%s': a path below the hierarchy's root (or "
                    "'./NAME', below the worker's own cgroup) without '.' or '..' components",
                    name, cfg->cgroup_parent);
  if (*cfg->cgroup_instance &&
      (strlen(cfg->cgroup_instance) > 64 || cfg->cgroup_instance[0] == '.' ||
       strspn(cfg->cgroup_instance,
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
           strlen(cfg->cgroup_instance)))
    return berr_set(err, -EINVAL,
                    "%s: [worker] cgroup_instance '%s': at most 64 letters, digits, '.', '_' or "
                    "'-', not starting with '.'",
                    name, cfg->cgroup_instance);
  if (cfg->keep_accounting && (!cfg->keep_history || cfg->keep_accounting < cfg->keep_history))
    return berr_set(err, -EINVAL,
                    "%s: [scheduler] keep_accounting (%lld s) must not be shorter than "
                    "keep_history (%lld s, 0 = forever)",
                    name, (long long)cfg->keep_accounting, (long long)cfg->keep_history);
  int r = finish_queues(cfg, name, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < cfg->ndevclasses; i++)
    if (!cfg->devclasses[i].nodes[strspn(cfg->devclasses[i].nodes, " \t")])
      return berr_set(err, -EINVAL, "%s: [devices %s] needs nodes = (its device nodes, in order)",
                      name, cfg->devclasses[i].name);
  r = check_queue_aliases(cfg, name, err);
  if (r < 0)
    return r;
  if (*cfg->on_job_end && cfg->on_job_end[0] != '/')
    return berr_set(err, -EINVAL, "%s: [scheduler] on_job_end '%s': give an absolute path", name,
                    cfg->on_job_end);
  if (*cfg->sendmail && cfg->sendmail[0] != '/')
    return berr_set(err, -EINVAL, "%s: [scheduler] sendmail '%s': give an absolute path", name,
                    cfg->sendmail);
  derive_paths(cfg);
  return 0;
}

static int
parse_result(int r, const char *name, struct berr *err) {
  if (r == 0)
    return 0;
  if (r == -1)
    return berr_set(err, -errno ? -errno : -ENOENT, "%s: cannot open: %s", name,
                    strerror(errno ? errno : ENOENT));
  if (r == -2)
    return berr_set(err, -ENOMEM, "%s: out of memory while parsing", name);
  if (err && err->msg[0])
    return berr_prefix(err, -EINVAL, "%s:%d", name, r);
  return berr_set(err, -EINVAL, "%s:%d: syntax error (expected [section] or key = value)", name, r);
}

int
cfg_load_string(const char *text, const char *name, struct boxq_config *cfg, struct berr *err) {
  *cfg = (struct boxq_config){0};
  apply_defaults(cfg);
  if (err)
    err->msg[0] = '\0';
  struct parse_ctx ctx = {cfg, err};
  int r = parse_result(ini_parse_string(text, on_ini_entry, &ctx), name, err);
  if (r == 0)
    r = finish(cfg, name, err);
  if (r < 0)
    cfg_free(cfg);
  return r;
}

int
cfg_load(const char *path, struct boxq_config *cfg, struct berr *err) {
  *cfg = (struct boxq_config){0};
  apply_defaults(cfg);
  if (err)
    err->msg[0] = '\0';
  if (!path) {
    const char *env = getenv("BOXQ_CONFIG");
    struct stat st;
    if (env && *env)
      path = env;
    else if (stat(BOXQ_DEFAULT_CONFIG, &st) == 0)
      path = BOXQ_DEFAULT_CONFIG;
  }
  int r = 0;
  if (path) {
    cfg->config_path = xstrdup(path);
    struct parse_ctx ctx = {cfg, err};
    errno = 0;
    r = parse_result(ini_parse(path, on_ini_entry, &ctx), path, err);
  }
  if (r == 0)
    r = finish(cfg, path ? path : "defaults", err);
  if (r < 0)
    cfg_free(cfg);
  return r;
}

void
cfg_free(struct boxq_config *cfg) {
  for (size_t i = 0; i < ARRAY_SIZE(cfg_table); i++)
    if (cfg_table[i].type == CFG_STR || cfg_table[i].type == CFG_ENUM)
      free(*(char **)((char *)cfg + cfg_table[i].offset));
  free(cfg->config_path);
  free(cfg->sched_socket);
  free(cfg->worker_socket);
  free(cfg->db_path);
  free(cfg->tty_dir);
  for (size_t i = 0; i < cfg->nqueues; i++) {
    free(cfg->queues[i].name);
    free(cfg->queues[i].acl_users);
    free(cfg->queues[i].acl_groups);
  }
  free(cfg->queues);
  for (size_t i = 0; i < cfg->ndevclasses; i++) {
    free(cfg->devclasses[i].name);
    free(cfg->devclasses[i].nodes);
    free(cfg->devclasses[i].common_nodes);
    free(cfg->devclasses[i].local_cpus);
  }
  free(cfg->devclasses);
  *cfg = (struct boxq_config){0};
}

static void
print_key(const struct cfg_key *k, const void *base, FILE *out) {
  fprintf(out, "# %s\n%s = ", k->help, k->name);
  const void *field = (const char *)base + k->offset;
  {
    char buf[64];
    switch (k->type) {
      case CFG_STR:
      case CFG_ENUM:
        fprintf(out, "%s\n", *(char *const *)field);
        break;
      case CFG_BOOL:
        fprintf(out, "%s\n", *(const bool *)field ? "true" : "false");
        break;
      case CFG_INT:
        fprintf(out, "%" PRId64 "\n", *(const int64_t *)field);
        break;
      case CFG_SIZE:
        if (*(const int64_t *)field == 0)
          fprintf(out, "0\n");
        else {
          res_format_size(*(const int64_t *)field, buf, sizeof(buf));
          fprintf(out, "%s\n", buf);
        }
        break;
      case CFG_DURATION:
        fprintf(out, "%" PRId64 "\n", *(const int64_t *)field);
        break;
    }
  }
}

void
cfg_print(const struct boxq_config *cfg, FILE *out) {
  const char *section = "";
  for (size_t i = 0; i < ARRAY_SIZE(cfg_table); i++) {
    const struct cfg_key *k = &cfg_table[i];
    if (strcmp(section, k->section) != 0) {
      fprintf(out, "%s[%s]\n", i ? "\n" : "", k->section);
      section = k->section;
    }
    print_key(k, cfg, out);
  }
  for (size_t q = 0; q < cfg->nqueues; q++) {
    fprintf(out, "\n[queue %s]\n", cfg->queues[q].name);
    for (size_t i = 0; i < ARRAY_SIZE(queue_table); i++)
      print_key(&queue_table[i], &cfg->queues[q], out);
  }
  for (size_t i = 0; i < cfg->ndevclasses; i++) {
    const struct boxq_devclass *c = &cfg->devclasses[i];
    fprintf(out, "\n[devices %s]\nnodes = %s\ncommon_nodes = %s\nlocal_cpus = %s\n", c->name,
            c->nodes, c->common_nodes, c->local_cpus);
  }
}

const struct boxq_queue *
cfg_queue(const struct boxq_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->nqueues; i++)
    if (strcmp(cfg->queues[i].name, name) == 0)
      return &cfg->queues[i];
  return NULL;
}

/* The queue alias maps name to, or NULL; *ret_len its length. */
static const char *
alias_of(const char *aliases, const char *name, size_t *ret_len) {
  size_t nlen = strlen(name);
  for (const char *p = aliases; p && *p;) {
    size_t len = strcspn(p, ",");
    const char *eq = memchr(p, '=', len);
    if (eq && (size_t)(eq - p) == nlen && !strncmp(p, name, nlen)) {
      *ret_len = len - nlen - 1;
      return eq + 1;
    }
    p += len + (p[len] == ',');
  }
  return NULL;
}

int
cfg_route_queue(const struct boxq_config *cfg, const char *name, const char **ret) {
  const struct boxq_queue *q = cfg_queue(cfg, name);
  if (q) {
    *ret = q->name;
    return QUEUE_AS_ASKED;
  }
  size_t len = 0;
  const char *to = alias_of(cfg->queue_aliases, name, &len);
  for (size_t i = 0; to && i < cfg->nqueues; i++)
    if (strlen(cfg->queues[i].name) == len && !strncmp(cfg->queues[i].name, to, len)) {
      *ret = cfg->queues[i].name;
      return QUEUE_ALIAS;
    }
  if (cfg->unknown_queue && !strcmp(cfg->unknown_queue, "default") &&
      (q = cfg_queue(cfg, cfg->default_queue))) {
    *ret = q->name;
    return QUEUE_DEFAULTED;
  }
  return -ENOENT;
}

const char *
cfg_server_name(const struct boxq_config *cfg) {
  static char host[256];
  if (cfg->server_name && *cfg->server_name)
    return cfg->server_name;
  if (!host[0]) {
    struct utsname u;
    if (uname(&u) == 0)
      snprintf(host, sizeof(host), "%s", u.nodename);
    else
      snprintf(host, sizeof(host), "localhost");
    char *dot = strchr(host, '.');
    if (dot)
      *dot = '\0';
  }
  return host;
}

static bool
has_devclass(const void *ctx, const char *name) {
  const struct boxq_config *cfg = ctx;
  for (size_t i = 0; i < cfg->ndevclasses; i++)
    if (!strcmp(cfg->devclasses[i].name, name))
      return true;
  return false;
}

struct res_policy
cfg_res_policy(const struct boxq_config *cfg) {
  struct res_policy pol = {
      .unknown = RES_UNKNOWN_WARN, .is_device_class = has_devclass, .ctx = cfg};
  for (int i = 0; unknown_resource_kinds[i]; i++)
    if (cfg->unknown_resource && !strcmp(cfg->unknown_resource, unknown_resource_kinds[i]))
      pol.unknown = (enum res_unknown)i;
  pol.refuse_multinode = cfg->multinode && !strcmp(cfg->multinode, "refuse");
  return pol;
}

int
cfg_dialect(const struct boxq_config *cfg, enum boxq_dialect *ret, struct berr *err) {
  const char *env = getenv("BOXQ_DIALECT");
  const char *name = env && *env ? env : cfg->dialect ? cfg->dialect : "pbspro";
  for (int i = 0; dialects[i]; i++)
    if (!strcmp(name, dialects[i])) {
      *ret = (enum boxq_dialect)i;
      return 0;
    }
  return berr_set(err, -EINVAL, "BOXQ_DIALECT=%s: the dialects are pbspro, torque and sge", name);
}
