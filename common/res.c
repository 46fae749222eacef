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

/* ---- the forms of other batch systems ---- */

/* "name=value" into req->site, replacing one of the same name. */
static void
site_put(struct res_request *req, const char *name, const char *value) {
  kv_list_set(&req->site, &req->nsite, name, strlen(name), value);
}

static int
count_of(const char *what, const char *s, int64_t max, int64_t *ret, struct berr *err) {
  if (parse_i64(s, 1, max, ret) < 0)
    return berr_set(err, -EINVAL, "%s '%s' is not a whole number from 1 to %lld", what, s,
                    (long long)max);
  return 0;
}

static bool
all_digits(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s))
      return false;
  return true;
}

static int
add_cpus(int64_t *sum, int64_t n, int64_t each, const char *form, struct berr *err) {
  if (each > RES_NCPUS_MAX / n || *sum + n * each > RES_NCPUS_MAX)
    return berr_set(err, -ERANGE, "%s asks for more than %d CPUs", form, RES_NCPUS_MAX);
  *sum += n * each;
  return 0;
}

/* Torque: nodes=N[:ppn=P][:gpus=G][:FEATURE...][+...]; a host name
 * stands for one node. */
static int
parse_nodes(const char *value, struct res_request *req, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(value);
  int64_t nodes = 0, cpus = 0, gpus = 0;
  char *save = NULL;
  for (char *part = strtok_r(copy, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
    char *psave = NULL;
    char *first = strtok_r(part, ":", &psave);
    int64_t n = 1, ppn = 1, each_gpus = 0;
    if (!first)
      return berr_set(err, -EINVAL, "nodes '%s': an empty node spec", value);
    if (all_digits(first) || first[0] == '-') {
      if (parse_i64(first, 1, RES_NCPUS_MAX, &n) < 0)
        return berr_set(err, -EINVAL, "nodes '%s': ask for 1 to %d nodes", value, RES_NCPUS_MAX);
    }
    for (char *prop = strtok_r(NULL, ":", &psave); prop; prop = strtok_r(NULL, ":", &psave)) {
      int64_t v;
      if (strncmp(prop, "ppn=", 4) == 0) {
        if (count_of("ppn", prop + 4, RES_NCPUS_MAX, &ppn, err) < 0)
          return -EINVAL;
      } else if (strncmp(prop, "gpus=", 5) == 0) {
        if (parse_i64(prop + 5, 0, 1024, &v) < 0)
          return berr_set(err, -EINVAL, "gpus '%s' is not a whole number from 0 to 1024", prop + 5);
        each_gpus = v;
      } else if (strchr(prop, '='))
        return berr_set(err, -EINVAL, "nodes '%s': unknown node property '%s' (ppn=, gpus=)", value,
                        prop);
      /* else a feature name: one box has them all or none; recorded */
    }
    nodes += n;
    if (add_cpus(&cpus, n, ppn, "nodes", err) < 0)
      return -ERANGE;
    if (add_cpus(&gpus, n, each_gpus, "nodes' gpus", err) < 0)
      return -ERANGE;
  }
  if (nodes == 0)
    return berr_set(err, -EINVAL, "nodes '%s': ask for at least one node", value);
  req->nodes = nodes;
  req->node_cpus = cpus;
  req->node_mem = 0;
  req->node_gpus = gpus;
  return 0;
}

/* PBS Pro: select=[N:]ncpus=P[:mem=M][:mpiprocs=..][:ompthreads=..]
 * [:ngpus=..][...][+...]. */
static int
parse_select(const char *value, struct res_request *req, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(value);
  int64_t chunks = 0, cpus = 0, mem = 0, gpus = 0;
  char *save = NULL;
  for (char *part = strtok_r(copy, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
    char *psave = NULL;
    int64_t n = 1, ncpus = 1, cmem = 0, cgpus = 0;
    bool first = true;
    for (char *item = strtok_r(part, ":", &psave); item;
         item = strtok_r(NULL, ":", &psave), first = false) {
      char *eq = strchr(item, '=');
      if (!eq) {
        if (!first)
          return berr_set(err, -EINVAL, "select '%s': '%s' is not name=value", value, item);
        if (count_of("select's chunk count", item, RES_NCPUS_MAX, &n, err) < 0)
          return -EINVAL;
        continue;
      }
      *eq = '\0';
      const char *k = item, *v = eq + 1;
      int64_t x;
      int r = 0;
      if (!strcmp(k, "ncpus"))
        r = count_of("select's ncpus", v, RES_NCPUS_MAX, &ncpus, err);
      else if (!strcmp(k, "mem") || !strcmp(k, "vmem"))
        r = res_parse_size(v, &cmem, err);
      else if (!strcmp(k, "mpiprocs") || !strcmp(k, "ompthreads") || !strcmp(k, "ngpus")) {
        r = parse_i64(v, 0, RES_NCPUS_MAX, &x) < 0
                ? berr_set(err, -EINVAL, "select's %s '%s' is not a whole number", k, v)
                : 0;
        if (!strcmp(k, "ngpus"))
          cgpus = x;
      }
      /* other chunk resources (host, arch, vnode, a site's): recorded */
      if (r < 0)
        return r;
    }
    chunks += n;
    if (add_cpus(&cpus, n, ncpus, "select", err) < 0)
      return -ERANGE;
    if (add_cpus(&gpus, n, cgpus, "select's ngpus", err) < 0)
      return -ERANGE;
    if (cmem && cmem > (RES_SIZE_MAX - mem) / n)
      return berr_set(err, -ERANGE, "select '%s' asks for more memory than 1 EiB", value);
    mem += n * cmem;
  }
  if (chunks == 0)
    return berr_set(err, -EINVAL, "select '%s': ask for at least one chunk", value);
  req->nodes = chunks;
  req->node_cpus = cpus;
  req->node_mem = mem;
  req->node_gpus = gpus;
  return 0;
}

/* Recorded as written: on one box they ask for nothing boxq can give or
 * withhold (place: how chunks spread over hosts; feature, arch, host: which
 * host; naccesspolicy: sharing a host; file: a file size limit). */
static bool
recorded_only(const char *name) {
  static const char *const names[] = {"place",         "feature", "arch",   "host",
                                      "naccesspolicy", "file",    "mppnppn"};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (!strcmp(name, names[i]))
      return true;
  return false;
}

/* A site's resource name: a letter or '_', then letters, digits, '_', '.', '-'. */
static bool
resource_name_ok(const char *s) {
  if (!isalpha((unsigned char)*s) && *s != '_')
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
      return false;
  return true;
}

/* One of the other systems' forms (1 if name is none of them). */
static int
parse_other(const char *name, const char *value, struct res_request *req,
            const struct res_policy *pol, struct berr *err) {
  int r = 1;
  int64_t v;
  if (!strcmp(name, "nodes"))
    r = parse_nodes(value, req, err);
  else if (!strcmp(name, "select"))
    r = parse_select(value, req, err);
  else if (!strcmp(name, "procs") || !strcmp(name, "mppwidth")) {
    r = count_of(name, value, RES_NCPUS_MAX, &v, err);
    if (r == 0) {
      req->nodes = 1;
      req->node_cpus = v;
      req->node_mem = 0;
      req->node_gpus = 0;
    }
  } else if (!strcmp(name, "vmem"))
    r = res_parse_size(value, &req->vmem, err);
  else if (!strcmp(name, "pmem") || !strcmp(name, "pvmem"))
    r = res_parse_size(value, &req->pmem, err);
  else if (!strcmp(name, "ngpus") || !strcmp(name, "gpus") || !strcmp(name, "gpu") ||
           (pol && pol->is_device_class && pol->is_device_class(pol->ctx, name)))
    r = parse_i64(value, 0, 1024, &v) < 0
            ? berr_set(err, -EINVAL, "%s '%s' is not a whole number from 0 to 1024", name, value)
            : 0;
  else if (recorded_only(name))
    r = *value ? 0 : berr_set(err, -EINVAL, "%s needs a value", name);
  if (r == 0 && pol && pol->refuse_multinode && req->nodes > 1)
    r = berr_set(err, -EINVAL,
                 "%s=%s asks for %lld nodes; this server runs each job on one machine "
                 "(multinode = refuse)",
                 name, value, (long long)req->nodes);
  return r;
}

void
res_merge(struct res_request *base, const struct res_request *over) {
  if (over->ncpus)
    base->ncpus = over->ncpus;
  if (over->mem)
    base->mem = over->mem;
  if (over->walltime)
    base->walltime = over->walltime;
  if (over->cput)
    base->cput = over->cput;
  if (over->pids)
    base->pids = over->pids;
  if (over->net)
    base->net = over->net;
  if (over->nodes) {
    base->nodes = over->nodes;
    base->node_cpus = over->node_cpus;
    base->node_mem = over->node_mem;
    base->node_gpus = over->node_gpus;
  }
  if (over->vmem)
    base->vmem = over->vmem;
  if (over->pmem)
    base->pmem = over->pmem;
  for (size_t i = 0; i < over->nsite; i++) {
    size_t klen = strcspn(over->site[i], "=");
    kv_list_set(&base->site, &base->nsite, over->site[i], klen, over->site[i] + klen + 1);
  }
  for (size_t i = 0; i < over->nunknown; i++) {
    base->unknown = xrealloc(base->unknown, (base->nunknown + 1) * sizeof(char *));
    base->unknown[base->nunknown++] = xstrdup(over->unknown[i]);
  }
}

void
res_finish(struct res_request *req) {
  if (req->nodes && !req->ncpus)
    req->ncpus = req->node_cpus;
  if (!req->mem)
    req->mem = req->node_mem ? req->node_mem
               : req->vmem   ? req->vmem
               : req->pmem && req->pmem <= RES_SIZE_MAX / (req->ncpus ? req->ncpus : 1)
                   ? req->pmem * (req->ncpus ? req->ncpus : 1)
                   : 0;
}

char *
res_site_string(const struct res_request *req) {
  size_t len = 1;
  for (size_t i = 0; i < req->nsite; i++)
    len += strlen(req->site[i]) + 1;
  char *out = xmalloc(len), *p = out;
  *p = '\0';
  for (size_t i = 0; i < req->nsite; i++)
    p += sprintf(p, "%s%s", i ? "," : "", req->site[i]);
  return out;
}

void
res_request_free(struct res_request *req) {
  for (size_t i = 0; i < req->nsite; i++)
    free(req->site[i]);
  free(req->site);
  for (size_t i = 0; i < req->nunknown; i++)
    free(req->unknown[i]);
  free(req->unknown);
  *req = (struct res_request){0};
}

int
res_parse_list(const char *list, struct res_request *req, const struct res_policy *pol,
               struct berr *err) {
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
    } else if (strcmp(name, "cput") == 0) {
      r = res_parse_duration(value, &req->cput, err);
      if (r == 0 && req->cput == 0)
        r = berr_set(err, -EINVAL, "cput must be longer than 0");
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
    } else if ((r = parse_other(name, value, req, pol, err)) == 1) {
      if (!resource_name_ok(name))
        return berr_set(err, -EINVAL, "'%s' is not a resource name", name);
      if (!pol || pol->unknown == RES_UNKNOWN_REFUSE)
        return berr_set(err, -EINVAL,
                        "unknown resource '%s' (known: ncpus, mem, walltime, cput, pids, net, and "
                        "Torque's and PBS Pro's forms: nodes, select, procs, vmem, pmem, ...)",
                        name);
      if (!*value)
        return berr_set(err, -EINVAL, "resource %s has no value", name);
      if (pol->unknown == RES_UNKNOWN_WARN) {
        req->unknown = xrealloc(req->unknown, (req->nunknown + 1) * sizeof(char *));
        req->unknown[req->nunknown++] = xstrdup(name);
      }
      r = 0;
      site_put(req, name, value);
      continue;
    } else if (r == 0) {
      site_put(req, name, value);
      continue;
    }
    if (r < 0)
      return berr_prefix(err, r, "resource %s", name);
  }
  return 0;
}
