/* SPDX-License-Identifier: MIT */
/* Telling people about jobs, without ever waiting for them:
 * - mail (qsub -m, -M): when a job begins (b), ends (e) or is ended by the
 *   system (a: walltime, cput, memory, lost, could not start), a short
 *   message in PBS's words to the job's mail users (the owner by default)
 *   through the configured sendmail. Without a sendmail it is recorded in
 *   the job's events (tracejob) and the log only.
 * - the site's hook (on_job_end): a program run when any job ends, with
 *   the job's fields in its environment, as hook_user, killed after
 *   hook_timeout.
 * Both are spawned without a shell on boxqd's loop; at most
 * NOTIFY_MAX_RUNNING run at once, more are skipped and logged. */
#include "boxqd.h"
#include "log.h"
#include "res.h"

#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define NOTIFY_MAX_RUNNING 32

/* One spawned helper: its process, its input (the mail), its deadline. */
struct helper {
  uv_process_t proc;
  uv_pipe_t in;
  uv_write_t write;
  uv_timer_t deadline;
  char *text;
  char label[32]; /* "sendmail", "on_job_end" */
  int64_t id;
  int open_handles;
};

static int notify_running; /* helpers spawned and not yet closed */

static void
helper_closed(uv_handle_t *h) {
  struct helper *x = h->data;
  if (--x->open_handles > 0)
    return;
  notify_running--;
  free(x->text);
  free(x);
}

static void
on_helper_exit(uv_process_t *p, int64_t status, int term_signal) {
  struct helper *x = p->data;
  if (status != 0 || term_signal != 0)
    log_warn("job %lld: %s failed (exit %lld, signal %d)", (long long)x->id, x->label,
             (long long)status, term_signal);
  uv_close((uv_handle_t *)p, helper_closed);
  uv_close((uv_handle_t *)&x->deadline, helper_closed);
}

static void
on_helper_deadline(uv_timer_t *t) {
  struct helper *x = t->data;
  log_warn("job %lld: %s still running after its timeout: killed", (long long)x->id, x->label);
  uv_process_kill(&x->proc, SIGKILL);
}

static void
on_helper_written(uv_write_t *w, int status) {
  struct helper *x = w->data;
  if (status < 0)
    log_warn("job %lld: cannot write to %s: %s", (long long)x->id, x->label, uv_strerror(status));
  uv_close((uv_handle_t *)&x->in, helper_closed); /* the helper's end of input */
}

/* Spawns args[0] with env (NULL: an empty one), text on its input (or
 * none), as uid/gid when they are not -1, killed after timeout_sec. */
static int
spawn_helper(struct boxqd *d, int64_t id, const char *label, char **args, char **env, char *text,
             int64_t timeout_sec, int64_t uid, int64_t gid) {
  if (notify_running >= NOTIFY_MAX_RUNNING) {
    free(text);
    return -EAGAIN;
  }
  struct helper *x = xcalloc(1, sizeof(*x));
  x->id = id;
  x->text = text;
  snprintf(x->label, sizeof(x->label), "%s", label);
  uv_pipe_init(d->loop, &x->in, 0);
  uv_timer_init(d->loop, &x->deadline);
  x->in.data = x->proc.data = x->write.data = x->deadline.data = x;
  char *no_env[] = {NULL};
  uv_stdio_container_t stdio[3] = {{.flags = text ? UV_CREATE_PIPE | UV_READABLE_PIPE : UV_IGNORE,
                                    .data.stream = (uv_stream_t *)&x->in},
                                   {.flags = UV_IGNORE},
                                   {.flags = UV_INHERIT_FD, .data.fd = 2}};
  uv_process_options_t opt = {.exit_cb = on_helper_exit,
                              .file = args[0],
                              .args = args,
                              .env = env ? env : no_env,
                              .cwd = "/",
                              .stdio = stdio,
                              .stdio_count = 3};
  if (uid >= 0) {
    opt.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
    opt.uid = (uv_uid_t)uid;
    opt.gid = (uv_gid_t)gid;
  }
  notify_running++;
  x->open_handles = 3;
  int r = uv_spawn(d->loop, &x->proc, &opt);
  if (r < 0) {
    uv_close((uv_handle_t *)&x->proc, helper_closed); /* initialized even so */
    uv_close((uv_handle_t *)&x->in, helper_closed);
    uv_close((uv_handle_t *)&x->deadline, helper_closed);
    return r;
  }
  uv_timer_start(&x->deadline, on_helper_deadline, (uint64_t)timeout_sec * 1000, 0);
  if (!text) {
    uv_close((uv_handle_t *)&x->in, helper_closed);
    return 0;
  }
  uv_buf_t buf = uv_buf_init(x->text, (unsigned)strlen(x->text));
  if (uv_write(&x->write, (uv_stream_t *)&x->in, &buf, 1, on_helper_written) < 0)
    uv_close((uv_handle_t *)&x->in, helper_closed);
  return 0;
}

