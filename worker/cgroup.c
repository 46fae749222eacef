/* SPDX-License-Identifier: MIT */
#include "cgroup.h"

#include "cg_parse.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

const char *const cg_v1_names[CG_V1_MAX] = {"cpu",  "cpuacct", "memory",
                                            "pids", "cpuset",  "devices"};

const char *
cg_mode_name(enum cg_mode m) {
  switch (m) {
    case CG_MODE_V2:
      return "v2";
    case CG_MODE_V1:
      return "v1";
    case CG_MODE_HYBRID:
      return "hybrid";
    case CG_MODE_NONE:
      break;
  }
  return "none";
}

void
cg__keep_stat(struct cg_job *cg, int dirfd, const char *file) {
  if (dirfd < 0 || cg->nstats == CG_STAT_FILES_MAX)
    return;
  int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  cg->stats[cg->nstats++] = (struct cg_stat_file){.name = file, .fd = fd < 0 ? -errno : fd};
}

int
cg__stat_text(struct cg_job *cg, int dirfd, const char *file, size_t max, char **ret) {
  for (int i = 0; i < cg->nstats; i++)
    if (strcmp(cg->stats[i].name, file) == 0)
      return cg->stats[i].fd < 0 ? cg->stats[i].fd : read_kernfs_fd(cg->stats[i].fd, max, ret);
  return read_file_at(dirfd, file, max, ret, NULL);
}

int
cg__read_i64(struct cg_job *cg, int dirfd, const char *file, int64_t *ret) {
  _cleanup_free_ char *text = NULL;
  int r = cg__stat_text(cg, dirfd, file, 4096, &text);
  return r < 0 ? r : cg_parse_single(text, ret);
}

int
cg__read_keyed(struct cg_job *cg, int dirfd, const char *file, const char *key, int64_t *ret) {
  _cleanup_free_ char *text = NULL;
  int r = cg__stat_text(cg, dirfd, file, 65536, &text);
  return r < 0 ? r : cg_parse_keyed(text, key, ret);
}

static void
close_stats(struct cg_job *cg) {
  for (int i = 0; i < cg->nstats; i++)
    if (cg->stats[i].fd >= 0)
      close(cg->stats[i].fd);
  cg->nstats = 0;
}

int
cg__write(int dirfd, const char *file, const char *value) {
  return write_file_at(dirfd, file, value, strlen(value));
}

int
cg_detect(const char *mount, enum cg_mode *ret, struct berr *err) {
  struct statfs fs;
  if (statfs(mount, &fs) < 0)
    return berr_set(err, -errno, "cannot examine %s: %s", mount, strerror(errno));
  if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    *ret = CG_MODE_V2;
    return 0;
  }
  if (fs.f_type != TMPFS_MAGIC)
    return berr_set(err, -ENOMEDIUM, "%s is not a cgroup file system", mount);
  _cleanup_free_ char *unified = xasprintf("%s/unified", mount);
  _cleanup_free_ char *memory = xasprintf("%s/memory", mount);
  bool has_v1 = statfs(memory, &fs) == 0 && fs.f_type == CGROUP_SUPER_MAGIC;
  bool has_unified = statfs(unified, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  if (!has_v1)
    return berr_set(err, -ENOMEDIUM, "no cgroup v1 memory controller under %s and no cgroup v2",
                    mount);
  *ret = has_unified ? CG_MODE_HYBRID : CG_MODE_V1;
  return 0;
}

