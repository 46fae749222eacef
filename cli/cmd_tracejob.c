/* SPDX-License-Identifier: MIT */
/* tracejob: a job's history from boxqd's event log: submitted, held,
 * released, dispatched, started (with the limits applied and the cgroup),
 * signalled, ended, accounted. */
#include "cli.h"
#include "json.h"

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
  bool json = argc > 1 && !strcmp(argv[1], "--json");
  int first = json ? 2 : 1;
  if (argc <= first || !strcmp(argv[first], "--help")) {
    fprintf(argc <= first ? stderr : stdout, "Usage: tracejob [--json] job_id [job_id ...]\n");
    return argc <= first ? 2 : 0;
  }
  struct pbuf b = {0};
  pb_begin(&b, MSG_EVENTS);
  int errors = 0;
  int ids = cli_put_jobids(ctx, &b, argv + first, argc - first, true, &errors);
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
  struct json js;
  if (json) {
    json_init(&js, stdout);
    json_open(&js, NULL, '{');
    json_str(&js, "server", ctx->server);
    json_open(&js, "Jobs", '{');
  }
  size_t off = 0;
  struct pfield f;
  bool open = false, any = false;
  while (pmsg_next(&reply, &off, &f)) {
    struct pmsg sub;
    if ((f.tag != T_JOB && f.tag != T_EVENT) || pmsg_sub(&f, &sub) < 0)
      continue;
    if (f.tag == T_JOB) {
      struct job_rec j;
      if (job_rec_decode(&sub, &j) < 0)
        continue;
      _cleanup_free_ char *id = job_display_id(&j, ctx->server);
      if (json) {
        if (open) {
          json_close(&js, ']');
          json_close(&js, '}');
        }
        json_open(&js, id, '{');
        json_str(&js, "Job_Name", j.name);
        json_str(&js, "Job_Owner", j.owner);
        json_open(&js, "events", '[');
        open = true;
      } else
        printf("%sJob: %s (%s, owner %s)\n\n", any ? "\n" : "", id, j.name ? j.name : "?",
               j.owner ? j.owner : "?");
      any = true;
      job_rec_free(&j);
    } else if (json) {
      json_open(&js, NULL, '{');
      json_int(&js, "time", pmsg_i64_or(&sub, EV_TIME, 0));
      json_str(&js, "event", pmsg_str(&sub, EV_NAME));
      json_str(&js, "detail", pmsg_str(&sub, EV_DETAIL));
      json_close(&js, '}');
    } else
      print_event(&sub);
  }
  if (json) {
    if (open) {
      json_close(&js, ']');
      json_close(&js, '}');
    }
    json_close(&js, '}');
    json_close(&js, '}');
    json_end(&js);
  }
  return errors ? 1 : 0;
}
