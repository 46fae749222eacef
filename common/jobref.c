/* SPDX-License-Identifier: MIT */
#include "jobref.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Reads a decimal number of at most 18 digits at *p. */
static bool
scan_number(const char **p, int64_t *ret) {
  const char *s = *p;
  int64_t v = 0;
  size_t n = 0;
  while (*s >= '0' && *s <= '9') {
    if (++n > 18)
      return false;
    v = v * 10 + (*s++ - '0');
  }
  if (n == 0)
    return false;
  *p = s;
  *ret = v;
  return true;
}

int
job_ref_parse(const char *s, struct job_ref *ret, struct berr *err) {
  const char *p = s;
  struct job_ref ref = {.kind = REF_JOB};
  if (!scan_number(&p, &ref.id) || ref.id < 1)
    return berr_set(err, -EINVAL, "illegally formed job identifier: %s", s);
  if (*p == '[') {
    p++;
    if (*p == ']') {
      ref.kind = REF_ARRAY;
      p++;
    } else {
      if (!scan_number(&p, &ref.index) || *p != ']' || ref.index >= JOB_ARRAY_MAX)
        return berr_set(err, -EINVAL, "illegally formed job identifier: %s", s);
      ref.kind = REF_TASK;
      p++;
    }
  }
  /* ".server": any name; one box has one server. */
  if (*p != '\0' && (*p != '.' || p[1] == '\0'))
    return berr_set(err, -EINVAL, "illegally formed job identifier: %s", s);
  *ret = ref;
  return 0;
}

void
job_ref_format(const struct job_ref *ref, char *buf, size_t len) {
  switch (ref->kind) {
    case REF_ARRAY:
      snprintf(buf, len, "%" PRId64 "[]", ref->id);
      break;
    case REF_TASK:
      snprintf(buf, len, "%" PRId64 "[%" PRId64 "]", ref->id, ref->index);
      break;
    default:
      snprintf(buf, len, "%" PRId64, ref->id);
      break;
  }
}

int
job_array_parse(const char *spec, struct job_array_range *ret, struct berr *err) {
  const char *p = spec;
  struct job_array_range r = {.step = 1};
  if (!scan_number(&p, &r.first))
    return berr_set(err, -EINVAL, "array range '%s' is not FIRST[-LAST[:STEP]][%%MAX]", spec);
  r.last = r.first;
  if (*p == '-') {
    p++;
    if (!scan_number(&p, &r.last))
      return berr_set(err, -EINVAL, "array range '%s': no last index after '-'", spec);
    if (*p == ':') {
      p++;
      if (!scan_number(&p, &r.step) || r.step < 1)
        return berr_set(err, -EINVAL, "array range '%s': the step must be 1 or more", spec);
    }
  }
  if (*p == '%') {
    p++;
    if (!scan_number(&p, &r.limit) || r.limit < 1)
      return berr_set(err, -EINVAL, "array range '%s': %%MAX must be 1 or more", spec);
  }
  if (*p != '\0')
    return berr_set(err, -EINVAL, "array range '%s' is not FIRST[-LAST[:STEP]][%%MAX]", spec);
  if (r.last < r.first)
    return berr_set(err, -EINVAL, "array range '%s': the last index is below the first", spec);
  if (r.last >= JOB_ARRAY_MAX)
    return berr_set(err, -ERANGE, "array range '%s': indexes must be below %d", spec,
                    JOB_ARRAY_MAX);
  *ret = r;
  return 0;
}

int64_t
job_array_count(const struct job_array_range *r) {
  return (r->last - r->first) / r->step + 1;
}

int
job_array_parse_list(const char *spec, struct job_array_range **ret, size_t *ret_n,
                     int64_t *ret_count, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(spec);
  int64_t limit = 0;
  char *pct = strrchr(copy, '%');
  if (pct) {
    const char *p = pct + 1;
    if (!scan_number(&p, &limit) || *p || limit < 1)
      return berr_set(err, -EINVAL, "array range '%s': %%MAX must be 1 or more", spec);
    *pct = '\0';
  }
  struct job_array_range *v = NULL;
  size_t n = 0;
  int64_t count = 0;
  char *rest = copy;
  for (char *item; (item = strsep(&rest, ","));) {
    struct job_array_range r;
    int e = strchr(item, '%') ? berr_set(err, -EINVAL,
                                         "array range '%s': %%MAX goes once, at "
                                         "the end",
                                         spec)
                              : job_array_parse(item, &r, err);
    if (e == 0 && n > 0 && r.first <= v[n - 1].last)
      e = berr_set(err, -EINVAL, "array range '%s': give the indexes in ascending order, once",
                   spec);
    if (e < 0) {
      free(v);
      return e;
    }
    r.limit = limit;
    v = xrealloc(v, (n + 1) * sizeof(*v));
    v[n++] = r;
    count += job_array_count(&r);
  }
  *ret = v;
  *ret_n = n;
  *ret_count = count;
  return 0;
}