static int
open_dir(const char *path) {
  return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* mkdir -p of parent below a hierarchy root, then an fd on it. */
static int
open_parent(const char *root, const char *parent, bool create, struct berr *err) {
  _cleanup_free_ char *path = xasprintf("%s/%s", root, parent);
  if (create) {
    int r = mkdir_p(path, 0755);
    if (r < 0)
      return berr_set(err, r, "cannot create cgroup %s: %s", path, strerror(-r));
  }
  int fd = open_dir(path);
  if (fd < 0)
    return berr_set(err, -errno, "cannot open cgroup %s: %s", path, strerror(errno));
  return fd;
}

void
cg_system_close(struct cg_system *sys) {
  if (!sys->mount)
    return; /* never opened: its descriptors are not set */
  closep(&sys->v2_parent_fd);
  for (int i = 0; i < CG_V1_MAX; i++)
    closep(&sys->v1_parent_fd[i]);
  free(sys->mount);
  free(sys->parent);
  *sys = (struct cg_system){.v2_parent_fd = -1};
  for (int i = 0; i < CG_V1_MAX; i++)
    sys->v1_parent_fd[i] = -1;
}

int
cg_system_lock(const struct cg_system *sys) {
  int dir = sys->v2_parent_fd;
  for (int i = 0; dir < 0 && i < CG_V1_MAX; i++)
    dir = sys->v1_parent_fd[i];
  if (dir < 0)
    return -ENOENT;
  /* A description of its own: the shepherds inherit the parents' fds,
   * and would keep a lock taken on them after the worker is gone. */
  return lock_dir_at(dir, ".");
}

/* The process's own v2 cgroup, without the leading '/' ("" for the root). */
static int
own_v2_cgroup(char *buf, size_t len) {
  _cleanup_free_ char *text = NULL;
  int r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &text, NULL);
  if (r < 0)
    return r;
  char path[4096];
  r = cg_parse_proc_cgroup(text, NULL, path, sizeof(path));
  if (r < 0)
    return r;
  snprintf(buf, len, "%s", path[0] == '/' ? path + 1 : path);
  return 0;
}

/* Under delegation (systemd Delegate=yes) the worker sits in the cgroup it
 * was given, which must hold no process once it has children with
 * controllers: move ourselves into a leaf, OWN/supervisor. Shepherds are
 * started from there too. */
static int
leave_inner_node(const char *root, const char *own, const char *parent, struct berr *err) {
  size_t n = strlen(own);
  if (n == 0 || strncmp(parent, own, n) != 0 || parent[n] != '/')
    return 0; /* we are not above the jobs: nothing to do */
  _cleanup_free_ char *leaf = xasprintf("%s/%s/supervisor", root, own);
  int r = mkdirat_mode(AT_FDCWD, leaf, 0755);
  if (r < 0 && r != -EEXIST)
    return berr_set(err, r, "cannot create %s: %s", leaf, strerror(-r));
  _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", leaf);
  r = write_file_at(AT_FDCWD, procs, "0", 1);
  if (r < 0)
    return berr_set(err, r, "cannot move the worker into %s: %s", leaf, strerror(-r));
  return 0;
}

