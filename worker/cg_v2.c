/* SPDX-License-Identifier: MIT */
/* cgroup v2 files: cpu.max, memory.max, memory.swap.max, pids.max; usage
 * from cpu.stat, memory.peak, memory.events, pids.peak and io.stat. */
#include "cg_parse.h"
#include "cgroup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#define CPU_PERIOD_USEC 100000

/* cpu, memory, pids are required; io and cpuset are used where present. */
static const char *const wanted_controllers[] = {"cpu", "memory", "pids", "io", "cpuset"};

/* Enables the controllers in every cgroup from the root down to parent's
 * own subtree_control, so that job cgroups below parent get them. */
int
cg_v2__enable_controllers(int root_fd, const char *parent, struct berr *err) {
  _cleanup_free_ char *avail = NULL;
  int r = read_file_at(root_fd, "cgroup.controllers", 4096, &avail, NULL);
  if (r < 0)
    return berr_set(err, r, "cannot read cgroup.controllers: %s", strerror(-r));
  for (size_t i = 0; i < 3; i++) /* cpu, memory, pids are required */
    if (!cg_list_has(avail, wanted_controllers[i]))
      return berr_set(err, -ENOTSUP,
                      "the cgroup v2 controller '%s' is not available (cgroup.controllers: %s)",
                      wanted_controllers[i], avail);
  /* Walk root -> parent, creating and enabling as we go. Only controllers
   * still missing are written: levels above a delegated subtree are not
   * ours to change, and there they are enabled already. */
  _cleanup_free_ char *path = xstrdup(parent);
  _cleanup_close_ int fd = dup(root_fd);
  if (fd < 0)
    return -errno;
  char *save = NULL;
  for (char *comp = strtok_r(path, "/", &save);; comp = strtok_r(NULL, "/", &save)) {
    _cleanup_free_ char *have = NULL;
    char missing[64] = "";
    if (read_file_at(fd, "cgroup.subtree_control", 4096, &have, NULL) < 0)
      have = xstrdup("");
    for (size_t i = 0; i < ARRAY_SIZE(wanted_controllers); i++)
      if (cg_list_has(avail, wanted_controllers[i]) && !cg_list_has(have, wanted_controllers[i])) {
        strcat(missing, "+");
        strcat(missing, wanted_controllers[i]);
        strcat(missing, " ");
      }
    r = missing[0] ? cg__write(fd, "cgroup.subtree_control", missing) : 0;
    if (r < 0)
      return berr_set(err, r,
                      "cannot enable controllers (%s) in the cgroup above %s: %s "
                      "(is boxq-worker itself in that cgroup? move it to a leaf)",
                      missing, comp ? comp : parent, strerror(-r));
    if (!comp)
      break;
    r = mkdirat_mode(fd, comp, 0755);
    if (r < 0 && r != -EEXIST)
      return berr_set(err, r, "cannot create cgroup %s: %s", comp, strerror(-r));
    int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (next < 0)
      return berr_set(err, -errno, "cannot open cgroup %s: %s", comp, strerror(errno));
    close(fd);
    fd = next;
  }
  return 0;
}

int
cg_v2__set_limits(int fd, const struct cg_limits *lim, struct berr *err) {
  char buf[64];
  int r;
  if (lim->ncpus > 0) {
    snprintf(buf, sizeof(buf), "%" PRId64 " %d", lim->ncpus * CPU_PERIOD_USEC, CPU_PERIOD_USEC);
    if ((r = cg__write(fd, "cpu.max", buf)) < 0)
      return berr_set(err, r, "cannot set cpu.max: %s", strerror(-r));
  }
  if (lim->mem > 0) {
    snprintf(buf, sizeof(buf), "%" PRId64, lim->mem);
    if ((r = cg__write(fd, "memory.max", buf)) < 0)
      return berr_set(err, r, "cannot set memory.max: %s", strerror(-r));
    /* No swap for jobs: a job over its memory is killed, not slowed to a
     * crawl. The file is absent without swap accounting. */
    r = cg__write(fd, "memory.swap.max", "0");
    if (r < 0 && r != -ENOENT)
      return berr_set(err, r, "cannot set memory.swap.max: %s", strerror(-r));
  }
  if (lim->pids_max > 0) {
    snprintf(buf, sizeof(buf), "%" PRId64, lim->pids_max);
    if ((r = cg__write(fd, "pids.max", buf)) < 0)
      return berr_set(err, r, "cannot set pids.max: %s", strerror(-r));
  }
  if (lim->cpus && *lim->cpus && (r = cg__write(fd, "cpuset.cpus", lim->cpus)) < 0)
    return berr_set(err, r, "cannot pin to CPUs %s (cpuset.cpus): %s", lim->cpus, strerror(-r));
  return 0;
}

