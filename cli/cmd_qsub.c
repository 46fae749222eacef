/* SPDX-License-Identifier: MIT */
/* qsub: read the script as the user, merge #PBS directives with the command
 * line (the command line wins), send one structured request, print the id
 * once boxqd has committed the job. */
#include "cli.h"
#include "jobref.h"
#include "jobs_fetch.h"
#include "qsub_interactive.h"
#include "qsub_opts.h"
#include "qsub_sge.h"
#include "slurm_opts.h"
#include "sge_out.h"

#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char qsub_usage[] =
    "Usage: qsub [-N name] [-o path] [-e path] [-j oe|eo|n] [-l resource_list]\n"
    "            [-v var[=value],...] [-V] [-h] [-p priority] [-r y|n] [-q queue]\n"
    "            [-J first-last[:step][%max]] [-W depend=type:id[:id...][,...]]\n"
    "            [-a [[[[CC]YY]MM]DD]hhmm[.SS]] [-d|-w dir] [-S shell] [-W umask=mask]\n"
    "            [-t first-last[%max]] [-C prefix] [-u user] [-k keep] [-z] [-A account]\n"
    "            [-P project] [-W group_list=group] [-W block=true] [-I]\n"
    "            [script | - | -- command [args...]]\n"
    "Submits a batch job. The script is read from the file, or from standard input;\n"
    "after --, the job runs that command. -I: an interactive job on this terminal.\n"
    "#PBS lines at the head of the script take the same options; the command line wins.\n"
    "  -l ncpus=N,mem=SIZE,walltime=[[HH:]MM:]SS   resources (mem: b, kb, mb, gb, tb);\n"
    "     also Torque's nodes=N:ppn=P, PBS Pro's select=N:ncpus=P:mem=M, procs, vmem, pmem\n";

static char *
absolute(const char *cwd, const char *path) {
  if (path[0] == '/')
    return xstrdup(path);
  return xasprintf("%s/%s", cwd, path);
}

/* An -o/-e naming an existing directory means "the default name in there". */
static char *
output_arg(const char *cwd, const char *path) {
  char *abs = absolute(cwd, path);
  struct stat st;
  size_t len = strlen(abs);
  if (abs[len - 1] != '/' && stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
    char *d = xasprintf("%s/", abs);
    free(abs);
    return d;
  }
  return abs;
}

static void
env_add(struct job_rec *j, size_t *n, const char *kv) {
  j->env = xrealloc(j->env, (*n + 2) * sizeof(char *));
  j->env[(*n)++] = xstrdup(kv);
  j->env[*n] = NULL;
}

static void
env_add_pbs_o(struct job_rec *j, size_t *n, const char *var, const char *value) {
  if (!value)
    return;
  _cleanup_free_ char *kv = xasprintf("PBS_O_%s=%s", var, value);
  env_add(j, n, kv);
}

/* Grid Engine's submit-side variables: SGE_O_*, the array's bounds
 * (its tasks' own SGE_TASK_ID is the worker's), the parallel environment. */
static void
build_sge_env(struct job_rec *j, size_t *n, const struct qsub_opts *o, const char *cwd) {
  static const char *const from_env[][2] = {{"HOME", "HOME"}, {"LOGNAME", "LOGNAME"},
                                            {"PATH", "PATH"}, {"SHELL", "SHELL"},
                                            {"MAIL", "MAIL"}, {"TZ", "TZ"}};
  for (size_t i = 0; i < ARRAY_SIZE(from_env); i++) {
    const char *v = getenv(from_env[i][1]);
    if (v) {
      _cleanup_free_ char *kv = xasprintf("SGE_O_%s=%s", from_env[i][0], v);
      env_add(j, n, kv);
    }
  }
  _cleanup_free_ char *wd = xasprintf("SGE_O_WORKDIR=%s", cwd);
  env_add(j, n, wd);
  struct utsname u;
  if (uname(&u) == 0) {
    _cleanup_free_ char *host = xasprintf("SGE_O_HOST=%s", u.nodename);
    env_add(j, n, host);
  }
  int64_t first = 0, last = 0, step = 0;
  sge_array_bounds(o->array_spec, &first, &last, &step);
  char kv[64];
  static const char *const names[] = {"SGE_TASK_FIRST", "SGE_TASK_LAST", "SGE_TASK_STEPSIZE"};
  int64_t values[] = {first, last, step};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    if (o->array_spec)
      snprintf(kv, sizeof(kv), "%s=%lld", names[i], (long long)values[i]);
    else
      snprintf(kv, sizeof(kv), "%s=undefined", names[i]);
    env_add(j, n, kv);
  }
  if (o->pe_name) {
    _cleanup_free_ char *pe = xasprintf("PE=%s", o->pe_name);
    env_add(j, n, pe);
  }
}