int
cg_system_open(struct cg_system *sys, const char *mount, const char *mode, const char *parent_cfg,
               bool prepare, struct berr *err) {
  *sys = (struct cg_system){.v2_parent_fd = -1};
  for (int i = 0; i < CG_V1_MAX; i++)
    sys->v1_parent_fd[i] = -1;
  enum cg_mode detected;
  int r = cg_detect(mount, &detected, err);
  if (r < 0)
    return r;
  enum cg_mode want = detected;
  if (streq(mode, "v2"))
    want = CG_MODE_V2;
  else if (streq(mode, "v1"))
    want = CG_MODE_V1;
  else if (streq(mode, "hybrid"))
    want = CG_MODE_HYBRID;
  if (want != detected && !(want == CG_MODE_V1 && detected == CG_MODE_HYBRID))
    return berr_set(err, -EINVAL, "cgroup_mode = %s, but %s is %s", mode, mount,
                    cg_mode_name(detected));
  /* "./jobs": below the worker's own cgroup, as a systemd unit with
   * Delegate=yes wants it. */
  _cleanup_free_ char *parent = NULL;
  char own[4096] = "";
  if (strncmp(parent_cfg, "./", 2) == 0) {
    if (want != CG_MODE_V2)
      return berr_set(err, -EINVAL,
                      "cgroup_parent '%s' (relative to the worker's own cgroup) "
                      "needs pure cgroup v2",
                      parent_cfg);
    if ((r = own_v2_cgroup(own, sizeof(own))) < 0)
      return berr_set(err, r, "cannot read /proc/self/cgroup: %s", strerror(-r));
    parent = own[0] ? xasprintf("%s/%s", own, parent_cfg + 2) : xstrdup(parent_cfg + 2);
  } else
    parent = xstrdup(parent_cfg);
  if (prepare && want == CG_MODE_V2) {
    if (!own[0] && (r = own_v2_cgroup(own, sizeof(own))) < 0)
      own[0] = '\0';
    if ((r = leave_inner_node(mount, own, parent, err)) < 0)
      return r;
  }
  sys->mode = want;
  sys->mount = xstrdup(mount);
  sys->parent = xstrdup(parent);
  if (want == CG_MODE_V2 || want == CG_MODE_HYBRID) {
    _cleanup_free_ char *root =
        want == CG_MODE_V2 ? xstrdup(mount) : xasprintf("%s/unified", mount);
    if (want == CG_MODE_V2 && prepare) {
      _cleanup_close_ int root_fd = open_dir(root);
      if (root_fd < 0)
        r = berr_set(err, -errno, "cannot open %s: %s", root, strerror(errno));
      else
        r = cg_v2__enable_controllers(root_fd, parent, err);
      if (r < 0)
        goto fail;
    }
    r = open_parent(root, parent, prepare, err);
    if (r < 0)
      goto fail;
    sys->v2_parent_fd = r;
  }
  if (want == CG_MODE_V1 || want == CG_MODE_HYBRID) {
    for (int i = 0; i < CG_V1_MAX; i++) {
      _cleanup_free_ char *root = xasprintf("%s/%s", mount, cg_v1_names[i]);
      if (i == CG_V1_DEVICES && access(root, F_OK) != 0)
        continue; /* optional: only device confinement needs it */
      if (i == CG_V1_CPUSET) {
        if (access(root, F_OK) != 0)
          continue; /* optional: only pinning needs it */
        if (prepare && (r = cg_v1__cpuset_prepare(root, parent, err)) < 0)
          goto fail;
      }
      r = open_parent(root, parent, prepare, err);
      if (r < 0)
        goto fail;
      sys->v1_parent_fd[i] = r;
    }
  }
  return 0;
fail:
  cg_system_close(sys);
  return r;
}

static struct cg_job *
job_new(const struct cg_system *sys, int64_t id) {
  struct cg_job *cg = xcalloc(1, sizeof(*cg));
  cg->mode = sys->mode;
  cg->name = xasprintf("job-%lld", (long long)id);
  cg->path = xasprintf("%s/%s", sys->parent, cg->name);
  cg->v2_parent_fd = sys->v2_parent_fd;
  cg->v2_fd = -1;
  for (int i = 0; i < CG_V1_MAX; i++) {
    cg->v1_parent_fd[i] = sys->v1_parent_fd[i];
    cg->v1_fd[i] = -1;
  }
  return cg;
}

void
cg_job_free(struct cg_job *cg) {
  if (!cg)
    return;
  close_stats(cg);
  closep(&cg->v2_fd);
  for (int i = 0; i < CG_V1_MAX; i++)
    closep(&cg->v1_fd[i]);
  free(cg->name);
  free(cg->path);
  free(cg);
}

