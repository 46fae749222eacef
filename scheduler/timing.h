/* SPDX-License-Identifier: MIT */
/* Durations of a recurring piece of work (boxqd's scheduling passes):
 * how many, their sum and maximum, exact percentiles over the most recent
 * ones, and cumulative counts per bucket for a histogram. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TIMING_RECENT  1024
#define TIMING_BUCKETS 12

/* The buckets' upper bounds, in microseconds (the last one: +Inf). */
extern const uint64_t timing_bucket_us[TIMING_BUCKETS];

struct timing {
  uint64_t n, sum_us, max_us;
  uint64_t bucket[TIMING_BUCKETS + 1]; /* not cumulative; [TIMING_BUCKETS]: above all */
  uint32_t recent[TIMING_RECENT];      /* a ring: entry n % TIMING_RECENT is the next */
};

void timing_add(struct timing *t, uint64_t us);
/* The p-th percentile (0 < p <= 100) of the recent durations, in
 * microseconds (nearest rank); 0 before the first. */
uint64_t timing_percentile(const struct timing *t, double p);
/* The histogram as Prometheus counts it, cumulative: "100:3 250:7 ...
 * inf:9", each bucket's upper bound in microseconds and how many took at
 * most that. The caller frees it. */
char *timing_buckets_text(const struct timing *t);
