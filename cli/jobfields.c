/* SPDX-License-Identifier: MIT */
#include "jobfields.h"
#include "res.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

/* Each field's value for one job: absent (v->type FV_ABSENT) when the
 * job has none to show. */
typedef void (*field_get)(const struct job_rec *j, const char *server, struct fval *v);

struct job_field {
  const char *key;
  field_get get;
};

static void
set_str(struct fval *v, const char *s) {
  v->type = FV_STR;
  v->text = xstrdup(s ? s : "");
}

static void __attribute__((format(printf, 2, 3))) set_fmt(struct fval *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&v->text, fmt, ap) < 0)
    abort();
  va_end(ap);
  v->type = FV_STR;
}

static void
set_int(struct fval *v, int64_t i) {
  set_fmt(v, "%lld", (long long)i);
  v->type = FV_INT;
  v->i = i;
}

/* A number with its unit in text ("0.045s", "4096 bytes"), bare in JSON. */
static void
set_seconds(struct fval *v, int64_t usec) {
  set_fmt(v, "%.3fs", (double)usec / 1e6);
  v->type = FV_NUM;
  v->num = (double)usec / 1e6;
}

static void
set_bytes(struct fval *v, int64_t bytes) {
  set_fmt(v, "%lld bytes", (long long)bytes);
  v->type = FV_INT;
  v->i = bytes;
}

static void
set_time(struct fval *v, int64_t t) {
  char buf[64];
  fmt_time(t, buf, sizeof(buf));
  set_str(v, buf);
  v->type = FV_TIME;
  v->i = t;
}

static void
set_size(struct fval *v, int64_t bytes) {
  char buf[32];
  res_format_size(bytes, buf, sizeof(buf));
  set_str(v, buf);
}

static void
set_hms(struct fval *v, int64_t usec) {
  char buf[32];
  fmt_hms_usec(usec, buf, sizeof(buf));
  set_str(v, buf);
}

static void
set_duration(struct fval *v, int64_t seconds) {
  char buf[32];
  res_format_duration(seconds, buf, sizeof(buf));
  set_str(v, buf);
}

static bool
has_text(const char *s) {
  return s && *s;
}

/* PBS separates Variable_List entries with commas and escapes commas and
 * backslashes inside values; newlines are written as \n. */
static char *
variable_list(char *const *env) {
  size_t len = 1;
  for (size_t i = 0; env[i]; i++)
    len += 2 * strlen(env[i]) + 1;
  char *out = xmalloc(len), *p = out;
  for (size_t i = 0; env[i]; i++) {
    if (i)
      *p++ = ',';
    for (const char *s = env[i]; *s; s++) {
      if (*s == ',' || *s == '\\')
        *p++ = '\\';
      if (*s == '\n') {
        *p++ = '\\';
        *p++ = 'n';
      } else
        *p++ = *s;
    }
  }
  *p = '\0';
  return out;
}

/* ru_maxrss: "N kb" in text, the number in JSON. */
static void
set_kb(struct fval *v, int64_t kb) {
  set_fmt(v, "%lld kb", (long long)kb);
  v->type = FV_INT;
  v->i = kb;
}

/* A running job shows its usage so far; a finished one its final usage. */
#define USED      (j->has_usage || j->state == JOB_RUNNING)
#define HAS_USAGE (j->has_usage)

/* The fields that show one value of the record (or of its usage) with one
 * formatter, when a condition holds: X(name, value, format, when). Each
 * becomes get_NAME below; the forms' key lists name them. */
