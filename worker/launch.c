/* SPDX-License-Identifier: MIT */
#include "launch.h"
#include "devview.h"

#include "job.h"
#include "jobinit.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* AddressSanitizer keeps a shadow of the launch's stacks (below): frames that never
 * return (they exec) would leave their poison behind, and its
 * no-return handling knows only the shepherd's own stack. The two
 * processes' functions go uninstrumented, and the shadow is cleared after
 * each launch. */
#if defined(__SANITIZE_ADDRESS__)
#define BOXQ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BOXQ_ASAN 1
#endif
#endif
#ifdef BOXQ_ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif
#define CHILD_SIDE __attribute__((no_sanitize_address))

/* What the job's side reports through the error pipe before exec. */
struct launch_error {
  int32_t err;
  int32_t code; /* JOB_EXEC_*: where the launch stopped */
  char msg[500];
};

/* Only async-signal-safe work from here to exec or _exit, and no memory
 * allocated: the job's first process runs in the shepherd's memory until
 * it execs boxq-init, and the job's process in it until the job's exec. */
static CHILD_SIDE __attribute__((noreturn)) void
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

static CHILD_SIDE __attribute__((noreturn)) void
child_fail(int fd, int err, const char *fmt, const char *arg) {
  child_fail_code(fd, JOB_EXEC_FAIL, err, fmt, arg);
}

/* A file of the job's private /dev/shm: root's, readable by the job,
 * which cannot remove it (sticky directory). */
static CHILD_SIDE void
write_shm_file(int err_fd, const char *path, const char *text, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len)
    child_fail(err_fd, errno, "cannot write the job's file %s", path);
  close(fd);
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
static CHILD_SIDE __attribute__((noreturn)) void
exec_job(const struct launch_spec *s, int err_fd, const cpu_set_t *affinity) {
  /* Born on the shepherd's CPU (launch_job): the job runs on all of the
   * shepherd's (within its cpuset, when pinned), never on that one alone. */
  if (affinity && sched_setaffinity(0, sizeof(*affinity), affinity) < 0)
    child_fail(err_fd, errno, "cannot give the job its CPUs back (sched_setaffinity)", NULL);
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
  umask(s->umask_set ? s->umask : 022);
  if (chdir(s->workdir) < 0)
    child_fail_code(err_fd, JOB_EXEC_FAIL_FILES, errno, "cannot enter the working directory %s",
                    s->workdir);
  int in = s->tty_fd, out = s->tty_fd, errf = s->tty_fd;
  if (!s->on_tty) {
    if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
      child_fail(err_fd, errno, "cannot open /dev/null", NULL);
    if ((out = open_output(s->out_path)) < 0)
      child_fail_code(err_fd, JOB_EXEC_FAIL_FILES, errno, "cannot open the output file %s",
                      s->out_path);
    errf = out;
    if (s->err_path && (errf = open_output(s->err_path)) < 0)
      child_fail_code(err_fd, JOB_EXEC_FAIL_FILES, errno, "cannot open the error file %s",
                      s->err_path);
  }
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errf, 2) < 0 || dup2(script, 3) < 0)
    child_fail(err_fd, errno, "cannot set up standard files", NULL);
  /* The session's controlling terminal: ^C, ^Z and hangups reach its
   * foreground process group. */
  if (s->on_tty && ioctl(0, TIOCSCTTY, 0) < 0)
    child_fail(err_fd, errno, "cannot take the job's terminal as its controlling terminal", NULL);
  /* Nothing else crosses exec: every other descriptor is close-on-exec. */
  if (syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 4; fd < 65536; fd++)
      if (fd != err_fd)
        close(fd);
  /* qsub -S: that interpreter, whatever the script's first line says. */
  if (s->shell) {
    char *sh_argv[] = {(char *)s->shell, (char *)"/dev/fd/3", NULL};
    execve(s->shell, sh_argv, s->envp);
    child_fail_code(err_fd, JOB_EXEC_FAIL_EXEC, errno, "cannot run the job's shell %s (-S)",
                    s->shell);
  }
  /* What the kernel could run itself: a #! line or an ELF program. Other
   * scripts go to sh at once (a refused exec costs as much as one). */
  char magic[4];
  ssize_t m = pread(3, magic, sizeof(magic), 0);
  if ((m >= 2 && magic[0] == '#' && magic[1] == '!') ||
      (m == 4 && memcmp(magic, "\177ELF", 4) == 0)) {
    char *argv[] = {(char *)"boxq-job", NULL};
    fexecve(3, argv, s->envp);
    if (errno == EACCES)
      exec_interpreter(s->envp); /* returns if the script has no #! line */
  } else
    errno = ENOEXEC;
  if (errno == ENOEXEC || errno == EACCES) {
    /* No #! line: PBS scripts often have none; run them with sh. */
    char *sh_argv[] = {(char *)"sh", (char *)"/dev/fd/3", NULL};
    execve("/bin/sh", sh_argv, s->envp);
  }
  child_fail_code(err_fd, JOB_EXEC_FAIL_EXEC, errno, "cannot execute the job script", NULL);
}

