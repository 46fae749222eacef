/* SPDX-License-Identifier: MIT */
/* Client requests: their dispatch, and submission (the verbs that act on
 * jobs already there are in actions.c). Every handler
 * trusts nothing in the payload: the caller's identity is the socket's
 * SO_PEERCRED, every field is re-validated, and each state change is one
 * transaction committed before the reply. */
#include "boxqd.h"
#include "log.h"
#include "jobref.h"
#include "res.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#define MAX_ENV_VARS  4096
#define MAX_ENV_BYTES (1u << 20)
#define MAX_PATH_LEN  4096

static int
env_too_large(struct berr *err, size_t nenv, size_t bytes) {
  return berr_set(err, -E2BIG,
                  "the job environment is too large (%zu variables, %zu bytes; at most %u "
                  "variables and %u bytes)",
                  nenv, bytes, MAX_ENV_VARS, MAX_ENV_BYTES);
}

static int
user_name(uid_t uid, char *buf, size_t len) {
  struct passwd pw, *res = NULL;
  char tmp[4096];
  if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) != 0 || !res)
    return -ENOENT;
  snprintf(buf, len, "%s", pw.pw_name);
  return 0;
}

int
check_path(const char *what, const char *p, bool required, struct berr *err) {
  if (!p || !*p)
    return required ? berr_set(err, -EINVAL, "%s is missing", what) : 0;
  if (p[0] != '/')
    return berr_set(err, -EINVAL, "%s '%s' is not an absolute path", what, p);
  if (strlen(p) > MAX_PATH_LEN)
    return berr_set(err, -ENAMETOOLONG, "%s is longer than %d bytes", what, MAX_PATH_LEN);
  for (const char *s = p; *s; s++)
    if ((unsigned char)*s < ' ')
      return berr_set(err, -EINVAL, "%s contains a control character", what);
  return 0;
}

/* qsub -J: normalizes the range, keeps the %N cap apart. */
static int
check_array(struct boxqd *d, struct job_rec *j, struct berr *err) {
  if (!j->array_spec) {
    j->array_limit = 0;
    return 0;
  }
  struct job_array_range *ranges;
  size_t nranges;
  int64_t n;
  int r = job_array_parse_list(j->array_spec, &ranges, &nranges, &n, err);
  if (r < 0)
    return r;
  if (n > d->cfg.max_array_size) {
    free(ranges);
    return berr_set(err, -E2BIG, "array of %lld tasks exceeds this server's max_array_size (%lld)",
                    (long long)n, (long long)d->cfg.max_array_size);
  }
  free(j->array_spec);
  j->array_spec = job_array_format_list(ranges, nranges);
  j->array_limit = ranges[0].limit;
  free(ranges);
  return 0;
}

/* The id of the job ref names: 0, or -errno with the PBS-style message. */
static int
resolve_ref(struct boxqd *d, const struct job_ref *ref_in, int64_t *ret, struct berr *err) {
  const struct job_ref ref = *ref_in;
  char label[48];
  job_ref_format(&ref, label, sizeof(label));
  if (ref.kind == REF_TASK) {
    int r = db_task_id(d->db, ref.id, ref.index, ret);
    if (r == -ENOENT)
      return berr_set(err, r, "Unknown Job Id %s.%s", label, d->server_name);
    if (r < 0)
      return berr_set(err, r, "%s.%s: %s", label, d->server_name, db_errmsg(d->db));
    return 0;
  }
  if (ref.kind == REF_ARRAY) {
    struct job_rec j;
    int r = db_get_job(d->db, ref.id, false, &j);
    if (r == -ENOENT || (r == 0 && !j.array_spec)) {
      if (r == 0)
        job_rec_free(&j);
      return berr_set(err, -ENOENT, "Unknown Job Id %s.%s (not an array job)", label,
                      d->server_name);
    }
    if (r < 0)
      return berr_set(err, r, "%s.%s: %s", label, d->server_name, db_errmsg(d->db));
    job_rec_free(&j);
  }
  *ret = ref.id;
  return 0;
}

/* The job a T_JOBID or T_JOBREF field names. 1 if f is neither; 0 with
 * *ret; or -errno with the message in err. */