#define VALUE_FIELDS(X)                                                                            \
  X(job_name, j->name, str, true)                                                                  \
  X(used_cput, j->usage.cpu_usec, hms, USED)                                                       \
  X(used_mem, j->usage.mem_peak, size, USED)                                                       \
  X(used_ncpus, j->ncpus, int, USED)                                                               \
  X(used_walltime, j->usage.wall_usec, hms, USED)                                                  \
  X(queue, j->queue, str, true)                                                                    \
  X(server, server, str, true)                                                                     \
  X(ctime, j->ctime, time, true)                                                                   \
  X(hostname, j->exec_host ? j->exec_host : "-", str, true)                                        \
  X(hold_types, has_text(j->hold_types) ? j->hold_types : "n", str, true)                          \
  X(mtime, j->mtime, time, true)                                                                   \
  X(priority, j->priority, int, true)                                                              \
  X(rerunable, j->rerunnable ? "True" : "False", str, true)                                        \
  X(interactive, "True", str, j->interactive)                                                      \
  X(run_count, j->run_count, int, true)                                                            \
  X(qtime, j->qtime, time, true)                                                                   \
  X(req_mem, j->mem, size, true)                                                                   \
  X(req_ncpus, j->ncpus, int, true)                                                                \
  X(req_net, j->net, str, has_text(j->net))                                                        \
  X(req_pids, j->pids, int, j->pids > 0)                                                           \
  X(req_walltime, j->walltime, duration, j->walltime > 0)                                          \
  X(req_cput, j->cput, duration, j->cput > 0)                                                      \
  X(mail_points, has_text(j->mail_points) ? j->mail_points : "a", str, true)                       \
  X(mail_users, j->mail_users, str, has_text(j->mail_users))                                       \
  X(stime, j->stime, time, j->stime > 0)                                                           \
  X(obittime, j->etime, time, j->state == JOB_FINISHED)                                            \
  X(euser, j->owner, str, true)                                                                    \
  X(egid, j->gid, int, true)                                                                       \
  X(exit_status, j->exit_status, int, j->has_exit)                                                 \
  X(end_reason, job_end_to_string(j->end_reason), str, j->state == JOB_FINISHED)                   \
  X(cpus, j->cpus, str, has_text(j->cpus))                                                         \
  X(exec_devices, j->devices, str, has_text(j->devices))                                           \
  X(req_devices, j->devreq, str, has_text(j->devreq))                                              \
  X(cgroup, j->cgroup, str, j->cgroup)                                                             \
  X(comment, j->comment, str, j->comment)                                                          \
  X(sched_priority, j->sched_info, str, j->sched_info)                                             \
  X(depend, j->depend, str, j->depend)                                                             \
  X(execution_time, j->exec_time, time, j->exec_time)                                              \
  X(array, "True", str, j->array_spec)                                                             \
  X(array_indices, j->array_spec, str, j->array_spec)                                              \
  X(max_run_subjobs, j->array_limit, int, j->array_spec && j->array_limit)                         \
  X(array_state_count, j->array_counts, str, j->array_counts)                                      \
  X(array_index, j->array_index, int, j->array_id)                                                 \
  X(nodect, j->nodes, int, j->nodes > 0)                                                           \
  X(account, j->account, str, has_text(j->account))                                                \
  X(project, j->project, str, has_text(j->project))                                                \
  X(group_list, j->group_list, str, has_text(j->group_list))                                       \
  X(resources, j->resources, str, has_text(j->resources))                                          \
  X(wallclock, j->usage.wall_usec, seconds, HAS_USAGE)                                             \
  X(cpu, j->usage.cpu_usec, seconds, HAS_USAGE)                                                    \
  X(cpu_user, j->usage.user_usec, seconds, HAS_USAGE)                                              \
  X(cpu_sys, j->usage.sys_usec, seconds, HAS_USAGE)                                                \
  X(cpu_throttled, j->usage.throttled_usec, seconds, HAS_USAGE)                                    \
  X(throttled_periods, j->usage.nr_throttled, int, HAS_USAGE)                                      \
  X(mem_peak, j->usage.mem_peak, bytes, HAS_USAGE && j->usage.mem_peak_src != MEM_PEAK_NONE)       \
  X(mem_peak_source, fmt_mem_src(j->usage.mem_peak_src), str, HAS_USAGE)                           \
  X(oom_kills, j->usage.oom_kills, int, HAS_USAGE)                                                 \
  X(oom_events, j->usage.oom_events, int, HAS_USAGE && j->usage.oom_events >= 0)                   \
  X(mem_limit_hits, j->usage.mem_max_events, int, HAS_USAGE && j->usage.mem_max_events >= 0)       \
  X(swap_peak, j->usage.swap_peak, bytes, HAS_USAGE && j->usage.swap_peak >= 0)                    \
  X(pids_peak, j->usage.pids_peak, int, HAS_USAGE)                                                 \
  X(io_read, j->usage.io_rbytes, bytes, HAS_USAGE && j->usage.io_rbytes >= 0)                      \
  X(io_write, j->usage.io_wbytes, bytes, HAS_USAGE && j->usage.io_wbytes >= 0)                     \
  X(rusage_utime, j->usage.ru_utime_usec, seconds, HAS_USAGE)                                      \
  X(rusage_stime, j->usage.ru_stime_usec, seconds, HAS_USAGE)                                      \
  X(rusage_maxrss, j->usage.ru_maxrss_kb, kb, HAS_USAGE && j->usage.ru_maxrss_kb >= 0)             \
  X(cgroup_backend, j->usage.cg_backend, str, HAS_USAGE)                                           \
  X(keep_files, "n", str, true)                                                                    \
  X(queue_type, "E", str, true)                                                                    \
  X(shell_path, j->shell, str, has_text(j->shell))                                                 \
  X(init_work_dir, j->workdir, str, has_text(j->workdir))                                          \
  X(submit_host, j->submit_host, str, has_text(j->submit_host))                                    \
  X(start_count, j->run_count, int, true)                                                          \
  X(etime_eligible, j->qtime, time, true)                                                          \
  X(comp_time, j->etime, time, j->state == JOB_FINISHED && j->etime > 0)                           \
  X(torque_exit_status, j->exit_status, int, j->has_exit && j->state == JOB_FINISHED)              \
  X(job_array_request, j->array_spec, str, j->array_spec)                                          \
  X(job_array_id, j->array_index, int, j->array_id)

