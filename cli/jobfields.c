/* SPDX-License-Identifier: MIT */
#include "jobfields.h"
#include "res.h"

#include <stdarg.h>
#include <string.h>

enum field_id {
  /* qstat -f */
  F_JOB_NAME,
  F_JOB_OWNER,
  F_USED_CPUT,
  F_USED_MEM,
  F_USED_NCPUS,
  F_USED_WALLTIME,
  F_JOB_STATE,
  F_QUEUE,
  F_SERVER,
  F_CTIME,
  F_ERROR_PATH,
  F_EXEC_HOST,
  F_HOLD_TYPES,
  F_JOIN_PATH,
  F_MTIME,
  F_OUTPUT_PATH,
  F_PRIORITY,
  F_RERUNABLE,
  F_RUN_COUNT,
  F_QTIME,
  F_REQ_MEM,
  F_REQ_NCPUS,
  F_REQ_NET,
  F_REQ_PIDS,
  F_REQ_WALLTIME,
  F_STIME,
  F_OBITTIME,
  F_EUSER,
  F_EGID,
  F_EXIT_STATUS,
  F_END_REASON,
  F_CPUS,
  F_CGROUP,
  F_COMMENT,
  F_SCHED_PRIORITY,
  F_DEPEND,
  F_EXECUTION_TIME,
  F_ARRAY,
  F_ARRAY_INDICES,
  F_MAX_RUN_SUBJOBS,
  F_ARRAY_STATE_COUNT,
  F_ARRAY_ID,
  F_ARRAY_INDEX,
  F_VARIABLE_LIST,
  /* qacct -j */
  A_JOBNUMBER,
  A_HOSTNAME,
  A_STATE,
  A_EXIT_STATUS,
  A_WALLCLOCK,
  A_CPU,
  A_CPU_USER,
  A_CPU_SYS,
  A_CPU_THROTTLED,
  A_THROTTLED_PERIODS,
  A_MEM_PEAK,
  A_MEM_PEAK_SOURCE,
  A_OOM_KILLS,
  A_OOM_EVENTS,
  A_MEM_LIMIT_HITS,
  A_SWAP_PEAK,
  A_PIDS_PEAK,
  A_IO_READ,
  A_IO_WRITE,
  A_RU_UTIME,
  A_RU_STIME,
  A_RU_MAXRSS,
  A_CG_BACKEND,
};

struct job_field {
  const char *key;
  enum field_id id;
};

static const struct job_field qstat_list[] = {
    {"Job_Name", F_JOB_NAME},
    {"Job_Owner", F_JOB_OWNER},
    {"resources_used.cput", F_USED_CPUT},
    {"resources_used.mem", F_USED_MEM},
    {"resources_used.ncpus", F_USED_NCPUS},
    {"resources_used.walltime", F_USED_WALLTIME},
    {"job_state", F_JOB_STATE},
    {"queue", F_QUEUE},
    {"server", F_SERVER},
    {"ctime", F_CTIME},
    {"Error_Path", F_ERROR_PATH},
    {"exec_host", F_EXEC_HOST},
    {"Hold_Types", F_HOLD_TYPES},
    {"Join_Path", F_JOIN_PATH},
    {"mtime", F_MTIME},
    {"Output_Path", F_OUTPUT_PATH},
    {"Priority", F_PRIORITY},
    {"Rerunable", F_RERUNABLE},
    {"run_count", F_RUN_COUNT},
    {"qtime", F_QTIME},
    {"Resource_List.mem", F_REQ_MEM},
    {"Resource_List.ncpus", F_REQ_NCPUS},
    {"Resource_List.net", F_REQ_NET},
    {"Resource_List.pids", F_REQ_PIDS},
    {"Resource_List.walltime", F_REQ_WALLTIME},
    {"stime", F_STIME},
    {"obittime", F_OBITTIME},
    {"euser", F_EUSER},
    {"egid", F_EGID},
    {"Exit_status", F_EXIT_STATUS},
    {"end_reason", F_END_REASON},
    {"cpus", F_CPUS},
    {"cgroup", F_CGROUP},
    {"comment", F_COMMENT},
    {"sched_priority", F_SCHED_PRIORITY},
    {"depend", F_DEPEND},
    {"Execution_Time", F_EXECUTION_TIME},
    {"array", F_ARRAY},
    {"array_indices_submitted", F_ARRAY_INDICES},
    {"max_run_subjobs", F_MAX_RUN_SUBJOBS},
    {"array_state_count", F_ARRAY_STATE_COUNT},
    {"array_id", F_ARRAY_ID},
    {"array_index", F_ARRAY_INDEX},
    {"Variable_List", F_VARIABLE_LIST},
};

