/* SPDX-License-Identifier: MIT */
/* boxq's job sandbox on a pure cgroup v2 kernel, for real: the worker's own
 * cgroup layer and launch sequence (clone3 into the job's cgroup and new
 * namespaces, PID-1 init, limits, accounting, kill, removal), run inside a
 * throw-away VM by run-vm-tests.sh. Static: the guest has no libc.
 *
 * The binary is also its own workload: `cg2_sandbox_test memhog MB`,
 * `spin THREADS SECONDS`, `forkmany N`. */
#include "cgroup.h"
#include "launch.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int passed, failed;
static char self[4096];
static struct cg_system sys;
static int init_fd = -1; /* boxq-init, beside this program */
static int64_t next_id = 1;
static char parent_dir[512];

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (cond) {                                                                                    \
      passed++;                                                                                    \
      printf("ok - ");                                                                             \
    } else {                                                                                       \
      failed++;                                                                                    \
      printf("not ok - ");                                                                         \
    }                                                                                              \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
    fflush(stdout);                                                                                \
  } while (0)

/* ---- workloads ---- */

static int
memhog(long mb) {
  for (long i = 0; i < mb; i++) {
    char *p = malloc(1 << 20);
    if (!p)
      return 1;
    memset(p, 1, 1 << 20);
  }
  printf("touched %ld MiB\n", mb);
  return 0;
}

static double spin_until;

static double
mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
spin_thread(void *arg) {
  (void)arg;
  volatile unsigned long x = 0;
  while (mono() < spin_until)
    for (int i = 0; i < 10000; i++)
      x += (unsigned long)i;
  return (void *)(uintptr_t)x; /* used: clang's -Wunused-but-set-variable */
}

static int
spin(int threads, double seconds) {
  pthread_t t[16];
  spin_until = mono() + seconds;
  for (int i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, spin_thread, NULL);
  for (int i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  return 0;
}

static int
forkmany(int n) {
  int ok = 0, eagain = 0;
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) {
      sleep(2);
      _exit(0);
    }
    if (p > 0)
      ok++;
    else if (errno == EAGAIN)
      eagain++;
  }
  printf("forked=%d eagain=%d\n", ok, eagain);
  while (wait(NULL) > 0)
    ;
  return 0;
}

/* ---- running a job through the real launch sequence ---- */

struct job_run {
  struct cg_job *cg;
  struct launched l;
  int status;
  bool have_main;
  struct job_usage u;
  struct rusage ru;
  double wall;
  char out[8192];
  int64_t id;
  /* freeze_ms: frozen that long (qsig -s suspend) 300 ms into the run;
   * the CPU time it used meanwhile, and whether freezing worked. */
  int freeze_ms;
  int64_t frozen_cpu_usec;
  bool froze;
  /* on_tty: the job gets a pseudo-terminal as stdin/stdout/stderr and
   * controlling terminal (qsub -I); out is what it wrote there. */
  bool on_tty;
  /* Devices the job may not have: denied by its cgroup's BPF program and
   * left out of its private /dev. */
  const dev_t *deny;
  size_t ndeny;
};

static void
read_out(const char *path, char *buf, size_t len) {
  buf[0] = '\0';
  char *text = NULL;
  if (read_file_at(AT_FDCWD, path, len - 1, &text, NULL) == 0) {
    snprintf(buf, len, "%s", text);
    free(text);
  }
}

/* Starts SCRIPT under limits; wait_ms > 0: kill it with cgroup.kill after
 * that long. Leaves the cgroup in place for the caller's checks. */