#define GET_VALUE_FIELD_(name, value, format, when)                                                \
  static void get_##name(const struct job_rec *j, const char *server, struct fval *v) {            \
    (void)j;                                                                                       \
    (void)server;                                                                                  \
    if (when)                                                                                      \
      set_##format(v, value);                                                                      \
  }
VALUE_FIELDS(GET_VALUE_FIELD_)
#undef GET_VALUE_FIELD_

/* The fields made of more than one value. */
static void
get_job_owner(const struct job_rec *j, const char *server, struct fval *v) {
  set_fmt(v, "%s@%s", j->owner ? j->owner : "?",
          has_text(j->submit_host) ? j->submit_host : server);
}

static void
get_job_state(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  set_fmt(v, "%c", j->state == JOB_RUNNING && j->suspended_at ? 'S' : j->state);
}

/* Time spent suspended: before, and in the current suspension. */
static void
get_suspended_time(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  int64_t now = (int64_t)time(NULL);
  int64_t sec =
      j->suspended_sec + (j->suspended_at && now > j->suspended_at ? now - j->suspended_at : 0);
  if (sec > 0 || j->suspended_at)
    set_duration(v, sec);
}

/* Torque's letters: a finished job is C(ompleted), an array with tasks
 * running is R. */
static void
get_torque_state(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  set_fmt(v, "%c",
          j->state == JOB_FINISHED                     ? 'C'
          : j->state == 'B'                            ? 'R'
          : j->state == JOB_RUNNING && j->suspended_at ? 'S'
                                                       : j->state);
}

/* Torque's "host/0-3": the execution slots used on the one host. */
static void
get_torque_exec_host(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (!j->exec_host)
    return;
  if (j->ncpus > 1)
    set_fmt(v, "%s/0-%lld", j->exec_host, (long long)j->ncpus - 1);
  else
    set_fmt(v, "%s/0", j->exec_host);
}

/* Joined streams both go to the file they are joined into. */
static void
get_path(const struct job_rec *j, const char *server, struct fval *v, bool err) {
  _cleanup_free_ char *outp = job_out_path(j, server), *errp = job_err_path(j, server);
  const char *p = err ? (j->join == JOIN_OE ? outp : errp) : (j->join == JOIN_EO ? errp : outp);
  set_fmt(v, "%s:%s", server, p);
}

static void
get_error_path(const struct job_rec *j, const char *server, struct fval *v) {
  get_path(j, server, v, true);
}

static void
get_output_path(const struct job_rec *j, const char *server, struct fval *v) {
  get_path(j, server, v, false);
}

static void
get_exec_host(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (j->exec_host)
    set_fmt(v, "%s/0*%lld", j->exec_host, (long long)j->ncpus);
}

/* PBS Pro's exec_vnode: the one chunk on this host, with what it holds:
 * (host:ncpus=2:mem=1048576kb:ngpus=2). */