static const struct job_field acct_list[] = {
    {"qname", F_QUEUE},
    {"hostname", A_HOSTNAME},
    {"owner", F_EUSER},
    {"gid", F_EGID},
    {"jobname", F_JOB_NAME},
    {"jobnumber", A_JOBNUMBER},
    {"qsub_time", F_CTIME},
    {"start_time", F_STIME},
    {"end_time", F_OBITTIME},
    {"state", A_STATE},
    {"end_reason", F_END_REASON},
    {"exit_status", A_EXIT_STATUS},
    {"req_mem", F_REQ_MEM},
    {"req_ncpus", F_REQ_NCPUS},
    {"req_pids", F_REQ_PIDS},
    {"req_net", F_REQ_NET},
    {"cpus", F_CPUS},
    {"req_walltime", F_REQ_WALLTIME},
    {"ru_wallclock", A_WALLCLOCK},
    {"cpu", A_CPU},
    {"cpu_user", A_CPU_USER},
    {"cpu_sys", A_CPU_SYS},
    {"cpu_throttled", A_CPU_THROTTLED},
    {"throttled_periods", A_THROTTLED_PERIODS},
    {"mem_peak", A_MEM_PEAK},
    {"mem_peak_source", A_MEM_PEAK_SOURCE},
    {"oom_kills", A_OOM_KILLS},
    {"oom_events", A_OOM_EVENTS},
    {"mem_limit_hits", A_MEM_LIMIT_HITS},
    {"swap_peak", A_SWAP_PEAK},
    {"pids_peak", A_PIDS_PEAK},
    {"io_read", A_IO_READ},
    {"io_write", A_IO_WRITE},
    {"rusage_utime", A_RU_UTIME},
    {"rusage_stime", A_RU_STIME},
    {"rusage_maxrss", A_RU_MAXRSS},
    {"cgroup_backend", A_CG_BACKEND},
    {"cgroup", F_CGROUP},
    {"comment", F_COMMENT},
};

const struct field_set qstat_fields = {qstat_list, ARRAY_SIZE(qstat_list)};
const struct field_set acct_fields = {acct_list, ARRAY_SIZE(acct_list)};

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