/* Slurm's submit-side variables; the job's own (SLURM_JOB_ID, the task)
 * are the worker's. */
static void
build_slurm_env(struct job_rec *j, size_t *n, const struct qsub_opts *o, const char *cwd) {
  char kv[4200];
  snprintf(kv, sizeof(kv), "SLURM_SUBMIT_DIR=%s", cwd);
  env_add(j, n, kv);
  struct utsname u;
  if (uname(&u) == 0) {
    snprintf(kv, sizeof(kv), "SLURM_SUBMIT_HOST=%s", u.nodename);
    env_add(j, n, kv);
  }
  snprintf(kv, sizeof(kv), "SLURM_NTASKS=%lld", (long long)(o->ntasks ? o->ntasks : 1));
  env_add(j, n, kv);
  snprintf(kv, sizeof(kv), "SLURM_NPROCS=%lld", (long long)(o->ntasks ? o->ntasks : 1));
  env_add(j, n, kv);
  if (o->cpus_per_task) {
    snprintf(kv, sizeof(kv), "SLURM_CPUS_PER_TASK=%lld", (long long)o->cpus_per_task);
    env_add(j, n, kv);
  }
  if (o->mem_per_cpu) {
    snprintf(kv, sizeof(kv), "SLURM_MEM_PER_CPU=%lld", (long long)(o->mem_per_cpu >> 20));
    env_add(j, n, kv);
  }
  if (o->array_spec) {
    int64_t first = 0, last = 0, step = 1, count = 0;
    struct job_array_range *r;
    size_t nr;
    if (job_array_parse_list(o->array_spec, &r, &nr, &count, NULL) == 0) {
      free(r);
      sge_array_bounds(o->array_spec, &first, &last, &step);
      static const char *const names[] = {"SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                                          "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT"};
      int64_t values[] = {first, last, step, count};
      for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        snprintf(kv, sizeof(kv), "%s=%lld", names[i], (long long)values[i]);
        env_add(j, n, kv);
      }
    }
  }
}

static void
build_env(struct job_rec *j, const struct qsub_opts *o, const char *cwd) {
  size_t n = 0;
  if (o->export_all)
    for (char **e = environ; e && *e; e++)
      if (strchr(*e, '=') && **e != '=')
        env_add(j, &n, *e);
  for (size_t i = 0; i < o->nvars; i++) {
    if (strchr(o->vars[i], '='))
      env_add(j, &n, o->vars[i]);
    else {
      const char *v = getenv(o->vars[i]);
      _cleanup_free_ char *kv = xasprintf("%s=%s", o->vars[i], v ? v : "");
      env_add(j, &n, kv);
    }
  }
  /* The job's terminal is this one (-I): programs in it need its type. */
  const char *term = getenv("TERM");
  if (o->interactive && term && *term) {
    _cleanup_free_ char *kv = xasprintf("TERM=%s", term);
    env_add(j, &n, kv);
  }
  static const char *const from_env[] = {"HOME", "LANG", "LOGNAME", "PATH", "MAIL", "SHELL", "TZ"};
  for (size_t i = 0; i < ARRAY_SIZE(from_env); i++)
    env_add_pbs_o(j, &n, from_env[i], getenv(from_env[i]));
  struct utsname u;
  if (uname(&u) == 0)
    env_add_pbs_o(j, &n, "HOST", u.nodename);
  env_add_pbs_o(j, &n, "WORKDIR", cwd);
  if (o->workdir)
    env_add_pbs_o(j, &n, "INITDIR", j->workdir); /* Torque's, for -d */
  if (o->sge)
    build_sge_env(j, &n, o, cwd);
  if (o->slurm)
    build_slurm_env(j, &n, o, cwd);
}

