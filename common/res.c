/* SPDX-License-Identifier: MIT */
#include "res.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

int
res_parse_size(const char *s, int64_t *ret_bytes, struct berr *err) {
  const char *p = s;
  if (!s || !*s)
    return berr_set(err, -EINVAL, "empty size");
  /* Integer part and optional fraction, parsed by hand: no locale, no
   * floating-point surprises for large values. */
  uint64_t whole = 0, frac = 0, frac_div = 1;
  bool digits = false;
  while (isdigit((unsigned char)*p)) {
    if (whole > (UINT64_MAX - 9) / 10)
      return berr_set(err, -ERANGE, "size '%s' is too large", s);
    whole = whole * 10 + (uint64_t)(*p++ - '0');
    digits = true;
  }
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) {
      if (frac_div < 1000000000) {
        frac = frac * 10 + (uint64_t)(*p - '0');
        frac_div *= 10;
      }
      p++;
      digits = true;
    }
  }
  if (!digits)
    return berr_set(err, -EINVAL, "size '%s' does not start with a number", s);
  static const struct {
    const char *name;
    int shift;
  } units[] = {{"", 0},    {"b", 0},   {"kb", 10}, {"mb", 20}, {"gb", 30}, {"tb", 40},
               {"pb", 50}, {"k", 10},  {"m", 20},  {"g", 30},  {"t", 40},  {"p", 50},
               {"w", -1},  {"kw", -2}, {"mw", -3}, {"gw", -4}, {"tw", -5}, {"pw", -6}};
  int shift = -100;
  uint64_t word = 1;
  for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
    if (strcasecmp(p, units[i].name) == 0) {
      shift = units[i].shift;
      if (shift < 0) {
        word = 8;
        shift = (-shift - 1) * 10;
      }
      break;
    }
  }
  if (shift == -100)
    return berr_set(err, -EINVAL, "size '%s' has an unknown unit '%s' (use b, kb, mb, gb, tb)", s,
                    p);
  uint64_t mult = word << shift;
  if (whole > (uint64_t)RES_SIZE_MAX / mult)
    return berr_set(err, -ERANGE, "size '%s' is too large (at most 1 EiB)", s);
  uint64_t bytes = whole * mult;
  /* frac/frac_div * mult, computed without overflow: mult <= 2^53, frac < 1e9. */
  bytes += (uint64_t)((unsigned __int128)frac * mult / frac_div);
  if (bytes > (uint64_t)RES_SIZE_MAX)
    return berr_set(err, -ERANGE, "size '%s' is too large (at most 1 EiB)", s);
  *ret_bytes = (int64_t)bytes;
  return 0;
}

int
res_parse_duration(const char *s, int64_t *ret_seconds, struct berr *err) {
  if (!s || !*s)
    return berr_set(err, -EINVAL, "empty duration");
  int64_t parts[4];
  int n = 0;
  const char *p = s;
  for (;;) {
    if (!isdigit((unsigned char)*p))
      return berr_set(err, -EINVAL, "duration '%s' is not [[[DD:]HH:]MM:]SS", s);
    int64_t v = 0;
    while (isdigit((unsigned char)*p)) {
      if (v > RES_DURATION_MAX)
        return berr_set(err, -ERANGE, "duration '%s' is too long", s);
      v = v * 10 + (*p++ - '0');
    }
    if (n == 4)
      return berr_set(err, -EINVAL, "duration '%s' has too many ':' parts", s);
    parts[n++] = v;
    if (*p == '\0')
      break;
    if (*p != ':')
      return berr_set(err, -EINVAL, "duration '%s' is not [[[DD:]HH:]MM:]SS", s);
    p++;
  }
  static const int64_t scale[4] = {1, 60, 3600, 86400};
  static const int64_t below[3] = {60, 60, 24}; /* for parts that are not the leading one */
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    int64_t v = parts[n - 1 - i];
    if (i < n - 1 && v >= below[i])
      return berr_set(err, -EINVAL, "duration '%s': %s must be below %" PRId64, s,
                      i == 0   ? "seconds"
                      : i == 1 ? "minutes"
                               : "hours",
                      below[i]);
    if (v > RES_DURATION_MAX / scale[i] || total > RES_DURATION_MAX - v * scale[i])
      return berr_set(err, -ERANGE, "duration '%s' is too long", s);
    total += v * scale[i];
  }
  *ret_seconds = total;
  return 0;
}

int
res_parse_ncpus(const char *s, int64_t *ret, struct berr *err) {
  int64_t v;
  int r = parse_i64(s, 1, RES_NCPUS_MAX, &v);
  if (r < 0)
    return berr_set(err, r, "ncpus '%s' is not a whole number from 1 to %d", s, RES_NCPUS_MAX);
  *ret = v;
  return 0;
}

void
res_format_size(int64_t bytes, char *buf, size_t len) {
  static const char *const names[] = {"b", "kb", "mb", "gb", "tb", "pb"};
  int i = 0;
  while (i < 5 && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    i++;
  }
  if (i == 0 && bytes != 0) {
    /* PBS prints kb for usage; round up odd byte counts to whole kb. */
    bytes = (bytes + 1023) / 1024;
    i = 1;
  }
  if (bytes == 0)
    i = 1;
  snprintf(buf, len, "%" PRId64 "%s", bytes, names[i]);
}

void
res_format_duration(int64_t seconds, char *buf, size_t len) {
  if (seconds < 0)
    seconds = 0;
  snprintf(buf, len, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, seconds / 3600, seconds / 60 % 60,
           seconds % 60);
}

int
res_parse_list(const char *list, struct res_request *req, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  if (!*copy)
    return berr_set(err, -EINVAL, "empty resource list");
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (!eq)
      return berr_set(err, -EINVAL, "resource '%s' has no value (expected name=value)", item);
    *eq = '\0';
    const char *name = item, *value = eq + 1;
    int r = 0;
    if (strcmp(name, "ncpus") == 0)
      r = res_parse_ncpus(value, &req->ncpus, err);
    else if (strcmp(name, "mem") == 0) {
      r = res_parse_size(value, &req->mem, err);
      if (r == 0 && req->mem == 0)
        r = berr_set(err, -EINVAL, "mem must be larger than 0");
    } else if (strcmp(name, "walltime") == 0) {
      r = res_parse_duration(value, &req->walltime, err);
      if (r == 0 && req->walltime == 0)
        r = berr_set(err, -EINVAL, "walltime must be longer than 0");
    } else if (strcmp(name, "pids") == 0) {
      r = parse_i64(value, 1, RES_PIDS_MAX, &req->pids);
      if (r < 0)
        r = berr_set(err, r, "pids '%s' is not a whole number from 1 to %d", value, RES_PIDS_MAX);
    } else if (strcmp(name, "net") == 0) {
      if (strcmp(value, "none") == 0)
        req->net = 2;
      else if (strcmp(value, "host") == 0)
        req->net = 1;
      else
        r = berr_set(err, -EINVAL, "net '%s': use none (loopback only) or host", value);
    } else
      return berr_set(err, -EINVAL,
                      "unknown resource '%s' (known: ncpus, mem, walltime, pids, net)", name);
    if (r < 0)
      return berr_prefix(err, r, "resource %s", name);
  }
  return 0;
}
