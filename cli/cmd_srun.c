/* SPDX-License-Identifier: MIT */
/* srun inside a job: runs the job's tasks, as Slurm's srun does within an
 * allocation: -n copies of the command (the job's SLURM_NTASKS by
 * default), each with SLURM_PROCID, SLURM_LOCALID and SLURM_NODEID, in the
 * job's own cgroup and namespaces (they are its children), -l labelling
 * their output lines. It exits with the first failing task's status.
 * Outside a job there is no allocation to run in: qsub -I gives one. */
#include "slurm_out.h"

#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char srun_usage[] =
    "Usage: srun [-n ntasks] [-c cpus-per-task] [-l] [-J name] command [args...]\n"
    "Inside a job: runs ntasks copies of the command as the job's tasks.\n";

/* Copies a task's output to stdout, each line after "N: ". */
static void
label_lines(int fd, int task) {
  FILE *in = fdopen(fd, "r");
  if (!in)
    return;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, in) >= 0) {
    printf("%d: %s", task, line);
    if (!strchr(line, '\n'))
      putchar('\n');
    fflush(stdout);
  }
  free(line);
  fclose(in);
}

int
cmd_srun(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {{"ntasks", required_argument, NULL, 'n'},
                                       {"cpus-per-task", required_argument, NULL, 'c'},
                                       {"label", no_argument, NULL, 'l'},
                                       {"job-name", required_argument, NULL, 'J'},
                                       {"nodes", required_argument, NULL, 'N'},
                                       {"export", required_argument, NULL, 'E'},
                                       {"mpi", required_argument, NULL, 'M'},
                                       {"help", no_argument, NULL, 'h'},
                                       {"cpu-bind", required_argument, NULL, 'B'},
                                       {"exclusive", no_argument, NULL, 'x'},
                                       {0}};
  int64_t ntasks = 0;
  bool label = false;
  int o;
  optind = 1;
  /* Options stop at the command: its own options are its. */
  while ((o = getopt_long(argc, argv, "+n:c:lJ:N:h", opts, NULL)) != -1) {
    switch (o) {
      case 'n':
        if (parse_i64(optarg, 1, 4096, &ntasks) < 0) {
          cli_error(ctx, "-n '%s': a number of tasks from 1 to 4096", optarg);
          return 1;
        }
        break;
      case 'l':
        label = true;
        break;
      case 'h':
        fputs(srun_usage, stdout);
        return 0;
      case 'c':
      case 'J':
      case 'N':
      case 'E':
      case 'M':
      case 'B':
      case 'x':
        break; /* the job's limits hold every task already */
      default:
        fputs(srun_usage, stderr);
        return 1;
    }
  }
  if (optind >= argc) {
    fputs(srun_usage, stderr);
    return 1;
  }
  const char *job = getenv("SLURM_JOB_ID");
  if (!job || !*job) {
    cli_error(ctx, "srun runs a job's tasks inside a job (sbatch); for a shell in an "
                   "allocation of its own, qsub -I (or qsub -I -- command)");
    return 1;
  }
  if (!ntasks) {
    const char *env = getenv("SLURM_NTASKS");
    if (!env || parse_i64(env, 1, 4096, &ntasks) < 0)
      ntasks = 1;
  }
  pid_t *pids = xcalloc((size_t)ntasks, sizeof(pid_t));
  int *fds = xcalloc((size_t)ntasks, sizeof(int));
  for (int64_t t = 0; t < ntasks; t++) {
    int p[2] = {-1, -1};
    if (label && pipe(p) < 0) {
      cli_error(ctx, "pipe: %s", strerror(errno));
      return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      cli_error(ctx, "fork: %s", strerror(errno));
      return 1;
    }
    if (pid == 0) {
      char num[32];
      snprintf(num, sizeof(num), "%lld", (long long)t);
      setenv("SLURM_PROCID", num, 1);
      setenv("SLURM_LOCALID", num, 1);
      setenv("SLURM_NODEID", "0", 1);
      setenv("SLURM_STEP_ID", "0", 1);
      snprintf(num, sizeof(num), "%lld", (long long)ntasks);
      setenv("SLURM_NTASKS", num, 1);
      setenv("SLURM_STEP_NUM_TASKS", num, 1);
      if (label) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
      }
      execvp(argv[optind], argv + optind);
      fprintf(stderr, "srun: error: %s: %s\n", argv[optind], strerror(errno));
      _exit(127);
    }
    pids[t] = pid;
    fds[t] = p[0];
    if (label)
      close(p[1]);
  }
  /* Labelled output is read task by task: each task's lines stay whole. */
  for (int64_t t = 0; label && t < ntasks; t++)
    label_lines(fds[t], (int)t);
  int rc = 0;
  for (int64_t t = 0; t < ntasks; t++) {
    int status;
    while (waitpid(pids[t], &status, 0) < 0 && errno == EINTR)
      ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code && !rc) {
      rc = code;
      fprintf(stderr, "srun: error: task %lld: %s %d\n", (long long)t,
              WIFEXITED(status) ? "Exited with exit code" : "Killed by signal",
              WIFEXITED(status) ? code : WTERMSIG(status));
    }
  }
  free(pids);
  free(fds);
  return rc;
}
