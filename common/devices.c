/* SPDX-License-Identifier: MIT */
#include "devices.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int
cmp_natural(const void *a, const void *b) {
  return strverscmp(*(char *const *)a, *(char *const *)b);
}

static void
node_free(struct dev_node *n) {
  free(n->path);
  free(n->near_cpus);
}

static void
class_free(struct dev_class *c) {
  for (size_t i = 0; i < c->ndev; i++)
    node_free(&c->dev[i]);
  for (size_t i = 0; i < c->ncommon; i++)
    node_free(&c->common[i]);
  free(c->dev);
  free(c->common);
  free(c->name);
  *c = (struct dev_class){0};
}

void
dev_table_free(struct dev_table *t) {
  for (size_t i = 0; i < t->ncls; i++)
    class_free(&t->cls[i]);
  t->ncls = 0;
}

int
dev_class_find(const struct dev_table *t, const char *name) {
  for (size_t i = 0; i < t->ncls; i++)
    if (!strcmp(t->cls[i].name, name))
      return (int)i;
  return -1;
}

size_t
dev_table_total(const struct dev_table *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->ncls; i++)
    n += t->cls[i].ndev;
  return n;
}

/* A file's first line, trimmed (allocated), or NULL. */
static char *
first_line(const char *path) {
  char *text = NULL;
  if (read_file_at(AT_FDCWD, path, 65536, &text, NULL) < 0)
    return NULL;
  text[strcspn(text, "\n")] = '\0';
  return text;
}

/* The CPUs sysfs says are near character device rdev (a DRM render node,
 * an accelerator: its PCI device's local_cpulist), or NULL. */
static char *
sysfs_near_cpus(const char *root, dev_t rdev) {
  _cleanup_free_ char *p =
      xasprintf("%s/sys/dev/char/%u:%u/device/local_cpulist", root, major(rdev), minor(rdev));
  return first_line(p);
}

/* NVIDIA's nodes have no sysfs device: /proc/driver/nvidia/gpus/BUS/
 * information says which minor each PCI device is. */
static char *
nvidia_near_cpus(const char *root, unsigned minor_no) {
  _cleanup_free_ char *dir = xasprintf("%s/proc/driver/nvidia/gpus", root);
  DIR *d = opendir(dir);
  char *found = NULL;
  for (struct dirent *e; d && !found && (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    _cleanup_free_ char *info = NULL;
    _cleanup_free_ char *ipath = xasprintf("%s/%s/information", dir, e->d_name);
    if (read_file_at(AT_FDCWD, ipath, 65536, &info, NULL) < 0)
      continue;
    const char *m = strstr(info, "Device Minor:");
    unsigned v;
    if (!m || sscanf(m, "Device Minor: %u", &v) != 1 || v != minor_no)
      continue;
    _cleanup_free_ char *bus = xstrdup(e->d_name);
    for (char *c = bus; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    _cleanup_free_ char *p = xasprintf("%s/sys/bus/pci/devices/%s/local_cpulist", root, bus);
    found = first_line(p);
  }
  if (d)
    closedir(d);
  return found;
}

/* Adds path as a node of the list; -ENOTTY if it is no character device. */
static int
add_node(struct dev_node **v, size_t *n, const char *path, struct berr *err, const char *where) {
  struct stat st;
  if (stat(path, &st) < 0)
    return berr_set(err, -errno, "%s: %s: %s", where, path, strerror(errno));
  if (!S_ISCHR(st.st_mode))
    return berr_set(err, -ENOTTY, "%s: %s is not a character device", where, path);
  *v = xrealloc(*v, (*n + 1) * sizeof(**v));
  (*v)[(*n)++] = (struct dev_node){.path = xstrdup(path), .rdev = st.st_rdev};
  return 0;
}

static bool
is_glob(const char *w) {
  return strpbrk(w, "*?[") != NULL;
}

/* Each word of list: a path, or a glob whose matches are taken in natural
 * order (nvidia2 before nvidia10). A path must exist unless optional; a
 * glob may match nothing. */
static int
add_nodes(struct dev_node **v, size_t *n, const char *list, bool optional, struct berr *err,
          const char *where) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
    if (!is_glob(w)) {
      if (optional && access(w, F_OK) != 0)
        continue;
      int r = add_node(v, n, w, err, where);
      if (r < 0)
        return r;
      continue;
    }
    glob_t g = {0};
    int gr = glob(w, GLOB_NOSORT, NULL, &g);
    if (gr != 0 && gr != GLOB_NOMATCH) {
      globfree(&g);
      return berr_set(err, -EIO, "%s: cannot expand %s", where, w);
    }
    if (g.gl_pathc)
      qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_natural);
    int r = 0;
    for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
      r = add_node(v, n, g.gl_pathv[i], err, where);
    globfree(&g);
    if (r < 0)
      return r;
  }
  return 0;
}

