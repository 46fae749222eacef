/* SPDX-License-Identifier: MIT */
/* qsub -I: waits for the job to start (boxqd answers a MSG_WAIT with
 * WAIT_STARTED; Ctrl-C meanwhile withdraws the job), then attaches this
 * terminal to the job's (ttyproto.h) until the job ends, and exits with
 * its status. Also the scripts of `qsub [-I] -- command args` and of the
 * shell an interactive job runs. */
#include "qsub_interactive.h"
#include "jobs_fetch.h"
#include "ttyproto.h"

#include <fcntl.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void
put_quoted(FILE *f, const char *word) {
  fputc('\'', f);
  for (const char *p = word; *p; p++)
    if (*p == '\'')
      fputs("'\\''", f);
    else
      fputc(*p, f);
  fputc('\'', f);
}

/* A script built in memory (open_memstream: no size to guess). */
static FILE *
script_begin(char **buf, size_t *len) {
  FILE *f = open_memstream(buf, len);
  if (!f)
    abort(); /* out of memory, as xmalloc would */
  fputs("#!/bin/sh\n", f);
  return f;
}

char *
qsub_command_script_in(char *const *argv, int argc, const char *input) {
  char *buf;
  size_t len;
  FILE *f = script_begin(&buf, &len);
  /* fd 3 is the script itself (launch.c): not the command's. */
  fputs("exec", f);
  for (int i = 0; i < argc; i++) {
    fputc(' ', f);
    put_quoted(f, argv[i]);
  }
  if (input) {
    fputs(" < ", f);
    put_quoted(f, input);
  }
  fputs(" 3<&-\n", f);
  fclose(f);
  return buf;
}

char *
qsub_command_script(char *const *argv, int argc) {
  return qsub_command_script_in(argv, argc, NULL);
}

char *
qsub_shell_script(const char *shell) {
  char *buf;
  size_t len;
  FILE *f = script_begin(&buf, &len);
  if (shell && *shell) {
    fputs("exec ", f);
    put_quoted(f, shell);
    fputs(" 3<&-\n", f);
  } else /* the login shell passwd gives the user (the job's SHELL) */
    fputs("exec \"${SHELL:-/bin/sh}\" -l 3<&-\n", f);
  fclose(f);
  return buf;
}

/* Ctrl-C while waiting: the job goes too. */
static void
withdraw(struct cli_ctx *ctx, const char *idstr, const char *server) {
  cli_close(ctx); /* the interrupted connection */
  ctx->interrupted = 0;
  if (cli_load_config(ctx) < 0)
    return;
  /* boxqd withdraws it as the connection goes (WAIT_WITHDRAW); this
   * makes sure before qsub says so, even if it has just started. */
  struct pbuf b = {0};
  pb_begin(&b, MSG_DELETE);
  pb_str(&b, T_JOBREF, idstr);
  pb_end(&b);
  struct pmsg reply;
  int r = cli_call(ctx, &b, &reply, true);
  if (r == 0 || r == -EALREADY) /* -EALREADY: withdrawn already */
    printf("\nqsub: job %s.%s withdrawn\n", idstr, server);
  else
    cli_error(ctx, "cannot withdraw job %s.%s: qdel it", idstr, server);
}

static int
attach_once(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path))
    return -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int r = -errno;
    close(fd);
    return r;
  }
  /* Only a shepherd (root) speaks for a job: not someone else's socket. */
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
    close(fd);
    return -EPERM;
  }
  return fd;
}

/* The job runs (boxqd said so); its shepherd listens on its socket, made
 * before the job's launch, a moment after boxqd hands it over. Tries until
 * it is there or the job has ended. */
