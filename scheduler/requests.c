/* SPDX-License-Identifier: MIT */
/* Client requests: submit, stat, delete, hold, release. Every handler
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

static int
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
static int
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
static int
store_depend(struct boxqd *d, int64_t id, const struct job_dep *deps, const int64_t *ids, size_t n,
             int64_t now) {
  int r = db_dep_drop(d->db, id);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = db_dep_add(d->db, id, deps[i].kind, ids[i]);
  if (r == 0)
    r = wf_settle(d, id, now);
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
static int
check_site_resources(struct boxqd *d, const struct job_rec *j, struct berr *err) {
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
  return r;
}

static int
validate_submit(struct boxqd *d, struct conn *c, struct job_rec *j, struct berr *err) {
  const struct boxq_config *cfg = &d->cfg;
  if (c->uid == 0 && !cfg->allow_root_jobs)
    return berr_set(err, -EPERM,
                    "jobs may not run as root on this server (allow_root_jobs = false)");
  char owner[256];
  if (user_name(c->uid, owner, sizeof(owner)) < 0)
    return berr_set(err, -EPERM, "uid %u has no user account", (unsigned)c->uid);
  /* Identity is the socket's, whatever the payload said. */
  j->uid = c->uid;
  j->gid = c->gid;
  free(j->owner);
  j->owner = xstrdup(owner);
  free(j->groups);
  j->groups = NULL;
  j->ngroups = 0;

  int r = apply_group_list(j, owner, c->gid, err);
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
  r = queue_admit(d, c->uid, c->gid, owner, j, true, err);
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
  struct job_dep *deps = NULL;
  int64_t *dep_ids = NULL;
  size_t ndeps = 0;
  r = validate_submit(d, c, &j, &err);
  if (r == 0 && j.depend) {
    r = resolve_depend(d, j.depend, &deps, &dep_ids, &ndeps, &err);
    if (r == 0) {
      free(j.depend);
      j.depend = ndeps ? job_depend_format(deps, ndeps) : NULL; /* "afterok:" names none */
    }
  }
  if (r < 0) {
    reply_status(c, r, "%s", err.msg);
    job_rec_free(&j);
    return;
  }
  /* Relaxed: the reply (the id) waits for the sync of the log, which
   * submissions arriving together share (walsync.c). */
  r = db_begin_relaxed(d->db);
  if (r == 0)
    r = db_insert_job(d->db, &j);
  if (r == 0 && j.array_spec) {
    /* The ranges of the list check_array normalized, in order. */
    struct job_array_range *ranges = NULL;
    size_t nranges = 0;
    int64_t count;
    job_array_parse_list(j.array_spec, &ranges, &nranges, &count, NULL);
    for (size_t i = 0; r == 0 && i < nranges; i++)
      r = db_insert_tasks(d->db, j.id, ranges[i].first, ranges[i].last, ranges[i].step);
    free(ranges);
  }
  if (r == 0)
    r = db_add_event(d->db, j.id, j.ctime, "submitted",
                     j.state == JOB_HELD      ? "held at submission"
                     : j.state == JOB_WAITING ? "deferred (-a)"
                                              : NULL);
  if (r == 0 && ndeps)
    r = store_depend(d, j.id, deps, dep_ids, ndeps, j.ctime);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  free(deps);
  free(dep_ids);
  if (r < 0) {
    log_error("cannot store a job of uid %u: %s", (unsigned)c->uid, db_errmsg(d->db));
    store_error(c, d, r);
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

/* May the caller act on other users' jobs? root, managers and operators
 * may; the check uses the account of the socket's uid, never the payload. */
bool
may_act_on_any(struct boxqd *d, struct conn *c) {
  if (c->uid == 0)
    return true;
  if (!*d->cfg.managers && !*d->cfg.operators)
    return false;
  struct passwd pw, *res = NULL;
  char buf[16384];
  if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
    return false;
  return principal_in_list(d->cfg.managers, pw.pw_name, pw.pw_gid) ||
         principal_in_list(d->cfg.operators, pw.pw_name, pw.pw_gid);
}

/* The action part of qdel/qhold/qrls/qsig/qalter/qrerun on one job the
 * caller may touch. Returns 0, or -errno with a message in err. Runs
 * inside a transaction; running jobs to end or signal once it commits go
 * to out. */
struct action_out {
  int64_t *ids; /* running jobs to tell the worker about */
  size_t n;
  int sig; /* 0: cancel them */
  bool changed;
  struct planned_start start; /* qrun: a job to dispatch (id 0: none) */
};

typedef int (*job_action_fn)(struct boxqd *d, struct job_rec *j, struct conn *c,
                             const struct pmsg *req, struct action_out *out, struct berr *err);

static void
out_add(struct action_out *out, int64_t id) {
  out->ids = xrealloc(out->ids, (out->n + 1) * sizeof(int64_t));
  out->ids[out->n++] = id;
}

/* The running tasks of an array job. */
static int
running_tasks(struct boxqd *d, int64_t array_id, struct action_out *out, bool cancel) {
  int64_t *ids;
  size_t n;
  int r = db_array_tasks(d->db, array_id, &ids, &n);
  for (size_t i = 0; r == 0 && i < n; i++) {
    struct job_rec t;
    if (db_get_job(d->db, ids[i], false, &t) < 0)
      continue;
    if (t.state == JOB_RUNNING || t.state == JOB_EXITING) {
      if (cancel)
        r = db_set_end_reason(d->db, t.id, END_CANCELLED);
      if (r == 0)
        out_add(out, t.id);
    }
    job_rec_free(&t);
  }
  free(ids);
  return r;
}

static int
act_delete(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
           struct action_out *out, struct berr *err) {
  (void)req;
  int64_t now = now_sec();
  _cleanup_free_ char *who = xasprintf("by uid %u", (unsigned)c->uid);
  if (j->state == JOB_FINISHED)
    return berr_set(err, -EALREADY, "Job has finished: %lld.%s", (long long)j->id, d->server_name);
  if (j->array_spec) {
    /* The whole array: tasks not started end now, running ones are told. */
    int r = db_finish_unstarted(d->db, j->id, END_CANCELLED, now);
    if (r >= 0)
      r = running_tasks(d, j->id, out, true);
    if (r == 0)
      r = db_add_event(d->db, j->id, now, "cancelled", who);
    if (r == 0)
      r = wf_array_check(d, j->id, now);
    return r;
  }
  switch (j->state) {
    case JOB_QUEUED:
    case JOB_HELD:
    case JOB_WAITING: {
      int r = db_finish_unstarted(d->db, j->id, END_CANCELLED, now);
      if (r >= 0)
        r = db_add_event(d->db, j->id, now, "cancelled", who);
      if (r == 0)
        r = wf_job_finished(d, j, now);
      return r;
    }
    case JOB_RUNNING:
    case JOB_EXITING: {
      /* The worker ends it; its result arrives as for any other end. The
       * intent is stored so that it survives a restart of either daemon. */
      int r = db_set_end_reason(d->db, j->id, END_CANCELLED);
      if (r == 0)
        r = db_add_event(d->db, j->id, now, "delete requested", who);
      if (r == 0)
        out_add(out, j->id);
      return r;
    }
    default:
      return berr_set(err, -EINVAL, "job is in an unknown state");
  }
}

static int
act_hold(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
         struct action_out *out, struct berr *err) {
  (void)req;
  (void)c;
  (void)out;
  if (j->state == JOB_HELD && j->hold_types && strchr(j->hold_types, 'u'))
    return 0;
  int64_t now = now_sec();
  int r = db_hold_add(d->db, j->id, 'u', now);
  if (r == 0)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c)",
                    (long long)j->id, d->server_name, j->state);
  if (r > 0)
    r = db_add_event(d->db, j->id, now, "held", "user hold");
  return r;
}