/* No device may belong to two classes, or twice to one. */
static int
check_unique(const struct dev_table *t, struct berr *err) {
  for (size_t a = 0; a < t->ncls; a++)
    for (size_t i = 0; i < t->cls[a].ndev; i++)
      for (size_t b = a; b < t->ncls; b++)
        for (size_t k = b == a ? i + 1 : 0; k < t->cls[b].ndev; k++)
          if (t->cls[a].dev[i].rdev == t->cls[b].dev[k].rdev)
            return berr_set(err, -EINVAL, "[devices %s] %s and [devices %s] %s are the same device",
                            t->cls[a].name, t->cls[a].dev[i].path, t->cls[b].name,
                            t->cls[b].dev[k].path);
  return 0;
}

static int
load_class(const struct boxq_devclass *dc, const char *root, struct dev_class *c,
           struct berr *err) {
  _cleanup_free_ char *where = xasprintf("[devices %s] nodes", dc->name);
  *c = (struct dev_class){.name = xstrdup(dc->name)};
  int r = add_nodes(&c->dev, &c->ndev, dc->nodes, false, err, where);
  if (r == 0 && c->ndev > DEV_PER_CLASS_MAX)
    r = berr_set(err, -E2BIG, "%s: %zu devices; at most %d a class", where, c->ndev,
                 DEV_PER_CLASS_MAX);
  free(where);
  where = xasprintf("[devices %s] common_nodes", dc->name);
  /* Common nodes may come and go with a driver (nvidia-uvm loads on use). */
  if (r == 0)
    r = add_nodes(&c->common, &c->ncommon, dc->common_nodes, true, err, where);
  if (r < 0)
    return r;
  /* local_cpus: one list per device, in order; else sysfs. */
  _cleanup_free_ char *cpus = xstrdup(dc->local_cpus);
  char *save = NULL, *w = strtok_r(cpus, " \t", &save);
  for (size_t i = 0; i < c->ndev; i++, w = w ? strtok_r(NULL, " \t", &save) : NULL) {
    struct cpuset probe;
    if (w && cpuset_parse(w, &probe) < 0)
      return berr_set(err, -EINVAL, "[devices %s] local_cpus: '%s' is not a CPU list", dc->name, w);
    if (*dc->local_cpus && !w)
      return berr_set(err, -EINVAL,
                      "[devices %s] local_cpus: give one CPU list for each of the "
                      "%zu devices",
                      dc->name, c->ndev);
    c->dev[i].near_cpus = w ? xstrdup(w) : sysfs_near_cpus(root, c->dev[i].rdev);
  }
  if (w)
    return berr_set(err, -EINVAL, "[devices %s] local_cpus: more CPU lists than the %zu devices",
                    dc->name, c->ndev);
  return 0;
}

int
dev_table_load(const struct boxq_config *cfg, const char *root, struct dev_table *t,
               struct berr *err) {
  *t = (struct dev_table){0};
  for (size_t i = 0; i < cfg->ndevclasses && i < DEV_CLASSES_MAX; i++) {
    int r = load_class(&cfg->devclasses[i], root, &t->cls[i], err);
    t->ncls = i + 1;
    if (r < 0) {
      dev_table_free(t);
      return r;
    }
  }
  int r = check_unique(t, err);
  if (r < 0) {
    dev_table_free(t);
    return r;
  }
  if (cfg->ndevclasses == 0 && cfg->detect_devices)
    dev_table_detect(root, t);
  return 0;
}

static bool
is_nvidia_gpu(const char *name) {
  if (strncmp(name, "nvidia", 6) != 0 || !name[6])
    return false;
  for (const char *p = name + 6; *p; p++)
    if (!isdigit((unsigned char)*p))
      return false;
  return true;
}