int
qsub_fill_job(const struct qsub_opts *opts, const char *cwd, const char *default_name,
              struct job_rec *j, struct berr *err) {
  j->name = xstrdup(opts->name ? opts->name : default_name);
  if (job_name_check(j->name, err) < 0) {
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof(err->msg) - len, "; name the job with -N");
    return -EINVAL;
  }
  /* -d/-w (Torque): where the job starts and its outputs go by default,
   * relative to where qsub runs (PBS_O_WORKDIR stays that). */
  j->workdir = opts->workdir ? absolute(cwd, opts->workdir) : xstrdup(cwd);
  j->shell = xstrdup(opts->shell ? opts->shell : "");
  j->umask = xstrdup(opts->umask ? opts->umask : "");
  j->account = xstrdup(opts->account ? opts->account : "");
  j->mail_points = xstrdup(opts->mail_points ? opts->mail_points : "");
  j->mail_users = xstrdup(opts->mail_users ? opts->mail_users : "");
  j->project = xstrdup(opts->project ? opts->project : "");
  j->group_list = xstrdup(opts->group_list ? opts->group_list : "");
  /* Grid Engine's and Slurm's relative -o/-e are in the job's directory. */
  const char *out_base = opts->sge || opts->slurm ? j->workdir : cwd;
  if (opts->out_path)
    j->out_path = output_arg(out_base, opts->out_path);
  if (opts->err_path)
    j->err_path = output_arg(out_base, opts->err_path);
  j->join = opts->join < 0 ? JOIN_NONE : opts->join;
  j->ncpus = opts->res.ncpus;
  j->mem = opts->res.mem;
  j->walltime = opts->res.walltime;
  j->cput = opts->res.cput;
  j->pids = opts->res.pids;
  j->rerunnable = opts->rerunnable == 1;
  j->net = xstrdup(opts->res.net == 2 ? "none" : "");
  j->nodes = opts->res.nodes;
  j->resources = res_site_string(&opts->res);
  j->priority = opts->priority;
  j->hold_types = xstrdup(opts->hold ? "u" : "");
  j->queue = opts->queue ? xstrdup(opts->queue) : NULL; /* none: the server's default queue */
  j->array_spec = opts->array_spec ? xstrdup(opts->array_spec) : NULL;
  j->depend = opts->depend ? xstrdup(opts->depend) : NULL;
  j->exec_time = opts->exec_time;
  j->interactive = opts->interactive;
  j->dialect = xstrdup(opts->sge ? "sge" : opts->slurm ? "slurm" : "");
  j->warn_after = opts->soft_walltime;
  j->warn_signal = !opts->soft_walltime ? 0 : opts->signal_number ? opts->signal_number : SIGUSR1;
  j->notify = opts->notify;
  struct utsname u;
  if (uname(&u) == 0)
    j->submit_host = xstrdup(u.nodename);
  build_env(j, opts, cwd);
  return 0;
}

/* -u: a job runs as its submitter, whatever -u says (boxqd takes the
 * identity from the socket); a list naming someone else is an error, said
 * here. The name is the login's ($USER, $LOGNAME): this static program
 * does not look up accounts. user@host: any host, one box. */
static int
check_user_list(const char *list, struct berr *err) {
  const char *me = getenv("USER");
  if (!me || !*me)
    me = getenv("LOGNAME");
  if (!me || !*me)
    return 0;
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
    u[strcspn(u, "@")] = '\0';
    if (strcmp(u, me) != 0)
      return berr_set(err, -EPERM, "-u %s: a job runs as the user who submits it (%s)", list, me);
  }
  return 0;
}

int
qsub_send(struct cli_ctx *ctx, const struct job_rec *j, int64_t *ret_id, const char **ret_server,
          const char **ret_ref) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, j);
  pb_nest_end(&b, mark);
  pb_end(&b);
  struct pmsg reply; /* its strings (in the connection's buffer) last until the next request */
  int64_t status;
  int r = cli_request(ctx, &b, &reply, &status);
  pbuf_free(&b);
  if (r < 0)
    return r;
  if (status < 0) {
    const char *msg = pmsg_str(&reply, T_MESSAGE);
    cli_error(ctx, "%s", msg ? msg : strerror((int)-status));
    return (int)status;
  }
  if (pmsg_i64(&reply, T_JOBID, ret_id) < 0) {
    cli_error(ctx, "boxqd did not return a job id");
    return -EBADMSG;
  }
  const char *server = pmsg_str(&reply, T_SERVER);
  *ret_server = server ? server : "";
  *ret_ref = pmsg_str(&reply, T_JOBREF);
  return 0;
}

/* -W block=true: waits for job id to end (boxqd answers then, as for
 * qwait) and returns its exit status (a job killed by signal N: 128 + N,
 * as a shell says; one that never ran: 1). Interrupted, it leaves the job
 * alone and says so. */
int
qsub_wait_for_end(struct cli_ctx *ctx, int64_t id, bool sge) {
  char idstr[32];
  snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
  char *ids[] = {idstr};
  struct joblist l;
  int errors, rc = 1;
  int r = jobs_wait(ctx, ids, 1, 0, &l, &errors);
  if (r == -EINTR) {
    fprintf(stderr, "qsub: no longer waiting; job %s.%s keeps running (qdel ends it)\n", idstr,
            ctx->server);
    rc = 130;
  } else if (r < 0 || l.n != 1)
    cli_error(ctx, "cannot follow job %s any more", idstr);
  else
    rc = job_shell_status(&l.jobs[0]);
  if (sge && r >= 0 && l.n == 1)
    rc = sge_report_end(&l.jobs[0], idstr);
  joblist_free(&l);
  return rc;
}

