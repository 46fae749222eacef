/* SPDX-License-Identifier: MIT */
#include "jobenv.h"
#include "launch.h"

#include <ctype.h>
#include <string.h>

struct envlist {
  char **v;
  size_t n;
};

static void
env_set(struct envlist *e, const char *key, size_t klen, const char *value) {
  kv_list_set(&e->v, &e->n, key, klen, value);
}

static void
env_put(struct envlist *e, const char *key, const char *value) {
  env_set(e, key, strlen(key), value);
}

static void
this_host(char *host, size_t len) {
  if (gethostname(host, len) < 0)
    snprintf(host, len, "localhost");
  host[len - 1] = '\0';
}

/* Grid Engine's job variables (qsub put SGE_O_* and the array's bounds). */
static void
sge_env(struct envlist *e, const struct job_rec *j) {
  char num[32];
  snprintf(num, sizeof(num), "%lld", (long long)(j->array_id ? j->array_id : j->id));
  env_put(e, "JOB_ID", num);
  env_put(e, "JOB_NAME", j->name);
  env_put(e, "REQUEST", j->name);
  if (j->array_id)
    snprintf(num, sizeof(num), "%lld", (long long)j->array_index);
  env_put(e, "SGE_TASK_ID", j->array_id ? num : "undefined");
  snprintf(num, sizeof(num), "%lld", (long long)j->ncpus);
  env_put(e, "NSLOTS", num);
  env_put(e, "NHOSTS", "1");
  env_put(e, "NQUEUES", "1");
  env_put(e, "QUEUE", j->queue ? j->queue : "");
  env_put(e, "ENVIRONMENT", "BATCH");
  env_put(e, "RESTARTED", j->run_count > 1 ? "1" : "0");
  env_put(e, "PE_HOSTFILE", LAUNCH_PE_HOSTFILE);
  env_put(e, "SGE_CWD_PATH", j->workdir);
}

/* Slurm's job variables (sbatch put the submit side's). */
static void
slurm_env(struct envlist *e, const struct job_rec *j, const struct passwd *pw,
          const char *server_name) {
  char num[32], host[256];
  this_host(host, sizeof(host));
  snprintf(num, sizeof(num), "%lld", (long long)j->id);
  env_put(e, "SLURM_JOB_ID", num);
  env_put(e, "SLURM_JOBID", num);
  if (j->array_id) {
    snprintf(num, sizeof(num), "%lld", (long long)j->array_id);
    env_put(e, "SLURM_ARRAY_JOB_ID", num);
    snprintf(num, sizeof(num), "%lld", (long long)j->array_index);
    env_put(e, "SLURM_ARRAY_TASK_ID", num);
  }
  env_put(e, "SLURM_JOB_NAME", j->name);
  env_put(e, "SLURM_JOB_PARTITION", j->queue ? j->queue : "");
  env_put(e, "SLURM_JOB_USER", pw->pw_name);
  snprintf(num, sizeof(num), "%lld", (long long)j->uid);
  env_put(e, "SLURM_JOB_UID", num);
  env_put(e, "SLURM_CLUSTER_NAME", server_name);
  env_put(e, "SLURM_JOB_NODELIST", host);
  env_put(e, "SLURM_NODELIST", host);
  env_put(e, "SLURMD_NODENAME", host);
  env_put(e, "SLURM_NNODES", "1");
  env_put(e, "SLURM_JOB_NUM_NODES", "1");
  snprintf(num, sizeof(num), "%lld", (long long)j->ncpus);
  env_put(e, "SLURM_CPUS_ON_NODE", num);
  env_put(e, "SLURM_JOB_CPUS_PER_NODE", num);
  snprintf(num, sizeof(num), "%lld", (long long)(j->mem >> 20));
  env_put(e, "SLURM_MEM_PER_NODE", num);
  snprintf(num, sizeof(num), "%lld", (long long)(j->run_count > 1 ? j->run_count - 1 : 0));
  env_put(e, "SLURM_RESTART_COUNT", num);
}