void
dev_table_detect(const char *root, struct dev_table *t) {
  if (t->ncls >= DEV_CLASSES_MAX)
    return;
  struct dev_class c = {.name = xstrdup("gpu"), .detected = true};
  struct berr ignored;
  _cleanup_free_ char *devdir = xasprintf("%s/dev", root);
  DIR *d = opendir(devdir);
  char **names = NULL;
  size_t nnames = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (is_nvidia_gpu(e->d_name)) {
      names = xrealloc(names, (nnames + 1) * sizeof(char *));
      names[nnames++] = xasprintf("%s/%s", devdir, e->d_name);
    }
  if (d)
    closedir(d);
  if (nnames)
    qsort(names, nnames, sizeof(char *), cmp_natural);
  for (size_t i = 0; i < nnames && c.ndev < DEV_PER_CLASS_MAX; i++)
    if (add_node(&c.dev, &c.ndev, names[i], &ignored, "") == 0)
      c.dev[c.ndev - 1].near_cpus = nvidia_near_cpus(root, minor(c.dev[c.ndev - 1].rdev));
  for (size_t i = 0; i < nnames; i++)
    free(names[i]);
  free(names);
  if (c.ndev) {
    static const char *const common[] = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools",
                                         "nvidia-modeset"};
    for (size_t i = 0; i < ARRAY_SIZE(common); i++) {
      _cleanup_free_ char *p = xasprintf("%s/%s", devdir, common[i]);
      if (access(p, F_OK) == 0)
        add_node(&c.common, &c.ncommon, p, &ignored, "");
    }
  } else {
    /* No NVIDIA devices: render nodes (AMD, Intel; NVIDIA's own render
     * nodes would only repeat its GPUs). */
    _cleanup_free_ char *pattern = xasprintf("%s/dri/renderD*", devdir);
    add_nodes(&c.dev, &c.ndev, pattern, true, &ignored, "");
    for (size_t i = 0; i < c.ndev; i++)
      c.dev[i].near_cpus = sysfs_near_cpus(root, c.dev[i].rdev);
    _cleanup_free_ char *kfd = xasprintf("%s/kfd", devdir);
    if (c.ndev)
      add_nodes(&c.common, &c.ncommon, kfd, true, &ignored, "");
  }
  if (c.ndev > DEV_PER_CLASS_MAX)
    c.ndev = DEV_PER_CLASS_MAX; /* the rest stay outside boxq's hands */
  if (c.ndev)
    t->cls[t->ncls++] = c;
  else
    class_free(&c);
}

/* ---- requests ---- */

bool
dev_counts_any(const struct dev_counts *c) {
  for (size_t i = 0; i < DEV_CLASSES_MAX; i++)
    if (c->n[i])
      return true;
  return false;
}

int
dev_counts_parse(const struct dev_table *t, const char *text, struct dev_counts *ret) {
  *ret = (struct dev_counts){{0}};
  for (const char *p = text ? text : ""; *p;) {
    size_t len = strcspn(p, ",");
    const char *eq = memchr(p, '=', len);
    if (!eq)
      return -EINVAL;
    _cleanup_free_ char *name = xstrndup(p, (size_t)(eq - p));
    _cleanup_free_ char *num = xstrndup(eq + 1, len - (size_t)(eq - p) - 1);
    int64_t v;
    int c = dev_class_find(t, name);
    if (parse_i64(num, 0, DEV_PER_CLASS_MAX, &v) < 0)
      return -EINVAL;
    if (c < 0 && v > 0)
      return -ENOENT;
    if (c >= 0)
      ret->n[c] = (int16_t)v;
    p += len + (p[len] == ',');
  }
  return 0;
}

char *
dev_counts_format(const struct dev_table *t, const struct dev_counts *c) {
  char *out = xstrdup("");
  for (size_t i = 0; i < t->ncls; i++) {
    if (!c->n[i])
      continue;
    char *more = xasprintf("%s%s%s=%d", out, *out ? "," : "", t->cls[i].name, c->n[i]);
    free(out);
    out = more;
  }
  return out;
}

/* The last value given for name in a "k=v,k=v" list, or NULL (allocated). */
static char *
site_value(const struct res_request *req, const char *name) {
  size_t len = strlen(name);
  char *v = NULL;
  for (size_t i = 0; i < req->nsite; i++)
    if (!strncmp(req->site[i], name, len) && req->site[i][len] == '=') {
      free(v);
      v = xstrdup(req->site[i] + len + 1);
    }
  return v;
}

