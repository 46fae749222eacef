/* SPDX-License-Identifier: MIT */
/* A stand-in for NVIDIA's libnvidia-ml.so.1 on a machine without a GPU,
 * for the worker's NVML sampling (worker/nvml.c), loaded through the
 * same dlopen: 16 GPUs, GPU i with minor number i, (i % 10) * 10 percent
 * busy and i + 1 GiB of memory in use. The entry points and their
 * arguments are NVML's documented ones. */
#include <stddef.h>

typedef int nvml_return;
struct nvml_utilization {
  unsigned gpu, memory;
};
struct nvml_memory {
  unsigned long long total, free, used;
};

nvml_return nvmlInit_v2(void);
nvml_return nvmlShutdown(void);
nvml_return nvmlDeviceGetCount_v2(unsigned *count);
nvml_return nvmlDeviceGetHandleByIndex_v2(unsigned i, void **dev);
nvml_return nvmlDeviceGetMinorNumber(void *dev, unsigned *minor);
nvml_return nvmlDeviceGetUtilizationRates(void *dev, struct nvml_utilization *u);
nvml_return nvmlDeviceGetMemoryInfo(void *dev, struct nvml_memory *m);

#define NGPUS 16
static int devices[NGPUS];
static int initialized;

nvml_return
nvmlInit_v2(void) {
  initialized = 1;
  return 0;
}

nvml_return
nvmlShutdown(void) {
  initialized = 0;
  return 0;
}

nvml_return
nvmlDeviceGetCount_v2(unsigned *count) {
  *count = NGPUS;
  return initialized ? 0 : 1;
}

nvml_return
nvmlDeviceGetHandleByIndex_v2(unsigned i, void **dev) {
  if (i >= NGPUS)
    return 2;
  *dev = &devices[i];
  return 0;
}

static unsigned
index_of(void *dev) {
  return (unsigned)((int *)dev - devices);
}

nvml_return
nvmlDeviceGetMinorNumber(void *dev, unsigned *minor) {
  *minor = index_of(dev);
  return 0;
}

nvml_return
nvmlDeviceGetUtilizationRates(void *dev, struct nvml_utilization *u) {
  u->gpu = index_of(dev) % 10 * 10;
  u->memory = 0;
  return 0;
}

nvml_return
nvmlDeviceGetMemoryInfo(void *dev, struct nvml_memory *m) {
  m->total = 80ull << 30;
  m->used = (unsigned long long)(index_of(dev) + 1) << 30;
  m->free = m->total - m->used;
  return 0;
}
