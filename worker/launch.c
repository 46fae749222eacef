/* SPDX-License-Identifier: MIT */
#include "launch.h"

#include "job.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* What the job's side reports through the error pipe before exec. */
struct launch_error {
  int32_t err;
  int32_t code; /* JOB_EXEC_*: where the launch stopped */
  char msg[500];
};

static const int forwarded_signals[] = {SIGTERM, SIGINT,  SIGHUP, SIGUSR1,
                                        SIGUSR2, SIGQUIT, SIGALRM};

/* Only async-signal-safe work from here to exec or _exit: the child of
 * clone3 must not take locks another thread might have held (there are no
 * other threads in the shepherd, but keep the discipline). */
static __attribute__((noreturn)) void
child_fail_code(int fd, int code, int err, const char *fmt, const char *arg) {
  struct launch_error e = {.err = err, .code = code};
  /* fmt holds one %s (arg) and the error text is appended. */
  char *p = e.msg, *end = e.msg + sizeof(e.msg) - 1;
  for (const char *f = fmt; *f && p < end; f++) {
    if (f[0] == '%' && f[1] == 's') {
      for (const char *a = arg ? arg : ""; *a && p < end; a++)
        *p++ = *a;
      f++;
    } else
      *p++ = *f;
  }
  const char *sep = ": ", *es = strerror(err);
  for (const char *a = sep; *a && p < end; a++)
    *p++ = *a;
  for (const char *a = es; *a && p < end; a++)
    *p++ = *a;
  *p = '\0';
  ssize_t w = write(fd, &e, sizeof(e));
  (void)w;
  _exit(127);
}

static __attribute__((noreturn)) void
child_fail(int fd, int err, const char *fmt, const char *arg) {
  child_fail_code(fd, JOB_EXEC_FAIL, err, fmt, arg);
}

void
launch_reset_signals(int below) {
  struct sigaction sa = {.sa_handler = SIG_DFL};
  for (int s = 1; s < below && s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The spool may be on a noexec mount (/run is on Debian, /dev/shm in
 * containers), where the kernel refuses to run the script itself: run its
 * #! interpreter as the kernel would (one optional argument), reading the
 * script through /dev/fd/3, as it does. Returns with errno set when there
 * is no #! line (EACCES) or the interpreter cannot run. */
static void
exec_interpreter(char *const *envp) {
  char line[256];
  ssize_t n = pread(3, line, sizeof(line) - 1, 0);
  errno = EACCES;
  if (n < 3 || line[0] != '#' || line[1] != '!')
    return;
  line[n] = '\0';
  char *end = strchr(line, '\n');
  if (!end)
    return; /* longer than the kernel's limit too */
  *end = '\0';
  char *p = line + 2;
  while (*p == ' ' || *p == '\t')
    p++;
  char *interp = p;
  while (*p && *p != ' ' && *p != '\t')
    p++;
  char *arg = NULL;
  if (*p) {
    *p++ = '\0';
    while (*p == ' ' || *p == '\t')
      p++;
    for (char *t = p + strlen(p); t > p && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r');)
      *--t = '\0';
    if (*p)
      arg = p;
  }
  if (!*interp)
    return;
  char *argv[4] = {interp, arg ? arg : (char *)"/dev/fd/3", arg ? (char *)"/dev/fd/3" : NULL, NULL};
  execve(interp, argv, envp);
}

static int
open_output(const char *path) {
  /* Opened as the user: the kernel's permission checks are the user's, so
   * no path, symlink or not, gets boxq to write where the user could not. */
  return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0644);
}

/* The job's main process: become the user, set up stdio, exec the script. */
static __attribute__((noreturn)) void
exec_job(const struct launch_spec *s, int err_fd) {
  launch_reset_signals(NSIG);
  /* Keep the error pipe clear of the descriptors 0-3 about to be set up. */
  int high = fcntl(err_fd, F_DUPFD_CLOEXEC, 10);
  if (high >= 0)
    err_fd = high;
  if (setsid() < 0)
    child_fail(err_fd, errno, "setsid", NULL);
  int script = fcntl(s->script_fd, F_DUPFD_CLOEXEC, 10);
  if (script < 0)
    child_fail(err_fd, errno, "cannot keep the job script open", NULL);
  if (setgroups(s->ngroups, s->groups) < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_UID, errno, "cannot set supplementary groups", NULL);
  if (setresgid(s->gid, s->gid, s->gid) < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_UID, errno, "cannot set group id", NULL);
  if (setresuid(s->uid, s->uid, s->uid) < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_UID, errno, "cannot set user id", NULL);
  if (s->uid != 0 && setuid(0) == 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_UID, EPERM,
                    "privileges could be regained after dropping them", NULL);
  umask(022);
  if (chdir(s->workdir) < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_FILES, errno, "cannot enter the working directory %s",
                    s->workdir);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0)
    child_fail(err_fd, errno, "cannot open /dev/null", NULL);
  int out = open_output(s->out_path);
  if (out < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_FILES, errno, "cannot open the output file %s",
                    s->out_path);
  int errf = out;
  if (s->err_path && (errf = open_output(s->err_path)) < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_FILES, errno, "cannot open the error file %s",
                    s->err_path);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errf, 2) < 0 || dup2(script, 3) < 0)
    child_fail(err_fd, errno, "cannot set up standard files", NULL);
  /* Nothing else crosses exec: every other descriptor is close-on-exec. */
  if (syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 4; fd < 65536; fd++)
      if (fd != err_fd)
        close(fd);
  char *argv[] = {(char *)"boxq-job", NULL};
  fexecve(3, argv, s->envp);
  if (errno == EACCES)
    exec_interpreter(s->envp); /* returns if the script has no #! line */
  if (errno == ENOEXEC || errno == EACCES) {
    /* No #! line: PBS scripts often have none; run them with sh. */
    char *sh_argv[] = {(char *)"sh", (char *)"/dev/fd/3", NULL};
    execve("/bin/sh", sh_argv, s->envp);
  }
  child_fail_code(err_fd, JOB_EXEC_FAIL_EXEC, errno, "cannot execute the job script", NULL);
}