static void
get_exec_vnode(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (!j->exec_host || j->state == JOB_FINISHED)
    return;
  _cleanup_free_ char *devs = xstrdup("");
  for (const char *p = has_text(j->devreq) ? j->devreq : ""; *p;) {
    size_t n = strcspn(p, ",");
    char *more = n > 4 && !strncmp(p, "gpu=", 4)
                     ? xasprintf("%s:ngpus=%.*s", devs, (int)n - 4, p + 4)
                     : xasprintf("%s:%.*s", devs, (int)n, p);
    free(devs);
    devs = more;
    p += n + (p[n] == ',');
  }
  set_fmt(v, "(%s:ncpus=%lld:mem=%lldkb%s)", j->exec_host, (long long)j->ncpus,
          (long long)(j->mem / 1024), devs);
}

/* Torque's exec_gpus: host-gpu/0+host-gpu/1, from the held "gpu:0,1". */
static void
get_exec_gpus(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  const char *g = has_text(j->devices) ? strstr(j->devices, "gpu:") : NULL;
  if (!g || (g != j->devices && g[-1] != ';') || !j->exec_host)
    return;
  _cleanup_free_ char *out = xstrdup("");
  for (const char *p = g + 4; *p && *p != ';';) {
    size_t n = strcspn(p, ",;");
    char *more = xasprintf("%s%s%s-gpu/%.*s", out, *out ? "+" : "", j->exec_host, (int)n, p);
    free(out);
    out = more;
    p += n + (p[n] == ',');
  }
  set_str(v, out);
}

/* NVML's samples, said as samples: "75% (sampled 3 times)"; nothing
 * without them. */
static void
get_gpu_utilization(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (HAS_USAGE && j->usage.gpu_samples > 0)
    set_fmt(v, "%lld%% (sampled %lld time%s)", (long long)j->usage.gpu_util,
            (long long)j->usage.gpu_samples, j->usage.gpu_samples == 1 ? "" : "s");
}

static void
get_gpu_mem_peak(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  char size[32];
  if (!HAS_USAGE || j->usage.gpu_samples <= 0)
    return;
  res_format_size(j->usage.gpu_mem_peak, size, sizeof(size));
  set_fmt(v, "%s (sampled)", size);
}

/* Devices held times the wall time, in hours, per class: "gpu=1.50". */
static void
get_device_hours(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (!has_text(j->devreq) || !HAS_USAGE)
    return;
  double hours = (double)j->usage.wall_usec / 3.6e9;
  _cleanup_free_ char *out = xstrdup("");
  for (const char *p = j->devreq; *p;) {
    size_t n = strcspn(p, ",");
    const char *eq = memchr(p, '=', n);
    if (eq) {
      char *more = xasprintf("%s%s%.*s=%.4f", out, *out ? "," : "", (int)(eq - p), p,
                             strtod(eq + 1, NULL) * hours);
      free(out);
      out = more;
    }
    p += n + (p[n] == ',');
  }
  set_str(v, out);
}

static void
get_join_path(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  set_str(v, j->join == JOIN_OE ? "oe" : j->join == JOIN_EO ? "eo" : "n");
}

static void
get_array_id(const struct job_rec *j, const char *server, struct fval *v) {
  if (j->array_id)
    set_fmt(v, "%lld[].%s", (long long)j->array_id, server);
}

static void
get_variable_list(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (j->env) {
    v->type = FV_ENV;
    v->text = variable_list(j->env);
  }
}

/* Resource_List's other entries: "name=value,..." expanded by the forms. */
static void
get_site_resources(const struct job_rec *j, const char *server, struct fval *v) {
  (void)server;
  if (has_text(j->resources)) {
    v->type = FV_RESOURCES;
    v->text = xstrdup(j->resources);
  }
}

static void
get_jobnumber(const struct job_rec *j, const char *server, struct fval *v) {
  v->type = FV_STR;
  v->text = job_display_id(j, server);
}