void
cg_v2__open_stats(struct cg_job *cg) {
  static const char *const files[] = {"cpu.stat",         "memory.peak", "memory.events",
                                      "memory.swap.peak", "pids.peak",   "io.stat"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++)
    cg__keep_stat(cg, cg->v2_fd, files[i]);
}

void
cg_v2__stats(struct cg_job *cg, struct job_usage *u) {
  int fd = cg->v2_fd;
  _cleanup_free_ char *cpu = NULL;
  if (cg__stat_text(cg, fd, "cpu.stat", 65536, &cpu) == 0) {
    cg_parse_keyed(cpu, "usage_usec", &u->cpu_usec);
    cg_parse_keyed(cpu, "user_usec", &u->user_usec);
    cg_parse_keyed(cpu, "system_usec", &u->sys_usec);
    cg_parse_keyed(cpu, "nr_throttled", &u->nr_throttled);
    cg_parse_keyed(cpu, "throttled_usec", &u->throttled_usec);
  }
  if (cg->v2_has_peak && cg__read_i64(cg, fd, "memory.peak", &u->mem_peak) == 0)
    u->mem_peak_src = MEM_PEAK_KERNEL;
  _cleanup_free_ char *events = NULL;
  if (cg__stat_text(cg, fd, "memory.events", 4096, &events) == 0) {
    cg_parse_keyed(events, "oom_kill", &u->oom_kills);
    cg_parse_keyed(events, "oom", &u->oom_events);
    cg_parse_keyed(events, "max", &u->mem_max_events);
  }
  /* memory.swap.peak exists from 6.5; without it only the current use. */
  if (cg__read_i64(cg, fd, "memory.swap.peak", &u->swap_peak) < 0)
    cg__read_i64(cg, fd, "memory.swap.current", &u->swap_peak);
  cg__read_i64(cg, fd, "pids.peak", &u->pids_peak);
  _cleanup_free_ char *io = NULL;
  if (cg__stat_text(cg, fd, "io.stat", 65536, &io) == 0)
    cg_parse_io_stat(io, &u->io_rbytes, &u->io_wbytes);
}

/* ---- device confinement: a BPF_PROG_TYPE_CGROUP_DEVICE program ---- */

static struct bpf_insn
insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

int
cg_v2__deny_devices(int fd, const dev_t *deny, size_t n, struct berr *err) {
  if (n > 4096)
    return berr_set(err, -E2BIG, "%zu devices to deny; at most 4096", n);
  size_t cap = 7 + 4 * n;
  struct bpf_insn *prog = xcalloc(cap, sizeof(*prog));
  size_t k = 0;
  /* r2 = the device's type (access_type's low 16 bits), r3 major, r4 minor */
  prog[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
  prog[k++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  prog[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 4, 0);
  prog[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 8, 0);
  /* not a character device: allowed (as far as this program goes) */
  prog[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, (int16_t)(4 * n), BPF_DEVCG_DEV_CHAR);
  for (size_t i = 0; i < n; i++) {
    prog[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 3, (int32_t)major(deny[i]));
    prog[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 2, (int32_t)minor(deny[i]));
    prog[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
    prog[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  prog[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
  prog[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  static char license[] = "GPL";
  union bpf_attr load = {0};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = (uint32_t)k;
  load.insns = (uint64_t)(uintptr_t)prog;
  load.license = (uint64_t)(uintptr_t)license;
  int prog_fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  int r = prog_fd < 0 ? -errno : 0;
  free(prog);
  if (r < 0)
    return berr_set(err, r, "cannot load the job's device program (bpf): %s", strerror(-r));
  union bpf_attr attach = {0};
  attach.target_fd = (uint32_t)fd;
  attach.attach_bpf_fd = (uint32_t)prog_fd;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
    r = -errno;
  close(prog_fd); /* the cgroup holds the program now, until it is removed */
  if (r < 0)
    return berr_set(err, r, "cannot attach the job's device program to its cgroup: %s",
                    strerror(-r));
  return 0;
}
