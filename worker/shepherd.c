/* SPDX-License-Identifier: MIT */
/* The shepherd: supervises a job from cgroup creation to accounting, then
 * waits for the worker's next one.
 *
 * The worker forks it (no exec: a launch does not pay for loading a
 * program) and it detaches at once into its own session, so it outlives
 * restarts of the worker and the scheduler; it serves jobs until the
 * worker that forked it is gone, then ends with its last job. Between jobs
 * it frees what a job held: it is a long-lived root process. Single-
 * threaded (it calls clone3), event-driven on a pidfd and a signalfd:
 *   SIGRTMIN+0  value seq<<8|N: forward signal N to job seq (qsig)
 *   SIGRTMIN+1  value seq<<8: cancel job seq (qdel): SIGTERM, grace, then kill all
 *   SIGTERM     the same as cancel; when idle, exit
 * Whatever happens, a job ends with JOBDIR/result, the record the worker
 * hands to the scheduler. */
#include "shepherd.h"
#include "devview.h"
#include "handover.h"
#include "jobenv.h"
#include "nvml.h"
#include "launch.h"
#include "log.h"
#include "rmtree.h"
#include "spool.h"
#include "tty.h"
#include "ttyproto.h"

#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

/* The shepherd's own pidfd (shepherd_main): see launch_spec.parent_pidfd. */
static int self_pidfd = -1;
/* /proc/self/clear_refs, to reset the shepherd's peak resident size before
 * each launch (launcher_rss). */
static int clear_refs_fd = -1;

#define PEAK_SAMPLE_USEC 1000000
#define CPUT_CHECK_USEC  1000000
/* The job's usage series (boxq-web's plots): a point a second over its
 * first minute, so that a short job's curve (an early OOM kill's) has
 * points, then one every sample_interval. */
#define SERIES_DENSE_USEC 1000000
#define SERIES_DENSE_FOR  60000000

struct shepherd {
  const char *jobdir;
  const struct shepherd_settings *set;
  struct job_rec job;
  uint32_t seq; /* the worker's number for this job */
  /* The job's account, or why there is none. */
  const struct user_info *user;
  int user_errno;
  const char *user_error;

  struct cg_system sys;
  struct cg_job *cg;
  char *tmp_name; /* per-job /tmp below set->tmp_root */
  int tmp_root_fd;

  struct launched l;
  int sigfd;
  int64_t start_mono, start_wall;
  int64_t walltime_at, kill_at; /* monotonic usec; 0 = none */
  int64_t warn_at;              /* the job's warning signal (qsub -l s_rt) is due */
  int64_t freeze_at;            /* -notify: the suspend SIGUSR1 warned of is due */
  int64_t suspended_at;         /* monotonic usec the job was frozen at; 0: it runs */
  int end_override;             /* END_TIMEOUT, _CPUTIME or _CANCELLED once terminating */
  /* qsub -I: the job's terminal. */
  bool on_tty;
  struct job_tty tty;
  bool launch_failed;
  /* The shepherd's peak resident size over the launch (KiB). The job's two
   * first processes ran in its memory and exec'd from it, and the kernel
   * carries an address space's peak across exec: wait4's ru_maxrss is at
   * least this much whatever the job did, so it is the job's own only
   * when larger. */
  long launcher_rss;
  int fail_code; /* JOB_EXEC_* when nothing of the job could run */
  char comment[600];
  char no_limits[128]; /* set when the job runs without cgroups */
  /* The job's mount namespace, held so that init's exit does not wait
   * for its teardown (an RCU grace period): released after the result. */
  int mntns_fd;
  /* Requests that came while the shepherd was idle, naming a job it had
   * not been handed yet: handled once this one runs, if they name it. */
  const struct signalfd_siginfo *early;
  int nearly;
  /* The GPUs it holds, as NVML numbers them (their minors), and what was
   * sampled of them. */
  unsigned gpu_minors[DEV_PER_CLASS_MAX];
  size_t ngpu_minors;
  struct gpu_samples gpu;
  /* Its usage over its run (common/series.h), sent with its result. */
  struct series_point series[SERIES_MAX];
  size_t nseries;
};

/* NVIDIA's library: loaded by the first job that holds GPUs, kept for the
 * shepherd's next jobs. */
static struct nvml *nvml;
static bool nvml_tried;

/* The job's GPUs (class gpu) as NVML knows them, and NVML if it is there. */
static void
gpu_sampling_prepare(struct shepherd *sh, const struct dev_set *held) {
  sh->ngpu_minors = 0;
  sh->gpu = (struct gpu_samples){0};
  int c = dev_class_find(sh->set->devs, "gpu");
  if (c < 0 || !dev_set_count(held, (size_t)c))
    return;
  const struct dev_class *cls = &sh->set->devs->cls[c];
  for (size_t i = 0; i < cls->ndev; i++)
    if (dev_set_has(held, (size_t)c, i))
      sh->gpu_minors[sh->ngpu_minors++] = minor(cls->dev[i].rdev);
  if (!nvml_tried) {
    nvml_tried = true;
    nvml = nvml_open(sh->set->nvml_library);
    log_debug("NVML (%s): %s", sh->set->nvml_library, nvml ? "loaded" : "not available");
  }
}

static void
gpu_sample(struct shepherd *sh) {
  int64_t mem;
  int util;
  if (nvml && sh->ngpu_minors &&
      nvml_sample(nvml, sh->gpu_minors, sh->ngpu_minors, &mem, &util) == 0)
    gpu_samples_add(&sh->gpu, mem, util);
}

