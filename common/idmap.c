/* SPDX-License-Identifier: MIT */
#include "idmap.h"
#include "util.h"

#include <stdlib.h>

/* Ids are mostly consecutive: a multiplicative hash spreads them. */
static size_t
slot_of(const struct idmap *m, int64_t key) {
  return (size_t)(((uint64_t)key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (m->cap - 1);
}

static size_t
find(const struct idmap *m, int64_t key) {
  size_t i = slot_of(m, key);
  while (m->keys[i] && m->keys[i] != key)
    i = (i + 1) & (m->cap - 1);
  return i;
}

void *
idmap_get(const struct idmap *m, int64_t key) {
  if (!m->cap || !key)
    return NULL;
  size_t i = find(m, key);
  return m->keys[i] ? m->vals[i] : NULL;
}

static void
grow(struct idmap *m) {
  struct idmap bigger = {.cap = m->cap ? m->cap * 2 : 16};
  bigger.keys = xcalloc(bigger.cap, sizeof(int64_t));
  bigger.vals = xcalloc(bigger.cap, sizeof(void *));
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) {
      size_t k = find(&bigger, m->keys[i]);
      bigger.keys[k] = m->keys[i];
      bigger.vals[k] = m->vals[i];
      bigger.n++;
    }
  idmap_free(m);
  *m = bigger;
}

void
idmap_put(struct idmap *m, int64_t key, void *val) {
  if ((m->n + 1) * 2 > m->cap)
    grow(m);
  size_t i = find(m, key);
  if (!m->keys[i]) {
    m->keys[i] = key;
    m->n++;
  }
  m->vals[i] = val;
}

void *
idmap_del(struct idmap *m, int64_t key) {
  if (!m->cap || !key)
    return NULL;
  size_t i = find(m, key);
  if (!m->keys[i])
    return NULL;
  void *val = m->vals[i];
  /* Shift back the entries after it that probed past it. */
  size_t mask = m->cap - 1;
  for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
    size_t home = slot_of(m, m->keys[j]);
    /* j's entry may move to i if i lies cyclically in [home, j). */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->keys[i] = m->keys[j];
      m->vals[i] = m->vals[j];
      i = j;
    }
  }
  m->keys[i] = 0;
  m->vals[i] = NULL;
  m->n--;
  return val;
}

void
idmap_free(struct idmap *m) {
  free(m->keys);
  free(m->vals);
  *m = (struct idmap){0};
}