/* The devices the job holds (devices.h), or false. */
static bool
held_devices(const struct job_rec *j, const struct dev_table *t, struct dev_set *held) {
  return t && j->devices && *j->devices && dev_set_parse(t, j->devices, held) == 0;
}

/* Where each class's devices are (BOXQ_GPU_DEVICES=/dev/nvidia2,...) and,
 * for class gpu, what CUDA, ROCm and OpenCL read. The job sees only its
 * own devices, which these runtimes number from 0 (as in a container);
 * NVIDIA_VISIBLE_DEVICES, for container runtimes that run on the host's
 * numbering, gets the host's. */
static void
device_env(struct envlist *e, const struct job_rec *j, const struct dev_table *t) {
  struct dev_set held;
  if (!held_devices(j, t, &held))
    return;
  for (size_t c = 0; c < t->ncls; c++) {
    const struct dev_class *cls = &t->cls[c];
    size_t n = dev_set_count(&held, c);
    if (!n)
      continue;
    _cleanup_free_ char *paths = xstrdup(""), *local = xstrdup(""), *global = xstrdup("");
    size_t k = 0;
    for (size_t i = 0; i < cls->ndev; i++) {
      if (!dev_set_has(&held, c, i))
        continue;
      const char *sep = k ? "," : "";
      char *p = xasprintf("%s%s%s", paths, sep, cls->dev[i].path);
      char *l = xasprintf("%s%s%zu", local, sep, k);
      char *g = xasprintf("%s%s%zu", global, sep, i);
      free(paths);
      free(local);
      free(global);
      paths = p;
      local = l;
      global = g;
      k++;
    }
    char key[64] = "BOXQ_";
    size_t o = strlen(key);
    for (const char *q = cls->name; *q && o < sizeof(key) - 10; q++)
      key[o++] = (char)toupper((unsigned char)*q);
    snprintf(key + o, sizeof(key) - o, "_DEVICES");
    env_put(e, key, paths);
    if (strcmp(cls->name, "gpu") != 0)
      continue;
    env_put(e, "CUDA_VISIBLE_DEVICES", local);
    env_put(e, "ROCR_VISIBLE_DEVICES", local);
    env_put(e, "GPU_DEVICE_ORDINAL", local);
    env_put(e, "NVIDIA_VISIBLE_DEVICES", global);
    env_put(e, "PBS_GPUFILE", LAUNCH_GPUFILE);
    char num[32];
    snprintf(num, sizeof(num), "%zu", n);
    env_put(e, "PBS_NGPUS", num);
    if (j->dialect && !strcmp(j->dialect, "slurm")) {
      env_put(e, "SLURM_GPUS_ON_NODE", num);
      env_put(e, "SLURM_JOB_GPUS", global);
      env_put(e, "SLURM_STEP_GPUS", global);
    }
  }
}

size_t
jobenv_gpufile(const struct job_rec *j, const struct dev_table *t, char **ret) {
  struct dev_set held;
  int c = t ? dev_class_find(t, "gpu") : -1;
  *ret = NULL;
  if (c < 0 || !held_devices(j, t, &held) || !dev_set_count(&held, (size_t)c))
    return 0;
  char host[256];
  this_host(host, sizeof(host));
  char *out = xstrdup("");
  for (size_t i = 0; i < t->cls[c].ndev; i++)
    if (dev_set_has(&held, (size_t)c, i)) {
      char *more = xasprintf("%s%s-gpu%zu\n", out, host, i);
      free(out);
      out = more;
    }
  *ret = out;
  return strlen(out);
}