int
ref_field(struct boxqd *d, const struct pfield *f, int64_t *ret, struct berr *err) {
  struct job_ref ref = {.kind = REF_JOB};
  if (f->tag == T_JOBID) {
    if (pfield_i64(f, &ref.id) < 0)
      return berr_set(err, -EBADMSG, "malformed job id");
  } else if (f->tag == T_JOBREF) {
    const char *s = pfield_str(f);
    if (!s)
      return berr_set(err, -EBADMSG, "malformed job id");
    int r = job_ref_parse(s, &ref, err);
    if (r < 0)
      return r;
  } else
    return 1;
  return resolve_ref(d, &ref, ret, err);
}

/* qsub -W depend=...: every job named must exist; stored as given. */
int
resolve_depend(struct boxqd *d, const char *text, struct job_dep **ret_deps, int64_t **ret_ids,
               size_t *ret_n, struct berr *err) {
  struct job_dep *deps;
  size_t n;
  int r = job_depend_parse(text, &deps, &n, err);
  if (r < 0)
    return r;
  int64_t *ids = xcalloc(n, sizeof(int64_t));
  for (size_t i = 0; i < n; i++) {
    struct berr e = {{0}};
    struct job_rec target;
    r = resolve_ref(d, &deps[i].ref, &ids[i], &e);
    if (r == 0 && (r = db_get_job(d->db, ids[i], false, &target)) == 0)
      job_rec_free(&target);
    else if (r == -ENOENT)
      berr_set(&e, r, "Unknown Job Id %lld.%s", (long long)ids[i], d->server_name);
    else if (r < 0 && !e.msg[0])
      berr_set(&e, r, "%s", db_errmsg(d->db));
    if (r < 0) {
      berr_set(err, r, "depend: %s", e.msg);
      free(deps);
      free(ids);
      return r;
    }
  }
  *ret_deps = deps;
  *ret_ids = ids;
  *ret_n = n;
  return 0;
}

/* Stores j's dependencies and applies them (in the caller's transaction). */
int
store_depend(struct boxqd *d, int64_t id, const struct job_dep *deps, const int64_t *ids, size_t n,
             int64_t now) {
  int r = db_dep_drop(d->db, id);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (!dep_kind_per_task(deps[i].kind)) /* those are the tasks' */
      r = db_dep_add(d->db, id, deps[i].kind, ids[i]);
  if (r == 0)
    r = wf_settle(d, id, now);
  return r;
}

/* aftercorr kinds need an array submitted with the same tasks as each
 * array it names (Grid Engine's rule for -hold_jid_ad). */
static int
check_task_depend(struct boxqd *d, const struct job_rec *j, const struct job_dep *deps,
                  const int64_t *ids, size_t n, struct berr *err) {
  for (size_t i = 0; i < n; i++) {
    if (!dep_kind_per_task(deps[i].kind))
      continue;
    if (!j->array_spec)
      return berr_set(err, -EINVAL, "depend: %s makes an array's tasks wait: the job is no array",
                      dep_kind_name(deps[i].kind));
    struct job_rec other;
    int r = db_get_job(d->db, ids[i], false, &other);
    if (r < 0)
      return berr_set(err, r, "depend: %lld: %s", (long long)ids[i], db_errmsg(d->db));
    bool same = other.array_spec && !strcmp(other.array_spec, j->array_spec);
    if (!same)
      berr_set(err, -EINVAL, "depend: %s:%lld: its tasks (%s) are not this array's (%s)",
               dep_kind_name(deps[i].kind), (long long)ids[i],
               other.array_spec ? other.array_spec : "not an array", j->array_spec);
    job_rec_free(&other);
    if (!same)
      return -EINVAL;
  }
  return 0;
}

/* Stores an array's aftercorr dependencies on its tasks: task i waits for
 * task i of each array named (in the caller's transaction). */
