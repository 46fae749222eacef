/* SPDX-License-Identifier: MIT */
#include "timing.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const uint64_t timing_bucket_us[TIMING_BUCKETS] = {100,   250,   500,   1000,   2500,   5000,
                                                   10000, 25000, 50000, 100000, 250000, 1000000};

void
timing_add(struct timing *t, uint64_t us) {
  t->recent[t->n % TIMING_RECENT] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  t->n++;
  t->sum_us += us;
  if (us > t->max_us)
    t->max_us = us;
  size_t b = 0;
  while (b < TIMING_BUCKETS && us > timing_bucket_us[b])
    b++;
  t->bucket[b]++;
}

char *
timing_buckets_text(const struct timing *t) {
  char *text = xstrdup("");
  uint64_t sum = 0;
  for (size_t b = 0; b <= TIMING_BUCKETS; b++) {
    sum += t->bucket[b];
    char *old = text;
    if (b < TIMING_BUCKETS)
      text = xasprintf("%s%llu:%llu ", old, (unsigned long long)timing_bucket_us[b],
                       (unsigned long long)sum);
    else
      text = xasprintf("%sinf:%llu", old, (unsigned long long)sum);
    free(old);
  }
  return text;
}

uint64_t
timing_percentile(const struct timing *t, double p) {
  size_t n = t->n < TIMING_RECENT ? (size_t)t->n : TIMING_RECENT;
  if (n == 0)
    return 0;
  uint32_t sorted[TIMING_RECENT];
  memcpy(sorted, t->recent, n * sizeof(sorted[0]));
  qsort(sorted, n, sizeof(sorted[0]), u32_cmp);
  size_t rank = (size_t)ceil(p / 100 * (double)n);
  return sorted[rank > 0 ? rank - 1 : 0];
}