/* ---- mail ---- */

/* Does the job want mail at this point? -m's letters; none given is
 * PBS's default, a. */
static bool
wants(const struct job_rec *j, char point) {
  const char *points = j->mail_points && *j->mail_points ? j->mail_points : "a";
  return strcmp(points, "n") != 0 && strchr(points, point) != NULL;
}

static bool
aborted(int end_reason) {
  return end_reason == END_TIMEOUT || end_reason == END_OOM || end_reason == END_CPUTIME ||
         end_reason == END_LOST || end_reason == END_LAUNCH;
}

static char *
mail_body(const struct job_rec *end, char point) {
  if (point == 'b')
    return xstrdup("Begun execution\n");
  if (point == 'a')
    return xasprintf("Aborted by PBS Server\n%s\nExit_status=%lld\n",
                     end->comment ? end->comment : job_end_to_string(end->end_reason),
                     (long long)end->exit_status);
  char cput[32], wall[32];
  res_format_duration(end->usage.cpu_usec / 1000000, cput, sizeof(cput));
  res_format_duration(end->usage.wall_usec / 1000000, wall, sizeof(wall));
  return xasprintf("Execution terminated\nExit_status=%lld\nresources_used.cput=%s\n"
                   "resources_used.mem=%lldkb\nresources_used.walltime=%s\n",
                   (long long)end->exit_status, cput, (long long)(end->usage.mem_peak / 1024),
                   wall);
}

int
mail_job(struct boxqd *d, const struct job_rec *j, const struct job_rec *end, char point) {
  if (point == 'e' && end && aborted(end->end_reason) && wants(j, 'a'))
    point = 'a'; /* one message for an abort, as PBS sends */
  if (!wants(j, point))
    return 0;
  _cleanup_free_ char *id = job_id_string(j->id, d->server_name);
  _cleanup_free_ char *users = xstrdup(j->mail_users && *j->mail_users ? j->mail_users
                                       : j->owner                      ? j->owner
                                                                       : "root");
  _cleanup_free_ char *to = xstrdup(users);
  char *args[3 + 64 + 1] = {d->cfg.sendmail, "-oi", "--"};
  size_t n = 3;
  char *save = NULL;
  for (char *u = strtok_r(users, ",", &save); u && n < 3 + 64; u = strtok_r(NULL, ",", &save))
    args[n++] = u;
  _cleanup_free_ char *body = mail_body(end, point);
  char *text = xasprintf("To: %s\nSubject: PBS JOB %s\n\nPBS Job Id: %s\nJob Name:   %s\n%s", to,
                         id, id, j->name ? j->name : "", body);
  const char *what = point == 'b' ? "begun" : point == 'a' ? "aborted" : "ended";
  int r = -ENOENT;
  if (access(d->cfg.sendmail, X_OK) == 0)
    r = spawn_helper(d, j->id, "sendmail", args, NULL, text, d->cfg.hook_timeout, -1, -1);
  else
    free(text);
  _cleanup_free_ char *detail = r == 0
                                    ? xasprintf("%s: to %s through %s", what, to, d->cfg.sendmail)
                                    : xasprintf("%s: for %s, not sent (%s: %s); recorded only",
                                                what, to, d->cfg.sendmail, strerror(-r));
  if (r < 0)
    log_info("job %lld: mail %s", (long long)j->id, detail);
  return db_add_event(d->db, j->id, now_sec(), "mail", detail);
}

