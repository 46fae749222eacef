/* SPDX-License-Identifier: MIT */
#include "cpuset.h"

#include <ctype.h>
#include <string.h>

bool
cpuset_has(const struct cpuset *s, int cpu) {
  return cpu >= 0 && cpu < CPUSET_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

void
cpuset_add(struct cpuset *s, int cpu) {
  if (cpu >= 0 && cpu < CPUSET_MAX)
    s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

int
cpuset_count(const struct cpuset *s) {
  int n = 0;
  for (size_t i = 0; i < ARRAY_SIZE(s->bits); i++)
    n += __builtin_popcountll(s->bits[i]);
  return n;
}

static int
parse_cpu(const char **p, int *ret) {
  if (!isdigit((unsigned char)**p))
    return -EINVAL;
  long v = 0;
  while (isdigit((unsigned char)**p)) {
    v = v * 10 + (**p - '0');
    if (v >= CPUSET_MAX)
      return -ERANGE;
    (*p)++;
  }
  *ret = (int)v;
  return 0;
}

int
cpuset_parse(const char *list, struct cpuset *ret) {
  struct cpuset s = {{0}};
  const char *p = list;
  while (*p && *p != '\n') {
    int a, b, r;
    if ((r = parse_cpu(&p, &a)) < 0)
      return r;
    b = a;
    if (*p == '-') {
      p++;
      if ((r = parse_cpu(&p, &b)) < 0)
        return r;
      if (b < a)
        return -EINVAL;
    }
    for (int c = a; c <= b; c++)
      cpuset_add(&s, c);
    if (*p == ',')
      p++;
    else if (*p && *p != '\n')
      return -EINVAL;
  }
  *ret = s;
  return 0;
}

void
cpuset_format(const struct cpuset *s, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (int c = 0; c < CPUSET_MAX; c++) {
    if (!cpuset_has(s, c))
      continue;
    int e = c;
    while (e + 1 < CPUSET_MAX && cpuset_has(s, e + 1))
      e++;
    int n = e > c ? snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", c, e)
                  : snprintf(buf + off, len - off, "%s%d", off ? "," : "", c);
    if (n < 0 || (size_t)n >= len - off)
      return; /* truncated: callers size buffers for the worst case */
    off += (size_t)n;
    c = e;
  }
}

int
cpuset_pick(const struct cpuset *avail, const struct cpuset *busy, int n, struct cpuset *ret) {
  struct cpuset s = {{0}};
  int got = 0;
  for (int c = 0; c < CPUSET_MAX && got < n; c++)
    if (cpuset_has(avail, c) && !cpuset_has(busy, c)) {
      cpuset_add(&s, c);
      got++;
    }
  if (got < n)
    return -ENOSPC;
  *ret = s;
  return 0;
}

char *
cpuset_first(const char *list, int n) {
  struct cpuset all, none = {{0}}, got;
  if (!list || !*list || cpuset_parse(list, &all) < 0 || cpuset_pick(&all, &none, n, &got) < 0)
    return xstrdup("");
  char buf[CPUSET_MAX * 5];
  cpuset_format(&got, buf, sizeof(buf));
  return xstrdup(buf);
}
