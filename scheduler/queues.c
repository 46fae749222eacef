/* SPDX-License-Identifier: MIT */
/* Queues: who may submit to which, with what defaults, within what
 * maxima. The scheduling pass enforces the running limits (policy.c); this
 * is the gate at qsub and qalter time, so that a request that could never
 * be allowed is refused at once with the limit it breaks. */
#include "boxqd.h"
#include "res.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

bool
principal_in_list(const char *list, const char *user, gid_t gid) {
  if (!list || !*list)
    return false;
  gid_t groups[256];
  int ngroups = -1;
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
    if (item[0] != '@') {
      if (strcmp(item, user) == 0)
        return true;
      continue;
    }
    if (ngroups < 0) {
      ngroups = (int)ARRAY_SIZE(groups);
      if (getgrouplist(user, gid, groups, &ngroups) < 0)
        ngroups = 0; /* more groups than we look at: only named users match */
    }
    struct group gr, *res = NULL;
    char buf[16384];
    if (getgrnam_r(item + 1, &gr, buf, sizeof(buf), &res) != 0 || !res)
      continue;
    for (int i = 0; i < ngroups; i++)
      if (groups[i] == res->gr_gid)
        return true;
  }
  return false;
}

/* May user submit to q? An empty ACL lets anyone in. */
static bool
acl_allows(const struct boxq_queue *q, const char *user, gid_t gid) {
  if (!*q->acl_users && !*q->acl_groups)
    return true;
  if (principal_in_list(q->acl_users, user, gid))
    return true;
  /* acl_groups lists plain group names: match them as "@group". */
  _cleanup_free_ char *copy = xstrdup(q->acl_groups);
  char *save = NULL;
  for (char *g = strtok_r(copy, ", ", &save); g; g = strtok_r(NULL, ", ", &save)) {
    _cleanup_free_ char *item = xasprintf("@%s", g);
    if (principal_in_list(item, user, gid))
      return true;
  }
  return false;
}

static void
fmt_value(const char *what, int64_t v, char *buf, size_t len) {
  if (!strcmp(what, "mem"))
    res_format_size(v, buf, len);
  else if (!strcmp(what, "walltime"))
    res_format_duration(v, buf, len);
  else
    snprintf(buf, len, "%lld", (long long)v);
}

int
queue_admit(struct boxqd *d, uid_t uid, gid_t gid, const char *user, struct job_rec *j,
            bool fill_defaults, struct berr *err) {
  (void)uid;
  if (!j->queue || !*j->queue) {
    free(j->queue);
    j->queue = xstrdup(d->cfg.default_queue);
  }
  /* Another cluster's queue name: its alias here, or the default queue
   * (unknown_queue = default). */
  const char *routed;
  if (cfg_route_queue(&d->cfg, j->queue, &routed) < 0)
    return berr_set(err, -ENOENT, "Unknown queue '%s' (see qstat -Q)", j->queue);
  if (strcmp(routed, j->queue) != 0) {
    free(j->queue);
    j->queue = xstrdup(routed);
  }
  const struct boxq_queue *q = cfg_queue(&d->cfg, j->queue);
  if (fill_defaults && !q->enabled)
    return berr_set(err, -EPERM, "queue '%s' is not accepting jobs (enabled = false)", q->name);
  if (!acl_allows(q, user, gid))
    return berr_set(err, -EPERM, "user %s may not submit to queue '%s' (acl_users, acl_groups)",
                    user, q->name);
  if (fill_defaults) {
    if (j->ncpus == 0)
      j->ncpus = q->default_ncpus;
    if (j->mem == 0)
      j->mem = q->default_mem;
    if (j->walltime == 0)
      j->walltime = q->default_walltime;
    if (j->pids == 0)
      j->pids = q->default_pids;
  }
  const struct {
    const char *what;
    int64_t value, max;
  } checks[] = {{"ncpus", j->ncpus, q->max_ncpus},
                {"mem", j->mem, q->max_mem},
                {"walltime", j->walltime, q->max_walltime},
                {"pids", j->pids, q->max_pids}};
  for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
    char want[32], max[32];
    if (checks[i].max == 0)
      continue;
    fmt_value(checks[i].what, checks[i].max, max, sizeof(max));
    /* walltime and pids of 0 mean "unlimited": more than any maximum. */
    if (checks[i].value == 0)
      return berr_set(err, -E2BIG, "queue '%s' requires %s (max_%s = %s); ask with -l %s=...",
                      q->name, checks[i].what, checks[i].what, max, checks[i].what);
    if (checks[i].value > checks[i].max) {
      fmt_value(checks[i].what, checks[i].value, want, sizeof(want));
      return berr_set(err, -E2BIG, "%s=%s exceeds queue '%s' max_%s (%s)", checks[i].what, want,
                      q->name, checks[i].what, max);
    }
  }
  if (j->priority > q->max_job_priority)
    return berr_set(err, -EPERM, "priority %lld exceeds queue '%s' max_job_priority (%lld)",
                    (long long)j->priority, q->name, (long long)q->max_job_priority);
  return 0;
}
