/* SPDX-License-Identifier: MIT */
/* Device classes (common/devices.c): configured classes over nodes made
 * for the test (globs in natural order, bad nodes refused and named),
 * detection of NVIDIA and DRM render nodes under a recorded root (/dev,
 * /proc/driver/nvidia, sysfs), the request forms, held sets, and the
 * choice of devices near one another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "devices.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char root[256];

static void
put(const char *rel, const char *text) {
  char path[512], dir[512];
  snprintf(path, sizeof(path), "%s/%s", root, rel);
  snprintf(dir, sizeof(dir), "%s", path);
  *strrchr(dir, '/') = '\0';
  assert_int_equal(mkdir_p(dir, 0755), 0);
  assert_int_equal(write_file_atomic(path, text, strlen(text), 0644, false), 0);
}

static bool
node(const char *rel, unsigned minor_no) {
  char path[512], dir[512];
  snprintf(path, sizeof(path), "%s/%s", root, rel);
  snprintf(dir, sizeof(dir), "%s", path);
  *strrchr(dir, '/') = '\0';
  mkdir_p(dir, 0755);
  return mknod(path, S_IFCHR | 0666, makedev(1, minor_no)) == 0;
}

static int
setup(void **state) {
  (void)state;
  snprintf(root, sizeof(root), "/var/tmp/test_devices.XXXXXX");
  return mkdtemp(root) ? 0 : -1;
}

static int
teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  return system(cmd) == 0 ? 0 : -1;
}

static struct boxq_config
config_with(const char *nodes, const char *common, const char *cpus) {
  static struct boxq_devclass c;
  c = (struct boxq_devclass){.name = (char *)"gpu",
                             .nodes = (char *)nodes,
                             .common_nodes = (char *)common,
                             .local_cpus = (char *)cpus};
  return (struct boxq_config){.devclasses = &c, .ndevclasses = 1, .detect_devices = true};
}

static void
configured(void **state) {
  (void)state;
  if (geteuid() != 0 || !node("c/acc2", 7) || !node("c/acc10", 8) || !node("c/acc1", 9) ||
      !node("c/ctl", 11))
    UNIT_SKIP("needs root to make device nodes (mknod)");
  char nodes[600], common[600];
  snprintf(nodes, sizeof(nodes), "%s/c/acc*", root);
  snprintf(common, sizeof(common), "%s/c/ctl %s/c/absent", root, root);
  struct boxq_config cfg = config_with(nodes, common, "");
  struct dev_table t;
  struct berr err = {{0}};
  assert_int_equal(dev_table_load(&cfg, root, &t, &err), 0);
  assert_int_equal(t.ncls, 1);
  assert_int_equal(t.cls[0].ndev, 3);
  /* natural order: acc1, acc2, acc10 */
  assert_non_null(strstr(t.cls[0].dev[0].path, "/acc1"));
  assert_non_null(strstr(t.cls[0].dev[1].path, "/acc2"));
  assert_non_null(strstr(t.cls[0].dev[2].path, "/acc10"));
  assert_int_equal(minor(t.cls[0].dev[2].rdev), 8);
  /* a missing common node is left out (drivers load them on use) */
  assert_int_equal(t.cls[0].ncommon, 1);
  dev_table_free(&t);

  /* local_cpus: one list per device */
  cfg = config_with(nodes, "", "0-3 0-3 4-7");
  assert_int_equal(dev_table_load(&cfg, root, &t, &err), 0);
  assert_string_equal(t.cls[0].dev[2].near_cpus, "4-7");
  dev_table_free(&t);
  cfg = config_with(nodes, "", "0-3 0-3");
  assert_true(dev_table_load(&cfg, root, &t, &err) < 0);
  assert_non_null(strstr(err.msg, "one CPU list for each of the 3 devices"));
  cfg = config_with(nodes, "", "0-3 x 1");
  assert_true(dev_table_load(&cfg, root, &t, &err) < 0);
  assert_non_null(strstr(err.msg, "'x' is not a CPU list"));

  /* bad nodes, named */
  put("c/plain", "x");
  snprintf(nodes, sizeof(nodes), "%s/c/plain", root);
  cfg = config_with(nodes, "", "");
  assert_true(dev_table_load(&cfg, root, &t, &err) < 0);
  assert_non_null(strstr(err.msg, "[devices gpu] nodes: "));
  assert_non_null(strstr(err.msg, "is not a character device"));
  snprintf(nodes, sizeof(nodes), "%s/c/nosuch", root);
  cfg = config_with(nodes, "", "");
  assert_true(dev_table_load(&cfg, root, &t, &err) < 0);
  assert_non_null(strstr(err.msg, "No such file"));
  snprintf(nodes, sizeof(nodes), "%s/c/acc1 %s/c/acc1", root, root);
  cfg = config_with(nodes, "", "");
  assert_true(dev_table_load(&cfg, root, &t, &err) < 0);
  assert_non_null(strstr(err.msg, "are the same device"));
  /* a glob matching nothing: a class of none (boxqd warns) */
  snprintf(nodes, sizeof(nodes), "%s/c/none*", root);
  cfg = config_with(nodes, "", "");
  assert_int_equal(dev_table_load(&cfg, root, &t, &err), 0);
  assert_int_equal(t.cls[0].ndev, 0);
  dev_table_free(&t);
}

