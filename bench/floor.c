/* SPDX-License-Identifier: MIT */
/* bench/floor: the physical limit for boxq's launches. Runs N trivial jobs
 * (the script "true", as boxq runs it) with exactly the isolation a boxq
 * job gets, through the same code (worker/cgroup.c, worker/launch.c): a
 * cgroup with ncpus/mem/pids limits, new pid/mount/uts/ipc namespaces, an
 * init, a session, a private /tmp (a tmpfs, or with -t disk a directory
 * made and removed as job_tmp = disk does) and /dev/shm, the user's
 * credentials, output files (kept, as a user's are), accounting read back,
 * the cgroup removed. No scheduler, no database, no worker, no shepherd.
 *
 * Usage: floor [-n jobs] [-j launchers] [-m mount] [-p parent] [-t memory|disk] [-I init]
 *              [-s script] [-l] DIR
 * init: the job init program (default: the one built beside the worker).
 * script: the jobs' script text (default "true"). -l: before each launch,
 * "begin ID NS" on stdout (CLOCK_REALTIME), for launch latencies.
 * DIR holds the script, the outputs and (-t disk) the private /tmp
 * directories. Prints "jobs wall_seconds jobs_per_second cpu_seconds"
 * (cpu: all processes). */
#include "cgroup.h"
#include "launch.h"
#include "rmtree.h"

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static double
now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* boxq-init, as the worker opens it. */
static int init_fd = -1;
static int self_pidfd = -1; /* each job's PID 1 checks it, as the shepherd's do */
static bool print_begin;    /* -l */

/* The user the jobs run as, looked up once, as boxq's worker caches it. */
struct job_user {
  uid_t uid;
  gid_t gid;
  gid_t groups[64];
  int ngroups;
};

/* One job, as a shepherd runs it. 0, or -errno with err. tmp_root NULL:
 * the job's /tmp is a tmpfs. */
