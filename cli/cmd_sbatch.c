/* SPDX-License-Identifier: MIT */
/* sbatch: Slurm's submission over boxq's queue. Options and #SBATCH lines
 * (read by slurm_opts.c into qsub's options), a script from the file or
 * standard input, or --wrap's command; "Submitted batch job N" or, with
 * --parsable, N alone; --wait waits and gives the job's exit status. A
 * script with #PBS lines and no #SBATCH ones is read as PBS's, as Slurm's
 * sbatch does. */
#include "cli.h"
#include "jobs_fetch.h"
#include "qsub_opts.h"
#include "slurm_opts.h"

#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char sbatch_usage[] =
    "Usage: sbatch [options] [script [args...]]\n"
    "       sbatch [options] --wrap='command'\n"
    "Submits a batch job, Slurm's way, to boxq's queue. Options (also on #SBATCH lines):\n"
    "  -J name  -o path  -e path (%j %x %A %a %u %N)  -c cpus-per-task  -n ntasks\n"
    "  --mem=SIZE  --mem-per-cpu=SIZE  -t TIME  -p partition  -a 0-99%10  -d afterok:ID\n"
    "  -d singleton  --parsable  --wrap=CMD  -D dir  --export=ALL|NONE|VAR=val  -H\n"
    "  --gres=gpu:N  --begin=TIME  -W/--wait  --nice[=N]  --mail-type  --mail-user  -A\n"
    "  --signal=[B:]SIG[@SECS]  --requeue\n";

/* -d singleton: after every unfinished job of the caller's that has the
 * same name. */
static void
add_singleton(struct cli_ctx *ctx, const char *name, struct job_rec *j) {
  struct joblist l;
  int errs;
  if (jobs_fetch(ctx, 0, NULL, 0, &l, &errs) < 0)
    return;
  for (size_t i = 0; i < l.n; i++) {
    const struct job_rec *o = &l.jobs[i];
    if (o->uid != (int64_t)getuid() || o->array_id || !o->name || strcmp(o->name, name))
      continue;
    char *dep = j->depend ? xasprintf("%s,afterany:%lld", j->depend, (long long)o->id)
                          : xasprintf("afterany:%lld", (long long)o->id);
    free(j->depend);
    j->depend = dep;
  }
  joblist_free(&l);
}

int
cmd_sbatch(struct cli_ctx *ctx, int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(sbatch_usage, stdout);
    return 0;
  }
  struct berr err = {{0}};
  struct qsub_opts cmdline, opts;
  qsub_opts_init(&cmdline);
  qsub_opts_init(&opts);
  cmdline.now = opts.now = (int64_t)time(NULL);
  int idx, rc = 1;
  char *script = NULL, *copy = NULL;
  size_t script_len = 0;
  struct job_rec j = {0};
  if (cli_load_config(ctx) < 0)
    goto out;
  cmdline.respol = opts.respol = cfg_res_policy(&ctx->cfg);
  if (slurm_parse_args(&cmdline, argc - 1, argv + 1, true, &idx, &err) < 0) {
    cli_error(ctx, "%s (sbatch --help lists the options)", err.msg);
    goto out;
  }
  idx += 1;
  const char *path = idx < argc ? argv[idx] : NULL;
  if (cmdline.wrap && path) {
    cli_error(ctx, "--wrap runs its command: no script ('%s') with it", path);
    goto out;
  }
  const char *label = path ? path : cmdline.wrap ? "wrap" : "STDIN";
  if (cmdline.wrap) {
    script =
        xasprintf("#!/bin/sh\n# This script was created by sbatch --wrap.\n\n%s\n", cmdline.wrap);
    script_len = strlen(script);
  } else {
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0) {
      cli_error(ctx, "unable to open file %s: %s", path, strerror(errno));
      goto out;
    }
    if (!path && isatty(fd)) {
      cli_error(ctx, "no script: give a file, pipe one in, or use --wrap");
      goto out;
    }
    int r = read_fd_all(fd, QSUB_MAX_SCRIPT, &script, &script_len);
    if (path)
      close(fd);
    if (r < 0 || script_len == 0) {
      cli_error(ctx, "cannot read script %s: %s", label,
                r == -EFBIG ? "larger than 8 MiB"
                : r < 0     ? strerror(-r)
                            : "it is empty");
      goto out;
    }
    if (script_len < 2 || memcmp(script, "#!", 2)) {
      cli_error(ctx,
                "%s: this does not look like a batch script: the first line must start "
                "with #! followed by the path to an interpreter",
                label);
      goto out;
    }
  }
  /* #SBATCH lines; a script with none but #PBS lines is read as PBS's. */
  int r_dir = 0;
  if (cmdline.wrap)
    ;
  else if (!slurm_script(script, script_len) && qsub_has_pbs_directives(script, script_len))
    r_dir = qsub_parse_directives(&opts, script, script_len, label, "#PBS", &err);
  else
    r_dir = slurm_parse_directives(&opts, script, script_len, label, &err);
  if (r_dir < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  opts.slurm = true; /* Slurm's job whatever its lines: its variables and files */
  qsub_opts_merge(&opts, &cmdline);
  if (slurm_finish(&opts, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  res_finish(&opts.res);
  if (path && argc - idx > 1) {
    cli_error(ctx, "arguments after the script (%s ...) are not supported: use --wrap='%s %s ...'",
              argv[idx + 1], path, argv[idx + 1]);
    goto out;
  }
  for (size_t i = 0; i < opts.res.nunknown; i++)
    fprintf(stderr, "sbatch: %s is not enforced on this server; recorded only\n",
            opts.res.unknown[i]);
  char cwd[4096];
  if (!getcwd(cwd, sizeof(cwd))) {
    cli_error(ctx, "cannot determine the current directory: %s", strerror(errno));
    goto out;
  }
  copy = xstrdup(path ? path : "");
  const char *default_name = path ? basename(copy) : cmdline.wrap ? "wrap" : "sbatch";
  if (qsub_fill_job(&opts, cwd, default_name, &j, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  if (opts.singleton)
    add_singleton(ctx, j.name, &j);
  j.script = script;
  j.script_len = script_len;
  script = NULL;
  int64_t id;
  const char *server, *ref;
  if (qsub_send(ctx, &j, &id, &server, &ref) < 0)
    goto out;
  if (opts.parsable)
    printf("%lld\n", (long long)id);
  else if (!opts.quiet)
    printf("Submitted batch job %lld\n", (long long)id);
  rc = fflush(stdout) == 0 ? 0 : 1;
  if (rc == 0 && opts.block)
    rc = qsub_wait_for_end(ctx, id, false);
out:
  free(script);
  free(copy);
  job_rec_free(&j);
  qsub_opts_free(&cmdline);
  qsub_opts_free(&opts);
  return rc;
}