static int
act_release(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
            struct action_out *out, struct berr *err) {
  (void)req;
  (void)c;
  (void)out;
  int64_t now = now_sec();
  int r = db_hold_remove(d->db, j->id, 'u', now);
  if (r == 0)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c, no user hold)",
                    (long long)j->id, d->server_name, j->state);
  if (r > 0)
    r = db_add_event(d->db, j->id, now, "released", NULL);
  return r;
}

/* qsig: the signal travels in the request; only running jobs take one. */
static int
act_signal(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
           struct action_out *out, struct berr *err) {
  int sig = (int)pmsg_i64_or(req, T_SIGNAL, 0);
  out->sig = sig;
  if (j->array_spec) {
    size_t before = out->n;
    int r = running_tasks(d, j->id, out, false);
    if (r == 0 && out->n == before)
      return berr_set(err, -EBUSY, "Request invalid: no task of array %lld[].%s is running",
                      (long long)j->id, d->server_name);
    return r;
  }
  if (j->state != JOB_RUNNING)
    return berr_set(err, -EBUSY, "Request invalid for state of job %lld.%s (state %c, not running)",
                    (long long)j->id, d->server_name, j->state);
  if (!d->worker_ready)
    return berr_set(err, -ENOTCONN, "cannot reach the worker to signal job %lld.%s",
                    (long long)j->id, d->server_name);
  out_add(out, j->id);
  _cleanup_free_ char *detail = xasprintf("signal %d by uid %u", sig, (unsigned)c->uid);
  return db_add_event(d->db, j->id, now_sec(), "signalled", detail);
}

