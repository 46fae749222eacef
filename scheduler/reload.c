/* SPDX-License-Identifier: MIT */
/* SIGHUP: the configuration file is read again. A bad file is refused
 * whole (file:line in the log) and the running configuration stays.
 * Otherwise queues are added, changed and removed, and the scheduling
 * settings, limits, defaults, managers and notifications take effect at
 * once; what only a restart can change (the state directory, the server's
 * name, the worker's settings, CPU pinning) keeps its running value, and
 * the log says so. Jobs of a removed queue stay where they are, queued,
 * and say why (qmove moves them). Run-time queue states (qstop, qdisable)
 * apply over the new file as over the old. */
#include "boxqd.h"
#include "log.h"

#include <string.h>

/* A string setting that only a restart changes: the running one stays. */
static void
keep_str(const char *key, char **running, char **loaded) {
  if (strcmp(*running ? *running : "", *loaded ? *loaded : "") != 0)
    log_warn("reload: %s changed to '%s'; it takes effect when boxqd restarts", key,
             *loaded ? *loaded : "");
  char *t = *loaded;
  *loaded = *running;
  *running = t; /* freed with the old configuration */
}

static void
keep_i64(const char *key, int64_t running, int64_t *loaded) {
  if (running != *loaded)
    log_warn("reload: %s changed to %lld; it takes effect when boxqd restarts", key,
             (long long)*loaded);
  *loaded = running;
}

/* Device classes are looked at once, at start (the worker does the same):
 * a change takes a restart of both. */
static void
keep_devices(struct boxq_config *cur, struct boxq_config *next) {
  bool same = cur->ndevclasses == next->ndevclasses;
  for (size_t i = 0; same && i < cur->ndevclasses; i++) {
    const struct boxq_devclass *a = &cur->devclasses[i], *b = &next->devclasses[i];
    same = streq(a->name, b->name) && streq(a->nodes, b->nodes) &&
           streq(a->common_nodes, b->common_nodes) && streq(a->local_cpus, b->local_cpus);
  }
  if (!same)
    log_warn("reload: [devices] sections changed; they take effect when boxqd and the worker "
             "restart");
  struct boxq_devclass *t = next->devclasses;
  size_t n = next->ndevclasses;
  next->devclasses = cur->devclasses;
  next->ndevclasses = cur->ndevclasses;
  cur->devclasses = t;
  cur->ndevclasses = n;
}

static void
keep_bool(const char *key, bool running, bool *loaded) {
  if (running != *loaded)
    log_warn("reload: %s changed; it takes effect when boxqd restarts", key);
  *loaded = running;
}

void
config_reload(struct boxqd *d) {
  struct boxq_config next;
  struct berr err = {{0}};
  if (cfg_load(d->config_arg, &next, &err) < 0) {
    log_error("reload refused, the running configuration stays: %s", err.msg);
    return;
  }
  struct boxq_config *cur = &d->cfg;
  keep_str("state_dir", &cur->state_dir, &next.state_dir);
  keep_str("server_name", &cur->server_name, &next.server_name);
  keep_str("cgroup_mode", &cur->cgroup_mode, &next.cgroup_mode);
  keep_str("cgroup_mount", &cur->cgroup_mount, &next.cgroup_mount);
  keep_str("cgroup_parent", &cur->cgroup_parent, &next.cgroup_parent);
  keep_str("cgroup_instance", &cur->cgroup_instance, &next.cgroup_instance);
  keep_str("scheduler_user", &cur->scheduler_user, &next.scheduler_user);
  keep_str("job_tmp", &cur->job_tmp, &next.job_tmp);
  keep_str("job_tmp_dir", &cur->job_tmp_dir, &next.job_tmp_dir);
  keep_str("spool_dir", &cur->spool_dir, &next.spool_dir);
  keep_i64("kill_grace", cur->kill_grace, &next.kill_grace);
  keep_i64("sample_interval", cur->sample_interval, &next.sample_interval);
  keep_i64("shepherd_idle", cur->shepherd_idle, &next.shepherd_idle);
  keep_bool("allow_no_cgroups", cur->allow_no_cgroups, &next.allow_no_cgroups);
  keep_bool("pin_cpus", cur->pin_cpus, &next.pin_cpus);
  keep_bool("detect_devices", cur->detect_devices, &next.detect_devices);
  keep_devices(cur, &next);
  /* Derived from the above: the running ones. */
  char *t = next.sched_socket;
  next.sched_socket = cur->sched_socket;
  cur->sched_socket = t;
  t = next.worker_socket;
  next.worker_socket = cur->worker_socket;
  cur->worker_socket = t;
  t = next.db_path;
  next.db_path = cur->db_path;
  cur->db_path = t;
  /* Removed queues: their jobs stay, and say so (inspect.c). */
  for (size_t i = 0; i < cur->nqueues; i++)
    if (!cfg_queue(&next, cur->queues[i].name))
      log_warn("reload: queue %s is gone from the configuration; its jobs stay queued in it "
               "(qmove moves them)",
               cur->queues[i].name);
  struct boxq_config old = *cur;
  *cur = next;
  cfg_free(&old);
  d->server_name = cfg_server_name(cur);
  log_set_level((enum log_level)log_level_from_string(cur->log_level));
  sched_capacity_update(d);
  admin_load(d); /* qstop, qdisable, scheduling: over the new file's values */
  sched_queue_changed(d);
  sched_request_pass(d);
  log_info("configuration reloaded from %s: %zu queue(s), capacity ncpus=%lld",
           cur->config_path ? cur->config_path : "(defaults)", cur->nqueues,
           (long long)d->cap.ncpus);
}