static int
store_task_depend(struct boxqd *d, const struct job_rec *j, const struct job_dep *deps,
                  const int64_t *ids, size_t n, int64_t now) {
  struct job_array_range *ranges = NULL;
  size_t nranges = 0;
  int64_t count;
  int r = job_array_parse_list(j->array_spec, &ranges, &nranges, &count, NULL);
  for (size_t k = 0; r == 0 && k < nranges; k++)
    for (int64_t idx = ranges[k].first; r == 0 && idx <= ranges[k].last; idx += ranges[k].step) {
      int64_t task;
      r = db_task_id(d->db, j->id, idx, &task);
      for (size_t i = 0; r == 0 && i < n; i++) {
        int64_t theirs;
        if (!dep_kind_per_task(deps[i].kind) || (r = db_task_id(d->db, ids[i], idx, &theirs)) < 0)
          continue;
        r = db_dep_add(d->db, task, deps[i].kind == DEP_AFTERCORR ? DEP_AFTEROK : DEP_AFTERANY,
                       theirs);
      }
      if (r == 0)
        r = wf_settle(d, task, now);
    }
  free(ranges);
  return r;
}

/* Validates a submission and fills in what the server decides. */
/* qsub -W group_list=G[@host][,...]: the job runs with group G (the
 * first named; one box), when its owner is a member of it. */
static int
apply_group_list(struct job_rec *j, const char *owner, gid_t primary, struct berr *err) {
  if (!j->group_list || !*j->group_list)
    return 0;
  _cleanup_free_ char *name = xstrndup(j->group_list, strcspn(j->group_list, ",@"));
  struct group gr, *res = NULL;
  char buf[16384];
  int64_t gid;
  if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res) {
    if (parse_i64(name, 0, INT32_MAX, &gid) < 0 ||
        getgrgid_r((gid_t)gid, &gr, buf, sizeof(buf), &res) != 0 || !res)
      return berr_set(err, -EINVAL, "-W group_list=%s: there is no group %s", j->group_list, name);
  }
  _cleanup_free_ char *item = xasprintf("@%s", res->gr_name);
  if (res->gr_gid != primary && !principal_in_list(item, owner, primary))
    return berr_set(err, -EPERM, "-W group_list=%s: %s is not a member of group %s", j->group_list,
                    owner, res->gr_name);
  j->gid = res->gr_gid;
  return 0;
}

/* Resources as other systems write them, kept by qsub: checked again
 * against this server's multinode and unknown_resource (qsub applied the
 * configuration it read, which may not be this server's). */
int
check_site_resources(struct boxqd *d, struct job_rec *j, struct berr *err) {
  /* Which devices, and how many, are the server's to say. */
  free(j->devreq);
  j->devreq = NULL;
  free(j->devices);
  j->devices = NULL;
  j->ngpus = 0;
  if (j->nodes < 0 || j->nodes > RES_NCPUS_MAX)
    return berr_set(err, -EINVAL, "bad node count %lld", (long long)j->nodes);
  if (!j->resources || !*j->resources)
    return 0;
  if (strlen(j->resources) > 4096)
    return berr_set(err, -EINVAL, "the resource list is longer than 4096 characters");
  struct res_policy pol = cfg_res_policy(&d->cfg);
  struct res_request req = {0};
  int r = res_parse_list(j->resources, &req, &pol, err);
  res_request_free(&req);
  struct dev_counts devs;
  if (r == 0)
    r = dev_request_from_resources(&d->devs, j->resources, &devs, err);
  if (r == 0 && dev_counts_any(&devs)) {
    j->devreq = dev_counts_format(&d->devs, &devs);
    int gpu = dev_class_find(&d->devs, "gpu");
    j->ngpus = gpu >= 0 ? devs.n[gpu] : 0;
  }
  return r;
}

