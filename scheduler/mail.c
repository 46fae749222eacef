/* SPDX-License-Identifier: MIT */
/* Job mail (qsub -m, -M): when a job begins (b), ends (e) or is ended by
 * the system (a: walltime, cput, memory, lost, could not start), a short
 * message in PBS's words to the job's mail users (the owner by default)
 * through the configured sendmail, spawned without a shell. Without a
 * sendmail the mail is recorded in the job's events (tracejob) and the
 * log only. Either way the job's events say what was done. */
#include "boxqd.h"
#include "log.h"
#include "res.h"

#include <string.h>
#include <unistd.h>

struct mail {
  uv_process_t proc;
  uv_pipe_t in;
  uv_write_t write;
  char *text;
  int64_t id;
  int open_handles;
};

static void
mail_handle_closed(uv_handle_t *h) {
  struct mail *m = h->data;
  if (--m->open_handles > 0)
    return;
  free(m->text);
  free(m);
}

static void
on_mail_exit(uv_process_t *p, int64_t status, int term_signal) {
  struct mail *m = p->data;
  if (status != 0 || term_signal != 0)
    log_warn("job %lld: sendmail failed (exit %lld, signal %d)", (long long)m->id,
             (long long)status, term_signal);
  uv_close((uv_handle_t *)p, mail_handle_closed);
}

static void
on_mail_written(uv_write_t *w, int status) {
  struct mail *m = w->data;
  if (status < 0)
    log_warn("job %lld: cannot write the mail to sendmail: %s", (long long)m->id,
             uv_strerror(status));
  uv_close((uv_handle_t *)&m->in, mail_handle_closed); /* sendmail's end of input */
}

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

/* Spawns sendmail -oi -- RCPT... with the message on its input. */
static int
send_it(struct boxqd *d, int64_t id, char **rcpt, size_t n, char *text) {
  struct mail *m = xcalloc(1, sizeof(*m));
  m->id = id;
  m->text = text;
  char **args = xcalloc(n + 4, sizeof(char *));
  args[0] = d->cfg.sendmail;
  args[1] = "-oi";
  args[2] = "--";
  for (size_t i = 0; i < n; i++)
    args[3 + i] = rcpt[i];
  uv_pipe_init(d->loop, &m->in, 0);
  m->in.data = m->proc.data = m->write.data = m;
  uv_stdio_container_t stdio[3] = {
      {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&m->in},
      {.flags = UV_IGNORE},
      {.flags = UV_INHERIT_FD, .data.fd = 2}};
  uv_process_options_t opt = {.exit_cb = on_mail_exit,
                              .file = d->cfg.sendmail,
                              .args = args,
                              .stdio = stdio,
                              .stdio_count = 3};
  int r = uv_spawn(d->loop, &m->proc, &opt);
  free(args);
  m->open_handles = 2;
  if (r < 0) {
    uv_close((uv_handle_t *)&m->proc, mail_handle_closed); /* initialized even so */
    uv_close((uv_handle_t *)&m->in, mail_handle_closed);
    return r;
  }
  uv_buf_t buf = uv_buf_init(m->text, (unsigned)strlen(m->text));
  r = uv_write(&m->write, (uv_stream_t *)&m->in, &buf, 1, on_mail_written);
  if (r < 0)
    uv_close((uv_handle_t *)&m->in, mail_handle_closed);
  return 0;
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
  char *rcpt[64];
  size_t n = 0;
  char *save = NULL;
  for (char *u = strtok_r(users, ",", &save); u && n < 64; u = strtok_r(NULL, ",", &save))
    rcpt[n++] = u;
  _cleanup_free_ char *to = xstrdup(j->mail_users && *j->mail_users ? j->mail_users : rcpt[0]);
  char *body;
  if (point == 'b')
    body = xstrdup("Begun execution\n");
  else if (point == 'a')
    body = xasprintf("Aborted by PBS Server\n%s\nExit_status=%lld\n",
                     end->comment ? end->comment : job_end_to_string(end->end_reason),
                     (long long)end->exit_status);
  else {
    char cput[32], wall[32];
    res_format_duration(end->usage.cpu_usec / 1000000, cput, sizeof(cput));
    res_format_duration(end->usage.wall_usec / 1000000, wall, sizeof(wall));
    body =
        xasprintf("Execution terminated\nExit_status=%lld\nresources_used.cput=%s\n"
                  "resources_used.mem=%lldkb\nresources_used.walltime=%s\n",
                  (long long)end->exit_status, cput, (long long)(end->usage.mem_peak / 1024), wall);
  }
  char *text = xasprintf("To: %s\nSubject: PBS JOB %s\n\nPBS Job Id: %s\nJob Name:   %s\n%s", to,
                         id, id, j->name ? j->name : "", body);
  free(body);
  const char *what = point == 'b' ? "begun" : point == 'a' ? "aborted" : "ended";
  _cleanup_free_ char *detail = NULL;
  int r = access(d->cfg.sendmail, X_OK) == 0 ? send_it(d, j->id, rcpt, n, text) : -ENOENT;
  if (r == 0) {
    detail = xasprintf("%s: to %s through %s", what, to, d->cfg.sendmail);
  } else {
    detail = xasprintf("%s: for %s, not sent (%s: %s); recorded only", what, to, d->cfg.sendmail,
                       strerror(-r == ENOENT ? ENOENT : -r));
    log_info("job %lld: mail %s", (long long)j->id, detail);
    free(text);
  }
  return db_add_event(d->db, j->id, now_sec(), "mail", detail);
}