/* qalter: changes of a job that has not started, within its queue's limits. */
static int
act_alter(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
          struct action_out *out, struct berr *err) {
  (void)out;
  int64_t flags = pmsg_i64_or(req, T_FLAGS, 0);
  struct pfield f;
  struct pmsg sub;
  struct job_rec a;
  if (!pmsg_find(req, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &a) < 0)
    return berr_set(err, -EBADMSG, "malformed qalter request");
  int r = 0;
  struct job_dep *deps = NULL;
  int64_t *dep_ids = NULL;
  size_t ndeps = 0;
  int64_t now = now_sec();
  if (j->array_id) {
    r = berr_set(err, -EPERM, "qalter applies to a whole array job (%lld[]), not to one task",
                 (long long)j->array_id);
    goto out;
  }
  if (j->state != JOB_QUEUED && j->state != JOB_HELD && j->state != JOB_WAITING) {
    r = berr_set(err, -EBUSY,
                 "Request invalid for state of job %lld.%s (state %c): only jobs that have not "
                 "started can be altered",
                 (long long)j->id, d->server_name, j->state);
    goto out;
  }
#define TAKE(flag, field)                                                                          \
  if (flags & (flag))                                                                              \
    j->field = a.field;
  TAKE(ALTER_PRIORITY, priority);
  TAKE(ALTER_NCPUS, ncpus);
  TAKE(ALTER_MEM, mem);
  TAKE(ALTER_WALLTIME, walltime);
  TAKE(ALTER_PIDS, pids);
  TAKE(ALTER_RERUNNABLE, rerunnable);
  TAKE(ALTER_JOIN, join);
  TAKE(ALTER_ARRAY_LIMIT, array_limit);
  TAKE(ALTER_EXEC_TIME, exec_time);
#undef TAKE
  if (flags & ALTER_NAME) {
    if ((r = job_name_check(a.name, err)) < 0)
      goto out;
    free(j->name);
    j->name = xstrdup(a.name);
  }
  if (flags & (ALTER_OUT_PATH | ALTER_ERR_PATH)) {
    const char *p = flags & ALTER_OUT_PATH ? a.out_path : a.err_path;
    if ((r = check_path(flags & ALTER_OUT_PATH ? "output path (-o)" : "error path (-e)", p, true,
                        err)) < 0)
      goto out;
    char **dst = flags & ALTER_OUT_PATH ? &j->out_path : &j->err_path;
    free(*dst);
    *dst = xstrdup(p);
  }
  if (j->ncpus < 1 || j->ncpus > d->cap.ncpus || j->mem < 1 || j->mem > d->cap.mem ||
      j->walltime < 0 || j->walltime > RES_DURATION_MAX || j->pids < 0 || j->pids > RES_PIDS_MAX ||
      j->priority < -1024 || j->priority > 1023 || j->array_limit < 0 || j->join < JOIN_NONE ||
      j->join > JOIN_EO || j->exec_time < 0) {
    r = berr_set(err, -EINVAL, "a new value is out of range for this server");
    goto out;
  }
  if (j->array_limit && !j->array_spec) {
    r = berr_set(err, -EINVAL, "%%N (array limit) applies only to array jobs");
    goto out;
  }
  if (flags & ALTER_QUEUE) {
    /* qmove: into a queue that takes jobs, within its limits (below). */
    const char *to = NULL;
    const struct boxq_queue *q =
        a.queue && cfg_route_queue(&d->cfg, a.queue, &to) >= 0 ? cfg_queue(&d->cfg, to) : NULL;
    if (!q) {
      r = berr_set(err, -ENOENT, "Unknown queue '%s' (see qstat -Q)", a.queue ? a.queue : "");
      goto out;
    }
    if (!q->enabled) {
      r = berr_set(err, -EPERM, "queue '%s' is not accepting jobs (qenable)", q->name);
      goto out;
    }
    free(j->queue);
    j->queue = xstrdup(q->name);
  }
  /* The owner's queue rules, checked for the owner (not the caller). */
  gid_t owner_gid = (gid_t)j->gid;
  if ((r = queue_admit(d, (uid_t)j->uid, owner_gid, j->owner, j, false, err)) < 0)
    goto out;
  if (flags & ALTER_DEPEND) {
    if (a.depend && *a.depend) {
      if ((r = resolve_depend(d, a.depend, &deps, &dep_ids, &ndeps, err)) < 0)
        goto out;
      free(j->depend);
      j->depend = ndeps ? job_depend_format(deps, ndeps) : NULL;
    } else {
      free(j->depend);
      j->depend = NULL;
    }
  }
  r = db_alter(d->db, j, now);
  if (r == 0 && (flags & ALTER_EXEC_TIME) && j->state != JOB_HELD) {
    int want = j->exec_time > now ? JOB_WAITING : JOB_QUEUED;
    if (want != j->state)
      r = db_set_state(d->db, j->id, want, j->hold_types, now);
  }
  if (r == 0 && (flags & ALTER_DEPEND)) {
    if (ndeps)
      r = store_depend(d, j->id, deps, dep_ids, ndeps, now);
    else {
      r = db_dep_drop(d->db, j->id);
      if (r == 0)
        r = wf_settle(d, j->id, now);
    }
  }
  if (r == 0) {
    _cleanup_free_ char *detail = xasprintf("by uid %u", (unsigned)c->uid);
    r = db_add_event(d->db, j->id, now, "altered", detail);
  }
out:
  free(deps);
  free(dep_ids);
  job_rec_free(&a);
  return r;
}