/* A job with a network of its own sees its own interfaces in /sys too: a
 * fresh sysfs (sysfs shows the mounter's network namespace), with the
 * cgroup file systems below it kept (cloned before, moved back after). */
static CHILD_SIDE void
private_sysfs(int err_fd) {
  int cgroups = (int)syscall(SYS_open_tree, AT_FDCWD, "/sys/fs/cgroup",
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0)
    child_fail(err_fd, errno, "cannot mount a private /sys for the job's network", NULL);
  if (cgroups >= 0) {
    if (syscall(SYS_move_mount, cgroups, "", AT_FDCWD, "/sys/fs/cgroup", MOVE_MOUNT_F_EMPTY_PATH) <
        0)
      child_fail(err_fd, errno, "cannot keep /sys/fs/cgroup in the job's private /sys", NULL);
    close(cgroups);
  }
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

/* The stacks of the job's first process, which runs in the shepherd's
 * memory until it execs boxq-init, and of the job's process, which runs
 * in it until the job's exec. The shepherd waits meanwhile (CLONE_VFORK),
 * so one launch at a time uses them. */
#define LAUNCH_STACK_SIZE (128 * 1024)
static char pid1_stack[LAUNCH_STACK_SIZE] __attribute__((aligned(64)));
static char job_stack[LAUNCH_STACK_SIZE] __attribute__((aligned(64)));

struct pid1_args {
  const struct launch_spec *s;
  const struct cg_job *cg;
  int err_fd, status_fd;     /* write ends */
  const cpu_set_t *affinity; /* the shepherd's CPUs, to give back; NULL: unchanged */
};

struct job_args {
  const struct launch_spec *s;
  int err_fd;
  const cpu_set_t *affinity;
};

static CHILD_SIDE int
job_main(void *arg) {
  const struct job_args *a = arg;
  exec_job(a->s, a->err_fd, a->affinity);
}

/* Keeps fd clear of JOBINIT_STATUS_FD, which is about to be taken. */
static CHILD_SIDE int
off_status_fd(int fd, int err_fd) {
  if (fd != JOBINIT_STATUS_FD)
    return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, JOBINIT_STATUS_FD + 1);
  if (moved < 0)
    child_fail(err_fd, errno, "cannot move a descriptor", NULL);
  return moved;
}

/* The job's first process, PID 1 of its namespaces: enters the job's
 * cgroup, mounts the job's private file systems, starts the job's process,
 * then becomes boxq-init. It runs in the shepherd's memory (CLONE_VM), the
 * shepherd stopped until the exec (CLONE_VFORK). */
