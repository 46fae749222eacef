/* SPDX-License-Identifier: MIT */
/* boxq cron: a user's schedules, kept by boxqd (crontab.c reads them).
 *   boxq cron -l    the crontab, then what each schedule did ("#|" lines)
 *   boxq cron -L    the latest runs: each due time and what it did
 *   boxq cron -e    edit it ($VISUAL, $EDITOR, else vi)
 *   boxq cron -r    remove it
 *   boxq cron FILE  install FILE (- : standard input)
 * and qsub --cron 'SCHEDULE' [options] script (cron_add_script). */
#include "cli.h"
#include "crontab.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char cron_usage[] =
    "Usage: boxq cron [-l | -L | -e | -r | FILE | -]\n"
    "Your schedules: jobs boxq submits for you at the times a crontab gives.\n"
    "  -l  list the crontab and what each schedule last did (next and last run,\n"
    "      its job and exit status)\n"
    "  -L  the latest runs, each due time and what it did (submitted, skipped, missed)\n"
    "  -e  edit the crontab ($VISUAL, $EDITOR, else vi)\n"
    "  -r  remove it\n"
    "  FILE, -  install the crontab in FILE, or read from standard input\n"
    "Lines: MIN HOUR DAY MONTH WEEKDAY command (or @daily command), #PBS options\n"
    "for the next schedule, NAME=value, # comments. See boxq-cron(1).\n";

static void
format_time(int64_t t, char *buf, size_t len) {
  fmt_time_as(t, "%Y-%m-%d %H:%M", buf, len);
}

/* Sends a MSG_CRON with flags (and what b holds), for its reply. */
static int
cron_request(struct cli_ctx *ctx, struct pbuf *b, struct pmsg *reply) {
  if (cli_load_config(ctx) < 0) {
    pbuf_free(b);
    return -EINVAL;
  }
  return cli_call(ctx, b, reply, false);
}

static int
cron_get(struct cli_ctx *ctx, int64_t flags, struct pmsg *reply) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_CRON);
  pb_i64(&b, T_FLAGS, flags);
  pb_end(&b);
  return cron_request(ctx, &b, reply);
}

/* "#|" lines: what each schedule did, below its crontab. */
static void
print_status(const struct pmsg *reply) {
  size_t off = 0;
  struct pfield f;
  bool header = false;
  while (pmsg_next(reply, &off, &f)) {
    struct pmsg e;
    if (f.tag != T_CRON || pmsg_sub(&f, &e) < 0)
      continue;
    if (!header) {
      printf("#| boxq: what each schedule did (lines starting #| are dropped when installed)\n");
      header = true;
    }
    char next[32], last[32];
    format_time(pmsg_i64_or(&e, C_NEXT, 0), next, sizeof(next));
    format_time(pmsg_i64_or(&e, C_LAST, 0), last, sizeof(last));
    const char *spec = pmsg_str(&e, C_SPEC), *outcome = pmsg_str(&e, C_OUTCOME);
    printf("#| line %lld  %s  next %s  last %s", (long long)pmsg_i64_or(&e, C_LINE, 0),
           spec ? spec : "?", next, last);
    if (outcome && *outcome)
      printf(": %s", outcome);
    int64_t job = pmsg_i64_or(&e, C_LAST_JOB, 0), st = pmsg_i64_or(&e, C_JOB_STATE, 0), ex;
    if (job > 0 && st == JOB_FINISHED && pmsg_i64(&e, C_EXIT, &ex) == 0)
      printf("; job %lld ended, exit status %lld", (long long)job, (long long)ex);
    else if (job > 0 && st)
      printf("; job %lld is %s", (long long)job,
             st == JOB_RUNNING    ? "running"
             : st == JOB_FINISHED ? "finished"
                                  : "waiting");
    printf("\n");
  }
}

