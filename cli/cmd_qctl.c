/* SPDX-License-Identifier: MIT */
/* qdel, qhold, qrls, qrerun, qsig, qrun: one request naming every job; each unknown or
 * forbidden id is reported while the others are still acted on. */
#include "cli.h"
#include "sge_out.h"

#include <signal.h>
#include <string.h>
#include <strings.h>

int
cli_job_request(struct cli_ctx *ctx, struct pbuf *b, char **ids, int nids) {
  int errors = 0;
  int n = cli_put_jobids(ctx, b, ids, nids, true, &errors);
  if (n < 0) {
    pbuf_free(b);
    return 2;
  }
  pb_end(b);
  if (n == 0) {
    pbuf_free(b);
    return errors ? 1 : 0;
  }
  if (cli_load_config(ctx) < 0) {
    pbuf_free(b);
    return 1;
  }
  struct pmsg reply;
  int bad = cli_call_each(ctx, b, &reply);
  return bad < 0 || bad + errors > 0 ? 1 : 0;
}

/* Sends one request of type naming every id in argv[first..]; sig > 0 adds
 * the signal (qsig). */
static int
job_action(struct cli_ctx *ctx, int argc, char **argv, int first, enum proto_type type, int sig) {
  if (first >= argc || !strcmp(argv[first], "--help")) {
    fprintf(first >= argc ? stderr : stdout, "Usage: %s %sjob_id [job_id ...]\n", ctx->prog,
            type == MSG_SIGNAL_JOB ? "[-s signal] " : "");
    return first >= argc ? 2 : 0;
  }
  struct pbuf b = {0};
  pb_begin(&b, type);
  if (sig > 0)
    pb_i64(&b, T_SIGNAL, sig);
  return cli_job_request(ctx, &b, argv + first, argc - first);
}

/* Whether the commands speak Grid Engine's forms (dialect sge). */
static bool
sge_dialect(struct cli_ctx *ctx) {
  return cli_load_config(ctx) == 0 && ctx->dialect == DIALECT_SGE;
}

int
cmd_qdel(struct cli_ctx *ctx, int argc, char **argv) {
  if (sge_dialect(ctx))
    return sge_job_control(ctx, SGE_DELETE, argc, argv);
  return job_action(ctx, argc, argv, 1, MSG_DELETE, 0);
}

int
cmd_qhold(struct cli_ctx *ctx, int argc, char **argv) {
  if (sge_dialect(ctx))
    return sge_job_control(ctx, SGE_HOLD, argc, argv);
  return job_action(ctx, argc, argv, 1, MSG_HOLD, 0);
}

int
cmd_qrls(struct cli_ctx *ctx, int argc, char **argv) {
  if (sge_dialect(ctx))
    return sge_job_control(ctx, SGE_RELEASE, argc, argv);
  return job_action(ctx, argc, argv, 1, MSG_RELEASE, 0);
}

int
cmd_qrerun(struct cli_ctx *ctx, int argc, char **argv) {
  return job_action(ctx, argc, argv, 1, MSG_RERUN, 0);
}

int
cmd_qrun(struct cli_ctx *ctx, int argc, char **argv) {
  return job_action(ctx, argc, argv, 1, MSG_RUN, 0);
}

int
cli_parse_signal(const char *s) {
  static const struct {
    const char *name;
    int sig;
  } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},    {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
               {"USR1", SIGUSR1}, {"USR2", SIGUSR2},  {"ALRM", SIGALRM}, {"TERM", SIGTERM},
               {"STOP", SIGSTOP}, {"CONT", SIGCONT},  {"TSTP", SIGTSTP}, {"PIPE", SIGPIPE},
               {"CHLD", SIGCHLD}, {"WINCH", SIGWINCH}};
  int64_t n;
  if (parse_i64(s, 1, 64, &n) == 0)
    return (int)n;
  if (strncasecmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (strcasecmp(s, names[i].name) == 0)
      return names[i].sig;
  return -1;
}

int
cmd_qsig(struct cli_ctx *ctx, int argc, char **argv) {
  int first = 1, sig = SIGTERM;
  if (first < argc && strncmp(argv[first], "-s", 2) == 0) {
    const char *name = argv[first][2] ? argv[first] + 2 : (first + 1 < argc ? argv[++first] : NULL);
    first++;
    /* PBS's names for freezing a running job and thawing it. */
    if (name && (!strcasecmp(name, "suspend") || !strcasecmp(name, "resume"))) {
      if (first >= argc) {
        fprintf(stderr, "Usage: qsig -s suspend|resume job_id [job_id ...]\n");
        return 2;
      }
      struct pbuf b = {0};
      pb_begin(&b, MSG_SUSPEND);
      pb_i64(&b, T_FLAGS, !strcasecmp(name, "resume"));
      return cli_job_request(ctx, &b, argv + first, argc - first);
    }
    if (!name || (sig = cli_parse_signal(name)) < 0) {
      cli_error(ctx, "unknown signal '%s'", name ? name : "");
      return 2;
    }
    if (!job_signal_allowed(sig)) {
      cli_error(ctx, "signal %s cannot be sent to jobs (HUP INT QUIT TERM USR1 USR2 ALRM KILL)",
                name);
      return 2;
    }
  }
  return job_action(ctx, argc, argv, first, MSG_SIGNAL_JOB, sig);
}