static int
validate_submit(struct boxqd *d, uid_t uid, gid_t gid, struct job_rec *j, struct berr *err) {
  const struct boxq_config *cfg = &d->cfg;
  if (uid == 0 && !cfg->allow_root_jobs)
    return berr_set(err, -EPERM,
                    "jobs may not run as root on this server (allow_root_jobs = false)");
  char owner[256];
  if (user_name(uid, owner, sizeof(owner)) < 0)
    return berr_set(err, -EPERM, "uid %u has no user account", (unsigned)uid);
  /* Identity is the socket's, whatever the payload said. */
  j->uid = uid;
  j->gid = gid;
  free(j->owner);
  j->owner = xstrdup(owner);
  free(j->groups);
  j->groups = NULL;
  j->ngroups = 0;

  int r = apply_group_list(j, owner, gid, err);
  if (r < 0)
    return r;
  if ((r = job_name_check(j->name, err)) < 0)
    return r;
  if ((r = check_path("working directory", j->workdir, true, err)) < 0 ||
      (r = check_path("output path (-o)", j->out_path, false, err)) < 0 ||
      (r = check_path("error path (-e)", j->err_path, false, err)) < 0)
    return r;
  if (j->join < JOIN_NONE || j->join > JOIN_EO)
    return berr_set(err, -EINVAL, "bad join option");
  if ((r = check_site_resources(d, j, err)) < 0)
    return r;
  if (!j->script || j->script_len == 0)
    return berr_set(err, -EINVAL, "the job script is empty");
  if ((int64_t)j->script_len > cfg->max_script_size)
    return berr_set(err, -E2BIG, "the job script is %zu bytes; the limit is %lld", j->script_len,
                    (long long)cfg->max_script_size);
  if (memchr(j->script, '\0', j->script_len))
    return berr_set(err, -EINVAL, "the job script contains a NUL byte (is it a binary?)");
  size_t nenv = job_env_count(j->env), env_bytes = 0;
  for (size_t i = 0; i < nenv; i++)
    env_bytes += strlen(j->env[i]) + 1;
  if (nenv > MAX_ENV_VARS || env_bytes > MAX_ENV_BYTES)
    return env_too_large(err, nenv, env_bytes);

  if (j->ncpus < 0 || j->mem < 0 || j->walltime < 0 || j->pids < 0)
    return berr_set(err, -EINVAL, "negative resource request");
  r = queue_admit(d, uid, gid, owner, j, true, err);
  if (r < 0)
    return r;
  if (j->pids < 0 || j->pids > RES_PIDS_MAX)
    return berr_set(err, -EINVAL, "pids=%lld is out of range", (long long)j->pids);
  if (j->net && *j->net && strcmp(j->net, "none") != 0)
    return berr_set(err, -EINVAL, "net='%s': only 'none' (loopback only) is known", j->net);
  /* CPU pinning is the server's decision, never the submitter's. */
  free(j->cpus);
  j->cpus = NULL;
  if (j->ncpus < 1 || j->ncpus > RES_NCPUS_MAX)
    return berr_set(err, -EINVAL, "ncpus=%lld is out of range", (long long)j->ncpus);
  if (j->mem < 1 || j->mem > RES_SIZE_MAX)
    return berr_set(err, -EINVAL, "mem is out of range");
  if (j->walltime < 0 || j->walltime > RES_DURATION_MAX)
    return berr_set(err, -EINVAL, "walltime is out of range");
  if (j->ncpus > d->cap.ncpus)
    return berr_set(err, -E2BIG, "ncpus=%lld exceeds this server's %lld CPUs", (long long)j->ncpus,
                    (long long)d->cap.ncpus);
  if (j->mem > d->cap.mem) {
    char want[32], have[32];
    res_format_size(j->mem, want, sizeof(want));
    res_format_size(d->cap.mem, have, sizeof(have));
    return berr_set(err, -E2BIG, "mem=%s exceeds this server's %s for jobs", want, have);
  }
  if (j->hold_types && *j->hold_types && strspn(j->hold_types, "u") != strlen(j->hold_types))
    return berr_set(err, -EINVAL, "unknown hold type '%s' (only 'u')", j->hold_types);
  if (j->priority < -1024 || j->priority > 1023)
    return berr_set(err, -EINVAL, "priority %lld is outside -1024..1023", (long long)j->priority);
  if ((r = check_array(d, j, err)) < 0)
    return r;
  if (j->dialect && *j->dialect && strcmp(j->dialect, "sge") != 0 &&
      strcmp(j->dialect, "slurm") != 0)
    return berr_set(err, -EINVAL, "unknown job language '%s' (sge or slurm)", j->dialect);
  if (j->warn_after < 0 || j->warn_after > RES_DURATION_MAX ||
      (j->warn_after && !job_signal_allowed((int)j->warn_signal)) || j->warn_signal < 0 ||
      j->warn_signal > 64)
    return berr_set(err, -EINVAL, "bad warning signal or time (-l s_rt)");
  if (!j->warn_after)
    j->warn_signal = 0;
  if (j->interactive) {
    if (j->array_spec)
      return berr_set(err, -EINVAL, "an interactive job (-I) cannot be an array job (-J)");
    /* Nobody would be at its terminal the second time (PBS's rule). */
    j->rerunnable = false;
  }
  int64_t now = now_sec();
  if (j->exec_time < 0 || j->exec_time > now + RES_DURATION_MAX)
    return berr_set(err, -EINVAL, "execution time (-a) is out of range");
  if (j->exec_time <= now)
    j->exec_time = 0;
  /* Task fields are the server's to set. */
  j->array_id = j->array_index = 0;
  free(j->sched_info);
  free(j->array_counts);
  j->sched_info = j->array_counts = NULL;

  j->state = (j->hold_types && *j->hold_types) ? JOB_HELD : j->exec_time ? JOB_WAITING : JOB_QUEUED;
  j->end_reason = END_NONE;
  j->has_exit = false;
  j->has_usage = false;
  j->ctime = j->qtime = j->mtime = now;
  j->stime = j->etime = 0;
  free(j->comment);
  free(j->exec_host);
  free(j->cgroup);
  j->comment = j->exec_host = j->cgroup = NULL;
  return 0;
}