char **
jobenv_build(const struct job_rec *j, const struct passwd *pw, const char *server_name,
             const struct dev_table *devs) {
  struct envlist e = {0};
  env_put(&e, "HOME", pw->pw_dir);
  env_put(&e, "USER", pw->pw_name);
  env_put(&e, "LOGNAME", pw->pw_name);
  env_put(&e, "SHELL", pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
  env_put(&e, "PATH", "/usr/local/bin:/usr/bin:/bin");
  for (size_t i = 0; j->env && j->env[i]; i++) {
    const char *eq = strchr(j->env[i], '=');
    if (eq && eq != j->env[i])
      env_set(&e, j->env[i], (size_t)(eq - j->env[i]), eq + 1);
  }
  _cleanup_free_ char *id = job_display_id(j, server_name);
  char num[32];
  env_put(&e, "PBS_JOBID", id);
  env_put(&e, "PBS_O_QUEUE", j->queue ? j->queue : "");
  if (j->array_id) {
    _cleanup_free_ char *array = xasprintf("%lld[].%s", (long long)j->array_id, server_name);
    snprintf(num, sizeof(num), "%lld", (long long)j->array_index);
    env_put(&e, "PBS_ARRAY_INDEX", num);
    env_put(&e, "PBS_ARRAYID", num); /* Torque's name */
    env_put(&e, "PBS_ARRAY_ID", array);
  }
  env_put(&e, "PBS_JOBNAME", j->name);
  env_put(&e, "PBS_QUEUE", j->queue ? j->queue : "");
  env_put(&e, "PBS_ENVIRONMENT", j->interactive ? "PBS_INTERACTIVE" : "PBS_BATCH");
  env_put(&e, "PBS_JOBDIR", j->workdir);
  env_put(&e, "TMPDIR", "/tmp");
  snprintf(num, sizeof(num), "%lld", (long long)j->ncpus);
  env_put(&e, "NCPUS", num);
  env_put(&e, "PBS_NP", num);
  /* Several nodes asked (nodes=2:ppn=4) run merged here: scripts still
   * compute their task counts from nodes and CPUs per node. */
  int64_t nodes = j->nodes > 0 ? j->nodes : 1;
  int64_t per_node = j->ncpus / nodes > 0 ? j->ncpus / nodes : 1;
  snprintf(num, sizeof(num), "%lld", (long long)nodes);
  env_put(&e, "PBS_NUM_NODES", num);
  snprintf(num, sizeof(num), "%lld", (long long)per_node);
  env_put(&e, "PBS_NUM_PPN", num);
  env_put(&e, "OMP_NUM_THREADS", num);
  env_put(&e, "PBS_TASKNUM", "1");
  env_put(&e, "PBS_NODENUM", "0");
  env_put(&e, "PBS_VNODENUM", "0");
  env_put(&e, "PBS_NODEFILE", LAUNCH_NODEFILE);
  env_put(&e, "BOXQ_JOBID", id);
  if (j->dialect && !strcmp(j->dialect, "sge"))
    sge_env(&e, j);
  if (j->dialect && !strcmp(j->dialect, "slurm"))
    slurm_env(&e, j, pw, server_name);
  device_env(&e, j, devs);
  return e.v;
}

void
jobenv_free(char **env) {
  for (size_t i = 0; env && env[i]; i++)
    free(env[i]);
  free(env);
}

size_t
jobenv_pe_hostfile(const struct job_rec *j, char **ret) {
  char host[256];
  this_host(host, sizeof(host));
  /* host slots queue@host processor-range, as Grid Engine writes it */
  *ret = xasprintf("%s %lld %s@%s UNDEFINED\n", host, (long long)(j->ncpus > 0 ? j->ncpus : 1),
                   j->queue ? j->queue : "batch", host);
  return strlen(*ret);
}

size_t
jobenv_nodefile(const struct job_rec *j, char **ret) {
  char host[256];
  this_host(host, sizeof(host));
  size_t line = strlen(host) + 1, n = (size_t)(j->ncpus > 0 ? j->ncpus : 1);
  char *out = xmalloc(line * n + 1), *p = out;
  for (size_t i = 0; i < n; i++)
    p += sprintf(p, "%s\n", host);
  *ret = out;
  return (size_t)(p - out);
}