/* Sampled only: without samples nothing is claimed (all 0). */
static void
gpu_usage(const struct shepherd *sh, struct job_usage *u) {
  u->gpu_samples = sh->gpu.count;
  u->gpu_util = sh->gpu.count ? sh->gpu.util_sum / sh->gpu.count : 0;
  u->gpu_mem_peak = sh->gpu.count ? sh->gpu.mem_peak : 0;
}

/* At most this many requests are kept for a job not handed over yet. */
#define MAX_EARLY 16

int
shepherd_arg_area(struct arg_area *ret) {
  uint64_t v[4]; /* fields 48-51: arg_start, arg_end, env_start, env_end */
  int r = proc_stat_fields(getpid(), 48, 4, v);
  if (r < 0)
    return r;
  *ret = (struct arg_area){v[0], v[1], v[2], v[3]};
  return 0;
}

/* /proc/PID/cmdline reads "boxq-shepherd JOBDIR": for ps and pgrep. With
 * CAP_SYS_RESOURCE the kernel is pointed at a buffer of ours; without it
 * (some containers) the worker's own argv and environment, copies of which
 * this child no longer needs, are overwritten as setproctitle does. */
static void
set_command_line(const char *title, const struct arg_area *a) {
  static char own[PATH_MAX + 32];
  static bool mm_refused;
  size_t len = strlen(title) + 1;
  if (len > sizeof(own))
    len = sizeof(own);
  if (!mm_refused) {
    memcpy(own, title, len - 1);
    own[len - 1] = '\0';
    unsigned long start = (unsigned long)own, end = start + len;
    if (prctl(PR_SET_MM, PR_SET_MM_ARG_START, start, 0, 0) == 0 &&
        prctl(PR_SET_MM, PR_SET_MM_ARG_END, end, 0, 0) == 0)
      return;
    mm_refused = true;
  }
  if (a->arg_end <= a->arg_start)
    return;
  /* The environment follows argv on the stack: together they are room. */
  size_t room = a->env_start == a->arg_end && a->env_end > a->env_start ? a->env_end - a->arg_start
                                                                        : a->arg_end - a->arg_start;
  char *area = (char *)a->arg_start;
  size_t n = len <= room ? len : room;
  memcpy(area, title, n - 1);
  memset(area + n - 1, 0, room - (n - 1));
}

static int
cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Closes every descriptor from 3 up except those in keep (sorted here). */
static void
close_all_but(int *keep, size_t n) {
  qsort(keep, n, sizeof(int), cmp_int);
  unsigned from = 3;
  for (size_t i = 0; i <= n; i++) {
    unsigned to = i < n ? (unsigned)keep[i] : ~0U;
    if (i < n && (keep[i] < 3 || (unsigned)keep[i] < from))
      continue; /* a standard stream or a duplicate */
    if (to > from && close_range(from, to - 1, 0) < 0)
      for (unsigned fd = from; fd < to && fd < 1024; fd++)
        close((int)fd);
    if (i < n)
      from = to + 1;
  }
}

/* In the worker's fresh child: keep nothing of the worker (its sockets,
 * its loop, its signal handlers, its environment) but the descriptors in
 * keep, and leave its session. */
static void
detach_from_worker(const struct arg_area *args, const char *idle_title, int *keep, size_t nkeep) {
  /* The standard signals: the worker (and libuv) handle or ignore some;
   * it touches no real-time one. */
  launch_reset_signals(32);
  setsid();
  close_all_but(keep, nkeep);
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (nul >= 0) {
    dup2(nul, STDIN_FILENO);
    close(nul);
  }
  dup2(STDERR_FILENO, STDOUT_FILENO); /* the worker's log */
  if (chdir("/") < 0)
    _exit(1);
  /* Before the environment is rebuilt: its old strings may become the
   * command line. */
  clearenv();
  prctl(PR_SET_NAME, "boxq-shepherd");
  set_command_line(idle_title, args);
  setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  setenv("LANG", "C", 1);
  /* Its files get explicit private modes (spool 0600, job /tmp 0700); the
   * job cgroups it makes are readable like the parents above them. */
  umask(022);
}

/* The signals the shepherd takes, through the descriptor returned
 * (-errno on failure). */
static int
setup_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SHEPHERD_SIG_FORWARD);
  sigaddset(&set, SHEPHERD_SIG_CANCEL);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  return fd < 0 ? -errno : fd;
}

/* The per-job /tmp: a directory owned by the user inside a root-only
 * directory, bind-mounted on /tmp inside the job, removed afterwards. */
static int
make_tmp(struct shepherd *sh, struct berr *err) {
  const char *root = sh->set->tmp_root;
  int r = mkdir_p(root, 0700);
  if (r < 0)
    return berr_set(err, r, "cannot create %s: %s", root, strerror(-r));
  sh->tmp_root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (sh->tmp_root_fd < 0)
    return berr_set(err, -errno, "cannot open %s: %s", root, strerror(errno));
  sh->tmp_name = xasprintf("job-%lld", (long long)sh->job.id);
  rmtree_at(sh->tmp_root_fd, sh->tmp_name); /* a leftover from a crash */
  if (mkdirat(sh->tmp_root_fd, sh->tmp_name, 0700) < 0)
    return berr_set(err, -errno, "cannot create the job's /tmp: %s", strerror(errno));
  if (fchownat(sh->tmp_root_fd, sh->tmp_name, (uid_t)sh->job.uid, (gid_t)sh->job.gid,
               AT_SYMLINK_NOFOLLOW) < 0)
    return berr_set(err, -errno, "cannot hand the job's /tmp to its user: %s", strerror(errno));
  return 0;
}