/* Opens every directory of the job that exists; -ENOENT if none does. */
static int
job_open_dirs(struct cg_job *cg) {
  bool any = false;
  if (cg->v2_parent_fd >= 0) {
    cg->v2_fd = openat(cg->v2_parent_fd, cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    any |= cg->v2_fd >= 0;
  }
  for (int i = 0; i < CG_V1_MAX; i++)
    if (cg->v1_parent_fd[i] >= 0) {
      cg->v1_fd[i] = openat(cg->v1_parent_fd[i], cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      any |= cg->v1_fd[i] >= 0;
    }
  return any ? 0 : -ENOENT;
}

int
cg_job_open(const struct cg_system *sys, int64_t id, struct cg_job **ret) {
  struct cg_job *cg = job_new(sys, id);
  int r = job_open_dirs(cg);
  if (r < 0) {
    cg_job_free(cg);
    return r;
  }
  *ret = cg;
  return 0;
}

static int
mkdir_job(int parent_fd, const char *name, int *ret_fd) {
  if (mkdirat(parent_fd, name, 0755) < 0)
    return -errno;
  *ret_fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*ret_fd >= 0)
    return 0;
  int r = -errno;
  unlinkat(parent_fd, name, AT_REMOVEDIR); /* only what is open is removed later */
  return r;
}

static int
create_dirs(struct cg_job *cg, bool pinned, bool devices, struct berr *err) {
  int r;
  if (cg->v2_parent_fd >= 0 && (r = mkdir_job(cg->v2_parent_fd, cg->name, &cg->v2_fd)) < 0)
    return berr_set(err, r, "cannot create cgroup %s (v2): %s", cg->path, strerror(-r));
  for (int i = 0; i < CG_V1_MAX; i++) {
    if (cg->v1_parent_fd[i] < 0 || (i == CG_V1_CPUSET && !pinned) ||
        (i == CG_V1_DEVICES && !devices))
      continue;
    r = mkdir_job(cg->v1_parent_fd[i], cg->name, &cg->v1_fd[i]);
    /* cpu and cpuacct are often one hierarchy mounted twice. */
    if (r == -EEXIST && i == CG_V1_CPUACCT && cg->v1_fd[CG_V1_CPU] >= 0) {
      cg->v1_fd[i] = openat(cg->v1_parent_fd[i], cg->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      r = cg->v1_fd[i] < 0 ? -errno : 0;
    }
    if (r < 0)
      return berr_set(err, r, "cannot create cgroup %s (%s): %s", cg->path, cg_v1_names[i],
                      strerror(-r));
  }
  return 0;
}

int
cg_job_create(const struct cg_system *sys, int64_t id, const struct cg_limits *lim,
              struct cg_job **ret, struct berr *err) {
  bool pinned = lim->cpus && *lim->cpus;
  if (pinned && sys->mode != CG_MODE_V2 && sys->v1_parent_fd[CG_V1_CPUSET] < 0)
    return berr_set(err, -ENOTSUP, "CPU pinning needs the cpuset controller, not mounted here");
  bool devices = lim->ndeny > 0;
  if (devices && sys->mode != CG_MODE_V2 && sys->v1_parent_fd[CG_V1_DEVICES] < 0)
    return berr_set(
        err, -ENOTSUP,
        "device confinement needs the devices controller (cgroup v1), not mounted here");
  struct cg_job *cg = job_new(sys, id);
  int r = create_dirs(cg, pinned, devices, err);
  if (r == -EEXIST) {
    /* A leftover of the same name is ours (the instance's cgroup is
     * locked by its worker: no other instance makes jobs here) and dead
     * (a job is dispatched again only once its run has ended): a job
     * that died with its machine or supervisor. Empty it, start clean. */
    cg_job_destroy(cg);
    struct cg_job *stale = NULL;
    if (cg_job_open(sys, id, &stale) == 0) {
      cg_job_empty(stale, 2000);
      cg_job_destroy(stale);
    }
    cg = job_new(sys, id);
    r = create_dirs(cg, pinned, devices, err);
  }
  if (r == 0 && cg->mode == CG_MODE_V2)
    r = cg_v2__set_limits(cg->v2_fd, lim, err);
  if (r == 0 && cg->mode == CG_MODE_V2 && devices)
    r = cg_v2__deny_devices(cg->v2_fd, lim->deny, lim->ndeny, err);
  if (r == 0 && (cg->mode == CG_MODE_V1 || cg->mode == CG_MODE_HYBRID))
    r = cg_v1__set_limits(cg, lim, err);
  if (r < 0) {
    cg_job_destroy(cg);
    return r;
  }
  if (cg->mode == CG_MODE_V2)
    cg->v2_has_peak = faccessat(cg->v2_fd, "memory.peak", R_OK, 0) == 0;
  *ret = cg;
  return 0;
}

int
cg_job_enter(const struct cg_job *cg, const char **where) {
  int r;
  *where = "cgroup2";
  if (cg->v2_fd >= 0 && (r = cg__write(cg->v2_fd, "cgroup.procs", "0")) < 0)
    return r;
  for (int i = 0; i < CG_V1_MAX; i++) {
    if (cg->v1_fd[i] < 0)
      continue;
    *where = cg_v1_names[i];
    if ((r = cg__write(cg->v1_fd[i], "cgroup.procs", "0")) < 0)
      return r;
  }
  return 0;
}

int64_t
cg_job_mem_current(struct cg_job *cg) {
  int64_t cur;
  int r = -ENOENT;
  if (cg->mode == CG_MODE_V2)
    r = cg__read_i64(cg, cg->v2_fd, "memory.current", &cur);
  else if (cg->v1_fd[CG_V1_MEMORY] >= 0)
    r = cg__read_i64(cg, cg->v1_fd[CG_V1_MEMORY], "memory.usage_in_bytes", &cur);
  return r == 0 ? cur : -1;
}

void
cg_job_sample(struct cg_job *cg) {
  int64_t cur = cg_job_mem_current(cg);
  if (cur > cg->mem_sampled_peak)
    cg->mem_sampled_peak = cur;
}

/* The directory whose cgroup.procs lists every process of the job. */
static int
procs_fd(const struct cg_job *cg) {
  if (cg->v2_fd >= 0)
    return cg->v2_fd;
  for (int i = 0; i < CG_V1_MAX; i++)
    if (cg->v1_fd[i] >= 0)
      return cg->v1_fd[i];
  return -1;
}

static int
kill_listed(int dirfd) {
  _cleanup_free_ char *text = NULL;
  int r = read_file_at(dirfd, "cgroup.procs", 1 << 22, &text, NULL);
  if (r < 0)
    return r;
  int n = 0;
  for (char *p = text, *end; *p; p = end) {
    long pid = strtol(p, &end, 10);
    if (end == p)
      break;
    if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
      n++;
  }
  return n;
}

int
cg_job_kill(struct cg_job *cg) {
  /* cgroup.kill (Linux 5.14) kills atomically, forks included; it exists in
   * the controller-less v2 tree of hybrid machines too. */
  if (cg->v2_fd >= 0 && cg__write(cg->v2_fd, "cgroup.kill", "1") == 0)
    return 0;
  int fd = procs_fd(cg);
  if (fd < 0)
    return -ENOENT;
  /* Without cgroup.kill: kill what is listed until a pass finds nobody. A
   * job in its own PID namespace cannot outrun this: once its init is gone
   * nothing in it can fork. */
  for (int pass = 0; pass < 100; pass++) {
    int n = kill_listed(fd);
    if (n <= 0)
      return n < 0 ? n : 0;
  }
  return -EAGAIN;
}

bool
cg_job_populated(struct cg_job *cg) {
  _cleanup_free_ char *text = NULL;
  bool populated = false;
  if (cg->v2_fd >= 0 && read_file_at(cg->v2_fd, "cgroup.events", 4096, &text, NULL) == 0 &&
      cg_parse_populated(text, &populated) == 0)
    return populated;
  int fd = procs_fd(cg);
  if (fd < 0)
    return false;
  free(text);
  text = NULL;
  if (read_file_at(fd, "cgroup.procs", 1 << 22, &text, NULL) < 0)
    return false;
  return text[0] != '\0';
}

static void
sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

int
cg_job_empty(struct cg_job *cg, int timeout_ms) {
  /* A bounded retry for a kernel race, the one polling boxq allows: tasks
   * leave cgroup.procs shortly after they are reaped. */
  for (int waited = 0; waited <= timeout_ms; waited += 5) {
    if (!cg_job_populated(cg)) {
      cg->emptied = true;
      return 0;
    }
    cg_job_kill(cg);
    sleep_ms(5);
  }
  return -ETIMEDOUT;
}

void
cg_job_open_stats(struct cg_job *cg) {
  if (cg->nstats)
    return;
  if (cg->mode == CG_MODE_V2)
    cg_v2__open_stats(cg);
  else
    cg_v1__open_stats(cg);
}

void
cg_job_stats(struct cg_job *cg, struct job_usage *u) {
  snprintf(u->cg_backend, sizeof(u->cg_backend), "%s", cg_mode_name(cg->mode));
  u->io_rbytes = u->io_wbytes = -1;
  u->oom_events = u->mem_max_events = u->swap_peak = -1;
  u->final = true;
  u->mem_now = cg_job_mem_current(cg);
  if (cg->mode == CG_MODE_V2)
    cg_v2__stats(cg, u);
  else
    cg_v1__stats(cg, u);
  if (u->mem_peak_src == MEM_PEAK_NONE && cg->mem_sampled_peak > 0) {
    u->mem_peak = cg->mem_sampled_peak;
    u->mem_peak_src = MEM_PEAK_SAMPLED;
  }
}

int
cg_job_freeze(struct cg_job *cg, bool frozen) {
  /* cgroup.freeze is cgroup v2's own file: there in hybrid mode's
   * controller-less tree too. */
  if (cg->v2_fd < 0)
    return -ENOTSUP;
  return cg__write(cg->v2_fd, "cgroup.freeze", frozen ? "1" : "0");
}

int64_t
cg_job_cpu_usec(struct cg_job *cg) {
  int64_t usec = -1;
  if (cg->mode == CG_MODE_V2) {
    _cleanup_free_ char *cpu = NULL;
    if (cg__stat_text(cg, cg->v2_fd, "cpu.stat", 65536, &cpu) == 0)
      cg_parse_keyed(cpu, "usage_usec", &usec);
  } else {
    int64_t ns;
    if (cg->v1_fd[CG_V1_CPUACCT] >= 0 &&
        cg__read_i64(cg, cg->v1_fd[CG_V1_CPUACCT], "cpuacct.usage", &ns) == 0)
      usec = ns / 1000;
  }
  return usec;
}

/* 0 once removed (or gone), -EBUSY while the kernel still holds it. */
static int
remove_dir(int parent_fd, const char *name) {
  if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  return -errno;
}

int
cg_job_remove(struct cg_job *cg) {
  /* Only the directories the job has (open): a job that is not pinned has
   * no cpuset one. They are closed once, and each removed one is
   * forgotten, so that a later try touches only what is left. */
  if (!cg->closing) {
    cg->closing = true;
    close_stats(cg);
    cg->v2_left = cg->v2_fd >= 0;
    closep(&cg->v2_fd);
    for (int i = 0; i < CG_V1_MAX; i++) {
      cg->v1_left[i] = cg->v1_fd[i] >= 0;
      closep(&cg->v1_fd[i]);
    }
  }
  int r = 0, q;
  if (cg->v2_left && (q = remove_dir(cg->v2_parent_fd, cg->name)) < 0)
    r = q;
  else
    cg->v2_left = false;
  for (int i = 0; i < CG_V1_MAX; i++) {
    if (cg->v1_left[i] && (q = remove_dir(cg->v1_parent_fd[i], cg->name)) < 0)
      r = r == -EBUSY || r == 0 ? q : r;
    else
      cg->v1_left[i] = false;
  }
  return r;
}

int
cg_job_destroy(struct cg_job *cg) {
  if (!cg)
    return 0;
  if (!cg->emptied && cg_job_populated(cg))
    cg_job_empty(cg, 2000);
  int r = cg_job_remove(cg);
  for (int attempt = 0; attempt < 200 && r == -EBUSY; attempt++) {
    sleep_ms(5);
    r = cg_job_remove(cg);
  }
  cg_job_free(cg);
  return r;
}