static void
loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  close(fd);
}

void
launch_tmpfs_options(int64_t mem, char *buf, size_t len) {
  if (mem > 0)
    snprintf(buf, len, "mode=1777,size=%lld", (long long)mem);
  else
    snprintf(buf, len, "mode=1777");
}

static void
noop_handler(int sig) {
  (void)sig;
}

/* PID 1 of the job. */
static __attribute__((noreturn)) void
job_init(const struct launch_spec *s, int sync_fd, int err_fd, int status_fd) {
  char go;
  if (read(sync_fd, &go, 1) != 1)
    _exit(1); /* the shepherd gave up on us */
  close(sync_fd);
  /* If the shepherd dies, the job dies with it: no job runs unsupervised. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);

  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    child_fail(err_fd, errno, "cannot make the mount namespace private", NULL);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    child_fail(err_fd, errno, "cannot mount /proc", NULL);
  if (s->tmp_dir) {
    if (mount(s->tmp_dir, "/tmp", NULL, MS_BIND, NULL) < 0 ||
        mount(NULL, "/tmp", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) < 0)
      child_fail(err_fd, errno, "cannot mount the job's private /tmp from %s", s->tmp_dir);
  } else if (s->tmp_options &&
             mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, s->tmp_options) < 0)
    child_fail(err_fd, errno, "cannot mount a private /tmp (tmpfs %s)", s->tmp_options);
  if (access("/dev/shm", F_OK) == 0 &&
      mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
    child_fail(err_fd, errno, "cannot mount a private /dev/shm", NULL);
  if (s->new_net)
    loopback_up();

  /* Forwarded signals and SIGCHLD are taken synchronously. A PID 1 only
   * receives signals it handles, so each gets a handler, then is blocked. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  struct sigaction sa = {.sa_handler = noop_handler};
  for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++) {
    sigaddset(&set, forwarded_signals[i]);
    sigaction(forwarded_signals[i], &sa, NULL);
  }
  sigprocmask(SIG_BLOCK, &set, NULL);
  /* Named before the job's process exists: once it has exec'd, init only
   * runs again when the job may already be looking at /proc/1/comm. */
  prctl(PR_SET_NAME, "boxq-init");

  /* vfork: the job's process borrows init's memory until its exec (or
   * _exit), instead of a copy of init's page tables and a copy-on-write
   * fault for every page either side writes first. exec_job never returns,
   * leaves init's variables alone, and changes only what is its own
   * (descriptors, credentials, signal dispositions, directory). */
  pid_t main_pid = vfork();
  if (main_pid < 0)
    child_fail(err_fd, errno, "cannot fork the job process", NULL);
  if (main_pid == 0) {
    close(status_fd);
    exec_job(s, err_fd);
  }
  close(err_fd);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      kill(-1, sig); /* every process of the job but us */
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
      if (p == main_pid) {
        int32_t st = status;
        ssize_t w = write(status_fd, &st, sizeof(st));
        (void)w;
        _exit(0);
      }
    }
  }
}