static int
count_for(const struct dev_table *t, const char *cls, const char *form, int64_t n,
          struct dev_counts *ret, struct berr *err) {
  int c = dev_class_find(t, cls);
  if (n == 0)
    return 0;
  if (c < 0)
    return berr_set(err, -EINVAL,
                    "%s asks for %lld %s device%s; this box has none ([devices %s] in the "
                    "configuration, or none was found at start)",
                    form, (long long)n, cls, n == 1 ? "" : "s", cls);
  if ((size_t)n > t->cls[c].ndev)
    return berr_set(err, -EINVAL, "%s asks for %lld %s devices; this box has %zu", form,
                    (long long)n, cls, t->cls[c].ndev);
  ret->n[c] = (int16_t)n;
  return 0;
}

int
dev_request_from_resources(const struct dev_table *t, const char *resources, struct dev_counts *ret,
                           struct berr *err) {
  *ret = (struct dev_counts){{0}};
  if (!resources || !*resources)
    return 0;
  struct res_request req = {0};
  struct res_policy pol = {.unknown = RES_UNKNOWN_IGNORE};
  int r = res_parse_list(resources, &req, &pol, err);
  /* The gpu class: ngpus, gpus or gpu (several: the last of these names),
   * else nodes' or select's. */
  static const char *const gpu_forms[] = {"ngpus", "gpus", "gpu"};
  for (size_t i = 0; r == 0 && i < ARRAY_SIZE(gpu_forms); i++) {
    _cleanup_free_ char *v = site_value(&req, gpu_forms[i]);
    int64_t n;
    if (!v)
      continue;
    if (parse_i64(v, 0, DEV_PER_CLASS_MAX, &n) < 0)
      r = berr_set(err, -EINVAL, "%s '%s' is not a whole number from 0 to %d", gpu_forms[i], v,
                   DEV_PER_CLASS_MAX);
    else {
      _cleanup_free_ char *form = xasprintf("%s=%s", gpu_forms[i], v);
      int c = dev_class_find(t, "gpu");
      if (c >= 0)
        ret->n[c] = 0; /* a later form replaces an earlier one */
      r = count_for(t, "gpu", form, n, ret, err);
    }
    req.node_gpus = 0; /* an explicit count wins */
  }
  if (r == 0 && req.node_gpus > 0)
    r = count_for(t, "gpu", "nodes'/select's gpus", req.node_gpus, ret, err);
  for (size_t c = 0; r == 0 && c < t->ncls; c++) {
    if (!strcmp(t->cls[c].name, "gpu"))
      continue;
    _cleanup_free_ char *v = site_value(&req, t->cls[c].name);
    int64_t n;
    if (!v)
      continue;
    if (parse_i64(v, 0, DEV_PER_CLASS_MAX, &n) < 0)
      r = berr_set(err, -EINVAL, "%s '%s' is not a whole number from 0 to %d", t->cls[c].name, v,
                   DEV_PER_CLASS_MAX);
    else {
      _cleanup_free_ char *form = xasprintf("%s=%s", t->cls[c].name, v);
      r = count_for(t, t->cls[c].name, form, n, ret, err);
    }
  }
  res_request_free(&req);
  return r;
}

/* ---- sets ---- */

bool
dev_set_has(const struct dev_set *s, size_t cls, size_t i) {
  return cls < DEV_CLASSES_MAX && i < DEV_PER_CLASS_MAX && (s->bits[cls][i / 64] >> (i % 64)) & 1;
}

void
dev_set_add(struct dev_set *s, size_t cls, size_t i) {
  if (cls < DEV_CLASSES_MAX && i < DEV_PER_CLASS_MAX)
    s->bits[cls][i / 64] |= UINT64_C(1) << (i % 64);
}

size_t
dev_set_count(const struct dev_set *s, size_t cls) {
  size_t n = 0;
  for (size_t w = 0; w < DEV_PER_CLASS_MAX / 64; w++)
    n += (size_t)__builtin_popcountll(s->bits[cls][w]);
  return n;
}

void
dev_set_or(struct dev_set *into, const struct dev_set *s) {
  for (size_t c = 0; c < DEV_CLASSES_MAX; c++)
    for (size_t w = 0; w < DEV_PER_CLASS_MAX / 64; w++)
      into->bits[c][w] |= s->bits[c][w];
}