static CHILD_SIDE int
job_pid1(void *arg) {
  const struct pid1_args *a = arg;
  const struct launch_spec *s = a->s;
  int err_fd = a->err_fd;
  /* If the shepherd dies, the job dies with it: no job runs unsupervised
   * (kept across the exec of boxq-init). */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* A shepherd killed before that line sends nothing (its pid is not even
   * visible from this namespace): its pidfd, readable once it has exited,
   * tells. Without this check the job would run orphaned, and enter its
   * cgroup after the worker had emptied it. */
  if (s->parent_pidfd >= 0) {
    struct pollfd gone = {.fd = s->parent_pidfd, .events = POLLIN};
    if (poll(&gone, 1, 0) != 0)
      child_fail(err_fd, ESRCH, "the launching process has gone", NULL);
  }
  const char *where = NULL;
  int r;
  if (a->cg && (r = cg_job_enter(a->cg, &where)) < 0)
    child_fail(err_fd, -r, "cannot enter the job's cgroup (%s)", where);

  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    child_fail(err_fd, errno, "cannot make the mount namespace private", NULL);
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    child_fail(err_fd, errno, "cannot mount /proc", NULL);
  if (s->ndev_hide) {
    /* A box with device classes: the job's /dev holds only the devices
     * it may open (devview.h). */
    const char *what = NULL;
    if ((r = devview_build(s->dev_hide, s->ndev_hide, &what)) < 0)
      child_fail(err_fd, -r, "%s", what);
  }
  if (s->tmp_dir) {
    if (mount(s->tmp_dir, "/tmp", NULL, MS_BIND, NULL) < 0 ||
        mount(NULL, "/tmp", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) < 0)
      child_fail(err_fd, errno, "cannot mount the job's private /tmp from %s", s->tmp_dir);
  } else if (s->tmp_options &&
             mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, s->tmp_options) < 0)
    child_fail(err_fd, errno, "cannot mount a private /tmp (tmpfs %s)", s->tmp_options);
  if (access("/dev/shm", F_OK) == 0) {
    if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
      child_fail(err_fd, errno, "cannot mount a private /dev/shm", NULL);
    if (s->nodefile)
      write_shm_file(err_fd, LAUNCH_NODEFILE, s->nodefile, s->nodefile_len);
    if (s->pe_hostfile)
      write_shm_file(err_fd, LAUNCH_PE_HOSTFILE, s->pe_hostfile, s->pe_hostfile_len);
    if (s->gpufile)
      write_shm_file(err_fd, LAUNCH_GPUFILE, s->gpufile, s->gpufile_len);
  }
  if (s->new_net) {
    private_sysfs(err_fd);
    loopback_up();
  }

  /* Every signal blocked from here on and across the exec of boxq-init,
   * so that none it takes is lost before it waits for them (a PID 1 drops
   * the signals it neither handles nor blocks), and no handler of the
   * shepherd's runs in the shepherd's memory. SIGCHLD must not stay
   * ignored, or the job's process would be reaped unseen. */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGCHLD, &dfl, NULL);
  /* Named before the job's process exists: the job may look at
   * /proc/1/comm before the exec below. */
  prctl(PR_SET_NAME, "boxq-init");

  /* The job's process borrows this memory too until its exec (or _exit),
   * as a vfork's child would, on a stack of its own; we wait meanwhile.
   * It changes only what is its own (descriptors, credentials, signal
   * dispositions, directory). */
  struct job_args job = {.s = s, .err_fd = err_fd, .affinity = a->affinity};
  pid_t main_pid =
      clone(job_main, job_stack + sizeof(job_stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &job);
  if (main_pid < 0)
    child_fail(err_fd, errno, "cannot fork the job process", NULL);

  /* The job's process has exec'd (or failed and said so on err_fd, and
   * boxq-init will reap it): hand over to boxq-init. */
  err_fd = off_status_fd(err_fd, err_fd);
  int init_fd = off_status_fd(s->init_fd, err_fd);
  if (a->status_fd == JOBINIT_STATUS_FD ? fcntl(JOBINIT_STATUS_FD, F_SETFD, 0) < 0
                                        : dup2(a->status_fd, JOBINIT_STATUS_FD) < 0)
    child_fail(err_fd, errno, "cannot pass the status pipe to boxq-init", NULL);
  /* Nothing else crosses exec (everything is close-on-exec already). */
  syscall(SYS_close_range, JOBINIT_STATUS_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC);
  if (a->affinity)
    sched_setaffinity(0, sizeof(*a->affinity), a->affinity); /* init: wherever */
  char pid_arg[16];
  char *p = pid_arg + sizeof(pid_arg);
  *--p = '\0';
  unsigned v = (unsigned)main_pid;
  do
    *--p = (char)('0' + v % 10);
  while (v /= 10);
  char *init_argv[] = {(char *)"boxq-init", p, NULL};
  char *init_envp[] = {NULL};
  syscall(SYS_execveat, init_fd, "", init_argv, init_envp, AT_EMPTY_PATH);
  /* Without an init the job must not run: our exit, as PID 1's, kills it. */
  child_fail(err_fd, errno, "cannot run boxq-init", NULL);
}