/* A submission whose environment the decoder refused (too many variables
 * to keep): counted in the frame, for the same message as any other. */
static int
env_too_large_in(const struct pmsg *job, struct berr *err) {
  size_t off = 0, nenv = 0, bytes = 0;
  struct pfield f;
  while (pmsg_next(job, &off, &f))
    if (f.tag == J_ENV) {
      nenv++;
      bytes += f.len + 1;
    }
  return env_too_large(err, nenv, bytes);
}

static void
store_error(struct conn *c, struct boxqd *d, int r) {
  if (r == -ENOSPC || r == -EDQUOT)
    reply_status(c, r, "cannot store the job: the disk holding the queue is full (%s)",
                 d->cfg.state_dir);
  else if (r == -EROFS)
    reply_status(c, r, "cannot store the job: the queue database is read-only (%s)",
                 d->cfg.state_dir);
  else
    reply_status(c, r, "cannot store the job: %s", db_errmsg(d->db));
}

/* validate_submit for a schedule's job, checked when it is installed. */
int
submit_check(struct boxqd *d, uid_t uid, gid_t gid, struct job_rec *j, struct berr *err) {
  return validate_submit(d, uid, gid, j, err);
}

int
submit_store(struct boxqd *d, uid_t uid, gid_t gid, struct job_rec *j, bool own_tx,
             const char *note, struct berr *err) {
  struct job_dep *deps = NULL;
  int64_t *dep_ids = NULL;
  size_t ndeps = 0;
  int r = validate_submit(d, uid, gid, j, err);
  if (r == 0 && j->depend) {
    r = resolve_depend(d, j->depend, &deps, &dep_ids, &ndeps, err);
    if (r == 0) {
      free(j->depend);
      j->depend = ndeps ? job_depend_format(deps, ndeps) : NULL; /* "afterok:" names none */
      r = check_task_depend(d, j, deps, dep_ids, ndeps, err);
    }
  }
  if (r < 0) {
    if (!err->msg[0])
      berr_set(err, r, "%s", strerror(-r));
    free(deps);
    free(dep_ids);
    return r;
  }
  /* Relaxed: the reply (the id) waits for the sync of the log, which
   * submissions arriving together share (walsync.c). */
  r = own_tx ? db_begin_relaxed(d->db) : 0;
  if (r == 0)
    r = db_insert_job(d->db, j);
  if (r == 0 && j->array_spec) {
    /* The ranges of the list check_array normalized, in order. */
    struct job_array_range *ranges = NULL;
    size_t nranges = 0;
    int64_t count;
    job_array_parse_list(j->array_spec, &ranges, &nranges, &count, NULL);
    for (size_t i = 0; r == 0 && i < nranges; i++)
      r = db_insert_tasks(d->db, j->id, ranges[i].first, ranges[i].last, ranges[i].step);
    free(ranges);
  }
  if (r == 0)
    r = db_add_event(d->db, j->id, j->ctime, "submitted",
                     note                      ? note
                     : j->state == JOB_HELD    ? "held at submission"
                     : j->state == JOB_WAITING ? "deferred (-a)"
                                               : NULL);
  if (r == 0 && ndeps)
    r = store_depend(d, j->id, deps, dep_ids, ndeps, j->ctime);
  if (r == 0 && ndeps && j->array_spec)
    r = store_task_depend(d, j, deps, dep_ids, ndeps, j->ctime);
  if (own_tx && r == 0)
    r = db_commit(d->db);
  else if (own_tx)
    db_rollback(d->db);
  free(deps);
  free(dep_ids);
  if (r < 0)
    err->msg[0] = '\0'; /* the database's: the caller says so */
  return r;
}