char *
job_array_format_list(const struct job_array_range *r, size_t n) {
  size_t cap = 72 * (n + 1), len = 0;
  char *out = xmalloc(cap);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    struct job_array_range one = r[i];
    one.limit = 0;
    char buf[96];
    job_array_format(&one, buf, sizeof(buf));
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", buf);
  }
  return out;
}

void
job_array_format(const struct job_array_range *r, char *buf, size_t len) {
  if (r->first == r->last)
    snprintf(buf, len, "%" PRId64, r->first);
  else if (r->step == 1)
    snprintf(buf, len, "%" PRId64 "-%" PRId64, r->first, r->last);
  else
    snprintf(buf, len, "%" PRId64 "-%" PRId64 ":%" PRId64, r->first, r->last, r->step);
}

static const char *const dep_names[DEP_KIND_MAX] = {
    [DEP_AFTER] = "after",           [DEP_AFTEROK] = "afterok",
    [DEP_AFTERNOTOK] = "afternotok", [DEP_AFTERANY] = "afterany",
    [DEP_AFTERCORR] = "aftercorr",   [DEP_AFTERCORR_ANY] = "aftercorr_any",
};

const char *
dep_kind_name(enum dep_kind k) {
  return (unsigned)k < DEP_KIND_MAX ? dep_names[k] : "?";
}

int
job_depend_parse(const char *s, struct job_dep **ret, size_t *ret_n, struct berr *err) {
  struct job_dep *deps = NULL;
  size_t n = 0;
  int r = 0;
  if (!s || !*s)
    return berr_set(err, -EINVAL, "depend: empty dependency list");
  /* strsep, not strtok: an empty entry or id ("afterok::14", "a:1,,b:2")
   * is an error to report, not something to skip. */
  _cleanup_free_ char *copy = xstrdup(s);
  char *rest = copy;
  for (char *item; (item = strsep(&rest, ","));) {
    if (!*item) {
      r = berr_set(err, -EINVAL, "depend: an empty entry in '%s'", s);
      goto fail;
    }
    char *colon = strchr(item, ':');
    if (!colon) {
      r = berr_set(err, -EINVAL, "depend: '%s' is not TYPE:JOBID[:JOBID...]", item);
      goto fail;
    }
    *colon = '\0';
    int kind = -1;
    for (int k = 0; k < DEP_KIND_MAX; k++)
      if (strcmp(item, dep_names[k]) == 0)
        kind = k;
    if (kind < 0) {
      r = berr_set(err, -EINVAL,
                   "depend: unknown type '%s' (boxq knows after, afterok, afternotok, afterany, "
                   "aftercorr, aftercorr_any)",
                   item);
      goto fail;
    }
    /* Ids are separated by ':' as PBS writes them, or by blanks as
     * Snakemake fills in {dependencies}; a type with none ("afterok:",
     * Snakemake's job without any) adds nothing. */
    char *ids = colon + 1;
    if (!*ids)
      continue;
    for (char *part; (part = strsep(&ids, ":"));) {
      char *save = NULL, *id = strtok_r(part, " \t", &save);
      if (!id) {
        r = berr_set(err, -EINVAL, "depend: an empty job id in '%s'", s);
        goto fail;
      }
      for (; id; id = strtok_r(NULL, " \t", &save)) {
        if (n >= JOB_DEPS_MAX) {
          r = berr_set(err, -E2BIG, "depend: more than %d jobs", JOB_DEPS_MAX);
          goto fail;
        }
        struct job_ref ref;
        struct berr e = {{0}};
        if (job_ref_parse(id, &ref, &e) < 0) {
          r = berr_set(err, -EINVAL, "depend: %s", e.msg);
          goto fail;
        }
        deps = xrealloc(deps, (n + 1) * sizeof(*deps));
        deps[n++] = (struct job_dep){(enum dep_kind)kind, ref};
      }
    }
  }
  *ret = deps;
  *ret_n = n;
  return 0;
fail:
  free(deps);
  return r;
}

char *
job_depend_format(const struct job_dep *deps, size_t n) {
  size_t cap = 64 + n * 48, len = 0;
  char *out = xmalloc(cap);
  out[0] = '\0';
  for (int k = 0; k < DEP_KIND_MAX; k++) {
    bool first = true;
    for (size_t i = 0; i < n; i++) {
      if (deps[i].kind != (enum dep_kind)k)
        continue;
      char ref[48];
      job_ref_format(&deps[i].ref, ref, sizeof(ref));
      if (first)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", dep_names[k]);
      len += (size_t)snprintf(out + len, cap - len, ":%s", ref);
      first = false;
    }
  }
  return out;
}