/* qsig -s suspend|resume: the job's cgroup frozen or thawed. Walltime
 * does not run while it is frozen: the deadline moves by the time it was. */
static void
set_suspended(struct shepherd *sh, bool suspend) {
  if (!sh->cg || suspend == (sh->suspended_at != 0))
    return;
  int r = cg_job_freeze(sh->cg, suspend);
  if (r < 0) {
    log_warn("job %lld: cannot %s it: %s", (long long)sh->job.id, suspend ? "suspend" : "resume",
             strerror(-r));
    return;
  }
  int64_t now = now_mono_usec();
  if (suspend)
    sh->suspended_at = now;
  else {
    if (sh->walltime_at)
      sh->walltime_at += now - sh->suspended_at;
    if (sh->warn_at)
      sh->warn_at += now - sh->suspended_at;
    sh->suspended_at = 0;
  }
  log_info("job %lld: %s", (long long)sh->job.id, suspend ? "suspended (frozen)" : "resumed");
  if (sh->on_tty)
    tty_notice(&sh->tty, "job %lld %s", (long long)sh->job.id,
               suspend ? "suspended (qsig -s resume goes on)" : "resumed");
}

static void
begin_terminate(struct shepherd *sh, int reason, const char *why) {
  if (sh->end_override)
    return;
  set_suspended(sh, false); /* a frozen job could not act on SIGTERM */
  sh->freeze_at = 0;
  sh->end_override = reason;
  snprintf(sh->comment, sizeof(sh->comment), "%s", why);
  /* qsub -notify (Grid Engine's): SIGUSR2 warns of the kill instead. */
  int first = sh->job.notify ? SIGUSR2 : SIGTERM;
  log_info("job %lld: %s; %s, then SIGKILL after %llds", (long long)sh->job.id, why,
           first == SIGUSR2 ? "SIGUSR2" : "SIGTERM", (long long)sh->set->kill_grace_sec);
  kill(sh->l.init_pid, first); /* init forwards it to every job process */
  sh->kill_at = now_mono_usec() + sh->set->kill_grace_sec * 1000000;
  if (sh->on_tty)
    tty_notice(&sh->tty, "job %lld %s: ending it", (long long)sh->job.id, why);
}

/* An interactive job whose qsub went away (or never came): its terminal
 * hangs up as a modem's would, its session gets SIGHUP, and whatever is
 * left after kill_grace is killed. */
static void
hang_up(struct shepherd *sh, const char *why) {
  set_suspended(sh, false); /* a frozen job could not act on SIGHUP */
  tty_hangup(&sh->tty);
  if (sh->end_override)
    return;
  sh->end_override = END_CANCELLED;
  snprintf(sh->comment, sizeof(sh->comment), "%s", why);
  log_info("job %lld: %s; SIGHUP, then SIGKILL after %llds", (long long)sh->job.id, why,
           (long long)sh->set->kill_grace_sec);
  sh->kill_at = now_mono_usec() + sh->set->kill_grace_sec * 1000000;
}

static void
kill_all(struct shepherd *sh) {
  if (sh->cg)
    cg_job_kill(sh->cg);
  kill(sh->l.init_pid, SIGKILL); /* the kernel then kills the whole namespace */
}

/* Whether a request signal is for this job: its number, or 0 (any). */
static bool
for_this_job(const struct shepherd *sh, const struct signalfd_siginfo *si) {
  uint32_t seq = shepherd_sigval_seq(si->ssi_int);
  return seq == 0 || seq == sh->seq;
}

static void
handle_signal(struct shepherd *sh, const struct signalfd_siginfo *si) {
  int sig = (int)si->ssi_signo;
  if ((sig == SHEPHERD_SIG_CANCEL && for_this_job(sh, si)) || sig == SIGTERM || sig == SIGINT)
    begin_terminate(sh, END_CANCELLED, "deleted (qdel)");
  else if (sig == SHEPHERD_SIG_FORWARD && for_this_job(sh, si)) {
    int fwd = shepherd_sigval_sig(si->ssi_int);
    if (fwd == JOB_SIG_SUSPEND && sh->job.notify && !sh->suspended_at && !sh->end_override) {
      /* -notify: SIGUSR1 now, the freeze kill_grace later. */
      if (!sh->freeze_at) {
        kill(sh->l.init_pid, SIGUSR1);
        sh->freeze_at = now_mono_usec() + sh->set->kill_grace_sec * 1000000;
      }
    } else if (fwd == JOB_SIG_SUSPEND || fwd == JOB_SIG_RESUME) {
      sh->freeze_at = 0;
      set_suspended(sh, fwd == JOB_SIG_SUSPEND);
    } else if (fwd == SIGKILL)
      kill_all(sh);
    else if (fwd > 0 && fwd < SIGRTMIN)
      kill(sh->l.init_pid, fwd);
  }
}

/* Writes JOBDIR/usage: the job's usage so far, for qstat while it runs and
 * for the record if the shepherd dies, and its series so far (the plots
 * of a running job). */