/* qrerun: a finished job runs again under its id; the last run's figures
 * are kept in job_runs. */
static int
act_rerun(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
          struct action_out *out, struct berr *err) {
  (void)req;
  (void)out;
  if (j->array_spec || j->array_id)
    return berr_set(err, -EPERM,
                    "qrerun of array jobs and their tasks is not supported; "
                    "resubmit the array");
  if (j->state != JOB_FINISHED)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c): qrerun runs finished "
                    "jobs again",
                    (long long)j->id, d->server_name, j->state);
  struct job_rec full;
  int r = db_get_job(d->db, j->id, true, &full);
  if (r < 0)
    return berr_set(err, r, "%lld.%s: %s", (long long)j->id, d->server_name, db_errmsg(d->db));
  bool has_script = full.script_len > 0;
  job_rec_free(&full);
  if (!has_script)
    return berr_set(err, -ENOENT, "the script of job %lld.%s is no longer kept", (long long)j->id,
                    d->server_name);
  if (j->uid == 0 && !d->cfg.allow_root_jobs)
    return berr_set(err, -EPERM, "jobs may not run as root on this server");
  if ((r = queue_admit(d, (uid_t)j->uid, (gid_t)j->gid, j->owner, j, false, err)) < 0)
    return r;
  int64_t now = now_sec();
  r = db_archive_run(d->db, j->id);
  if (r == 0)
    r = db_requeue(d->db, j->id, now);
  if (r == 0) {
    _cleanup_free_ char *detail = xasprintf("by uid %u (run %lld kept in the history)",
                                            (unsigned)c->uid, (long long)j->run_count);
    r = db_add_event(d->db, j->id, now, "rerun", detail);
  }
  return r;
}

/* Loads job id for a caller who must own it (or be privileged). 0, or
 * -errno with the PBS-style message in err. */
static int
load_own_job(struct boxqd *d, struct conn *c, int64_t id, struct job_rec *j, struct berr *err) {
  int r = db_get_job(d->db, id, false, j);
  if (r == -ENOENT)
    return berr_set(err, r, "Unknown Job Id %lld.%s", (long long)id, d->server_name);
  if (r < 0)
    return berr_set(err, r, "%lld.%s: %s", (long long)id, d->server_name, db_errmsg(d->db));
  if ((int64_t)c->uid != j->uid && !may_act_on_any(d, c))
    return berr_set(err, -EPERM, "Unauthorized Request: job %lld.%s belongs to %s", (long long)id,
                    d->server_name, j->owner);
  return 0;
}

