/* SPDX-License-Identifier: MIT */
/* boxq: the command line. `qsub ...` (a link to this binary) and
 * `boxq qsub ...` are the same. Global option before the verb:
 * `boxq -c FILE VERB ...`; the environment's BOXQ_CONFIG and
 * BOXQ_STATE_DIR work for every verb. */
#include "cli.h"
#include "slurm_out.h"

#include <libgen.h>
#include <string.h>

static const struct cli_cmd commands[] = {
    {"qsub", "submit a batch job", cmd_qsub},
    {"qstat", "show jobs", cmd_qstat},
    {"qdel", "delete jobs", cmd_qdel},
    {"qhold", "hold queued jobs", cmd_qhold},
    {"qrls", "release held jobs", cmd_qrls},
    {"qsig", "send a signal to running jobs", cmd_qsig},
    {"qalter", "change a job that has not started", cmd_qalter},
    {"qselect", "list the ids of jobs that match", cmd_qselect},
    {"qrerun", "run finished jobs again", cmd_qrerun},
    {"qacct", "show the accounting of finished jobs", cmd_qacct},
    {"tracejob", "show a job's history", cmd_tracejob},
    {"pbsnodes", "show the node, or put it offline", cmd_pbsnodes},
    {"qwait", "wait until jobs end", cmd_qwait},
    {"qmove", "move jobs into another queue", cmd_qmove},
    {"qrun", "start jobs now, past the policy", cmd_qrun},
    {"qpeek", "show a running job's output so far", cmd_qpeek},
    {"qcat", "show a running job's output so far (qpeek)", cmd_qpeek},
    {"qstart", "let a queue's jobs start", cmd_queue_state},
    {"qstop", "start none of a queue's jobs", cmd_queue_state},
    {"qenable", "let a queue accept jobs", cmd_queue_state},
    {"qdisable", "refuse new jobs for a queue", cmd_queue_state},
    {"qmgr", "change queues and the server's scheduling", cmd_qmgr},
    {"qmod", "suspend or resume jobs (Grid Engine's qmod -sj/-usj)", cmd_qmod},
    {"sbatch", "submit a batch job, Slurm's way", cmd_sbatch},
    {"squeue", "show the queue, Slurm's way", cmd_squeue},
    {"sacct", "show jobs' accounting, Slurm's way", cmd_sacct},
    {"scancel", "cancel or signal jobs, Slurm's way", cmd_scancel},
    {"scontrol", "show and change jobs, Slurm's way", cmd_scontrol},
    {"sinfo", "show the box as Slurm's partitions and node", cmd_sinfo},
    {"srun", "run a job's tasks, inside a job (Slurm's srun)", cmd_srun},
    {"cron", "your schedules: jobs submitted at set times (boxq cron)", cmd_cron},
};

static void
usage(FILE *out) {
  fprintf(out, "Usage: boxq [-c FILE] VERB [options...]\n       VERB [options...]\nVerbs:\n");
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    fprintf(out, "  %-6s %s\n", commands[i].name, commands[i].summary);
}

int
main(int argc, char **argv) {
  struct cli_ctx ctx = {.fd = -1};
  _cleanup_free_ char *arg0 = xstrdup(argv[0]);
  const char *verb = basename(arg0);
  if (strcmp(verb, "boxq") == 0) {
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
      ctx.config = argv[i + 1];
      i += 2;
    }
    if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(i >= argc ? stderr : stdout);
      return i >= argc ? 2 : 0;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("boxq " BOXQ_VERSION " (protocol %d)\n", BOXQ_PROTOCOL_VERSION);
      return 0;
    }
    verb = argv[i];
    argc -= i;
    argv += i;
  }
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
    if (strcmp(verb, commands[i].name) == 0) {
      ctx.prog = commands[i].name;
      int rc = commands[i].run(&ctx, argc, argv);
      cli_close(&ctx);
      return rc;
    }
  }
  fprintf(stderr, "boxq: unknown verb '%s'\n", verb);
  usage(stderr);
  return 2;
}
