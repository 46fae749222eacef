/* SPDX-License-Identifier: MIT */
/* cgroup v1 files (also the limits and accounting of hybrid machines):
 * cpu.cfs_quota_us, memory.limit_in_bytes (+ memsw), pids.max; usage from
 * cpuacct.usage*, memory.max_usage_in_bytes, memory.oom_control, cpu.stat
 * and pids.peak. */
#include "cg_parse.h"
#include "cgroup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <string.h>

#define CPU_PERIOD_USEC 100000

/* A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no
 * process may join it like that: give each level of parent its parent's. */
int
cg_v1__cpuset_prepare(const char *root, const char *parent, struct berr *err) {
  _cleanup_free_ char *path = xstrdup(root), *rest = xstrdup(parent);
  char *save = NULL;
  for (char *comp = strtok_r(rest, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
    _cleanup_close_ int up = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *next = xasprintf("%s/%s", path, comp);
    free(path);
    path = next;
    int r = mkdirat_mode(AT_FDCWD, path, 0755);
    if (r < 0 && r != -EEXIST)
      return berr_set(err, r, "cannot create cgroup %s: %s", path, strerror(-r));
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up < 0 || fd < 0)
      return berr_set(err, -errno, "cannot open cgroup %s: %s", path, strerror(errno));
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
      _cleanup_free_ char *mine = NULL, *theirs = NULL;
      if (read_file_at(fd, files[i], 65536, &mine, NULL) == 0 && mine[0] && mine[0] != '\n')
        continue;
      r = read_file_at(up, files[i], 65536, &theirs, NULL);
      if (r == 0)
        r = cg__write(fd, files[i], theirs);
      if (r < 0)
        return berr_set(err, r, "cannot initialize %s/%s: %s", path, files[i], strerror(-r));
    }
  }
  return 0;
}

int
cg_v1__set_limits(struct cg_job *cg, const struct cg_limits *lim, struct berr *err) {
  char buf[64];
  int r;
  if (lim->cpus && *lim->cpus) {
    int fd = cg->v1_fd[CG_V1_CPUSET];
    _cleanup_free_ char *mems = NULL;
    r = read_file_at(cg->v1_parent_fd[CG_V1_CPUSET], "cpuset.mems", 65536, &mems, NULL);
    if (r == 0)
      r = cg__write(fd, "cpuset.mems", mems);
    if (r == 0)
      r = cg__write(fd, "cpuset.cpus", lim->cpus);
    if (r < 0)
      return berr_set(err, r, "cannot pin to CPUs %s: %s", lim->cpus, strerror(-r));
  }
  if (lim->ncpus > 0) {
    /* A new cgroup's cpu.cfs_period_us is the kernel's default, 100 ms,
     * whatever its parent's: the quota is a multiple of it. */
    int fd = cg->v1_fd[CG_V1_CPU];
    snprintf(buf, sizeof(buf), "%" PRId64, lim->ncpus * CPU_PERIOD_USEC);
    if ((r = cg__write(fd, "cpu.cfs_quota_us", buf)) < 0)
      return berr_set(err, r, "cannot set cpu.cfs_quota_us: %s", strerror(-r));
  }
  if (lim->mem > 0) {
    int fd = cg->v1_fd[CG_V1_MEMORY];
    snprintf(buf, sizeof(buf), "%" PRId64, lim->mem);
    if ((r = cg__write(fd, "memory.limit_in_bytes", buf)) < 0)
      return berr_set(err, r, "cannot set memory.limit_in_bytes: %s", strerror(-r));
    /* memory+swap equal to memory: no swap. Absent without swap accounting,
     * where swappiness 0 keeps the job's pages in memory as far as it can. */
    r = cg__write(fd, "memory.memsw.limit_in_bytes", buf);
    if (r < 0 && r != -ENOENT)
      return berr_set(err, r, "cannot set memory.memsw.limit_in_bytes: %s", strerror(-r));
    if (r == -ENOENT)
      cg__write(fd, "memory.swappiness", "0");
  }
  if (lim->pids_max > 0) {
    snprintf(buf, sizeof(buf), "%" PRId64, lim->pids_max);
    if ((r = cg__write(cg->v1_fd[CG_V1_PIDS], "pids.max", buf)) < 0)
      return berr_set(err, r, "cannot set pids.max: %s", strerror(-r));
  }
  /* Exceptions to the inherited "a *:* rwm": open, read, write and mknod
   * of each device the job may not have. */
  for (size_t i = 0; i < lim->ndeny; i++) {
    snprintf(buf, sizeof(buf), "c %u:%u rwm", major(lim->deny[i]), minor(lim->deny[i]));
    if ((r = cg__write(cg->v1_fd[CG_V1_DEVICES], "devices.deny", buf)) < 0)
      return berr_set(err, r, "cannot write '%s' to devices.deny: %s", buf, strerror(-r));
  }
  return 0;
}