static void
detected(void **state) {
  (void)state;
  if (geteuid() != 0 || !node("nv/dev/nvidia0", 7) || !node("nv/dev/nvidia1", 8) ||
      !node("nv/dev/nvidiactl", 11) || !node("nv/dev/nvidia-uvm", 5) ||
      !node("drm/dev/dri/renderD129", 9) || !node("drm/dev/dri/renderD128", 3) ||
      !node("drm/dev/kfd", 4))
    UNIT_SKIP("needs root to make device nodes (mknod)");
  /* NVIDIA: minor 8 is the device at PCI 0000:af:00.0, near CPUs 16-31 */
  put("nv/proc/driver/nvidia/gpus/0000:AF:00.0/information",
      "Model: \t\t Tesla\nIRQ: 100\nDevice Minor: \t 8\n");
  put("nv/sys/bus/pci/devices/0000:af:00.0/local_cpulist", "16-31\n");
  char nv[300], drm[300];
  snprintf(nv, sizeof(nv), "%s/nv", root);
  struct dev_table t = {0};
  dev_table_detect(nv, &t);
  assert_int_equal(t.ncls, 1);
  assert_string_equal(t.cls[0].name, "gpu");
  assert_true(t.cls[0].detected);
  assert_int_equal(t.cls[0].ndev, 2);
  assert_non_null(strstr(t.cls[0].dev[1].path, "/dev/nvidia1"));
  assert_null(t.cls[0].dev[0].near_cpus);
  assert_string_equal(t.cls[0].dev[1].near_cpus, "16-31");
  assert_int_equal(t.cls[0].ncommon, 2);
  dev_table_free(&t);
  /* DRM render nodes, with ROCm's /dev/kfd; near CPUs from sysfs */
  put("drm/sys/dev/char/1:9/device/local_cpulist", "0-7\n");
  snprintf(drm, sizeof(drm), "%s/drm", root);
  dev_table_detect(drm, &t);
  assert_int_equal(t.cls[0].ndev, 2);
  assert_non_null(strstr(t.cls[0].dev[0].path, "renderD128"));
  assert_string_equal(t.cls[0].dev[1].near_cpus, "0-7");
  assert_int_equal(t.cls[0].ncommon, 1);
  dev_table_free(&t);
  /* configured classes replace detection; detect_devices = false too */
  struct boxq_config cfg = {.detect_devices = false};
  assert_int_equal(dev_table_load(&cfg, nv, &t, NULL), 0);
  assert_int_equal(t.ncls, 0);
  char *empty = root; /* no dev/ below it */
  dev_table_detect(empty, &t);
  assert_int_equal(t.ncls, 0);
}

