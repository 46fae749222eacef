/* SPDX-License-Identifier: MIT */
/* tracejob: a job's history from boxqd's event log: submitted, held,
 * released, dispatched, started (with the limits applied and the cgroup),
 * signalled, ended, accounted. */
#include "cli.h"

#include <string.h>
#include <time.h>

static void
print_event(const struct pmsg *ev) {
  int64_t t = pmsg_i64_or(ev, EV_TIME, 0);
  const char *name = pmsg_str(ev, EV_NAME), *detail = pmsg_str(ev, EV_DETAIL);
  char when[32] = "-";
  time_t tt = (time_t)t;
  struct tm tm;
  if (t > 0 && localtime_r(&tt, &tm))
    strftime(when, sizeof(when), "%m/%d/%Y %H:%M:%S", &tm);
  printf("%s  %-10s %s\n", when, name ? name : "?", detail ? detail : "");
}

int
cmd_tracejob(struct cli_ctx *ctx, int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    fprintf(argc < 2 ? stderr : stdout, "Usage: tracejob job_id [job_id ...]\n");
    return argc < 2 ? 2 : 0;
  }
  struct pbuf b = {0};
  pb_begin(&b, MSG_EVENTS);
  int errors = 0;
  int ids = cli_put_jobids(ctx, &b, argv + 1, argc - 1, true, &errors);
  pb_end(&b);
  if (ids <= 0) {
    pbuf_free(&b);
    return ids < 0 ? 2 : 1;
  }
  struct pmsg reply;
  int64_t status;
  int r = cli_load_config(ctx);
  if (r == 0)
    r = cli_request(ctx, &b, &reply, &status);
  pbuf_free(&b);
  if (r < 0)
    return 1;
  errors += cli_print_errors(ctx, &reply);
  size_t off = 0;
  struct pfield f;
  int64_t current = -1;
  while (pmsg_next(&reply, &off, &f)) {
    struct pmsg sub;
    if ((f.tag != T_JOB && f.tag != T_EVENT) || pmsg_sub(&f, &sub) < 0)
      continue;
    if (f.tag == T_JOB) {
      int64_t id = pmsg_i64_or(&sub, J_ID, 0);
      const char *name = pmsg_str(&sub, J_NAME), *owner = pmsg_str(&sub, J_OWNER);
      printf("%sJob: %lld.%s (%s, owner %s)\n\n", current >= 0 ? "\n" : "", (long long)id,
             ctx->server, name ? name : "?", owner ? owner : "?");
      current = id;
    } else
      print_event(&sub);
  }
  return errors ? 1 : 0;
}