static int
cron_list(struct cli_ctx *ctx) {
  struct pmsg reply;
  if (cron_get(ctx, 0, &reply) < 0)
    return 1;
  const char *text = pmsg_str(&reply, T_TEXT);
  if (!text) {
    const char *user = getenv("USER");
    fprintf(stderr, "no crontab for %s\n", user && *user ? user : "you");
    return 1;
  }
  fputs(text, stdout);
  print_status(&reply);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int
cron_history(struct cli_ctx *ctx) {
  struct pmsg reply;
  if (cron_get(ctx, CRON_HISTORY, &reply) < 0)
    return 1;
  size_t off = 0;
  struct pfield f;
  printf("%-16s  %-16s  %-24s  %s\n", "DUE", "HANDLED", "SCHEDULE", "WHAT IT DID");
  while (pmsg_next(&reply, &off, &f)) {
    struct pmsg r;
    if (f.tag != T_CRON_RUN || pmsg_sub(&f, &r) < 0)
      continue;
    char due[32], at[32];
    format_time(pmsg_i64_or(&r, C_DUE, 0), due, sizeof(due));
    format_time(pmsg_i64_or(&r, C_AT, 0), at, sizeof(at));
    const char *spec = pmsg_str(&r, C_SPEC), *cmd = pmsg_str(&r, C_COMMAND),
               *outcome = pmsg_str(&r, C_OUTCOME);
    _cleanup_free_ char *what = xasprintf("%s %s", spec ? spec : "", cmd ? cmd : "");
    printf("%-16s  %-16s  %-24.24s  %s\n", due, at, what, outcome ? outcome : "");
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

/* Installs text (NULL: removes the crontab). Returns the exit status. */
static int
cron_install(struct cli_ctx *ctx, const char *text, const char *label) {
  if (cli_load_config(ctx) < 0)
    return 1;
  struct pbuf b = {0};
  pb_begin(&b, MSG_CRON);
  pb_i64(&b, T_FLAGS, CRON_SET);
  int n = 0;
  struct berr err = {{0}};
  if (text && crontab_encode(ctx, text, label, &b, &n, &err) < 0) {
    pbuf_free(&b);
    cli_error(ctx, "%s", err.msg);
    return 1;
  }
  pb_end(&b);
  struct pmsg reply;
  return cron_request(ctx, &b, &reply) < 0 ? 1 : 0;
}

static int
run_editor(const char *path) {
  const char *editor = getenv("VISUAL");
  if (!editor || !*editor)
    editor = getenv("EDITOR");
  if (!editor || !*editor)
    editor = "vi";
  pid_t pid = fork();
  if (pid < 0)
    return -errno;
  if (pid == 0) {
    /* As crontab does: the editor's value may hold arguments. */
    execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, path, (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static int
cron_edit(struct cli_ctx *ctx) {
  struct pmsg reply;
  if (cron_get(ctx, 0, &reply) < 0)
    return 1;
  const char *text = pmsg_str(&reply, T_TEXT);
  _cleanup_free_ char *before = xstrdup(text ? text : "");
  const char *tmpdir = getenv("TMPDIR");
  _cleanup_free_ char *path =
      xasprintf("%s/boxq-crontab.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) {
    cli_error(ctx, "cannot create a file to edit in: %s", strerror(errno));
    return 1;
  }
  int rc = 1;
  if (write_full(fd, before, strlen(before)) < 0) {
    cli_error(ctx, "cannot write %s: %s", path, strerror(errno));
    goto out;
  }
  for (;;) {
    int r = run_editor(path);
    if (r < 0) {
      cli_error(ctx, "the editor failed; the crontab is unchanged");
      goto out;
    }
    char *after = NULL;
    size_t len = 0;
    int rfd = open(path, O_RDONLY | O_CLOEXEC);
    r = rfd < 0 ? -errno : read_fd_all(rfd, 1u << 20, &after, &len);
    if (rfd >= 0)
      close(rfd);
    if (r < 0) {
      cli_error(ctx, "cannot read %s back: %s", path, strerror(-r));
      goto out;
    }
    if (strcmp(after, before) == 0) {
      free(after);
      fprintf(stderr, "%s: no changes made to the crontab\n", ctx->prog);
      rc = 0;
      goto out;
    }
    rc = cron_install(ctx, after, "crontab");
    free(after);
    if (rc == 0 || !isatty(STDIN_FILENO))
      goto out;
    fprintf(stderr, "Edit again? (y/n) ");
    char answer[16];
    if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
      goto out;
  }
out:
  close(fd);
  unlink(path);
  return rc;
}

int
cmd_cron(struct cli_ctx *ctx, int argc, char **argv) {
  if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(cron_usage, argc == 2 ? stdout : stderr);
    return argc == 2 ? 0 : 2;
  }
  const char *a = argv[1];
  if (!strcmp(a, "-l"))
    return cron_list(ctx);
  if (!strcmp(a, "-L"))
    return cron_history(ctx);
  if (!strcmp(a, "-e"))
    return cron_edit(ctx);
  if (!strcmp(a, "-r"))
    return cron_install(ctx, NULL, NULL);
  if (a[0] == '-' && a[1]) {
    cli_error(ctx, "unknown option %s (boxq cron --help)", a);
    return 2;
  }
  int fd = strcmp(a, "-") == 0 ? STDIN_FILENO : open(a, O_RDONLY | O_CLOEXEC);
  char *text = NULL;
  size_t len = 0;
  int r = fd < 0 ? -errno : read_fd_all(fd, 1u << 20, &text, &len);
  if (fd > STDIN_FILENO)
    close(fd);
  if (r < 0) {
    cli_error(ctx, "cannot read %s: %s", a, strerror(-r));
    return 1;
  }
  int rc = cron_install(ctx, text, strcmp(a, "-") == 0 ? "STDIN" : a);
  free(text);
  return rc;
}

/* Shell-free quoting for a #PBS line (qsub_split_words reads it back). */
static void
put_word(FILE *f, const char *w) {
  if (*w && !strpbrk(w, " \t'\"")) {
    fputs(w, f);
    return;
  }
  char q = strchr(w, '\'') ? '"' : '\'';
  fprintf(f, "%c%s%c", q, w, q);
}

int
cron_add_script(struct cli_ctx *ctx, const char *spec, char *const *opts, int nopts,
                const char *script, const char *cwd) {
  if (access(script, X_OK) < 0) {
    cli_error(ctx,
              "--cron: %s must be an executable file (chmod +x): each run runs it by its "
              "path, as it is then",
              script);
    return 1;
  }
  struct pmsg reply;
  if (cron_get(ctx, 0, &reply) < 0)
    return 1;
  const char *old = pmsg_str(&reply, T_TEXT);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    return 1;
  if (old && *old)
    fprintf(f, "%s%s", old, old[strlen(old) - 1] == '\n' ? "" : "\n");
  time_t now = time(NULL);
  char when[32];
  strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&now));
  fprintf(f, "# qsub --cron, %s\n#PBS -d ", when);
  put_word(f, cwd);
  for (int i = 0; i < nopts; i++) {
    fputc(' ', f);
    put_word(f, opts[i]);
  }
  fprintf(f, "\n%s %s\n", spec, script);
  fclose(f);
  int rc = cron_install(ctx, text, "qsub --cron");
  free(text);
  if (rc == 0)
    printf("qsub: scheduled '%s' %s (boxq cron -l lists it)\n", spec, script);
  return rc;
}