/* A table without nodes on disk: counts, sets and the choice. */
static struct dev_table
table_of(size_t n, const char *const *near) {
  struct dev_table t = {0};
  t.ncls = 2;
  t.cls[0] = (struct dev_class){.name = xstrdup("gpu"), .ndev = n};
  t.cls[0].dev = xcalloc(n, sizeof(struct dev_node));
  for (size_t i = 0; i < n; i++) {
    t.cls[0].dev[i].path = xasprintf("/dev/nvidia%zu", i);
    t.cls[0].dev[i].near_cpus = near && near[i] ? xstrdup(near[i]) : NULL;
  }
  t.cls[1] = (struct dev_class){.name = xstrdup("fpga"), .ndev = 2};
  t.cls[1].dev = xcalloc(2, sizeof(struct dev_node));
  t.cls[1].dev[0].path = xstrdup("/dev/fpga0");
  t.cls[1].dev[1].path = xstrdup("/dev/fpga1");
  return t;
}

static void
requests(void **state) {
  (void)state;
  struct dev_table t = table_of(8, NULL);
  struct dev_counts c;
  struct berr err = {{0}};
  assert_int_equal(dev_request_from_resources(&t, "ngpus=2", &c, &err), 0);
  assert_int_equal(c.n[0], 2);
  assert_int_equal(dev_request_from_resources(&t, "nodes=2:ppn=1:gpus=3", &c, &err), 0);
  assert_int_equal(c.n[0], 6);
  assert_int_equal(dev_request_from_resources(&t, "select=2:ncpus=1:ngpus=2", &c, &err), 0);
  assert_int_equal(c.n[0], 4);
  assert_int_equal(dev_request_from_resources(&t, "gpus=1", &c, &err), 0); /* Slurm's */
  assert_int_equal(c.n[0], 1);
  assert_int_equal(dev_request_from_resources(&t, "gpu=3", &c, &err), 0); /* Grid Engine's */
  assert_int_equal(c.n[0], 3);
  /* an explicit count wins over nodes' */
  assert_int_equal(dev_request_from_resources(&t, "nodes=1:gpus=4,ngpus=1", &c, &err), 0);
  assert_int_equal(c.n[0], 1);
  assert_int_equal(dev_request_from_resources(&t, "fpga=2,ngpus=1", &c, &err), 0);
  assert_int_equal(c.n[1], 2);
  _cleanup_free_ char *text = dev_counts_format(&t, &c);
  assert_string_equal(text, "gpu=1,fpga=2");
  struct dev_counts back;
  assert_int_equal(dev_counts_parse(&t, text, &back), 0);
  assert_memory_equal(&back, &c, sizeof(c));
  assert_int_equal(dev_counts_parse(&t, "tpu=1", &back), -ENOENT);
  assert_int_equal(dev_counts_parse(&t, "gpu", &back), -EINVAL);
  /* refused, named */
  assert_true(dev_request_from_resources(&t, "ngpus=9", &c, &err) < 0);
  assert_non_null(strstr(err.msg, "asks for 9 gpu devices; this box has 8"));
  assert_true(dev_request_from_resources(&t, "fpga=x", &c, &err) < 0);
  assert_non_null(strstr(err.msg, "fpga 'x' is not a whole number"));
  struct dev_table none = {0};
  assert_true(dev_request_from_resources(&none, "ngpus=1", &c, &err) < 0);
  assert_non_null(strstr(err.msg, "this box has none"));
  assert_int_equal(dev_request_from_resources(&none, "ngpus=0,ncpus=2", &c, &err), 0);
  assert_false(dev_counts_any(&c));
  dev_table_free(&t);
}