int
dev_set_parse(const struct dev_table *t, const char *text, struct dev_set *ret) {
  *ret = (struct dev_set){{{0}}};
  for (const char *p = text ? text : ""; *p;) {
    size_t len = strcspn(p, ";");
    const char *colon = memchr(p, ':', len);
    if (!colon)
      return -EINVAL;
    _cleanup_free_ char *name = xstrndup(p, (size_t)(colon - p));
    int c = dev_class_find(t, name);
    if (c < 0)
      return -ENOENT;
    for (const char *q = colon + 1; q < p + len;) {
      size_t n = strcspn(q, ",;");
      _cleanup_free_ char *num = xstrndup(q, n);
      int64_t i;
      if (parse_i64(num, 0, DEV_PER_CLASS_MAX - 1, &i) < 0)
        return -EINVAL;
      if ((size_t)i >= t->cls[c].ndev)
        return -ENOENT;
      dev_set_add(ret, (size_t)c, (size_t)i);
      q += n + (q[n] == ',');
    }
    p += len + (p[len] == ';');
  }
  return 0;
}

char *
dev_set_format(const struct dev_table *t, const struct dev_set *s) {
  size_t cap = 16 + t->ncls * (16 + DEV_PER_CLASS_MAX * 4);
  char *out = xmalloc(cap), *o = out;
  *o = '\0';
  for (size_t c = 0; c < t->ncls; c++) {
    if (!dev_set_count(s, c))
      continue;
    o += sprintf(o, "%s%s:", o == out ? "" : ";", t->cls[c].name);
    bool first = true;
    for (size_t i = 0; i < t->cls[c].ndev; i++)
      if (dev_set_has(s, c, i)) {
        o += sprintf(o, "%s%zu", first ? "" : ",", i);
        first = false;
      }
  }
  return out;
}

int
dev_set_first(const struct dev_set *place, const struct dev_counts *want, struct dev_set *ret) {
  *ret = (struct dev_set){{{0}}};
  for (size_t c = 0; c < DEV_CLASSES_MAX; c++) {
    int left = want->n[c];
    for (size_t i = 0; left > 0 && i < DEV_PER_CLASS_MAX; i++)
      if (dev_set_has(place, c, i)) {
        dev_set_add(ret, c, i);
        left--;
      }
    if (left > 0)
      return -ENOSPC;
  }
  return 0;
}

/* ---- the choice ---- */

static bool
same_near(const struct dev_node *a, const struct dev_node *b) {
  return a->near_cpus && b->near_cpus && !strcmp(a->near_cpus, b->near_cpus);
}

int
dev_pick(const struct dev_table *t, const struct dev_set *busy, const struct dev_counts *want,
         struct dev_set *ret, struct cpuset *near) {
  *ret = (struct dev_set){{{0}}};
  *near = (struct cpuset){{0}};
  for (size_t c = 0; c < t->ncls; c++) {
    const struct dev_class *cls = &t->cls[c];
    size_t n = (size_t)(want->n[c] > 0 ? want->n[c] : 0), nfree = 0;
    if (!n)
      continue;
    for (size_t i = 0; i < cls->ndev; i++)
      nfree += !dev_set_has(busy, c, i);
    if (nfree < n)
      return -ENOSPC;
    /* The neighbourhood (led by its first device) with enough free and
     * the fewest free. */
    size_t best = SIZE_MAX, best_free = SIZE_MAX;
    for (size_t lead = 0; lead < cls->ndev; lead++) {
      bool first = true;
      for (size_t k = 0; k < lead && first; k++)
        first = !same_near(&cls->dev[k], &cls->dev[lead]);
      if (!first || !cls->dev[lead].near_cpus)
        continue;
      size_t f = 0;
      for (size_t i = 0; i < cls->ndev; i++)
        f += same_near(&cls->dev[i], &cls->dev[lead]) && !dev_set_has(busy, c, i);
      if (f >= n && f < best_free) {
        best = lead;
        best_free = f;
      }
    }
    size_t got = 0;
    for (size_t i = 0; got < n && i < cls->ndev; i++)
      if (!dev_set_has(busy, c, i) &&
          (best == SIZE_MAX || same_near(&cls->dev[i], &cls->dev[best]))) {
        dev_set_add(ret, c, i);
        got++;
      }
    for (size_t i = 0; i < cls->ndev; i++) {
      struct cpuset s;
      if (dev_set_has(ret, c, i) && cls->dev[i].near_cpus &&
          cpuset_parse(cls->dev[i].near_cpus, &s) == 0)
        for (size_t w = 0; w < ARRAY_SIZE(s.bits); w++)
          near->bits[w] |= s.bits[w];
    }
  }
  return 0;
}