static void
write_snapshot(struct shepherd *sh) {
  struct job_rec snap = {.id = sh->job.id, .has_usage = true};
  cg_job_stats(sh->cg, &snap.usage);
  gpu_usage(sh, &snap.usage);
  snap.usage.final = false;
  snap.usage.wall_usec = now_mono_usec() - sh->start_mono;
  struct pbuf b = {0};
  pb_begin(&b, MSG_USAGE);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &snap);
  pb_nest_end(&b, mark);
  if (sh->nseries > 0)
    pb_series(&b, sh->series, sh->nseries);
  pb_end(&b);
  _cleanup_free_ char *path = xasprintf("%s/%s", sh->jobdir, SPOOL_USAGE);
  write_file_atomic(path, b.data, b.len, 0600, false); /* a sample: the next one replaces it */
  pbuf_free(&b);
}

static int64_t
min_deadline(int64_t a, int64_t b) {
  return a == 0 ? b : b == 0 ? a : (a < b ? a : b);
}

/* A point of the job's series: now, its CPU time, its memory in use and
 * the most seen so far. */
static void
series_sample(struct shepherd *sh, int64_t now) {
  int64_t mem = cg_job_mem_current(sh->cg);
  int64_t peak = sh->nseries ? sh->series[sh->nseries - 1].mem_peak : 0;
  struct series_point p = {now - sh->start_mono, cg_job_cpu_usec(sh->cg), mem,
                           mem > peak ? mem : peak};
  sh->nseries = series_add(sh->series, sh->nseries, &p);
}

/* Waits for init to exit, enforcing walltime, handling requests and
 * sampling usage. */
static void
supervise(struct shepherd *sh) {
  /* Kernels before 5.19 have no memory.peak: sample memory.current. */
  int64_t peak_every =
      sh->cg && sh->cg->mode == CG_MODE_V2 && !sh->cg->v2_has_peak ? PEAK_SAMPLE_USEC : 0;
  int64_t snap_every = sh->cg ? sh->set->sample_sec * 1000000 : 0;
  int64_t next_peak = peak_every ? sh->start_mono + peak_every : 0;
  /* -l cput: the cgroup's CPU time, checked every second (PBS's moms
   * poll theirs too); the job may overrun by up to a second per CPU. */
  int64_t cput_every = sh->cg && sh->job.cput > 0 ? CPUT_CHECK_USEC : 0;
  int64_t next_cput = cput_every ? sh->start_mono + cput_every : 0;
  int64_t next_snap = snap_every ? sh->start_mono + snap_every : 0;
  int64_t next_series = sh->cg ? sh->start_mono + SERIES_DENSE_USEC : 0;
  /* GPUs: a first sample a second in (a short job gets one), then one
   * every sample_interval. */
  int64_t gpu_every = nvml && sh->ngpu_minors ? sh->set->sample_sec * 1000000 : 0;
  int64_t next_gpu = gpu_every ? sh->start_mono + 1000000 : 0;
  for (int i = 0; i < sh->nearly; i++)
    handle_signal(sh, &sh->early[i]); /* only those naming this job apply */
  for (;;) {
    int64_t now = now_mono_usec();
    if (sh->walltime_at && now >= sh->walltime_at && !sh->end_override && !sh->suspended_at) {
      _cleanup_free_ char *why = xasprintf("walltime %llds exceeded", (long long)sh->job.walltime);
      begin_terminate(sh, END_TIMEOUT, why);
    }
    if (sh->warn_at && now >= sh->warn_at && !sh->end_override && !sh->suspended_at) {
      log_info("job %lld: soft run time %llds reached; signal %lld", (long long)sh->job.id,
               (long long)sh->job.warn_after, (long long)sh->job.warn_signal);
      kill(sh->l.init_pid, (int)sh->job.warn_signal);
      sh->warn_at = 0;
    }
    if (sh->freeze_at && now >= sh->freeze_at) {
      sh->freeze_at = 0;
      set_suspended(sh, true);
    }
    if (next_cput && now >= next_cput) {
      int64_t used = cg_job_cpu_usec(sh->cg);
      if (used >= sh->job.cput * 1000000 && !sh->end_override) {
        _cleanup_free_ char *why = xasprintf("cput %llds exceeded (used %.1fs of CPU time)",
                                             (long long)sh->job.cput, (double)used / 1e6);
        begin_terminate(sh, END_CPUTIME, why);
      }
      next_cput = sh->end_override ? 0 : now + cput_every;
    }
    if (sh->kill_at && now >= sh->kill_at) {
      kill_all(sh);
      sh->kill_at = 0;
    }
    if (next_peak && now >= next_peak) {
      cg_job_sample(sh->cg);
      next_peak = now + peak_every;
    }
    if (next_gpu && now >= next_gpu) {
      gpu_sample(sh);
      next_gpu = now + gpu_every;
    }
    if (next_snap && now >= next_snap) {
      write_snapshot(sh);
      next_snap = now + snap_every;
    }
    if (next_series && now >= next_series) {
      series_sample(sh, now);
      next_series =
          now + (now - sh->start_mono < SERIES_DENSE_FOR ? SERIES_DENSE_USEC : snap_every);
    }
    bool clock_runs = !sh->end_override && !sh->suspended_at;
    int64_t next = min_deadline(clock_runs ? sh->walltime_at : 0, sh->kill_at);
    next = min_deadline(next, min_deadline(clock_runs ? sh->warn_at : 0, sh->freeze_at));
    next = min_deadline(min_deadline(next, next_peak), min_deadline(next_snap, next_cput));
    next = min_deadline(min_deadline(next, next_gpu), next_series);
    int timeout = next ? (int)((next - now + 999) / 1000) : -1;
    if (timeout < -1)
      timeout = 0;
    struct pollfd p[2 + TTY_POLLFDS] = {{sh->l.pidfd, POLLIN, 0}, {sh->sigfd, POLLIN, 0}};
    int np = 2 + (sh->on_tty ? tty_poll_fill(&sh->tty, p + 2) : 0);
    int n = poll(p, (nfds_t)np, timeout);
    if (n < 0 && errno != EINTR) {
      log_error("job %lld: poll: %s", (long long)sh->job.id, strerror(errno));
      return;
    }
    if (n > 0 && (p[1].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(sh->sigfd, &si, sizeof(si)) == sizeof(si))
        handle_signal(sh, &si);
    }
    if (n > 0 && np > 2 && tty_poll_handle(&sh->tty, p + 2, np - 2))
      hang_up(sh, "hung up: its qsub -I went away");
    if (n > 0 && (p[0].revents & (POLLIN | POLLHUP)))
      return;
  }
}