static void
get_field(enum field_id id, const struct job_rec *j, const char *server, struct fval *v) {
  *v = (struct fval){.type = FV_ABSENT};
  const struct job_usage *u = &j->usage;
  bool used = j->has_usage || j->state == JOB_RUNNING;
  switch (id) {
    case F_JOB_NAME:
      set_str(v, j->name);
      break;
    case F_JOB_OWNER:
      set_fmt(v, "%s@%s", j->owner ? j->owner : "?",
              has_text(j->submit_host) ? j->submit_host : server);
      break;
    case F_USED_CPUT:
      if (used)
        set_hms(v, u->cpu_usec);
      break;
    case F_USED_MEM:
      if (used)
        set_size(v, u->mem_peak);
      break;
    case F_USED_NCPUS:
      if (used)
        set_int(v, j->ncpus);
      break;
    case F_USED_WALLTIME:
      if (used)
        set_hms(v, u->wall_usec);
      break;
    case F_JOB_STATE:
    case A_STATE:
      set_fmt(v, "%c", j->state);
      break;
    case F_QUEUE:
      set_str(v, j->queue);
      break;
    case F_SERVER:
      set_str(v, server);
      break;
    case F_CTIME:
      set_time(v, j->ctime);
      break;
    case F_ERROR_PATH:
    case F_OUTPUT_PATH: {
      _cleanup_free_ char *outp = job_out_path(j), *errp = job_err_path(j);
      bool err = id == F_ERROR_PATH;
      /* Joined streams both go to the file they are joined into. */
      const char *p = err ? (j->join == JOIN_OE ? outp : errp) : (j->join == JOIN_EO ? errp : outp);
      set_fmt(v, "%s:%s", server, p);
      break;
    }
    case F_EXEC_HOST:
      if (j->exec_host)
        set_fmt(v, "%s/0*%lld", j->exec_host, (long long)j->ncpus);
      break;
    case A_HOSTNAME:
      set_str(v, j->exec_host ? j->exec_host : "-");
      break;
    case F_HOLD_TYPES:
      set_str(v, has_text(j->hold_types) ? j->hold_types : "n");
      break;
    case F_JOIN_PATH:
      set_str(v, j->join == JOIN_OE ? "oe" : j->join == JOIN_EO ? "eo" : "n");
      break;
    case F_MTIME:
      set_time(v, j->mtime);
      break;
    case F_PRIORITY:
      set_int(v, j->priority);
      break;
    case F_RERUNABLE:
      set_str(v, j->rerunnable ? "True" : "False");
      break;
    case F_RUN_COUNT:
      set_int(v, j->run_count);
      break;
    case F_QTIME:
      set_time(v, j->qtime);
      break;
    case F_REQ_MEM:
      set_size(v, j->mem);
      break;
    case F_REQ_NCPUS:
      set_int(v, j->ncpus);
      break;
    case F_REQ_NET:
      if (has_text(j->net))
        set_str(v, j->net);
      break;
    case F_REQ_PIDS:
      if (j->pids > 0)
        set_int(v, j->pids);
      break;
    case F_REQ_WALLTIME:
      if (j->walltime > 0)
        set_duration(v, j->walltime);
      break;
    case F_STIME:
      if (j->stime > 0)
        set_time(v, j->stime);
      break;
    case F_OBITTIME:
      if (j->state == JOB_FINISHED)
        set_time(v, j->etime);
      break;
    case F_EUSER:
      set_str(v, j->owner);
      break;
    case F_EGID:
      set_int(v, j->gid);
      break;
    case F_EXIT_STATUS:
    case A_EXIT_STATUS:
      if (j->has_exit)
        set_int(v, j->exit_status);
      break;
    case F_END_REASON:
      if (j->state == JOB_FINISHED)
        set_str(v, job_end_to_string(j->end_reason));
      break;
    case F_CPUS:
      if (has_text(j->cpus))
        set_str(v, j->cpus);
      break;
    case F_CGROUP:
      if (j->cgroup)
        set_str(v, j->cgroup);
      break;
    case F_COMMENT:
      if (j->comment)
        set_str(v, j->comment);
      break;
    case F_SCHED_PRIORITY:
      if (j->sched_info)
        set_str(v, j->sched_info);
      break;
    case F_DEPEND:
      if (j->depend)
        set_str(v, j->depend);
      break;
    case F_EXECUTION_TIME:
      if (j->exec_time)
        set_time(v, j->exec_time);
      break;
    case F_ARRAY:
      if (j->array_spec)
        set_str(v, "True");
      break;
    case F_ARRAY_INDICES:
      if (j->array_spec)
        set_str(v, j->array_spec);
      break;
    case F_MAX_RUN_SUBJOBS:
      if (j->array_spec && j->array_limit)
        set_int(v, j->array_limit);
      break;
    case F_ARRAY_STATE_COUNT:
      if (j->array_counts)
        set_str(v, j->array_counts);
      break;
    case F_ARRAY_ID:
      if (j->array_id)
        set_fmt(v, "%lld[].%s", (long long)j->array_id, server);
      break;
    case F_ARRAY_INDEX:
      if (j->array_id)
        set_int(v, j->array_index);
      break;
    case F_VARIABLE_LIST:
      if (j->env) {
        v->type = FV_ENV;
        v->text = variable_list(j->env);
      }
      break;
    case A_JOBNUMBER:
      v->type = FV_STR;
      v->text = job_display_id(j, server);
      break;
    case A_WALLCLOCK:
      if (j->has_usage)
        set_seconds(v, u->wall_usec);
      break;
    case A_CPU:
      if (j->has_usage)
        set_seconds(v, u->cpu_usec);
      break;
    case A_CPU_USER:
      if (j->has_usage)
        set_seconds(v, u->user_usec);
      break;
    case A_CPU_SYS:
      if (j->has_usage)
        set_seconds(v, u->sys_usec);
      break;
    case A_CPU_THROTTLED:
      if (j->has_usage)
        set_seconds(v, u->throttled_usec);
      break;
    case A_THROTTLED_PERIODS:
      if (j->has_usage)
        set_int(v, u->nr_throttled);
      break;
    case A_MEM_PEAK:
      if (j->has_usage && u->mem_peak_src != MEM_PEAK_NONE)
        set_bytes(v, u->mem_peak);
      break;
    case A_MEM_PEAK_SOURCE:
      if (j->has_usage)
        set_str(v, fmt_mem_src(u->mem_peak_src));
      break;
    case A_OOM_KILLS:
      if (j->has_usage)
        set_int(v, u->oom_kills);
      break;
    case A_OOM_EVENTS:
      if (j->has_usage && u->oom_events >= 0)
        set_int(v, u->oom_events);
      break;
    case A_MEM_LIMIT_HITS:
      if (j->has_usage && u->mem_max_events >= 0)
        set_int(v, u->mem_max_events);
      break;
    case A_SWAP_PEAK:
      if (j->has_usage && u->swap_peak >= 0)
        set_bytes(v, u->swap_peak);
      break;
    case A_PIDS_PEAK:
      if (j->has_usage)
        set_int(v, u->pids_peak);
      break;
    case A_IO_READ:
      if (j->has_usage && u->io_rbytes >= 0)
        set_bytes(v, u->io_rbytes);
      break;
    case A_IO_WRITE:
      if (j->has_usage && u->io_wbytes >= 0)
        set_bytes(v, u->io_wbytes);
      break;
    case A_RU_UTIME:
      if (j->has_usage)
        set_seconds(v, u->ru_utime_usec);
      break;
    case A_RU_STIME:
      if (j->has_usage)
        set_seconds(v, u->ru_stime_usec);
      break;
    case A_RU_MAXRSS:
      if (j->has_usage && u->ru_maxrss_kb >= 0) {
        set_fmt(v, "%lld kb", (long long)u->ru_maxrss_kb);
        v->type = FV_INT;
        v->i = u->ru_maxrss_kb;
      }
      break;
    case A_CG_BACKEND:
      if (j->has_usage)
        set_str(v, u->cg_backend);
      break;
  }
}