static void
req_submit(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  struct pfield f;
  struct pmsg sub;
  struct job_rec j;
  struct berr err = {{0}};
  int r = -EBADMSG;
  if (!pmsg_find(m, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || (r = job_rec_decode(&sub, &j)) < 0) {
    if (r == -E2BIG) {
      env_too_large_in(&sub, &err);
      reply_status(c, -E2BIG, "%s", err.msg);
    } else
      reply_status(c, -EBADMSG, "malformed submission");
    return;
  }
  r = submit_store(d, c->uid, c->gid, &j, true, NULL, &err);
  if (r < 0) {
    if (err.msg[0])
      reply_status(c, r, "%s", err.msg); /* refused */
    else {
      log_error("cannot store a job of uid %u: %s", (unsigned)c->uid, db_errmsg(d->db));
      store_error(c, d, r);
    }
    job_rec_free(&j);
    return;
  }
  /* Committed; the id is printed once it is on disk. */
  log_info("job %lld submitted by %s (ncpus=%lld mem=%lld walltime=%lld)", (long long)j.id, j.owner,
           (long long)j.ncpus, (long long)j.mem, (long long)j.walltime);
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  pb_i64(&b, T_STATUS, 0);
  pb_i64(&b, T_JOBID, j.id);
  if (j.array_spec) {
    char ref[32];
    snprintf(ref, sizeof(ref), "%lld[]", (long long)j.id);
    pb_str(&b, T_JOBREF, ref);
  }
  pb_str(&b, T_SERVER, d->server_name);
  pb_end(&b);
  walsync_reply_later(d, c, &b, j.id);
  if (j.state == JOB_WAITING)
    wf_deferred_check(d);
  sched_request_pass(d);
  job_rec_free(&j);
}

/* A per-id failure in a multi-id reply: the message goes to the client,
 * the first failure's code becomes the reply's status. */
void
reply_add_error(struct pbuf *b, int *status, int r, const char *msg) {
  pb_str(b, T_ERROR, msg);
  if (*status == 0)
    *status = r;
}

/* Closes a reply begun with pb_begin(MSG_REPLY), sends it and frees it. */
void
reply_finish(struct boxqd *d, struct conn *c, struct pbuf *b, int status) {
  pb_i64(b, T_STATUS, status);
  pb_str(b, T_SERVER, d->server_name);
  pb_end(b);
  conn_send(c, b);
  pbuf_free(b);
}

void
req_dispatch(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  switch (m->type) {
    case MSG_SUBMIT:
      req_submit(d, c, m);
      break;
    case MSG_STAT:
      req_stat(d, c, m);
      break;
    case MSG_SERVER_INFO:
      req_server_info(d, c);
      break;
    case MSG_EVENTS:
      req_events(d, c, m);
      break;
    case MSG_QUEUE_INFO:
      req_queue_info(d, c, m);
      break;
    case MSG_ACCT:
      req_acct(d, c, m);
      break;
    case MSG_NODE_INFO:
      req_node_info(d, c);
      break;
    case MSG_NODE_SET:
      req_node_set(d, c, m);
      break;
    case MSG_WAIT:
      req_wait(d, c, m);
      break;
    case MSG_ADMIN:
      req_admin(d, c, m);
      break;
    case MSG_CRON:
      req_cron(d, c, m);
      break;
    case MSG_SERIES:
      req_series(d, c, m);
      break;
    case MSG_DELETE:
    case MSG_HOLD:
    case MSG_RELEASE:
    case MSG_ALTER:
    case MSG_RERUN:
    case MSG_RUN:
    case MSG_SUSPEND:
    case MSG_SIGNAL_JOB:
      req_act(d, c, m);
      break;
    default:
      reply_status(c, -EOPNOTSUPP, "unknown request type %u", m->type);
      break;
  }
}
