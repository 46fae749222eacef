/* SPDX-License-Identifier: MIT */
/* GPU utilisation and memory from NVIDIA's management library, where the
 * box has it: libnvidia-ml.so.1 is loaded with dlopen when a shepherd
 * first runs a job holding GPUs, never linked. Without it nothing is
 * sampled, and a job's record claims nothing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct nvml;

/* Loads and initializes the library (a name for dlopen, or a path);
 * NULL when it cannot (no NVIDIA driver: the usual case). */
struct nvml *nvml_open(const char *library);
void nvml_close(struct nvml *n);

/* One sample of the GPUs with these minor numbers (/dev/nvidiaN is minor
 * N): their memory in use, summed, and their utilisation (percent),
 * averaged. -ENODEV when none of them is known to NVML. */
int nvml_sample(struct nvml *n, const unsigned *minors, size_t nminors, int64_t *ret_mem_used,
                int *ret_util);

/* What a job's samples add up to (job_usage's gpu_* fields). */
struct gpu_samples {
  int64_t count;
  int64_t util_sum; /* percent, summed over samples */
  int64_t mem_peak; /* bytes */
};
void gpu_samples_add(struct gpu_samples *s, int64_t mem_used, int util);
