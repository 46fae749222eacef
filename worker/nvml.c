/* SPDX-License-Identifier: MIT */
#include "nvml.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>

/* The few NVML entry points used, as its API documents them. */
typedef int nvml_return;
typedef struct nvml_device *nvml_device;
struct nvml_utilization {
  unsigned gpu, memory;
};
struct nvml_memory {
  unsigned long long total, free, used;
};

struct nvml {
  void *lib;
  nvml_return (*shutdown)(void);
  nvml_return (*count)(unsigned *);
  nvml_return (*by_index)(unsigned, nvml_device *);
  nvml_return (*minor)(nvml_device, unsigned *);
  nvml_return (*utilization)(nvml_device, struct nvml_utilization *);
  nvml_return (*memory)(nvml_device, struct nvml_memory *);
};

struct nvml *
nvml_open(const char *library) {
  if (!library || !*library)
    return NULL;
  void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return NULL;
  struct nvml *n = xcalloc(1, sizeof(*n));
  n->lib = lib;
  nvml_return (*init)(void) = (nvml_return(*)(void))dlsym(lib, "nvmlInit_v2");
  *(void **)&n->shutdown = dlsym(lib, "nvmlShutdown");
  *(void **)&n->count = dlsym(lib, "nvmlDeviceGetCount_v2");
  *(void **)&n->by_index = dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
  *(void **)&n->minor = dlsym(lib, "nvmlDeviceGetMinorNumber");
  *(void **)&n->utilization = dlsym(lib, "nvmlDeviceGetUtilizationRates");
  *(void **)&n->memory = dlsym(lib, "nvmlDeviceGetMemoryInfo");
  if (!init || !n->shutdown || !n->count || !n->by_index || !n->minor || !n->utilization ||
      !n->memory || init() != 0) {
    dlclose(lib);
    free(n);
    return NULL;
  }
  return n;
}

void
nvml_close(struct nvml *n) {
  if (!n)
    return;
  n->shutdown();
  dlclose(n->lib);
  free(n);
}

int
nvml_sample(struct nvml *n, const unsigned *minors, size_t nminors, int64_t *ret_mem_used,
            int *ret_util) {
  unsigned count = 0;
  if (n->count(&count) != 0)
    return -EIO;
  int64_t mem = 0, util = 0, found = 0;
  for (unsigned i = 0; i < count; i++) {
    nvml_device dev;
    unsigned minor_no;
    struct nvml_utilization u;
    struct nvml_memory m;
    if (n->by_index(i, &dev) != 0 || n->minor(dev, &minor_no) != 0)
      continue;
    bool held = false;
    for (size_t k = 0; k < nminors && !held; k++)
      held = minors[k] == minor_no;
    if (!held || n->utilization(dev, &u) != 0 || n->memory(dev, &m) != 0)
      continue;
    mem += (int64_t)m.used;
    util += u.gpu;
    found++;
  }
  if (!found)
    return -ENODEV;
  *ret_mem_used = mem;
  *ret_util = (int)(util / found);
  return 0;
}

void
gpu_samples_add(struct gpu_samples *s, int64_t mem_used, int util) {
  s->count++;
  s->util_sum += util;
  if (mem_used > s->mem_peak)
    s->mem_peak = mem_used;
}