int
next_own_job(struct boxqd *d, struct conn *c, const struct pmsg *m, size_t *off, int64_t *id,
             struct job_rec *j, struct berr *err) {
  *j = (struct job_rec){0};
  *err = (struct berr){{0}};
  *id = 0;
  struct pfield f;
  while (pmsg_next(m, off, &f)) {
    int r = ref_field(d, &f, id, err);
    if (r != 1)
      return r < 0 ? r : load_own_job(d, c, *id, j, err);
  }
  return 1;
}

/* One action over the jobs a request names: one transaction for all, each
 * job in a savepoint of its own (one failing leaves the others done), one
 * commit before the reply, then the worker is told. A thousand qrls'ed
 * jobs wait for the disk once, not a thousand times. */
struct acted {
  int64_t id;
  struct action_out out;
};

/* A job of the worker's ready set is queued, but the worker may start it
 * any moment: a request that names one waits until the worker has given
 * it back or started it (ready.c), then acts on it as on any other. */
static bool
park_on_ready_set(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  bool touches = false;
  if (ready_count(d) > 0) {
    size_t off = 0;
    int64_t id;
    struct job_rec j;
    struct berr err;
    int r;
    while ((r = next_own_job(d, c, m, &off, &id, &j, &err)) != 1) {
      if (r == 0 && ready_claim(d, &j))
        touches = true;
      job_rec_free(&j);
    }
  }
  return ready_park(d, c, m, touches);
}

static void
req_job_action(struct boxqd *d, struct conn *c, const struct pmsg *m, job_action_fn fn,
               const char *verb) {
  if (park_on_ready_set(d, c, m))
    return;
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  struct acted *done = NULL;
  size_t ndone = 0, cap = 0;
  /* Relaxed, as a submission: the reply waits for the log's sync. */
  int tx = db_begin_relaxed(d->db);
  size_t off = 0;
  int64_t id;
  struct job_rec j;
  struct berr err;
  int r;
  while ((r = next_own_job(d, c, m, &off, &id, &j, &err)) != 1) {
    struct action_out out = {0};
    if (r == 0 && (r = tx) == 0 && (r = db_savepoint(d->db)) == 0) {
      r = fn(d, &j, c, m, &out, &err);
      if (r == 0)
        r = db_release(d->db);
      if (r < 0)
        db_rollback_savepoint(d->db);
    }
    if (r < 0 && !err.msg[0])
      berr_set(&err, r, "cannot update job %lld: %s", (long long)id, db_errmsg(d->db));
    if (r == 0) {
      done = xgrow(done, ndone, &cap, sizeof(*done), 16);
      done[ndone++] = (struct acted){id, out};
    } else {
      reply_add_error(&b, &status, r, err.msg);
      free(out.ids);
    }
    job_rec_free(&j);
  }
  r = tx == 0 ? db_commit(d->db) : tx;
  if (r < 0 && tx == 0)
    db_rollback(d->db);
  for (size_t i = 0; i < ndone; i++) {
    if (r < 0) {
      _cleanup_free_ char *msg =
          xasprintf("cannot update job %lld: %s", (long long)done[i].id, db_errmsg(d->db));
      reply_add_error(&b, &status, r, msg);
    } else {
      log_info("job %lld: %s by uid %u", (long long)done[i].id, verb, (unsigned)c->uid);
      for (size_t k = 0; k < done[i].out.n; k++)
        worker_signal_job(d, done[i].out.ids[k], done[i].out.sig, done[i].out.sig == 0);
      if (done[i].out.start.id)
        worker_dispatch(d, done[i].out.start);
    }
    free(done[i].out.ids);
  }
  pb_i64(&b, T_STATUS, status);
  pb_str(&b, T_SERVER, d->server_name);
  pb_end(&b);
  if (r == 0 && ndone > 0) {
    walsync_reply_later(d, c, &b, 0);
    wf_deferred_check(d); /* a release or a new -a time may change the next deferred job */
    sched_request_pass(d);
  } else {
    conn_send(c, &b); /* nothing changed: nothing to wait for */
    pbuf_free(&b);
  }
  free(done);
}

/* qsig -s suspend|resume: a running job frozen or thawed (cgroup v2's
 * freezer, also in hybrid mode); it keeps its CPUs and memory, its
 * walltime stops while it is frozen. Its owner, root, managers and
 * operators. */