static int
attach(struct cli_ctx *ctx, const char *idstr, struct job_rec *ended) {
  _cleanup_free_ char *path = xasprintf("%s/%s", ctx->cfg.tty_dir, idstr);
  struct timespec pause = {0, 20 * 1000000};
  for (int tries = 0;; tries++) {
    int fd = attach_once(path);
    if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED)) {
      if (fd < 0)
        cli_error(ctx, "cannot attach to job %s's terminal %s: %s", idstr, path, strerror(-fd));
      return fd;
    }
    if (tries > 0 && tries % 25 == 0) {
      struct joblist l;
      int errors;
      char *ids[] = {(char *)idstr};
      if (jobs_fetch(ctx, FETCH_FINISHED, ids, 1, &l, &errors) < 0 || l.n != 1)
        return -ESRCH;
      bool over = l.jobs[0].state == JOB_FINISHED;
      if (over) {
        *ended = l.jobs[0];
        l.jobs[0] = (struct job_rec){0};
      }
      joblist_free(&l);
      if (over)
        return -ESRCH;
      if (tries >= 25 * 2 * TTY_ATTACH_SEC) {
        cli_error(ctx, "job %s runs, but its terminal %s never appeared", idstr, path);
        return -ETIMEDOUT;
      }
    }
    nanosleep(&pause, NULL);
  }
}

struct relay {
  int sock;
  bool stdin_open;
  char pending[TTY_RECORD_MAX]; /* a record the socket had no room for */
  size_t pending_len;
  int status;  /* from TTY_EXIT */
  char *how;   /* from TTY_EXIT; NULL: the connection ended without it */
  bool on_tty; /* stdin is a terminal, in raw mode */
};

