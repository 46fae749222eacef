/* SPDX-License-Identifier: MIT */
/* qdel, qhold, qrls: one request naming every job; each unknown or
 * forbidden id is reported while the others are still acted on. */
#include "cli.h"

#include <string.h>

static int
job_action(struct cli_ctx *ctx, int argc, char **argv, enum proto_type type) {
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    fprintf(argc < 2 ? stderr : stdout, "Usage: %s job_id [job_id ...]\n", ctx->prog);
    return argc < 2 ? 2 : 0;
  }
  struct pbuf b = {0};
  pb_begin(&b, type);
  int errors = 0, ids = 0;
  for (int i = 1; i < argc; i++) {
    int64_t id;
    struct berr err = {{0}};
    if (argv[i][0] == '-') {
      cli_error(ctx, "unknown option %s", argv[i]);
      pbuf_free(&b);
      return 2;
    }
    if (cli_parse_jobid(argv[i], &id, &err) < 0) {
      cli_error(ctx, "%s", err.msg);
      errors++;
      continue;
    }
    pb_i64(&b, T_JOBID, id);
    ids++;
  }
  pb_end(&b);
  if (ids > 0) {
    struct pmsg reply;
    int64_t status;
    int r = cli_load_config(ctx);
    if (r == 0)
      r = cli_request(ctx, &b, &reply, &status);
    if (r < 0) {
      pbuf_free(&b);
      return 1;
    }
    int n = cli_print_errors(ctx, &reply);
    if (n == 0 && status < 0) {
      const char *msg = pmsg_str(&reply, T_MESSAGE);
      cli_error(ctx, "%s", msg ? msg : strerror((int)-status));
      n = 1;
    }
    errors += n;
  }
  pbuf_free(&b);
  return errors ? 1 : 0;
}

int
cmd_qdel(struct cli_ctx *ctx, int argc, char **argv) {
  return job_action(ctx, argc, argv, MSG_DELETE);
}

int
cmd_qhold(struct cli_ctx *ctx, int argc, char **argv) {
  return job_action(ctx, argc, argv, MSG_HOLD);
}

int
cmd_qrls(struct cli_ctx *ctx, int argc, char **argv) {
  return job_action(ctx, argc, argv, MSG_RELEASE);
}