static int64_t
tv_usec(struct timeval tv) {
  return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Collects the end: statuses, accounting, then removes the cgroup and the
 * job's /tmp. Fills end (a partial job record for the scheduler). */
static void
collect(struct shepherd *sh, struct job_rec *end) {
  int init_status = 0;
  struct rusage ru = {0};
  while (wait4(sh->l.init_pid, &init_status, 0, &ru) < 0 && errno == EINTR)
    ;
  int64_t end_mono = now_mono_usec();
  int32_t main_status;
  bool have_main =
      read_full(sh->l.status_fd, &main_status, sizeof(main_status)) == (ssize_t)sizeof(main_status);
  int status = have_main ? main_status : init_status;

  end->has_exit = true;
  if (WIFEXITED(status))
    end->exit_status = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    end->exit_status = JOB_EXIT_SIGNAL_BASE + WTERMSIG(status);

  struct job_usage *u = &end->usage;
  end->has_usage = true;
  u->io_rbytes = u->io_wbytes = u->oom_events = u->mem_max_events = u->swap_peak = -1;
  u->final = true;
  if (sh->cg) {
    /* The namespace is gone with init; make sure, then account. */
    if (cg_job_empty(sh->cg, 5000) < 0)
      log_error("job %lld: processes remain in cgroup %s", (long long)end->id, sh->cg->path);
    cg_job_stats(sh->cg, u);
  }
  gpu_usage(sh, u);
  u->wall_usec = end_mono - sh->start_mono;
  u->ru_utime_usec = tv_usec(ru.ru_utime);
  u->ru_stime_usec = tv_usec(ru.ru_stime);
  /* Not known (-1) when it may be the launcher's own size (launcher_rss). */
  u->ru_maxrss_kb = ru.ru_maxrss > sh->launcher_rss ? ru.ru_maxrss : -1;
  if (u->mem_peak_src == MEM_PEAK_NONE && u->ru_maxrss_kb > 0) {
    u->mem_peak = u->ru_maxrss_kb * 1024;
    u->mem_peak_src = MEM_PEAK_RUSAGE;
  }
  if (!sh->cg) {
    /* No cgroup to ask: the kernel's rusage of init and what it reaped. */
    snprintf(u->cg_backend, sizeof(u->cg_backend), "none");
    u->user_usec = u->ru_utime_usec;
    u->sys_usec = u->ru_stime_usec;
    u->cpu_usec = u->user_usec + u->sys_usec;
  }

  if (sh->launch_failed) {
    end->end_reason = END_LAUNCH;
    end->exit_status = sh->l.fail_code ? sh->l.fail_code : JOB_EXEC_FAIL;
  } else if (sh->end_override)
    end->end_reason = sh->end_override;
  else if (u->oom_kills > 0) {
    end->end_reason = END_OOM;
    snprintf(sh->comment, sizeof(sh->comment),
             "out of memory: the kernel killed %lld process(es) at mem=%lld bytes",
             (long long)u->oom_kills, (long long)sh->job.mem);
  } else
    end->end_reason = end->exit_status == 0 ? END_COMPLETED : END_FAILED;
  if (sh->no_limits[0] && sh->comment[0])
    end->comment = xasprintf("%s; %s", sh->comment, sh->no_limits);
  else if (sh->comment[0] || sh->no_limits[0])
    end->comment = xstrdup(sh->comment[0] ? sh->comment : sh->no_limits);
}

static void
cleanup(struct shepherd *sh) {
  if (sh->on_tty)
    tty_close(&sh->tty);
  if (sh->cg) {
    int r = cg_job_destroy(sh->cg);
    if (r < 0)
      log_error("job %lld: cannot remove its cgroup: %s", (long long)sh->job.id, strerror(-r));
    sh->cg = NULL;
  }
  if (sh->tmp_name) {
    int r = rmtree_at(sh->tmp_root_fd, sh->tmp_name);
    if (r < 0)
      log_error("job %lld: cannot remove its /tmp: %s", (long long)sh->job.id, strerror(-r));
    free(sh->tmp_name);
    sh->tmp_name = NULL;
  }
  closep(&sh->tmp_root_fd);
  sh->tmp_root_fd = -1;
}

/* Whether a cancel request (qdel, SIGTERM) for this job is among the
 * signals in si[0..n). */
static bool
cancels(const struct shepherd *sh, const struct signalfd_siginfo *si, int n) {
  for (int i = 0; i < n; i++) {
    int sig = (int)si[i].ssi_signo;
    if ((sig == SHEPHERD_SIG_CANCEL && for_this_job(sh, &si[i])) || sig == SIGTERM || sig == SIGINT)
      return true;
  }
  return false;
}

/* qsub -I: the job starts once its qsub is at the terminal, so that
 * nothing it writes first is lost and it starts at the terminal's size;
 * none within TTY_ATTACH_SEC, or a qdel meanwhile, and it never starts. */
static int
wait_for_attach(struct shepherd *sh, struct berr *err) {
  int64_t deadline = now_mono_usec() + TTY_ATTACH_SEC * 1000000LL;
  if (cancels(sh, sh->early, sh->nearly)) {
    sh->end_override = END_CANCELLED;
    return berr_set(err, -ECANCELED, "deleted (qdel) before its qsub -I attached");
  }
  while (!sh->tty.attached) {
    int64_t left = deadline - now_mono_usec();
    if (left <= 0) {
      sh->end_override = END_CANCELLED;
      return berr_set(err, -ETIMEDOUT, "no qsub -I attached to its terminal within %ds",
                      TTY_ATTACH_SEC);
    }
    struct pollfd p[1 + TTY_POLLFDS] = {{sh->sigfd, POLLIN, 0}};
    int np = 1 + tty_poll_fill(&sh->tty, p + 1);
    if (poll(p, (nfds_t)np, (int)(left / 1000) + 1) < 0 && errno != EINTR)
      return berr_set(err, -errno, "poll: %s", strerror(errno));
    struct signalfd_siginfo si;
    while (read(sh->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      if (cancels(sh, &si, 1)) {
        sh->end_override = END_CANCELLED;
        return berr_set(err, -ECANCELED, "deleted (qdel) before its qsub -I attached");
      }
    tty_poll_handle(&sh->tty, p + 1, np - 1);
  }
  tty_first_winsize(&sh->tty, 1000);
  if (sh->tty.client < 0) {
    sh->end_override = END_CANCELLED;
    return berr_set(err, -ECONNRESET, "hung up: its qsub -I went away before the job started");
  }
  return 0;
}

static bool
under_tmp(const char *path) {
  return path && (strcmp(path, "/tmp") == 0 || strncmp(path, "/tmp/", 5) == 0);
}

static int
run(struct shepherd *sh, struct job_rec *end, struct berr *err) {
  /* The worker looked the user up (usercache.c): the job side must not
   * call NSS, and this process need not load it. */
  if (!sh->user) {
    sh->fail_code = JOB_EXEC_FAIL_UID;
    return berr_set(err, sh->user_errno ? sh->user_errno : -ENOENT, "%s",
                    sh->user_error ? sh->user_error : "no account for the job's user");
  }
  struct passwd pw = usercache_passwd(sh->user);
  int r;
  _cleanup_free_ char *script_path = xasprintf("%s/%s", sh->jobdir, SPOOL_SCRIPT);
  _cleanup_close_ int script_fd = open(script_path, O_RDONLY | O_CLOEXEC);
  if (script_fd < 0)
    return berr_set(err, -errno, "cannot open the job script: %s", strerror(errno));
  _cleanup_free_ char *out = job_out_path(&sh->job, sh->set->server);
  _cleanup_free_ char *errp = job_err_path(&sh->job, sh->set->server);
  /* A job submitted from /tmp must still find its directory and files
   * there, so it keeps the shared /tmp. */
  bool private_tmp = !under_tmp(sh->job.workdir) && !under_tmp(out) && !under_tmp(errp);
  if (private_tmp && sh->set->tmp_root && (r = make_tmp(sh, err)) < 0)
    return r;
  const struct shepherd_settings *set = sh->set;
  /* The devices it holds; all the others of the box it may not open. */
  struct dev_set held = {{{0}}};
  if (sh->job.devices && *sh->job.devices && dev_set_parse(set->devs, sh->job.devices, &held) < 0)
    return berr_set(err, -EINVAL,
                    "the job holds devices %s, which this worker does not know (are boxqd's and "
                    "the worker's [devices] sections the same?)",
                    sh->job.devices);
  _cleanup_free_ dev_t *deny = NULL;
  size_t ndeny = jobdev_deny(set->devs, &held, &deny);
  gpu_sampling_prepare(sh, &held);
  if (ndeny && sh->sys.mode == CG_MODE_NONE)
    return berr_set(err, -ENOTSUP,
                    "this box has device classes, and without cgroups no job's devices can be "
                    "kept to it");
  if (sh->sys.mode == CG_MODE_NONE) {
    /* The worker runs with allow_no_cgroups: namespaces and walltime
     * still apply, limits do not, and the record says so. */
    snprintf(sh->no_limits, sizeof(sh->no_limits),
             "ran without cgroup limits: no usable cgroups (allow_no_cgroups = true)");
    end->cgroup = xstrdup("none");
  } else {
    struct cg_limits lim = {sh->job.ncpus, sh->job.mem, sh->job.pids, sh->job.cpus, deny, ndeny};
    if ((r = cg_job_create(&sh->sys, sh->job.id, &lim, &sh->cg, err)) < 0)
      return r;
    end->cgroup = xasprintf("%s:%s", cg_mode_name(sh->cg->mode), sh->cg->path);
  }

  _cleanup_close_ int tty_slave = -1;
  if (sh->job.interactive) {
    sh->on_tty = true;
    if ((r = tty_create(&sh->tty, set->tty_dir, sh->job.id, (uid_t)sh->job.uid, &tty_slave, err)) <
        0)
      return r;
  }
  char **envp = jobenv_build(&sh->job, &pw, set->server, set->devs);
  _cleanup_free_ char *gpufile = NULL;
  size_t gpufile_len = jobenv_gpufile(&sh->job, set->devs, &gpufile);
  _cleanup_free_ char *nodefile = NULL;
  size_t nodefile_len = jobenv_nodefile(&sh->job, &nodefile);
  _cleanup_free_ char *pe_hostfile = NULL;
  size_t pe_hostfile_len = sh->job.dialect && !strcmp(sh->job.dialect, "sge")
                               ? jobenv_pe_hostfile(&sh->job, &pe_hostfile)
                               : 0;
  _cleanup_free_ char *tmp_path =
      private_tmp && set->tmp_root ? xasprintf("%s/%s", set->tmp_root, sh->tmp_name) : NULL;
  char tmp_options[64];
  launch_tmpfs_options(sh->job.mem, tmp_options, sizeof(tmp_options));
  struct launch_spec spec = {
      .job_id = sh->job.id,
      .uid = (uid_t)sh->job.uid,
      .gid = (gid_t)sh->job.gid,
      .groups = sh->user->groups,
      .ngroups = (size_t)sh->user->ngroups,
      .workdir = sh->job.workdir,
      .out_path = sh->job.join == JOIN_EO ? errp : out,
      .err_path = sh->job.join == JOIN_NONE ? errp : NULL,
      .script_fd = script_fd,
      .envp = envp,
      .tmp_dir = tmp_path,
      .tmp_options = private_tmp && !set->tmp_root ? tmp_options : NULL,
      .new_net = streq(sh->job.net, "none"),
      .init_fd = set->init_fd,
      .parent_pidfd = self_pidfd,
      .nodefile = nodefile,
      .nodefile_len = nodefile_len,
      .pe_hostfile = pe_hostfile_len ? pe_hostfile : NULL,
      .pe_hostfile_len = pe_hostfile_len,
      .gpufile = gpufile,
      .gpufile_len = gpufile_len,
      .dev_hide = deny,
      .ndev_hide = ndeny,
      .shell = sh->job.shell && *sh->job.shell ? sh->job.shell : NULL,
      .umask_set = sh->job.umask && *sh->job.umask,
      .umask = sh->job.umask ? (mode_t)(strtol(sh->job.umask, NULL, 8) & 0777) : 0,
      .on_tty = sh->on_tty,
      .tty_fd = tty_slave,
  };
  if (sh->on_tty && (r = wait_for_attach(sh, err)) < 0) {
    jobenv_free(envp);
    return r;
  }
  sh->start_mono = now_mono_usec();
  sh->start_wall = now_wall_usec();
  end->stime = sh->start_wall / 1000000;
  if (clear_refs_fd >= 0)
    (void)!pwrite(clear_refs_fd, "5", 1, 0); /* the peak, down to what is resident now */
  r = launch_job(&spec, sh->cg, &sh->l, err);
  struct rusage self;
  sh->launcher_rss = getrusage(RUSAGE_SELF, &self) == 0 ? self.ru_maxrss : LONG_MAX;
  jobenv_free(envp);
  closep(&tty_slave); /* the job's now: its end closes the terminal */
  if (r < 0)
    return r;
  char ns[64];
  snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)sh->l.init_pid);
  sh->mntns_fd = open(ns, O_RDONLY | O_CLOEXEC);
  /* While the job runs: at its end, on the way to the next job, reading
   * its accounting is then one pread a file. */
  if (sh->cg)
    cg_job_open_stats(sh->cg);
  if (r == 1) {
    sh->launch_failed = true;
    snprintf(sh->comment, sizeof(sh->comment), "%s", err->msg);
    log_warn("job %lld: %s", (long long)sh->job.id, err->msg);
  }
  /* Debug: the worker logs each start and boxqd each end; under journald
   * every line a job costs is machine time. */
  log_debug("job %lld: running as %s in %s, init pid %d", (long long)sh->job.id, pw.pw_name,
            end->cgroup, (int)sh->l.init_pid);
  if (sh->job.walltime > 0)
    sh->walltime_at = sh->start_mono + sh->job.walltime * 1000000;
  if (sh->job.warn_after > 0 && sh->job.warn_signal > 0)
    sh->warn_at = sh->start_mono + sh->job.warn_after * 1000000;
  supervise(sh);
  collect(sh, end);
  if (sh->on_tty) {
    const char *reason = job_end_to_string(end->end_reason);
    _cleanup_free_ char *how =
        end->comment ? xasprintf("%s: %s", reason, end->comment) : xstrdup(reason);
    tty_finish(&sh->tty, job_shell_status(end), how, 2000);
  }
  return 0;
}

/* Runs one job to its result. 0 once JOBDIR/result is written. */
static int
serve(struct shepherd *sh) {
  _cleanup_free_ char *title = xasprintf("boxq-shepherd %s", sh->jobdir);
  set_command_line(title, sh->set->args);
  struct berr err = {{0}};
  struct job_rec end = {.id = sh->job.id};
  sh->nseries = 0; /* a shepherd serves job after job */
  int r = run(sh, &end, &err);
  if (r < 0) {
    /* Nothing of the job ever ran. */
    log_error("job %lld: cannot start: %s", (long long)sh->job.id, err.msg);
    end.end_reason = sh->end_override ? sh->end_override : END_LAUNCH;
    end.has_exit = true;
    end.exit_status = sh->fail_code ? sh->fail_code : JOB_EXEC_FAIL;
    end.stime = 0;
    free(end.comment);
    end.comment = xstrdup(err.msg);
  }
  end.etime = now_wall_usec() / 1000000;
  if (sh->nseries > 0 && end.has_usage) { /* its last point: the end */
    struct series_point last = {end.usage.wall_usec, end.usage.cpu_usec, end.usage.mem_now,
                                end.usage.mem_peak};
    sh->nseries = series_add(sh->series, sh->nseries, &last);
  }
  r = spool_write_result(sh->jobdir, &end, sh->series, sh->nseries);
  if (r < 0)
    log_error("job %lld: cannot write its result: %s", (long long)sh->job.id, strerror(-r));
  else
    log_debug("job %lld: %s, exit status %lld, cpu %.2fs, peak memory %lld bytes",
              (long long)end.id, job_end_to_string(end.end_reason), (long long)end.exit_status,
              end.usage.cpu_usec / 1e6, (long long)end.usage.mem_peak);
  job_rec_free(&end);
  return r;
}

/* Between jobs: the next handover (1), or 0 to exit (the worker's end is
 * gone, or SIGTERM). A request for the job that just ended (last_seq) or
 * for "any job" is dropped; one for a later job, which the worker sent
 * right after handing that job over, is kept in early[] for it. */
static int
next_handover(int chan, int sigfd, struct pframer *fr, struct handover *h, uint32_t last_seq,
              struct signalfd_siginfo *early, int *nearly) {
  for (;;) {
    struct pollfd p[2] = {{chan, POLLIN, 0}, {sigfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return 0;
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
        int sig = (int)si.ssi_signo;
        uint32_t seq = shepherd_sigval_seq(si.ssi_int);
        if (sig == SIGTERM || sig == SIGINT)
          return 0;
        if ((sig == SHEPHERD_SIG_CANCEL || sig == SHEPHERD_SIG_FORWARD) && seq != 0 &&
            seq != last_seq && *nearly < MAX_EARLY)
          early[(*nearly)++] = si;
      }
    }
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    int r = handover_recv(chan, fr, h);
    if (r < 0 && r != -ECONNRESET)
      log_error("a malformed job handover from the worker: %s", strerror(-r));
    return r > 0;
  }
}

int
shepherd_main(const struct shepherd_settings *set) {
  /* The worker's cgroup directories stay open: opening them again cost
   * more syscalls than creating the job's own. */
  int keep[3 + CG_V1_MAX];
  size_t nkeep = 0;
  keep[nkeep++] = set->chan;
  keep[nkeep++] = set->init_fd;
  if (set->cg->v2_parent_fd >= 0)
    keep[nkeep++] = set->cg->v2_parent_fd;
  for (int i = 0; i < CG_V1_MAX; i++)
    if (set->cg->v1_parent_fd[i] >= 0)
      keep[nkeep++] = set->cg->v1_parent_fd[i];
  /* "boxq-shepherd idle SPOOL" between jobs, "boxq-shepherd JOBDIR" during one. */
  _cleanup_free_ char *idle_title = xasprintf("boxq-shepherd idle %s", set->spool);
  detach_from_worker(set->args, idle_title, keep, nkeep);
  log_init("boxq-shepherd", log_get_level());
  /* Each job's PID 1 checks it after setting its parent-death signal. */
  self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  int sigfd = setup_signals();
  if (sigfd < 0) {
    log_error("signalfd: %s", strerror(-sigfd));
    return 1; /* the worker records a job handed over as lost */
  }
  int chan = set->chan;
  struct pframer fr = {0};
  struct handover h;
  uint32_t last_seq = 0;
  struct signalfd_siginfo early[MAX_EARLY];
  int nearly = 0;
  while (chan >= 0 && next_handover(chan, sigfd, &fr, &h, last_seq, early, &nearly) == 1) {
    struct shepherd sh = {.jobdir = h.jobdir,
                          .set = set,
                          .job = h.job,
                          .seq = h.seq,
                          .user = h.has_user ? &h.user : NULL,
                          .user_errno = h.user_errno,
                          .user_error = h.user_error,
                          .sys = *set->cg,
                          .tmp_root_fd = -1,
                          .sigfd = sigfd,
                          .mntns_fd = -1,
                          .early = early,
                          .nearly = nearly};
    sh.l.pidfd = sh.l.status_fd = -1;
    serve(&sh);
    /* The worker may take the result now, and the next job may start;
     * what is left (the emptied cgroup, a /tmp on disk, the namespace's
     * mounts) is removed after, off that path. The worker removes it
     * should we die first. A note that cannot go: the worker is gone, and
     * this shepherd ends with this job. */
    int64_t id = sh.job.id;
    if (write(chan, &id, sizeof(id)) != (ssize_t)sizeof(id)) {
      close(chan);
      chan = -1;
    }
    cleanup(&sh);
    closep(&sh.mntns_fd);
    closep(&sh.l.pidfd);
    closep(&sh.l.status_fd);
    last_seq = h.seq;
    nearly = 0;
    bool large = h.large;
    handover_free(&h); /* sh.job was its copy */
    /* A large environment's copies go back to the system: a kept
     * shepherd's memory does not grow with the jobs it has served. */
    if (large)
      malloc_trim(0);
    set_command_line(idle_title, set->args);
  }
  pframer_free(&fr);
  return 0;
}