void
cg_v1__open_stats(struct cg_job *cg) {
  int acct = cg->v1_fd[CG_V1_CPUACCT], mem = cg->v1_fd[CG_V1_MEMORY];
  cg__keep_stat(cg, acct, "cpuacct.usage");
  cg__keep_stat(cg, acct, "cpuacct.usage_user");
  cg__keep_stat(cg, acct, "cpuacct.usage_sys");
  cg__keep_stat(cg, cg->v1_fd[CG_V1_CPU], "cpu.stat");
  cg__keep_stat(cg, mem, "memory.max_usage_in_bytes");
  cg__keep_stat(cg, mem, "memory.oom_control");
  cg__keep_stat(cg, mem, "memory.memsw.max_usage_in_bytes");
  cg__keep_stat(cg, cg->v1_fd[CG_V1_PIDS], "pids.peak");
}

void
cg_v1__stats(struct cg_job *cg, struct job_usage *u) {
  int acct = cg->v1_fd[CG_V1_CPUACCT];
  int64_t ns;
  if (acct >= 0) {
    if (cg__read_i64(cg, acct, "cpuacct.usage", &ns) == 0)
      u->cpu_usec = ns / 1000;
    if (cg__read_i64(cg, acct, "cpuacct.usage_user", &ns) == 0)
      u->user_usec = ns / 1000;
    if (cg__read_i64(cg, acct, "cpuacct.usage_sys", &ns) == 0)
      u->sys_usec = ns / 1000;
    else {
      /* Older kernels: cpuacct.stat in USER_HZ ticks. */
      int64_t user, sys;
      long hz = sysconf(_SC_CLK_TCK);
      if (hz > 0 && cg__read_keyed(cg, acct, "cpuacct.stat", "user", &user) == 0 &&
          cg__read_keyed(cg, acct, "cpuacct.stat", "system", &sys) == 0) {
        u->user_usec = user * 1000000 / hz;
        u->sys_usec = sys * 1000000 / hz;
      }
    }
  }
  /* v1 splits user/system by sampling ticks, so the parts can exceed the
   * precise total; scale them to it, as the kernel does for v2's cpu.stat
   * (cputime_adjust). */
  int64_t parts = u->user_usec + u->sys_usec;
  if (parts > 0 && u->cpu_usec > 0) {
    u->user_usec = (int64_t)((__int128)u->cpu_usec * u->user_usec / parts);
    u->sys_usec = u->cpu_usec - u->user_usec;
  }
  int cpu = cg->v1_fd[CG_V1_CPU];
  _cleanup_free_ char *stat = NULL;
  if (cpu >= 0 && cg__stat_text(cg, cpu, "cpu.stat", 65536, &stat) == 0) {
    cg_parse_keyed(stat, "nr_throttled", &u->nr_throttled);
    if (cg_parse_keyed(stat, "throttled_time", &ns) == 0)
      u->throttled_usec = ns / 1000;
  }
  int mem = cg->v1_fd[CG_V1_MEMORY];
  if (mem >= 0) {
    if (cg__read_i64(cg, mem, "memory.max_usage_in_bytes", &u->mem_peak) == 0)
      u->mem_peak_src = MEM_PEAK_KERNEL;
    cg__read_keyed(cg, mem, "memory.oom_control", "oom_kill", &u->oom_kills);
    /* memory.failcnt stays 0 through an OOM kill on current kernels (seen
     * on 6.18): limit hits are left uncounted (-1) on v1. */
    /* memory+swap peak less memory peak: what swap held at most. */
    int64_t memsw;
    if (cg__read_i64(cg, mem, "memory.memsw.max_usage_in_bytes", &memsw) == 0 &&
        u->mem_peak_src == MEM_PEAK_KERNEL)
      u->swap_peak = memsw > u->mem_peak ? memsw - u->mem_peak : 0;
  }
  if (cg->v1_fd[CG_V1_PIDS] >= 0)
    cg__read_i64(cg, cg->v1_fd[CG_V1_PIDS], "pids.peak", &u->pids_peak);
}
