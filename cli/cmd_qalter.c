/* SPDX-License-Identifier: MIT */
/* qalter: changes a job that has not started yet. Takes qsub's options
 * (parsed by the same parser) and sends only the fields given; boxqd
 * checks them against the job's queue as at submission. */
#include "cli.h"
#include "qsub_opts.h"
#include "qsub_sge.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static const char qalter_usage[] =
    "Usage: qalter [-N name] [-p priority] [-l resource_list] [-W depend=...] [-a time]\n"
    "              [-r y|n] [-o path] [-e path] [-j oe|eo|n] job_id [job_id ...]\n"
    "Changes jobs that have not started, within their queue's limits.\n";

static char *
absolute(const char *path) {
  char cwd[4096];
  if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
    return xstrdup(path);
  return xasprintf("%s/%s", cwd, path);
}

int
cli_alter_request(struct cli_ctx *ctx, int64_t flags, const struct job_rec *j, char **ids,
                  int nids) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_ALTER);
  pb_i64(&b, T_FLAGS, flags);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, j);
  pb_nest_end(&b, mark);
  return cli_job_request(ctx, &b, ids, nids);
}

int
cmd_qalter(struct cli_ctx *ctx, int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-?"))) {
    fputs(qalter_usage, stdout);
    return 0;
  }
  struct qsub_opts o;
  qsub_opts_init(&o);
  o.now = (int64_t)time(NULL);
  struct berr err = {{0}};
  struct job_rec j = {0};
  int idx, rc = 2;
  bool sge = cli_load_config(ctx) == 0 && ctx->dialect == DIALECT_SGE;
  if ((sge ? qsub_sge_parse_args : qsub_parse_args)(&o, argc - 1, argv + 1, true, &idx, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    fputs(qalter_usage, stderr);
    goto out;
  }
  idx += 1;
  if (sge) {
    /* Grid Engine's: -pe's slots, memory per slot, -hold_jid. */
    if (o.pe_slots)
      o.res.ncpus = o.pe_slots;
    if (o.slot_mem)
      o.res.mem = o.slot_mem * (o.pe_slots ? o.pe_slots : 1);
    if (o.hold_jid_ad || o.task_limit || o.cwd || o.soft_walltime) {
      cli_error(ctx, "-hold_jid_ad, -tc, -cwd and -l s_rt are given at submission only");
      goto out;
    }
    if (o.hold_jid && qsub_sge_holds(ctx, &o, &err) < 0) {
      cli_error(ctx, "%s", err.msg);
      goto out;
    }
  }
  if (o.export_all || o.nvars || o.hold || o.queue || o.array_spec || o.res.net) {
    cli_error(ctx, "-V, -v, -h, -q, -J and -l net cannot be altered (use qhold/qrls for holds)");
    goto out;
  }
  if (idx >= argc) {
    cli_error(ctx, "no job id given");
    fputs(qalter_usage, stderr);
    goto out;
  }
  int64_t flags = 0;
  if (o.name) {
    flags |= ALTER_NAME;
    j.name = xstrdup(o.name);
  }
  if (o.has_priority) {
    flags |= ALTER_PRIORITY;
    j.priority = o.priority;
  }
  if (o.res.ncpus) {
    flags |= ALTER_NCPUS;
    j.ncpus = o.res.ncpus;
  }
  if (o.res.mem) {
    flags |= ALTER_MEM;
    j.mem = o.res.mem;
  }
  if (o.res.walltime) {
    flags |= ALTER_WALLTIME;
    j.walltime = o.res.walltime;
  }
  if (o.res.pids) {
    flags |= ALTER_PIDS;
    j.pids = o.res.pids;
  }
  if (o.depend) {
    flags |= ALTER_DEPEND;
    j.depend = xstrdup(o.depend);
  }
  if (o.exec_time) {
    flags |= ALTER_EXEC_TIME;
    j.exec_time = o.exec_time;
  }
  if (o.rerunnable >= 0) {
    flags |= ALTER_RERUNNABLE;
    j.rerunnable = o.rerunnable == 1;
  }
  if (o.out_path) {
    flags |= ALTER_OUT_PATH;
    j.out_path = absolute(o.out_path);
  }
  if (o.err_path) {
    flags |= ALTER_ERR_PATH;
    j.err_path = absolute(o.err_path);
  }
  if (o.join >= 0) {
    flags |= ALTER_JOIN;
    j.join = o.join;
  }
  if (o.res.nsite) {
    /* Other systems' forms and device counts (ngpus=2), merged there. */
    flags |= ALTER_RESOURCES;
    j.resources = res_site_string(&o.res);
  }
  if (!flags) {
    cli_error(ctx, "nothing to alter");
    goto out;
  }
  rc = cli_alter_request(ctx, flags, &j, argv + idx, argc - idx);
out:
  job_rec_free(&j);
  qsub_opts_free(&o);
  return rc;
}

/* qmove QUEUE ID...: into another queue, before they start; the new
 * queue's defaults do not apply, its limits and rules do. */
int
cmd_qmove(struct cli_ctx *ctx, int argc, char **argv) {
  if (argc < 3 || argv[1][0] == '-') {
    bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    fputs("Usage: qmove queue[@server] job_id [job_id ...]\n"
          "Moves jobs that have not started into another queue, within its limits.\n",
          help ? stdout : stderr);
    return help ? 0 : 2;
  }
  struct job_rec j = {.queue = xstrndup(argv[1], strcspn(argv[1], "@"))};
  int rc = cli_alter_request(ctx, ALTER_QUEUE, &j, argv + 2, argc - 2);
  job_rec_free(&j);
  return rc;
}