static int
run_job(const char *script, const struct cg_limits *lim, int kill_after_ms, struct job_run *jr) {
  int freeze_ms = jr->freeze_ms;
  bool on_tty = jr->on_tty;
  const dev_t *deny = jr->deny;
  size_t ndeny = jr->ndeny;
  memset(jr, 0, sizeof(*jr));
  jr->freeze_ms = freeze_ms;
  jr->on_tty = on_tty;
  jr->deny = deny;
  jr->ndeny = ndeny;
  struct cg_limits with_devices = *lim;
  with_devices.deny = deny;
  with_devices.ndeny = ndeny;
  lim = &with_devices;
  int master = -1, slave = -1;
  if (on_tty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
        (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
      printf("# pty: %s\n", strerror(errno));
      return -1;
    }
  }
  jr->id = next_id++;
  char spath[128], opath[128];
  snprintf(spath, sizeof(spath), "/tmp/cg2/job%lld.sh", (long long)jr->id);
  snprintf(opath, sizeof(opath), "/tmp/cg2/job%lld.out", (long long)jr->id);
  if (write_file_atomic(spath, script, strlen(script), 0755, false) < 0)
    return -1;
  int sfd = open(spath, O_RDONLY | O_CLOEXEC);
  struct berr err = {{0}};
  if (cg_job_create(&sys, jr->id, lim, &jr->cg, &err) < 0) {
    printf("# cg_job_create: %s\n", err.msg);
    return -1;
  }
  char *envp[] = {(char *)"PATH=/bin:/sbin", NULL};
  struct launch_spec spec = {.job_id = jr->id,
                             .uid = 0,
                             .gid = 0,
                             .workdir = "/tmp/cg2",
                             .out_path = opath,
                             .script_fd = sfd,
                             .envp = envp,
                             .init_fd = init_fd,
                             .parent_pidfd = -1,
                             .on_tty = on_tty,
                             .tty_fd = slave,
                             .dev_hide = deny,
                             .ndev_hide = ndeny};
  double t0 = mono();
  int r = launch_job(&spec, jr->cg, &jr->l, &err);
  close(sfd);
  if (slave >= 0)
    close(slave);
  if (r == 0)
    cg_job_open_stats(jr->cg); /* as the shepherd does: read back by pread */
  if (r != 0) {
    printf("# launch_job: %d %s\n", r, err.msg);
    return -1;
  }
  if (jr->freeze_ms > 0) {
    struct timespec first = {0, 300 * 1000000L};
    struct timespec frozen = {jr->freeze_ms / 1000, (jr->freeze_ms % 1000) * 1000000L};
    nanosleep(&first, NULL);
    jr->froze = cg_job_freeze(jr->cg, true) == 0;
    struct timespec settle = {0, 50 * 1000000L}; /* the kernel stops them at their next exit */
    nanosleep(&settle, NULL);
    int64_t before = cg_job_cpu_usec(jr->cg);
    nanosleep(&frozen, NULL);
    jr->frozen_cpu_usec = cg_job_cpu_usec(jr->cg) - before;
    jr->froze &= cg_job_freeze(jr->cg, false) == 0;
  }
  if (kill_after_ms > 0) {
    struct timespec ts = {kill_after_ms / 1000, (kill_after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    cg_job_kill(jr->cg);
  }
  int st;
  wait4(jr->l.init_pid, &st, 0, &jr->ru);
  jr->wall = mono() - t0;
  int32_t main_status;
  jr->have_main = read(jr->l.status_fd, &main_status, 4) == 4;
  jr->status = jr->have_main ? main_status : st;
  close(jr->l.status_fd);
  close(jr->l.pidfd);
  cg_job_empty(jr->cg, 2000);
  cg_job_stats(jr->cg, &jr->u);
  if (on_tty) {
    /* Every side of the terminal is closed: what is buffered, then EIO. */
    size_t n = 0;
    ssize_t k;
    while (n < sizeof(jr->out) - 1 && (k = read(master, jr->out + n, sizeof(jr->out) - 1 - n)) > 0)
      n += (size_t)k;
    jr->out[n] = '\0';
    close(master);
  } else
    read_out(opath, jr->out, sizeof(jr->out));
  return 0;
}

static bool
dir_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Prints a job's cgroup file, so the parsers' tests can keep real copies. */
static void
dump(struct job_run *jr, const char *file) {
  char *text = NULL;
  if (read_file_at(jr->cg->v2_fd, file, 65536, &text, NULL) < 0)
    return;
  printf("#>%s\n", file);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
    printf("#|%s\n", line);
  free(text);
}

static void
finish_job(struct job_run *jr) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/job-%lld", parent_dir, (long long)jr->id);
  CHECK(cg_job_destroy(jr->cg) == 0 && !dir_exists(path), "job %lld: cgroup removed",
        (long long)jr->id);
}

int
main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 3 && !strcmp(argv[1], "memhog"))
    return memhog(atol(argv[2]));
  if (argc >= 4 && !strcmp(argv[1], "spin"))
    return spin(atoi(argv[2]), atof(argv[3]));
  if (argc >= 3 && !strcmp(argv[1], "forkmany"))
    return forkmany(atoi(argv[2]));

  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return 2;
  self[n] = '\0';
  mkdir("/tmp/cg2", 0755);
  /* fexecve of a script hands the interpreter /dev/fd/N; distributions
   * provide /dev/fd, a bare initramfs does not. */
  if (access("/dev/fd", F_OK) != 0)
    symlink("/proc/self/fd", "/dev/fd");

  enum cg_mode mode = CG_MODE_NONE;
  struct berr err = {{0}};
  CHECK(cg_detect("/sys/fs/cgroup", &mode, &err) == 0 && mode == CG_MODE_V2,
        "pure cgroup v2 detected (%s)", cg_mode_name(mode));
  /* BOXQ_CG2_PARENT="./jobs": the worker's systemd setup, run from a
   * delegated cgroup. */
  const char *parent_cfg = getenv("BOXQ_CG2_PARENT") ? getenv("BOXQ_CG2_PARENT") : "boxq-vm";
  init_fd = launch_open_init(NULL, NULL, 0, &err);
  CHECK(init_fd >= 0, "the job init program opens (%s)", init_fd < 0 ? err.msg : "ok");
  if (init_fd < 0)
    goto out;
  int r = cg_system_open(&sys, "/sys/fs/cgroup", "auto", parent_cfg, true, &err);
  CHECK(r == 0, "job parent prepared, controllers enabled (%s)", r ? err.msg : "ok");
  if (r < 0)
    goto out;
  snprintf(parent_dir, sizeof(parent_dir), "/sys/fs/cgroup/%s", sys.parent);
  printf("# jobs go below %s\n", parent_dir);
  char *sub = NULL, subpath[4200];
  snprintf(subpath, sizeof(subpath), "%s/cgroup.subtree_control", parent_dir);
  read_file_at(AT_FDCWD, subpath, 4096, &sub, NULL);
  CHECK(sub && strstr(sub, "cpu") && strstr(sub, "memory") && strstr(sub, "pids"),
        "cpu, memory, pids enabled for jobs: %s", sub ? strtok(sub, "\n") : "?");
  free(sub);

  char script[16384];
  struct job_run jr = {0};

  /* clone3(CLONE_INTO_CGROUP), namespaces, limits written. */
  snprintf(script, sizeof(script),
           "#!/bin/sh\necho \"pid=$$\"\ncat /proc/self/cgroup\n"
           "cat %s/job-1/memory.max %s/job-1/cpu.max\n"
           "echo swap=$(cat %s/job-1/memory.swap.max)\n",
           parent_dir, parent_dir, parent_dir);
  struct cg_limits lim = {.ncpus = 1, .mem = 64 << 20, .pids_max = 0};
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(strstr(jr.out, "pid=2\n") != NULL, "job runs as PID 2 in its own PID namespace");
    char want[4200];
    snprintf(want, sizeof(want), "0::/%s/job-1\n", sys.parent);
    CHECK(strstr(jr.out, want) != NULL,
          "the job started inside its cgroup (clone3 CLONE_INTO_CGROUP)");
    CHECK(strstr(jr.out, "67108864\n") && strstr(jr.out, "100000 100000"),
          "memory.max and cpu.max written from mem and ncpus");
    CHECK(strstr(jr.out, "swap=0\n") != NULL, "memory.swap.max = 0: no swap for jobs");
    CHECK(WIFEXITED(jr.status) && WEXITSTATUS(jr.status) == 0, "exit status 0 reported by init");
    finish_job(&jr);
  } else
    CHECK(0, "first job launched");

  /* memory.max: 4x the limit is OOM-killed; memory.events counts it. */
  snprintf(script, sizeof(script), "#!/bin/sh\n%s memhog 128\n", self);
  lim = (struct cg_limits){.ncpus = 1, .mem = 32 << 20};
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(!strstr(jr.out, "touched"), "memory hog did not complete");
    CHECK(jr.u.oom_kills >= 1, "memory.events oom_kill = %lld", (long long)jr.u.oom_kills);
    CHECK(jr.u.oom_events >= 1 && jr.u.mem_max_events >= 1, "memory.events oom %lld, max %lld",
          (long long)jr.u.oom_events, (long long)jr.u.mem_max_events);
    CHECK(jr.u.mem_peak_src == MEM_PEAK_KERNEL && jr.u.mem_peak <= (32 << 20) &&
              jr.u.mem_peak > (24 << 20),
          "memory.peak %lld bytes, at the 32 MiB limit", (long long)jr.u.mem_peak);
    CHECK(!(WIFEXITED(jr.status) && WEXITSTATUS(jr.status) == 0), "job failed (status 0x%x)",
          jr.status);
    dump(&jr, "memory.events");
    dump(&jr, "memory.peak");
    finish_job(&jr);
  }

  /* cpu.max: two spinning threads under ncpus=1 get about one CPU. */
  snprintf(script, sizeof(script), "#!/bin/sh\n%s spin 2 2\n", self);
  lim = (struct cg_limits){.ncpus = 1, .mem = 64 << 20};
  if (run_job(script, &lim, 0, &jr) == 0) {
    double ratio = jr.u.cpu_usec / 1e6 / jr.wall;
    printf("# cpu %.3fs over %.3fs wall, nr_throttled %lld, throttled %.3fs\n", jr.u.cpu_usec / 1e6,
           jr.wall, (long long)jr.u.nr_throttled, jr.u.throttled_usec / 1e6);
    CHECK(ratio > 0.6 && ratio < 1.3, "cpu.max holds 2 threads to about 1 CPU (%.2f)", ratio);
    CHECK(jr.u.nr_throttled > 0, "cpu.stat counts throttled periods (%lld)",
          (long long)jr.u.nr_throttled);
    double ru = (jr.ru.ru_utime.tv_sec + jr.ru.ru_stime.tv_sec) +
                (jr.ru.ru_utime.tv_usec + jr.ru.ru_stime.tv_usec) / 1e6;
    double cg = jr.u.cpu_usec / 1e6;
    CHECK(ru > 0.5 && (cg - ru) / ru < 0.05 && (ru - cg) / ru < 0.05,
          "cpu.stat usage %.3fs agrees with wait4 rusage %.3fs within 5%%", cg, ru);
    CHECK(jr.u.user_usec > 0 && jr.u.user_usec + jr.u.sys_usec <= jr.u.cpu_usec + 20000,
          "user %lld + system %lld usec add up", (long long)jr.u.user_usec,
          (long long)jr.u.sys_usec);
    dump(&jr, "cpu.stat");
    finish_job(&jr);
  }

  /* pids.max: a job cannot fork past its limit; pids.peak shows it. */
  snprintf(script, sizeof(script), "#!/bin/sh\n%s forkmany 20\n", self);
  lim = (struct cg_limits){.ncpus = 1, .mem = 64 << 20, .pids_max = 8};
  if (run_job(script, &lim, 0, &jr) == 0) {
    int forked = -1, eagain = -1;
    char *p = strstr(jr.out, "forked=");
    if (p)
      sscanf(p, "forked=%d eagain=%d", &forked, &eagain);
    CHECK(forked >= 0 && forked < 8 && eagain > 0, "pids.max=8: %d forks, %d EAGAIN", forked,
          eagain);
    CHECK(jr.u.pids_peak > 0 && jr.u.pids_peak <= 8, "pids.peak %lld <= 8",
          (long long)jr.u.pids_peak);
    dump(&jr, "pids.peak");
    dump(&jr, "pids.events");
    finish_job(&jr);
  }

  /* cgroup.kill ends a job and every process in it, forks included. */
  snprintf(script, sizeof(script),
           "#!/bin/sh\nsleep 1000 &\n(sleep 1001 &)\nsetsid sleep 1002 &\nsleep 1003\n");
  lim = (struct cg_limits){.ncpus = 1, .mem = 64 << 20};
  if (run_job(script, &lim, 700, &jr) == 0) {
    CHECK(!cg_job_populated(jr.cg), "cgroup.kill emptied the job's cgroup");
    CHECK(WIFSIGNALED(jr.status) && WTERMSIG(jr.status) == SIGKILL, "job ended by SIGKILL");
    finish_job(&jr);
  }

  /* cgroup.freeze (qsig -s suspend): a spinning job uses no CPU while
   * frozen, then goes on to its end. */
  snprintf(script, sizeof(script), "#!/bin/sh\n%s spin 1 1.5\necho done\n", self);
  jr.freeze_ms = 1000;
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(jr.froze, "cgroup.freeze froze and thawed the job");
    CHECK(jr.frozen_cpu_usec >= 0 && jr.frozen_cpu_usec < 20000,
          "no CPU used while frozen (%lld usec in 1 s)", (long long)jr.frozen_cpu_usec);
    CHECK(strstr(jr.out, "done\n") && jr.wall > 1.4, "thawed, it went on to its end (%.2f s wall)",
          jr.wall);
    finish_job(&jr);
  }
  jr.freeze_ms = 0;

  /* cpuset.cpus pins a job to its CPUs. */
  snprintf(script, sizeof(script), "#!/bin/sh\ngrep Cpus_allowed_list /proc/self/status\n");
  lim = (struct cg_limits){.ncpus = 1, .mem = 64 << 20, .cpus = "1"};
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(strstr(jr.out, "Cpus_allowed_list:\t1\n") != NULL, "cpuset.cpus pins the job to CPU 1");
    finish_job(&jr);
  }
  lim = (struct cg_limits){.ncpus = 1, .mem = 64 << 20};

  /* qsub -I: the job's terminal is its controlling terminal, in its v2
   * cgroup, and a hangup (the terminal's SIGHUP) reaches its session. */
  snprintf(script, sizeof(script),
           "#!/bin/sh\n[ -t 0 ] && [ -t 1 ] && echo on-a-tty\n"
           "read -r _ _ _ _ _ _ ctty _ < /proc/self/stat; [ \"$ctty\" != 0 ] && echo ctty\n"
           "grep -q '^0::.*/job-' /proc/self/cgroup && echo in-v2-job-cgroup\n");
  jr.on_tty = true;
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(strstr(jr.out, "on-a-tty") != NULL, "an interactive job's stdio is its terminal");
    CHECK(strstr(jr.out, "ctty") != NULL, "which is its session's controlling terminal");
    CHECK(strstr(jr.out, "in-v2-job-cgroup") != NULL, "and it runs in its v2 cgroup");
    finish_job(&jr);
  } else
    CHECK(0, "the interactive job launched on a pseudo-terminal");
  jr.on_tty = false;

  /* Devices: /dev/full is another job's. The BPF device program refuses
   * it under any name (EPERM), the private /dev leaves it out, and every
   * other device works as before. */
  dev_t full = makedev(1, 7);
  CHECK(mknod("/tmp/cg2/full-alias", S_IFCHR | 0666, full) == 0, "an alias node of /dev/full");
  snprintf(script, sizeof(script),
           "#!/bin/sh\n"
           "(exec 3< /tmp/cg2/full-alias) 2>&1 | sed 's/.*: /alias: /'\n"
           "[ -e /dev/full ] && echo full-visible || echo full-hidden\n"
           "head -c 3 /dev/zero | wc -c | sed 's/^ */zero-read:/'\n"
           "[ -c /dev/null ] && echo null-visible\n"
           "[ -d /dev/pts ] && [ -c /dev/ptmx ] && echo pts-there\n");
  jr.deny = &full;
  jr.ndeny = 1;
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(strstr(jr.out, "alias: Operation not permitted") != NULL,
          "a denied device opened by another name: EPERM from the BPF program (%s)", jr.out);
    CHECK(strstr(jr.out, "full-hidden") != NULL, "the private /dev leaves the device out");
    CHECK(strstr(jr.out, "zero-read:3") != NULL, "other devices still work");
    CHECK(strstr(jr.out, "null-visible") && strstr(jr.out, "pts-there"),
          "and the rest of /dev is there (pts, ptmx)");
    finish_job(&jr);
  } else
    CHECK(0, "the device-confined job launched");
  jr.deny = NULL;
  jr.ndeny = 0;
  unlink("/tmp/cg2/full-alias");

  /* A job whose PID 1 exits takes every process with it. */
  snprintf(script, sizeof(script), "#!/bin/sh\nsetsid sleep 1004 &\nexit 7\n");
  if (run_job(script, &lim, 0, &jr) == 0) {
    CHECK(WIFEXITED(jr.status) && WEXITSTATUS(jr.status) == 7, "exit status 7 kept");
    CHECK(!cg_job_populated(jr.cg), "no process outlives the job's main process");
    finish_job(&jr);
  }

  CHECK(rmdir(parent_dir) == 0, "job parent removable: nothing left behind");
  if (getenv("BOXQ_CG2_PARENT")) {
    char own[4096] = "";
    char *text = NULL;
    if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 4096, &text, NULL) == 0)
      snprintf(own, sizeof(own), "%s", text);
    free(text);
    CHECK(strstr(own, "/supervisor\n") != NULL,
          "under delegation the worker moved itself into a leaf: %s", strtok(own, "\n"));
  }
out:
  cg_system_close(&sys);
  printf("%d passed, %d failed, 0 skipped\n", passed, failed);
  return failed ? 1 : 0;
}