static void
send_winsize(struct relay *r) {
  struct winsize ws;
  if (!r->on_tty || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  char rec[1 + sizeof(struct tty_winsize)];
  struct tty_winsize w = {ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel};
  rec[0] = TTY_WINSIZE;
  memcpy(rec + 1, &w, sizeof(w));
  /* Small and rare: a full socket drops it, the next change sends again. */
  (void)!send(r->sock, rec, sizeof(rec), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int
flush_pending(struct relay *r) {
  if (!r->pending_len)
    return 0;
  if (send(r->sock, r->pending, r->pending_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    return errno == EAGAIN ? 0 : -errno;
  r->pending_len = 0;
  return 0;
}

static void
read_stdin(struct relay *r) {
  r->pending[0] = TTY_DATA;
  ssize_t n = read(STDIN_FILENO, r->pending + 1, TTY_DATA_MAX);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    /* Not a terminal, at its end: the job's terminal gets its EOF
     * character, as if typed at an empty line. */
    r->stdin_open = false;
    r->pending[1] = '\004';
    n = 1;
  }
  r->pending_len = 1 + (size_t)n;
  flush_pending(r);
}

/* A record from the shepherd. 1: the last (TTY_EXIT); -1: the connection
 * has ended. */
static int
read_sock(struct relay *r) {
  char rec[TTY_RECORD_MAX + 1];
  ssize_t n = recv(r->sock, rec, TTY_RECORD_MAX, MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
  if (n == 0)
    return -1;
  switch (rec[0]) {
    case TTY_DATA:
      if (write_full(STDOUT_FILENO, rec + 1, (size_t)n - 1) < 0)
        return -1;
      break;
    case TTY_NOTICE:
      rec[n] = '\0';
      fprintf(stderr, "\r\nqsub: %s\r\n", rec + 1);
      break;
    case TTY_EXIT:
      if (n < 5)
        return -1;
      int32_t st;
      memcpy(&st, rec + 1, 4);
      rec[n] = '\0';
      r->status = st;
      r->how = xstrdup(rec + 5);
      return 1;
    default:
      break;
  }
  return 0;
}

/* Relays until the job ends (0), the connection drops (-1), or a signal
 * ends qsub (the signal's number). */
static int
relay(struct relay *r) {
  sigset_t set;
  sigemptyset(&set);
  int sigs[] = {SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT};
  for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
    sigaddset(&set, sigs[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  _cleanup_close_ int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  send_winsize(r);
  for (;;) {
    struct pollfd p[3] = {{r->sock, (short)(POLLIN | (r->pending_len ? POLLOUT : 0)), 0},
                          {sigfd, POLLIN, 0},
                          {r->stdin_open && !r->pending_len ? STDIN_FILENO : -1, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGWINCH)
          send_winsize(r);
        else
          return (int)si.ssi_signo;
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      int k = read_sock(r);
      if (k != 0)
        return k > 0 ? 0 : -1;
    }
    if ((p[0].revents & POLLOUT) && flush_pending(r) < 0)
      return -1;
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
      read_stdin(r);
  }
}

static void
say_end(const char *idstr, const char *server, const char *how) {
  if (!how || !strcmp(how, "completed") || !strcmp(how, "failed"))
    printf("qsub: job %s.%s completed\n", idstr, server);
  else
    printf("qsub: job %s.%s ended: %s\n", idstr, server, how);
}

/* How a job that ended without its terminal telling ended. */
static int
report_record(const struct job_rec *j, const char *idstr, const char *server) {
  _cleanup_free_ char *how = j->comment && *j->comment
                                 ? xasprintf("%s: %s", job_end_to_string(j->end_reason), j->comment)
                                 : xstrdup(job_end_to_string(j->end_reason));
  say_end(idstr, server, how);
  return job_shell_status(j);
}

int
qsub_interactive(struct cli_ctx *ctx, int64_t id, const char *server_name) {
  char server[256]; /* server_name lives in a reply the next request replaces */
  snprintf(server, sizeof(server), "%s", server_name);
  char idstr[32];
  snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
  printf("qsub: waiting for job %s.%s to start\n", idstr, server);
  fflush(stdout);
  char *ids[] = {idstr};
  struct joblist l;
  int errors;
  int r = jobs_wait(ctx, ids, 1, WAIT_STARTED | WAIT_WITHDRAW, &l, &errors);
  if (r == -EINTR) {
    withdraw(ctx, idstr, server);
    return 130;
  }
  if (r < 0 || l.n != 1) {
    cli_error(ctx, "cannot follow job %s any more", idstr);
    joblist_free(&l);
    return 1;
  }
  int rc;
  if (l.jobs[0].state == JOB_FINISHED) {
    rc = report_record(&l.jobs[0], idstr, server);
    joblist_free(&l);
    return rc;
  }
  joblist_free(&l);
  struct job_rec ended = {0};
  int fd = attach(ctx, idstr, &ended);
  if (fd < 0) {
    rc = fd == -ESRCH && ended.id ? report_record(&ended, idstr, server) : 1;
    job_rec_free(&ended);
    return rc;
  }
  struct relay rl = {.sock = fd, .stdin_open = true};
  struct termios saved;
  rl.on_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (rl.on_tty) {
    /* Every key goes to the job's terminal, whose line discipline does
     * the rest: ^C and ^Z reach the job's foreground, not qsub. Set
     * before "ready", so that nothing typed after it is echoed twice. */
    struct termios raw = saved;
    cfmakeraw(&raw);
    tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
  }
  printf("qsub: job %s.%s ready%s", idstr, server, rl.on_tty ? "\r\n\r\n" : "\n\n");
  fflush(stdout);
  int how = relay(&rl);
  if (rl.on_tty)
    tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
  close(fd);
  if (how == 0) {
    printf("\n");
    say_end(idstr, server, rl.how);
    free(rl.how);
    return rl.status;
  }
  if (how > 0) {
    /* qsub itself was told to end: the job is hung up (after kill_grace,
     * killed), as a closed terminal's would be. */
    fprintf(stderr, "\nqsub: %s: job %s.%s is hung up and ends\n", strsignal(how), idstr, server);
    return 128 + how;
  }
  /* The connection went without the job's end: its shepherd died, or the
   * terminal was hung up. boxqd has the end. */
  cli_close(ctx);
  r = jobs_wait(ctx, ids, 1, 0, &l, &errors);
  if (r < 0 || l.n != 1) {
    cli_error(ctx, "the terminal of job %s was lost", idstr);
    joblist_free(&l);
    return 1;
  }
  printf("\n");
  rc = report_record(&l.jobs[0], idstr, server);
  joblist_free(&l);
  return rc;
}