static void
sets(void **state) {
  (void)state;
  struct dev_table t = table_of(8, NULL);
  struct dev_set s, place, first;
  assert_int_equal(dev_set_parse(&t, "gpu:0,3;fpga:1", &s), 0);
  assert_true(dev_set_has(&s, 0, 3));
  assert_int_equal(dev_set_count(&s, 0), 2);
  _cleanup_free_ char *text = dev_set_format(&t, &s);
  assert_string_equal(text, "gpu:0,3;fpga:1");
  assert_int_equal(dev_set_parse(&t, "gpu:8", &s), -ENOENT);
  assert_int_equal(dev_set_parse(&t, "tpu:0", &s), -ENOENT);
  assert_int_equal(dev_set_parse(&t, "gpu:x", &s), -EINVAL);
  assert_int_equal(dev_set_parse(&t, "", &s), 0);
  assert_int_equal(dev_set_parse(&t, "gpu:2,5,6", &place), 0);
  struct dev_counts two = {{2}};
  assert_int_equal(dev_set_first(&place, &two, &first), 0);
  _cleanup_free_ char *f = dev_set_format(&t, &first);
  assert_string_equal(f, "gpu:2,5");
  struct dev_counts four = {{4}};
  assert_int_equal(dev_set_first(&place, &four, &first), -ENOSPC);
  dev_table_free(&t);
}

static void
choice(void **state) {
  (void)state;
  /* two sockets: GPUs 0-3 near CPUs 0-15, 4-7 near 16-31 */
  static const char *const near[] = {"0-15",  "0-15",  "0-15",  "0-15",
                                     "16-31", "16-31", "16-31", "16-31"};
  struct dev_table t = table_of(8, near);
  struct dev_set busy = {{{0}}}, got;
  struct cpuset cpus;
  char buf[64];
  /* 2 of socket 0 busy: a 2-GPU job goes to socket 0 (best fit keeps the
   * whole socket 1 for a 4-GPU job) */
  dev_set_parse(&t, "gpu:0,1", &busy);
  struct dev_counts two = {{2}}, four = {{4}}, three = {{3}};
  assert_int_equal(dev_pick(&t, &busy, &two, &got, &cpus), 0);
  _cleanup_free_ char *a = dev_set_format(&t, &got);
  assert_string_equal(a, "gpu:2,3");
  cpuset_format(&cpus, buf, sizeof(buf));
  assert_string_equal(buf, "0-15");
  /* a 4-GPU job gets socket 1 whole */
  assert_int_equal(dev_pick(&t, &busy, &four, &got, &cpus), 0);
  _cleanup_free_ char *b = dev_set_format(&t, &got);
  assert_string_equal(b, "gpu:4,5,6,7");
  /* 3 when no socket has 3 free: the lowest free, CPUs near all */
  dev_set_parse(&t, "gpu:0,1,4,5", &busy);
  assert_int_equal(dev_pick(&t, &busy, &three, &got, &cpus), 0);
  _cleanup_free_ char *c = dev_set_format(&t, &got);
  assert_string_equal(c, "gpu:2,3,6");
  cpuset_format(&cpus, buf, sizeof(buf));
  assert_string_equal(buf, "0-31");
  /* too few free */
  assert_int_equal(dev_pick(&t, &busy, &four, &got, &cpus), 0);
  dev_set_parse(&t, "gpu:0,1,2,4,5", &busy);
  assert_int_equal(dev_pick(&t, &busy, &four, &got, &cpus), -ENOSPC);
  dev_table_free(&t);
  /* no topology known: the lowest free */
  t = table_of(4, NULL);
  dev_set_parse(&t, "gpu:1", &busy);
  assert_int_equal(dev_pick(&t, &busy, &two, &got, &cpus), 0);
  _cleanup_free_ char *d = dev_set_format(&t, &got);
  assert_string_equal(d, "gpu:0,2");
  assert_int_equal(cpuset_count(&cpus), 0);
  dev_table_free(&t);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(configured), cmocka_unit_test(detected), cmocka_unit_test(requests),
      cmocka_unit_test(sets),       cmocka_unit_test(choice),
  };
  return UNIT_RUN(tests, setup, teardown);
}