static int
act_suspend(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
            struct action_out *out, struct berr *err) {
  bool resume = pmsg_i64_or(req, T_FLAGS, 0) & 1;
  const char *verb = resume ? "resume" : "suspend";
  if (j->array_spec)
    return berr_set(err, -EINVAL, "%s one task at a time (%lld[INDEX])", verb, (long long)j->id);
  if (j->state != JOB_RUNNING)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c): only a running job "
                    "can be %s",
                    (long long)j->id, d->server_name, j->state, resume ? "resumed" : "suspended");
  if (resume != (j->suspended_at != 0))
    return berr_set(err, -EBUSY, "job %lld.%s is %s", (long long)j->id, d->server_name,
                    resume ? "not suspended" : "suspended already");
  if (!d->worker_ready)
    return berr_set(err, -EAGAIN, "boxq-worker is not connected: try again");
  if (strcmp(d->worker_backend, "v2") != 0 && strcmp(d->worker_backend, "hybrid") != 0)
    return berr_set(err, -ENOTSUP,
                    "this server's jobs run in %s cgroups: boxq freezes jobs with cgroup v2's "
                    "freezer only",
                    d->worker_backend);
  int64_t now = now_sec();
  int64_t held = resume ? now - j->suspended_at : 0;
  int r = db_set_suspended(d->db, j->id, resume ? 0 : now, held > 0 ? held : 0, now);
  _cleanup_free_ char *detail =
      resume ? xasprintf("by uid %u, after %llds suspended", (unsigned)c->uid, (long long)held)
             : xasprintf("by uid %u (frozen; walltime stops)", (unsigned)c->uid);
  if (r == 0)
    r = db_add_event(d->db, j->id, now, resume ? "resumed" : "suspended", detail);
  if (r == 0) {
    out->ids = xcalloc(1, sizeof(int64_t));
    out->ids[0] = j->id;
    out->n = 1;
    out->sig = resume ? JOB_SIG_RESUME : JOB_SIG_SUSPEND;
  }
  return r;
}

/* qrun: a queued job (or task) starts now, past the policy (queue limits,
 * priorities, a stopped queue, scheduling off), if it fits in what running
 * jobs leave. For root, managers and operators. */
static int
act_run(struct boxqd *d, struct job_rec *j, struct conn *c, const struct pmsg *req,
        struct action_out *out, struct berr *err) {
  (void)req;
  if (!may_act_on_any(d, c))
    return berr_set(err, -EPERM, "qrun is for root, managers and operators");
  if (j->array_spec)
    return berr_set(err, -EINVAL, "qrun starts one job or one task: name a task (%lld[INDEX])",
                    (long long)j->id);
  if (j->state != JOB_QUEUED)
    return berr_set(err, -EBUSY,
                    "Request invalid for state of job %lld.%s (state %c): qrun starts queued "
                    "jobs (qrls releases held ones)",
                    (long long)j->id, d->server_name, j->state);
  if (!d->worker_ready)
    return berr_set(err, -EAGAIN, "boxq-worker is not connected: no job can start");
  char who[64];
  snprintf(who, sizeof(who), "by qrun (uid %u), past the policy", (unsigned)c->uid);
  int r = sched_start_now(d, j, who, now_sec(), err);
  if (r == 0)
    out->start = (struct planned_start){.id = j->id, .array_id = j->array_id};
  return r;
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
    case MSG_DELETE:
      req_job_action(d, c, m, act_delete, "delete");
      break;
    case MSG_HOLD:
      req_job_action(d, c, m, act_hold, "hold");
      break;
    case MSG_RELEASE:
      req_job_action(d, c, m, act_release, "release");
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
    case MSG_ALTER:
      req_job_action(d, c, m, act_alter, "alter");
      break;
    case MSG_RERUN:
      req_job_action(d, c, m, act_rerun, "rerun");
      break;
    case MSG_RUN:
      req_job_action(d, c, m, act_run, "run (qrun)");
      break;
    case MSG_SUSPEND:
      req_job_action(d, c, m, act_suspend, pmsg_i64_or(m, T_FLAGS, 0) & 1 ? "resume" : "suspend");
      break;
    case MSG_SIGNAL_JOB: {
      int64_t sig = pmsg_i64_or(m, T_SIGNAL, 0);
      if (sig <= 0 || sig > 64 || !job_signal_allowed((int)sig)) {
        reply_status(c, -EINVAL, "signal %lld cannot be sent to boxq jobs", (long long)sig);
        break;
      }
      req_job_action(d, c, m, act_signal, "signal");
      break;
    }
    default:
      reply_status(c, -EOPNOTSUPP, "unknown request type %u", m->type);
      break;
  }
}
