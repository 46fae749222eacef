/* SPDX-License-Identifier: MIT */
/* Where a started job runs on the box: the devices it holds (exclusive,
 * chosen near one another) and, with pin_cpus, its CPUs (near those
 * devices first). The policy (policy.c) decides how many; this decides
 * which, over what the running jobs hold. */
#include "boxqd.h"
#include "log.h"

#include <string.h>

bool
sched_frees_cpus(const struct boxqd *d, bool suspended) {
  return suspended && streq(d->cfg.suspend_releases, "cpus");
}

static int
held_by(void *ud, struct job_rec *j) {
  struct places *h = ud;
  struct cpuset s;
  struct dev_set devs;
  if (!sched_frees_cpus(h->d, j->suspended_at != 0) && j->cpus && *j->cpus &&
      cpuset_parse(j->cpus, &s) == 0)
    for (size_t i = 0; i < ARRAY_SIZE(s.bits); i++)
      h->cpus.bits[i] |= s.bits[i];
  if (j->devices && *j->devices && dev_set_parse(&h->d->devs, j->devices, &devs) == 0)
    dev_set_or(&h->devs, &devs);
  h->ncpus += j->ncpus;
  h->mem += j->mem;
  return 0;
}

int
places_held(struct boxqd *d, struct places *h) {
  memset(h, 0, sizeof(*h));
  h->d = d;
  return db_list_running(d->db, held_by, h);
}

/* The n lowest free CPUs of near, then of the rest. */
static int
pick_cpus(const struct boxqd *d, const struct cpuset *busy, const struct cpuset *near, int n,
          struct cpuset *ret) {
  struct cpuset free_near = {{0}}, first = {{0}}, taken = *busy, rest = {{0}};
  for (size_t i = 0; i < ARRAY_SIZE(free_near.bits); i++)
    free_near.bits[i] = d->pin_cpus.bits[i] & near->bits[i] & ~busy->bits[i];
  int k = cpuset_count(&free_near) < n ? cpuset_count(&free_near) : n;
  if (k > 0 && cpuset_pick(&free_near, busy, k, &first) < 0)
    k = 0;
  for (size_t i = 0; i < ARRAY_SIZE(taken.bits); i++)
    taken.bits[i] |= first.bits[i];
  int r;
  if (n > k && (r = cpuset_pick(&d->pin_cpus, &taken, n - k, &rest)) < 0)
    return r;
  for (size_t i = 0; i < ARRAY_SIZE(ret->bits); i++)
    ret->bits[i] = first.bits[i] | rest.bits[i];
  return 0;
}

int
place_job(struct boxqd *d, struct places *h, int64_t id, int64_t ncpus, const int16_t *dev) {
  struct dev_counts want = {{0}};
  memcpy(want.n, dev, sizeof(want.n));
  struct cpuset near = {{0}};
  int r = 0;
  if (dev_counts_any(&want)) {
    struct dev_set got;
    r = dev_pick(&d->devs, &h->devs, &want, &got, &near);
    if (r < 0) {
      log_error("job %lld: its devices are not free (a running job holds them)", (long long)id);
      return r;
    }
    dev_set_or(&h->devs, &got);
    _cleanup_free_ char *text = dev_set_format(&d->devs, &got);
    r = db_set_devices(d->db, id, text);
  }
  if (r == 0 && d->cfg.pin_cpus) {
    struct cpuset got = {{0}};
    char list[CPUSET_MAX * 5];
    r = pick_cpus(d, &h->cpus, &near, (int)ncpus, &got);
    if (r < 0)
      return r;
    for (size_t i = 0; i < ARRAY_SIZE(got.bits); i++)
      h->cpus.bits[i] |= got.bits[i];
    cpuset_format(&got, list, sizeof(list));
    r = db_set_cpus(d->db, id, list);
  }
  return r;
}

/* ---- what qstat -B and pbsnodes show ---- */

struct dev_owners {
  struct boxqd *d;
  int64_t owner[DEV_CLASSES_MAX][DEV_PER_CLASS_MAX]; /* job id, or 0 */
};

static int
owner_of(void *ud, struct job_rec *j) {
  struct dev_owners *o = ud;
  struct dev_set s;
  if (!j->devices || !*j->devices || dev_set_parse(&o->d->devs, j->devices, &s) < 0)
    return 0;
  for (size_t c = 0; c < o->d->devs.ncls; c++)
    for (size_t i = 0; i < o->d->devs.cls[c].ndev; i++)
      if (dev_set_has(&s, c, i))
        o->owner[c][i] = j->id;
  return 0;
}

static void
append(char **text, char *more) {
  char *t = xasprintf("%s%s", *text, more);
  free(*text);
  free(more);
  *text = t;
}

char *
places_status(struct boxqd *d) {
  char *text = xstrdup("");
  if (!d->devs.ncls)
    return text;
  struct dev_owners *o = xcalloc(1, sizeof(*o));
  o->d = d;
  db_list_running(d->db, owner_of, o);
  for (size_t c = 0; c < d->devs.ncls; c++) {
    const struct dev_class *cls = &d->devs.cls[c];
    /* PBS Pro's name for GPUs; a site's class by its own. */
    const char *res = streq(cls->name, "gpu") ? "ngpus" : cls->name;
    size_t held = 0;
    for (size_t i = 0; i < cls->ndev; i++)
      held += o->owner[c][i] != 0;
    append(&text, xasprintf("resources_available.%s=%zu\nresources_assigned.%s=%zu\n", res,
                            cls->ndev, res, held));
    for (size_t i = 0; i < cls->ndev; i++) {
      _cleanup_free_ char *job =
          o->owner[c][i] ? xasprintf("%lld.%s", (long long)o->owner[c][i], d->server_name)
                         : xstrdup("-");
      append(&text, xasprintf("device=%s %zu %s %s %s\n", cls->name, i, cls->dev[i].path, job,
                              cls->dev[i].near_cpus ? cls->dev[i].near_cpus : "-"));
    }
  }
  free(o);
  return text;
}