/* ---- the site's hook ---- */

static void
env_add(char ***env, size_t *n, const char *key, const char *value) {
  *env = xrealloc(*env, (*n + 2) * sizeof(char *));
  (*env)[(*n)++] = xasprintf("%s=%s", key, value ? value : "");
  (*env)[*n] = NULL;
}

static void
env_add_i64(char ***env, size_t *n, const char *key, int64_t value) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%lld", (long long)value);
  env_add(env, n, key, buf);
}

int
hook_job_end(struct boxqd *d, const struct job_rec *j, const struct job_rec *end) {
  if (!d->cfg.on_job_end || !*d->cfg.on_job_end)
    return 0;
  /* As hook_user when boxqd may change users; else as boxqd's own
   * (unprivileged) user. */
  int64_t uid = -1, gid = -1;
  if (geteuid() == 0) {
    struct passwd pw, *res = NULL;
    char buf[16384];
    if (getpwnam_r(d->cfg.hook_user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
      log_warn("job %lld: on_job_end not run: no user %s (hook_user)", (long long)j->id,
               d->cfg.hook_user);
      return db_add_event(d->db, j->id, now_sec(), "hook", "not run: hook_user does not exist");
    }
    uid = pw.pw_uid;
    gid = pw.pw_gid;
  }
  char **env = NULL;
  size_t n = 0;
  _cleanup_free_ char *id = job_display_id(j, d->server_name);
  env_add(&env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin");
  env_add(&env, &n, "BOXQ_JOB_ID", id);
  env_add(&env, &n, "PBS_JOBID", id);
  env_add(&env, &n, "BOXQ_JOB_NAME", j->name);
  env_add(&env, &n, "BOXQ_JOB_OWNER", j->owner);
  env_add(&env, &n, "BOXQ_JOB_QUEUE", j->queue);
  env_add(&env, &n, "BOXQ_JOB_ACCOUNT", j->account);
  env_add(&env, &n, "BOXQ_JOB_PROJECT", j->project);
  env_add(&env, &n, "BOXQ_JOB_END_REASON", job_end_to_string(end->end_reason));
  env_add_i64(&env, &n, "BOXQ_JOB_EXIT_STATUS", end->exit_status);
  env_add_i64(&env, &n, "BOXQ_JOB_NCPUS", j->ncpus);
  env_add_i64(&env, &n, "BOXQ_JOB_MEM", j->mem);
  env_add_i64(&env, &n, "BOXQ_JOB_CTIME", j->ctime);
  env_add_i64(&env, &n, "BOXQ_JOB_STIME", end->stime ? end->stime : j->stime);
  env_add_i64(&env, &n, "BOXQ_JOB_ETIME", end->etime);
  env_add_i64(&env, &n, "BOXQ_JOB_CPU_USEC", end->usage.cpu_usec);
  env_add_i64(&env, &n, "BOXQ_JOB_WALL_USEC", end->usage.wall_usec);
  env_add_i64(&env, &n, "BOXQ_JOB_MEM_PEAK", end->usage.mem_peak);
  env_add(&env, &n, "BOXQ_JOB_COMMENT", end->comment);
  env_add(&env, &n, "BOXQ_SERVER", d->server_name);
  char *args[] = {d->cfg.on_job_end, NULL};
  int r = spawn_helper(d, j->id, "on_job_end", args, env, NULL, d->cfg.hook_timeout, uid, gid);
  for (size_t i = 0; i < n; i++)
    free(env[i]);
  free(env);
  if (r == 0)
    return 0;
  _cleanup_free_ char *detail = xasprintf("on_job_end %s not run: %s", d->cfg.on_job_end,
                                          r == -EAGAIN ? "too many hooks running" : strerror(-r));
  log_warn("job %lld: %s", (long long)j->id, detail);
  return db_add_event(d->db, j->id, now_sec(), "hook", detail);
}