static int
one_job(const struct cg_system *sys, const struct job_user *user, int64_t id, const char *dir,
        int tmp_root_fd, const char *tmp_root, int script_fd, struct berr *err) {
  char name[64];
  snprintf(name, sizeof(name), "job-%lld", (long long)id);
  if (tmp_root && mkdirat(tmp_root_fd, name, 0700) < 0)
    return berr_set(err, -errno, "mkdir tmp: %s", strerror(errno));
  struct cg_limits lim = {.ncpus = 1, .mem = INT64_C(1) << 30, .pids_max = 4096};
  struct cg_job *cg = NULL;
  int r = cg_job_create(sys, id, &lim, &cg, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *out = xasprintf("%s/floor.o%lld", dir, (long long)id);
  _cleanup_free_ char *errp = xasprintf("%s/floor.e%lld", dir, (long long)id);
  _cleanup_free_ char *tmp = tmp_root ? xasprintf("%s/%s", tmp_root, name) : NULL;
  char tmp_options[64];
  launch_tmpfs_options(lim.mem, tmp_options, sizeof(tmp_options));
  char *envp[] = {(char *)"PATH=/usr/bin:/bin", (char *)"PBS_ENVIRONMENT=PBS_BATCH", NULL};
  struct launch_spec spec = {.job_id = id,
                             .uid = user->uid,
                             .gid = user->gid,
                             .groups = user->groups,
                             .ngroups = (size_t)user->ngroups,
                             .workdir = dir,
                             .out_path = out,
                             .err_path = errp,
                             .script_fd = script_fd,
                             .envp = envp,
                             .tmp_dir = tmp,
                             .tmp_options = tmp ? NULL : tmp_options,
                             .init_fd = init_fd,
                             .parent_pidfd = self_pidfd};
  struct launched l = {.pidfd = -1, .status_fd = -1};
  if (print_begin) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    dprintf(1, "begin %lld %lld\n", (long long)id,
            (long long)ts.tv_sec * 1000000000 + (long long)ts.tv_nsec);
  }
  r = launch_job(&spec, cg, &l, err);
  if (r >= 0) {
    cg_job_open_stats(cg); /* as the shepherd does, while the job runs */
    struct pollfd p = {l.pidfd, POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
      ;
    int status;
    struct rusage ru;
    while (wait4(l.init_pid, &status, 0, &ru) < 0 && errno == EINTR)
      ;
    int32_t main_status;
    if (read(l.status_fd, &main_status, sizeof(main_status)) != sizeof(main_status) || r == 1 ||
        !WIFEXITED(main_status) || WEXITSTATUS(main_status) != 0)
      r = r == 1 ? -EIO : berr_set(err, -EIO, "job %lld did not exit 0", (long long)id);
    else
      r = 0;
    /* As the shepherd does: the namespace is gone with init; make sure
     * the cgroup is empty, then account. */
    if (cg_job_empty(cg, 5000) < 0 && r == 0)
      r = berr_set(err, -EBUSY, "job %lld: processes remain in its cgroup", (long long)id);
    struct job_usage u = {0};
    cg_job_stats(cg, &u);
    close(l.pidfd);
    close(l.status_fd);
  }
  int d = cg_job_destroy(cg);
  if (r == 0 && d < 0)
    r = berr_set(err, d, "cannot remove the cgroup: %s", strerror(-d));
  if (tmp_root)
    rmtree_at(tmp_root_fd, name);
  return r;
}

int
main(int argc, char **argv) {
  long n = 1000, launchers = 2;
  const char *mount = "/sys/fs/cgroup", *parent = NULL, *init = BOXQ_INIT_BUILT;
  const char *script_text = "true\n";
  bool disk_tmp = false;
  int o;
  while ((o = getopt(argc, argv, "n:j:m:p:t:I:s:l")) != -1) {
    switch (o) {
      case 'n':
        n = atol(optarg);
        break;
      case 'j':
        launchers = atol(optarg);
        break;
      case 'm':
        mount = optarg;
        break;
      case 'p':
        parent = optarg;
        break;
      case 'I':
        init = optarg;
        break;
      case 's':
        script_text = optarg;
        break;
      case 'l':
        print_begin = true;
        break;
      case 't':
        if (strcmp(optarg, "memory") != 0 && strcmp(optarg, "disk") != 0) {
          fprintf(stderr, "floor: -t memory or -t disk, not '%s'\n", optarg);
          return 2;
        }
        disk_tmp = strcmp(optarg, "disk") == 0;
        break;
      default:
        fprintf(stderr, "usage: floor [-n jobs] [-j launchers] [-m mount] [-p parent] "
                        "[-t memory|disk] [-I init] [-s script] [-l] DIR\n");
        return 2;
    }
  }
  if (optind + 1 != argc || n < 1 || launchers < 1 || launchers > 256 || argv[optind][0] != '/') {
    fprintf(stderr, "usage: floor [-n jobs] [-j launchers] [-m mount] [-p parent] "
                    "[-t memory|disk] [-I init] [-s script] [-l] /ABSOLUTE/DIR\n");
    return 2;
  }
  const char *dir = argv[optind];
  _cleanup_free_ char *default_parent = xasprintf("boxq-floor-%d", (int)getpid());
  if (!parent)
    parent = default_parent;
  struct berr err = {{0}};
  self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if ((init_fd = launch_open_init(init, NULL, 0, &err)) < 0) {
    fprintf(stderr, "floor: %s\n", err.msg);
    return 1;
  }
  struct cg_system sys = {.v2_parent_fd = -1};
  for (int i = 0; i < CG_V1_MAX; i++)
    sys.v1_parent_fd[i] = -1;
  if (cg_system_open(&sys, mount, "auto", parent, true, &err) < 0) {
    fprintf(stderr, "floor: %s\n", err.msg);
    return 1;
  }
  _cleanup_free_ char *script = xasprintf("%s/floor.sh", dir);
  if (write_file_atomic(script, script_text, strlen(script_text), 0755, false) < 0) {
    fprintf(stderr, "floor: cannot write %s\n", script);
    return 1;
  }
  _cleanup_free_ char *tmp_root = xasprintf("%s/tmp", dir);
  mkdir(tmp_root, 0700);
  struct job_user user = {.uid = getuid(), .gid = getgid(), .ngroups = 64};
  struct passwd *pw = getpwuid(user.uid);
  if (!pw || getgrouplist(pw->pw_name, user.gid, user.groups, &user.ngroups) < 0) {
    fprintf(stderr, "floor: cannot look up uid %u\n", (unsigned)user.uid);
    return 1;
  }

  double start = now_sec();
  pid_t pids[256];
  for (long k = 0; k < launchers; k++) {
    pids[k] = fork();
    if (pids[k] < 0) {
      perror("floor: fork");
      return 1;
    }
    if (pids[k] == 0) {
      int script_fd = open(script, O_RDONLY | O_CLOEXEC);
      int tmp_fd = open(tmp_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (script_fd < 0 || tmp_fd < 0)
        _exit(1);
      for (long i = k; i < n; i += launchers) {
        struct berr e = {{0}};
        if (one_job(&sys, &user, 1000000 + i, dir, tmp_fd, disk_tmp ? tmp_root : NULL, script_fd,
                    &e) < 0) {
          fprintf(stderr, "floor: job %ld: %s\n", i, e.msg);
          _exit(1);
        }
      }
      _exit(0);
    }
  }
  int failed = 0;
  for (long k = 0; k < launchers; k++) {
    int status;
    waitpid(pids[k], &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  double wall = now_sec() - start;
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
  unlink(script);
  rmdir(tmp_root);
  cg_system_close(&sys);
  /* The parent cgroups are ours: remove them. */
  for (int i = 0; i < CG_V1_MAX; i++) {
    _cleanup_free_ char *p = xasprintf("%s/%s/%s", mount, cg_v1_names[i], parent);
    rmdir(p);
  }
  _cleanup_free_ char *p2 = xasprintf("%s/%s", mount, parent);
  rmdir(p2);
  _cleanup_free_ char *p3 = xasprintf("%s/unified/%s", mount, parent);
  rmdir(p3);
  if (failed)
    return 1;
  printf("%ld %.3f %.1f %.3f\n", n, wall, (double)n / wall, cpu);
  return 0;
}
