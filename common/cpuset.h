/* SPDX-License-Identifier: MIT */
/* CPU sets as the kernel writes them ("0-3,8,10-11"), for pinning jobs. */
#pragma once

#include "util.h"

#include <stdint.h>

#define CPUSET_MAX 1024

struct cpuset {
  uint64_t bits[CPUSET_MAX / 64];
};

int cpuset_parse(const char *list, struct cpuset *ret); /* -EINVAL, -ERANGE */
void cpuset_format(const struct cpuset *s, char *buf, size_t len);
int cpuset_count(const struct cpuset *s);
bool cpuset_has(const struct cpuset *s, int cpu);
void cpuset_add(struct cpuset *s, int cpu);
/* The n lowest CPUs of avail that are not in busy; -ENOSPC if too few. */
int cpuset_pick(const struct cpuset *avail, const struct cpuset *busy, int n, struct cpuset *ret);
/* The n lowest CPUs of list, as a list: what a job of n CPUs gets of the
 * place of a job pinned to list (an empty list stays empty). */
char *cpuset_first(const char *list, int n);