static void
fval_free(struct fval *v) {
  free(v->text);
  *v = (struct fval){0};
}

char *
job_field_text(const char *key, const struct job_rec *j, const char *server) {
  for (size_t i = 0; i < ARRAY_SIZE(qstat_list); i++) {
    if (strcmp(qstat_list[i].key, key) != 0)
      continue;
    struct fval v;
    get_field(qstat_list[i].id, j, server, &v);
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
    get_field(fs->fields[i].id, j, server, &v);
    if (v.type != FV_ABSENT)
      printf("    %s = %s\n", fs->fields[i].key, v.text);
    fval_free(&v);
  }
}

void
fields_print_aligned(const struct field_set *fs, const struct job_rec *j, const char *server) {
  for (size_t i = 0; i < fs->n; i++) {
    struct fval v;
    get_field(fs->fields[i].id, j, server, &v);
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

void
fields_json(const struct field_set *fs, const struct job_rec *j, const char *server,
            struct json *js) {
  struct json_group group = {""};
  for (size_t i = 0; i < fs->n; i++) {
    struct fval v;
    get_field(fs->fields[i].id, j, server, &v);
    if (v.type == FV_ABSENT)
      continue;
    json_value(js, json_grouped_key(js, &group, fs->fields[i].key), &v, j);
    fval_free(&v);
  }
  json_group_end(js, &group);
}