static const struct job_field qstat_list[] = {
    {"Job_Name", get_job_name},
    {"Job_Owner", get_job_owner},
    {"resources_used.cput", get_used_cput},
    {"resources_used.mem", get_used_mem},
    {"resources_used.ncpus", get_used_ncpus},
    {"resources_used.walltime", get_used_walltime},
    {"job_state", get_job_state},
    {"queue", get_queue},
    {"server", get_server},
    {"ctime", get_ctime},
    {"Error_Path", get_error_path},
    {"exec_host", get_exec_host},
    {"exec_vnode", get_exec_vnode},
    {"exec_devices", get_exec_devices},
    {"Hold_Types", get_hold_types},
    {"Join_Path", get_join_path},
    {"Mail_Points", get_mail_points},
    {"Mail_Users", get_mail_users},
    {"mtime", get_mtime},
    {"Output_Path", get_output_path},
    {"Priority", get_priority},
    {"Rerunable", get_rerunable},
    {"interactive", get_interactive},
    {"run_count", get_run_count},
    {"qtime", get_qtime},
    {"Resource_List.mem", get_req_mem},
    {"Resource_List.ncpus", get_req_ncpus},
    {"Resource_List.net", get_req_net},
    {"Resource_List.pids", get_req_pids},
    {"Resource_List.walltime", get_req_walltime},
    {"Resource_List.cput", get_req_cput},
    {"Resource_List.nodect", get_nodect},
    {"Resource_List", get_site_resources},
    {"stime", get_stime},
    {"obittime", get_obittime},
    {"euser", get_euser},
    {"egid", get_egid},
    {"Exit_status", get_exit_status},
    {"end_reason", get_end_reason},
    {"suspended_time", get_suspended_time},
    {"cpus", get_cpus},
    {"cgroup", get_cgroup},
    {"comment", get_comment},
    {"sched_priority", get_sched_priority},
    {"depend", get_depend},
    {"Execution_Time", get_execution_time},
    {"array", get_array},
    {"array_indices_submitted", get_array_indices},
    {"max_run_subjobs", get_max_run_subjobs},
    {"array_state_count", get_array_state_count},
    {"array_id", get_array_id},
    {"array_index", get_array_index},
    {"Account_Name", get_account},
    {"project", get_project},
    {"group_list", get_group_list},
    {"Variable_List", get_variable_list},
};

static const struct job_field acct_list[] = {
    {"qname", get_queue},
    {"hostname", get_hostname},
    {"owner", get_euser},
    {"gid", get_egid},
    {"jobname", get_job_name},
    {"jobnumber", get_jobnumber},
    {"account", get_account},
    {"project", get_project},
    {"qsub_time", get_ctime},
    {"start_time", get_stime},
    {"end_time", get_obittime},
    {"state", get_job_state},
    {"end_reason", get_end_reason},
    {"exit_status", get_exit_status},
    {"req_mem", get_req_mem},
    {"req_ncpus", get_req_ncpus},
    {"req_pids", get_req_pids},
    {"req_net", get_req_net},
    {"cpus", get_cpus},
    {"req_devices", get_req_devices},
    {"devices", get_exec_devices},
    {"device_hours", get_device_hours},
    {"gpu_utilization", get_gpu_utilization},
    {"gpu_mem_peak", get_gpu_mem_peak},
    {"req_walltime", get_req_walltime},
    {"req_cput", get_req_cput},
    {"req_nodes", get_nodect},
    {"req_other", get_resources},
    {"ru_wallclock", get_wallclock},
    {"cpu", get_cpu},
    {"cpu_user", get_cpu_user},
    {"cpu_sys", get_cpu_sys},
    {"cpu_throttled", get_cpu_throttled},
    {"throttled_periods", get_throttled_periods},
    {"mem_peak", get_mem_peak},
    {"mem_peak_source", get_mem_peak_source},
    {"oom_kills", get_oom_kills},
    {"oom_events", get_oom_events},
    {"mem_limit_hits", get_mem_limit_hits},
    {"swap_peak", get_swap_peak},
    {"pids_peak", get_pids_peak},
    {"io_read", get_io_read},
    {"io_write", get_io_write},
    {"rusage_utime", get_rusage_utime},
    {"rusage_stime", get_rusage_stime},
    {"rusage_maxrss", get_rusage_maxrss},
    {"cgroup_backend", get_cgroup_backend},
    {"cgroup", get_cgroup},
    {"comment", get_comment},
};