int
cmd_qsub(struct cli_ctx *ctx, int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-?"))) {
    fputs(qsub_usage, stdout);
    return 0;
  }
  /* qsub --cron 'SCHEDULE' [options] script: not now, but on a schedule. */
  const char *cron_spec = NULL;
  if (argc > 1 && !strcmp(argv[1], "--cron")) {
    if (argc < 4) {
      fprintf(stderr, "Usage: qsub --cron 'MIN HOUR DAY MONTH WEEKDAY' [options] script\n");
      return 2;
    }
    cron_spec = argv[2];
    argv[2] = argv[0];
    argv += 2;
    argc -= 2;
  }
  struct berr err = {{0}};
  struct qsub_opts cmdline, opts;
  qsub_opts_init(&cmdline);
  qsub_opts_init(&opts);
  cmdline.now = opts.now = (int64_t)time(NULL);
  int idx, rc = 2;
  char *script = NULL, *default_name = NULL;
  size_t script_len = 0;
  struct job_rec j = {0};
  /* The server's configuration says what -l does with other systems'
   * forms (multinode, unknown_resource); boxqd checks again. */
  if (cli_load_config(ctx) < 0)
    goto out;
  cmdline.respol = opts.respol = cfg_res_policy(&ctx->cfg);
  bool sge = ctx->dialect == DIALECT_SGE;
  if ((sge ? qsub_sge_parse_args : qsub_parse_args)(&cmdline, argc - 1, argv + 1, true, &idx,
                                                    &err) < 0) {
    const char *hint = !sge && sge_words(argc - 1, argv + 1)
                           ? "; Grid Engine's options need BOXQ_DIALECT=sge (or dialect = sge)"
                           : " (qsub --help lists the options)";
    cli_error(ctx, "%s%s", err.msg, hint);
    goto out;
  }
  idx += 1;
  /* qsub [-I] -- command args: the job runs that command (PBS Pro's
   * form); Grid Engine's qsub -b y command args. */
  char **command = cmdline.dashdash || cmdline.binary == 1 ? argv + idx : NULL;
  if (command && idx >= argc) {
    cli_error(ctx, "%s must be followed by the command the job runs",
              cmdline.dashdash ? "'--'" : "-b y");
    goto out;
  }
  if (!command && argc - idx > 1) {
    cli_error(ctx, "only one script may be given (got '%s' and '%s')", argv[idx], argv[idx + 1]);
    goto out;
  }
  /* qsub -I without a script reads no script: standard input is the
   * terminal the job will have. */
  const char *path = command || (cmdline.interactive && idx >= argc) ? NULL
                     : idx < argc                                    ? argv[idx]
                                                                     : "-";
  const char *label = !path || strcmp(path, "-") == 0 ? "STDIN" : path;
  if (cron_spec) {
    char here[4096];
    if (!path || strcmp(path, "-") == 0 || cmdline.interactive) {
      cli_error(ctx, "--cron takes a script file, run by its path at each due time");
      goto out;
    }
    if (!getcwd(here, sizeof(here))) {
      cli_error(ctx, "cannot determine the current directory: %s", strerror(errno));
      goto out;
    }
    _cleanup_free_ char *abs = absolute(here, path);
    rc = cron_add_script(ctx, cron_spec, argv + 1, idx - 1, abs, here);
    goto out;
  }
  if (command) {
    script = qsub_command_script(command, argc - idx);
    script_len = strlen(script);
  } else if (!path) {
    script = qsub_shell_script(cmdline.shell);
    script_len = strlen(script);
  } else {
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      cli_error(ctx, "cannot read script %s: %s", path, strerror(errno));
      goto out;
    }
    int r = read_fd_all(fd, QSUB_MAX_SCRIPT, &script, &script_len);
    if (fd != STDIN_FILENO)
      close(fd);
    if (r < 0) {
      cli_error(ctx, "cannot read script %s: %s", label,
                r == -EFBIG ? "larger than 8 MiB" : strerror(-r));
      goto out;
    }
    if (script_len == 0) {
      cli_error(ctx, "script %s is empty", label);
      goto out;
    }
  }
  /* Grid Engine's #$ directives: under its dialect, or in a script that
   * has them and no #PBS lines; a command (-b y, --) has none. */
  int r_dir = 0;
  if (command)
    ;
  else if (sge || (!cmdline.prefix && qsub_sge_script(script, script_len)))
    r_dir = qsub_sge_parse_directives(&opts, script, script_len, label,
                                      cmdline.prefix ? cmdline.prefix : "#$", &err);
  else if (!cmdline.prefix && !qsub_has_pbs_directives(script, script_len) &&
           slurm_script(script, script_len))
    r_dir = slurm_parse_directives(&opts, script, script_len, label, &err); /* as sbatch would */
  else
    r_dir = qsub_parse_directives(&opts, script, script_len, label, qsub_directive_prefix(&cmdline),
                                  &err);
  if (r_dir < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  qsub_opts_merge(&opts, &cmdline);
  if (qsub_sge_finish(&opts, &err) < 0 || slurm_finish(&opts, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  res_finish(&opts.res);
  if (opts.interactive && path) {
    /* qsub -I script (or #PBS -I): its directives apply, the job is the
     * shell. */
    free(script);
    script = qsub_shell_script(opts.shell);
    script_len = strlen(script);
  }
  if (opts.interactive && opts.array_spec) {
    cli_error(ctx, "an interactive job (-I) cannot be an array job (-J/-t)");
    goto out;
  }
  if (opts.interactive && !command && !isatty(STDIN_FILENO)) {
    /* A shell fed from a pipe would wait at its prompt for an end the
     * terminal cannot give it (PBS refuses this too). */
    cli_error(ctx, "-I gives you a shell on this terminal, but standard input is not one; "
                   "to run one command, qsub -I -- command");
    goto out;
  }
  for (size_t i = 0; i < opts.res.nunknown; i++) {
    bool said = false;
    for (size_t k = 0; k < i && !said; k++)
      said = !strcmp(opts.res.unknown[k], opts.res.unknown[i]);
    if (!said)
      fprintf(stderr,
              "qsub: resource %s is not enforced on this server; kept in Resource_List "
              "(unknown_resource = warn)\n",
              opts.res.unknown[i]);
  }
  /* -q route, a site's queue: says where the server will put the job. */
  const char *routed = NULL;
  if (opts.queue && cfg_route_queue(&ctx->cfg, opts.queue, &routed) == QUEUE_DEFAULTED)
    fprintf(stderr,
            "qsub: queue %s is not on this server; the job goes to %s (unknown_queue = "
            "default)\n",
            opts.queue, routed);

  char cwd[4096];
  if (!getcwd(cwd, sizeof(cwd))) {
    cli_error(ctx, "cannot determine the current directory: %s", strerror(errno));
    goto out;
  }
  if (command) {
    _cleanup_free_ char *copy = xstrdup(command[0]);
    default_name = xstrdup(basename(copy));
  } else if (strcmp(label, "STDIN") == 0 || opts.interactive)
    default_name = xstrdup("STDIN");
  else {
    _cleanup_free_ char *copy = xstrdup(path);
    default_name = xstrdup(basename(copy));
  }
  if (qsub_fill_job(&opts, cwd, default_name, &j, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  if (opts.user_list && check_user_list(opts.user_list, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    goto out;
  }
  if (opts.block && opts.array_spec && !opts.sge) {
    cli_error(ctx, "-W block=true waits for one job, not an array (-J/-t)");
    goto out;
  }
  if (opts.hold_jid || opts.hold_jid_ad) {
    if (qsub_sge_holds(ctx, &opts, &err) < 0) {
      cli_error(ctx, "%s", err.msg);
      goto out;
    }
    free(j.depend);
    j.depend = xstrdup(opts.depend);
  }
  j.script = script;
  j.script_len = script_len;
  script = NULL;

  int64_t id;
  const char *server, *ref;
  if (qsub_send(ctx, &j, &id, &server, &ref) < 0) {
    rc = 1;
    goto out;
  }
  if (opts.interactive) {
    rc = qsub_interactive(ctx, id, server);
    goto out;
  }
  if (sge) /* Grid Engine's words for its command line (not for a #$ script's) */
    sge_submitted(&opts, &j, id);
  else if (opts.quiet)
    ; /* -z */
  else if (ref)
    printf("%s.%s\n", ref, server);
  else
    printf("%lld.%s\n", (long long)id, server);
  rc = fflush(stdout) == 0 ? 0 : 1;
  if (rc == 0 && opts.block)
    rc = qsub_wait_for_end(ctx, id, sge);
out:
  free(script);
  free(default_name);
  job_rec_free(&j);
  qsub_opts_free(&cmdline);
  qsub_opts_free(&opts);
  return rc;
}