int
launch_job(const struct launch_spec *s, struct cg_job *cg, struct launched *ret, struct berr *err) {
  int err_p[2], status_p[2];
  if (pipe2(err_p, O_CLOEXEC) < 0)
    return berr_set(err, -errno, "pipe: %s", strerror(errno));
  if (pipe2(status_p, O_CLOEXEC) < 0) {
    int r = -errno;
    close(err_p[0]);
    close(err_p[1]);
    return berr_set(err, r, "pipe: %s", strerror(-r));
  }
  int flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
              CLONE_NEWIPC | SIGCHLD;
  if (s->new_net)
    flags |= CLONE_NEWNET;
  /* The shepherd waits while the two processes it starts set up: they
   * start on its CPU, free meanwhile, instead of where the kernel places a
   * new task (the least busy CPU as seen while the shepherd still runs),
   * often behind another job's process there (floor 1,000-1,055 ->
   * 1,107-1,211 jobs/s). Each gives the shepherd's CPUs back before exec. */
  cpu_set_t all, here;
  bool pinned = false;
  int cpu = sched_getcpu();
  if (cpu >= 0 && cpu < CPU_SETSIZE && sched_getaffinity(0, sizeof(all), &all) == 0 &&
      CPU_COUNT(&all) > 1 && CPU_ISSET(cpu, &all)) {
    CPU_ZERO(&here);
    CPU_SET(cpu, &here);
    pinned = sched_setaffinity(0, sizeof(here), &here) == 0;
  }
  struct pid1_args args = {.s = s,
                           .cg = cg,
                           .err_fd = err_p[1],
                           .status_fd = status_p[1],
                           .affinity = pinned ? &all : NULL};
  int pidfd = -1;
  /* Returns once the child has exec'd boxq-init, or exited. */
  pid_t pid = clone(job_pid1, pid1_stack + sizeof(pid1_stack), flags, &args, &pidfd);
  int clone_errno = errno;
  if (pinned)
    sched_setaffinity(0, sizeof(all), &all);
#ifdef BOXQ_ASAN
  __asan_unpoison_memory_region(pid1_stack, sizeof(pid1_stack));
  __asan_unpoison_memory_region(job_stack, sizeof(job_stack));
#endif
  close(err_p[1]);
  close(status_p[1]);
  if (pid < 0) {
    close(err_p[0]);
    close(status_p[0]);
    return berr_set(err, -clone_errno, "cannot create the job's namespaces: %s",
                    strerror(clone_errno));
  }
  /* Both ends of the launch are past their exec or exit: this does not
   * wait. EOF: the script was exec'd. */
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
}

int
launch_open_init(const char *path, char *used, size_t used_len, struct berr *err) {
  char self[PATH_MAX], beside[PATH_MAX + 16], installed[PATH_MAX + 32];
  const char *candidates[3];
  size_t n = 0;
  if (path)
    candidates[n++] = path;
  else {
    /* Beside the program (a build tree), then where an install put it
     * relative to the program (sbin/../libexec/boxq: any prefix), then
     * where this build would install it. */
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash = len > 0 ? (self[len] = '\0', strrchr(self, '/')) : NULL;
    if (slash) {
      *slash = '\0';
      snprintf(beside, sizeof(beside), "%s/boxq-init", self);
      snprintf(installed, sizeof(installed), "%s/../libexec/boxq/boxq-init", self);
      candidates[n++] = beside;
      candidates[n++] = installed;
    }
    candidates[n++] = BOXQ_LIBEXECDIR "/boxq-init";
  }
  for (size_t i = 0; i < n; i++) {
    int fd = open(candidates[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !path)
      continue;
    if (fd < 0)
      return berr_set(err, -errno, "cannot open the job init program %s: %s", candidates[i],
                      strerror(errno));
    /* Every job's PID 1 runs it as root. */
    struct stat st;
    struct statvfs vfs;
    int r = 0;
    if (fstat(fd, &st) < 0)
      r = berr_set(err, -errno, "cannot examine %s: %s", candidates[i], strerror(errno));
    else if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
      r = berr_set(err, -EACCES, "%s is not an executable file", candidates[i]);
    else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
      r = berr_set(err, -EPERM, "%s must belong to root and be writable by no one else",
                   candidates[i]);
    else if (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
      r = berr_set(err, -EACCES, "%s is on a file system mounted noexec", candidates[i]);
    if (r < 0) {
      close(fd);
      return r;
    }
    if (used)
      snprintf(used, used_len, "%s", candidates[i]);
    return fd;
  }
  return berr_set(err, -ENOENT, "no job init program: none of %s%s%s%s%s exists", candidates[0],
                  n > 1 ? ", " : "", n > 1 ? candidates[1] : "", n > 2 ? ", " : "",
                  n > 2 ? candidates[2] : "");
}