/* Torque's qstat -f, in the order pbs_server lists a job's attributes. */
static const struct job_field torque_list[] = {
    {"Job_Name", get_job_name},
    {"Job_Owner", get_job_owner},
    {"resources_used.cput", get_used_cput},
    {"resources_used.mem", get_used_mem},
    {"resources_used.walltime", get_used_walltime},
    {"job_state", get_torque_state},
    {"queue", get_queue},
    {"server", get_server},
    {"Account_Name", get_account},
    {"ctime", get_ctime},
    {"depend", get_depend},
    {"Error_Path", get_error_path},
    {"exec_host", get_torque_exec_host},
    {"exec_gpus", get_exec_gpus},
    {"Execution_Time", get_execution_time},
    {"group_list", get_group_list},
    {"Hold_Types", get_hold_types},
    {"Join_Path", get_join_path},
    {"Keep_Files", get_keep_files},
    {"Mail_Points", get_mail_points},
    {"Mail_Users", get_mail_users},
    {"mtime", get_mtime},
    {"Output_Path", get_output_path},
    {"Priority", get_priority},
    {"qtime", get_qtime},
    {"Rerunable", get_rerunable},
    {"interactive", get_interactive},
    {"Resource_List.mem", get_req_mem},
    {"Resource_List.ncpus", get_req_ncpus},
    {"Resource_List.nodect", get_nodect},
    {"Resource_List.walltime", get_req_walltime},
    {"Resource_List.cput", get_req_cput},
    {"Resource_List.pids", get_req_pids},
    {"Resource_List", get_site_resources},
    {"Shell_Path_List", get_shell_path},
    {"euser", get_euser},
    {"queue_type", get_queue_type},
    {"comment", get_comment},
    {"etime", get_etime_eligible},
    {"exit_status", get_torque_exit_status},
    {"start_time", get_stime},
    {"start_count", get_start_count},
    {"suspended_time", get_suspended_time},
    {"comp_time", get_comp_time},
    {"job_array_request", get_job_array_request},
    {"job_array_id", get_job_array_id},
    {"submit_host", get_submit_host},
    {"init_work_dir", get_init_work_dir},
    {"Variable_List", get_variable_list},
};

const struct field_set torque_fields = {torque_list, ARRAY_SIZE(torque_list)};
const struct field_set qstat_fields = {qstat_list, ARRAY_SIZE(qstat_list)};
const struct field_set acct_fields = {acct_list, ARRAY_SIZE(acct_list)};

/* A field's value, FV_ABSENT unless its getter sets one. */
static void
get_field(const struct job_field *f, const struct job_rec *j, const char *server, struct fval *v) {
  *v = (struct fval){.type = FV_ABSENT};
  f->get(j, server, v);
}

/* Calls fn with "KEY.name" and value for each "name=value" of list. */
static void
for_each_resource(const char *list, const char *key,
                  void (*fn)(const char *key, const char *value, void *ud), void *ud) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (!eq)
      continue;
    *eq = '\0';
    _cleanup_free_ char *full = xasprintf("%s.%s", key, item);
    fn(full, eq + 1, ud);
  }
}

static void
print_kv_line(const char *key, const char *value, void *ud) {
  (void)ud;
  printf("    %s = %s\n", key, value);
}

static void
fval_free(struct fval *v) {
  free(v->text);
  *v = (struct fval){0};
}

char *
job_field_text(const char *key, const struct job_rec *j, const char *server) {
  return fields_text(&qstat_fields, key, j, server);
}

char *
fields_text(const struct field_set *fs, const char *key, const struct job_rec *j,
            const char *server) {
  for (size_t i = 0; i < fs->n; i++) {
    if (strcmp(fs->fields[i].key, key) != 0)
      continue;
    struct fval v;
    get_field(&fs->fields[i], j, server, &v);
    if (v.type == FV_ABSENT)
      return xstrdup("");
    return v.text;
  }
  abort(); /* a column naming no field is a programming error */
}

void
fields_print_kv(const struct field_set *fs, const struct job_rec *j, const char *server) {
  for (size_t i = 0; i < fs->n; i++) {
    struct fval v;
    get_field(&fs->fields[i], j, server, &v);
    if (v.type == FV_RESOURCES)
      for_each_resource(v.text, fs->fields[i].key, print_kv_line, NULL);
    else if (v.type != FV_ABSENT)
      printf("    %s = %s\n", fs->fields[i].key, v.text);
    fval_free(&v);
  }
}

