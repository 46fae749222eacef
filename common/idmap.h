/* SPDX-License-Identifier: MIT */
/* A hash map from a nonzero 64-bit id (a job id; a uid + 1) to a pointer,
 * for the lookups that grow with the jobs or users a daemon holds: open
 * addressing with linear probing, deletion by shifting back (no
 * tombstones), grown at 1/2 full. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct idmap {
  int64_t *keys; /* 0: free */
  void **vals;
  size_t cap, n; /* cap: 0 or a power of two */
};

/* The value for key, or NULL. */
void *idmap_get(const struct idmap *m, int64_t key);
/* Sets key's value (replacing any). key must not be 0. */
void idmap_put(struct idmap *m, int64_t key, void *val);
/* Removes key; returns its value, or NULL if it was not there. */
void *idmap_del(struct idmap *m, int64_t key);
void idmap_free(struct idmap *m);
