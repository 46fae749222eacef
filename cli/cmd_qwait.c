/* SPDX-License-Identifier: MIT */
/* qwait: waits until jobs end and exits with the first non-zero exit
 * status among them, or 0. boxqd answers when the last has finished (a
 * push, no polling); qsub -W block=true waits the same way. */
#include "jobs_fetch.h"

#include <getopt.h>
#include <string.h>

static const char qwait_usage[] =
    "Usage: qwait [-u user[,user...]] [-q queue[,queue...]] [job_id ...]\n"
    "Waits until the jobs have ended; exits with the first non-zero exit status\n"
    "among them (128+N for signal N, 1 for a job that never ran), or 0.\n"
    "  -u  every unfinished job of these users (now)\n"
    "  -q  every unfinished job in these queues (now)\n"
    "job_id: 123, 123.server, 123[] (an array: all its tasks), 123[7] (a task)\n";

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
      if (!queues || name_in_list(queues, l.jobs[i].queue))
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
    int r = jobs_wait(ctx, ids, nids, 0, &l, &errors);
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