void
fields_print_aligned(const struct field_set *fs, const struct job_rec *j, const char *server) {
  for (size_t i = 0; i < fs->n; i++) {
    struct fval v;
    get_field(&fs->fields[i], j, server, &v);
    if (v.type != FV_ABSENT)
      printf("%-16s %s\n", fs->fields[i].key, v.text);
    fval_free(&v);
  }
}

static void
json_value(struct json *js, const char *key, const struct fval *v, const struct job_rec *j) {
  switch (v->type) {
    case FV_INT:
      json_int(js, key, v->i);
      break;
    case FV_NUM:
      json_num(js, key, v->num);
      break;
    case FV_ENV:
      json_open(js, key, '{');
      for (size_t i = 0; j->env[i]; i++) {
        const char *eq = strchr(j->env[i], '=');
        _cleanup_free_ char *name = xstrndup(j->env[i], eq ? (size_t)(eq - j->env[i]) : 0);
        json_str(js, name, eq ? eq + 1 : "");
      }
      json_close(js, '}');
      break;
    default:
      json_str(js, key, v->text);
      break;
  }
}

struct json_resource_ctx {
  struct json *js;
  struct json_group *group;
};

static void
json_resource(const char *key, const char *value, void *ud) {
  struct json_resource_ctx *c = ud;
  json_str(c->js, json_grouped_key(c->js, c->group, key), value);
}

void
fields_json(const struct field_set *fs, const struct job_rec *j, const char *server,
            struct json *js) {
  struct json_group group = {""};
  for (size_t i = 0; i < fs->n; i++) {
    struct fval v;
    get_field(&fs->fields[i], j, server, &v);
    if (v.type == FV_ABSENT)
      continue;
    if (v.type == FV_RESOURCES) {
      struct json_resource_ctx c = {js, &group};
      for_each_resource(v.text, fs->fields[i].key, json_resource, &c);
    } else
      json_value(js, json_grouped_key(js, &group, fs->fields[i].key), &v, j);
    fval_free(&v);
  }
  json_group_end(js, &group);
}

/* An element, or a member of the group open in *group ("Resource_List")
 * when key is "Resource_List.mem"; a group closes when a key leaves it. */
struct xml_ctx {
  FILE *out;
  char group[64];
};

static void
xml_member(const char *key, const char *value, void *ud) {
  struct xml_ctx *x = ud;
  const char *dot = strchr(key, '.');
  size_t glen = dot ? (size_t)(dot - key) : 0;
  if (x->group[0] && (glen != strlen(x->group) || strncmp(key, x->group, glen) != 0)) {
    fprintf(x->out, "</%s>", x->group);
    x->group[0] = '\0';
  }
  if (dot && !x->group[0] && glen < sizeof(x->group)) {
    memcpy(x->group, key, glen);
    x->group[glen] = '\0';
    fprintf(x->out, "<%s>", x->group);
  }
  const char *name = x->group[0] ? dot + 1 : key;
  fprintf(x->out, "<%s>", name);
  xml_write_text(x->out, value);
  fprintf(x->out, "</%s>", name);
}

void
fields_xml(const struct field_set *fs, const struct job_rec *j, const char *server, FILE *out) {
  struct xml_ctx x = {out, ""};
  _cleanup_free_ char *id = job_display_id(j, server);
  fputs("<Job><Job_Id>", out);
  xml_write_text(out, id);
  fputs("</Job_Id>", out);
  for (size_t i = 0; i < fs->n; i++) {
    struct fval v;
    get_field(&fs->fields[i], j, server, &v);
    if (v.type == FV_RESOURCES)
      for_each_resource(v.text, fs->fields[i].key, xml_member, &x);
    else if (v.type == FV_TIME) {
      char epoch[32];
      snprintf(epoch, sizeof(epoch), "%lld", (long long)v.i);
      xml_member(fs->fields[i].key, epoch, &x);
    } else if (v.type != FV_ABSENT)
      xml_member(fs->fields[i].key, v.text, &x);
    fval_free(&v);
  }
  if (x.group[0])
    fprintf(out, "</%s>", x.group);
  fputs("</Job>", out);
}
