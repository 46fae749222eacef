/* SPDX-License-Identifier: MIT */
/* qwait: waits until jobs end and exits with the first non-zero exit
 * status among them, or 0. boxqd answers when the last has finished (a
 * push, no polling); qsub -W block=true waits the same way. */
#include "jobs_fetch.h"

#include <getopt.h>
#include <string.h>
#include <sys/socket.h>

static const char qwait_usage[] =
    "Usage: qwait [-u user[,user...]] [-q queue[,queue...]] [job_id ...]\n"
    "Waits until the jobs have ended; exits with the first non-zero exit status\n"
    "among them (128+N for signal N, 1 for a job that never ran), or 0.\n"
    "  -u  every unfinished job of these users (now)\n"
    "  -q  every unfinished job in these queues (now)\n"
    "job_id: 123, 123.server, 123[] (an array: all its tasks), 123[7] (a task)\n";

static struct cli_ctx *waiting_ctx;

/* Ctrl-C or SIGTERM: stop waiting. Shutting the socket ends the read. */
static void
on_signal(int sig) {
  (void)sig;
  if (!waiting_ctx)
    return;
  waiting_ctx->interrupted = 1;
  if (waiting_ctx->fd >= 0)
    shutdown(waiting_ctx->fd, SHUT_RDWR);
}

int
jobs_wait(struct cli_ctx *ctx, char **ids, int nids, struct joblist *ret, int *ret_errors) {
  *ret = (struct joblist){0};
  *ret_errors = 0;
  if (cli_load_config(ctx) < 0)
    return -EINVAL;
  struct pbuf b = {0};
  pb_begin(&b, MSG_WAIT);
  cli_put_jobids(ctx, &b, ids, nids, false, ret_errors);
  pb_end(&b);
  if (*ret_errors == nids) {
    pbuf_free(&b);
    return 0;
  }
  ctx->no_timeout = true;
  if (ctx->fd >= 0) {
    struct timeval tv = {0, 0};
    setsockopt(ctx->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
  waiting_ctx = ctx;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct pmsg reply;
  int64_t status;
  int r = cli_request(ctx, &b, &reply, &status);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  waiting_ctx = NULL;
  pbuf_free(&b);
  if (r < 0)
    return r;
  *ret_errors += cli_print_errors(ctx, &reply);
  if (status < 0 && *ret_errors == 0) {
    const char *msg = pmsg_str(&reply, T_MESSAGE);
    cli_error(ctx, "%s", msg ? msg : strerror((int)-status));
    return (int)status;
  }
  joblist_add_reply(ret, &reply);
  return 0;
}

static bool
in_list(const char *list, const char *name) {
  size_t len = strlen(name ? name : "");
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ",");
    if (n == len && !strncmp(p, name, n))
      return true;
    p += n + (p[n] == ',');
  }
  return false;
}

int
cmd_qwait(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
  const char *users = NULL, *queues = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "u:q:h", opts, NULL)) != -1) {
    switch (o) {
      case 'u':
        users = optarg;
        break;
      case 'q':
        queues = optarg;
        break;
      case 'h':
        fputs(qwait_usage, stdout);
        return 0;
      default:
        fputs(qwait_usage, stderr);
        return 2;
    }
  }
  char **ids = argv + optind;
  int nids = argc - optind;
  char **found = NULL;
  if (users || queues) {
    if (nids > 0) {
      cli_error(ctx, "give job ids, or -u/-q, not both");
      return 2;
    }
    struct joblist l;
    int errors;
    if (jobs_fetch_users(ctx, 0, users, NULL, 0, &l, &errors) < 0)
      return 1;
    found = xcalloc(l.n + 1, sizeof(char *));
    for (size_t i = 0; i < l.n; i++)
      if (!queues || in_list(queues, l.jobs[i].queue))
        found[nids++] = job_display_id(&l.jobs[i], ctx->server);
    joblist_free(&l);
    ids = found;
  } else if (nids == 0) {
    fputs(qwait_usage, stderr);
    return 2;
  }
  int rc = 0;
  if (nids > 0) {
    struct joblist l;
    int errors;
    int r = jobs_wait(ctx, ids, nids, &l, &errors);
    if (r == -EINTR) {
      fprintf(stderr, "qwait: no longer waiting; the jobs keep running\n");
      rc = 130;
    } else if (r < 0)
      rc = 1;
    else {
      for (size_t i = 0; i < l.n && rc == 0; i++)
        rc = job_shell_status(&l.jobs[i]);
      if (errors && rc == 0)
        rc = 1;
    }
    joblist_free(&l);
  }
  for (int i = 0; found && i < nids; i++)
    free(found[i]);
  free(found);
  return rc;
}