static pid_t
clone_job(int flags, int cgroup_fd, int *pidfd) {
  struct clone_args args = {
      .flags = (uint64_t)flags | CLONE_PIDFD,
      .pidfd = (uint64_t)(uintptr_t)pidfd,
      .exit_signal = SIGCHLD,
  };
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

int
launch_job(const struct launch_spec *s, struct cg_job *cg, struct launched *ret, struct berr *err) {
  int sync_p[2], err_p[2], status_p[2];
  if (pipe2(sync_p, O_CLOEXEC) < 0)
    return berr_set(err, -errno, "pipe: %s", strerror(errno));
  if (pipe2(err_p, O_CLOEXEC) < 0) {
    int r = -errno;
    close(sync_p[0]);
    close(sync_p[1]);
    return berr_set(err, r, "pipe: %s", strerror(-r));
  }
  if (pipe2(status_p, O_CLOEXEC) < 0) {
    int r = -errno;
    close(sync_p[0]);
    close(sync_p[1]);
    close(err_p[0]);
    close(err_p[1]);
    return berr_set(err, r, "pipe: %s", strerror(-r));
  }
  int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  if (s->new_net)
    flags |= CLONE_NEWNET;
  int pidfd = -1;
  int cgfd = cg ? cg_job_clone_fd(cg) : -1;
  bool into_cgroup = cgfd >= 0;
  pid_t pid = clone_job(flags, cgfd, &pidfd);
  if (pid < 0 && into_cgroup && (errno == E2BIG || errno == EINVAL || errno == ENOSYS)) {
    /* Kernels before 5.7 have no CLONE_INTO_CGROUP: attach before release. */
    into_cgroup = false;
    pid = clone_job(flags, -1, &pidfd);
  }
  if (pid == 0) {
    close(sync_p[1]);
    close(err_p[0]);
    close(status_p[0]);
    job_init(s, sync_p[0], err_p[1], status_p[1]);
  }
  int r = 0;
  close(sync_p[0]);
  close(err_p[1]);
  close(status_p[1]);
  if (pid < 0) {
    r = berr_set(err, -errno, "cannot create the job's namespaces: %s", strerror(errno));
    goto fail;
  }
  if (cg && (r = cg_job_attach(cg, pid, into_cgroup, err)) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    goto fail;
  }
  if (write(sync_p[1], "g", 1) != 1) {
    r = berr_set(err, -errno, "cannot release the job: %s", strerror(errno));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    goto fail;
  }
  close(sync_p[1]);
  sync_p[1] = -1;
  struct launch_error e;
  ssize_t n = read_full(err_p[0], &e, sizeof(e));
  close(err_p[0]);
  ret->init_pid = pid;
  ret->pidfd = pidfd;
  ret->status_fd = status_p[0];
  if (n == (ssize_t)sizeof(e)) {
    e.msg[sizeof(e.msg) - 1] = '\0';
    berr_set(err, -e.err, "%s", e.msg);
    ret->fail_code = e.code ? e.code : JOB_EXEC_FAIL;
    return 1;
  }
  return 0;
fail:
  if (sync_p[1] >= 0)
    close(sync_p[1]);
  close(err_p[0]);
  close(status_p[0]);
  if (pidfd >= 0)
    close(pidfd);
  return r;
}
