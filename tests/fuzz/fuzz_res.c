/* SPDX-License-Identifier: MIT */
/* Resource values: sizes, durations, lists, and the device forms made of
 * them (requests, held sets: text that boxqd reads back from its
 * database and its clients). Accepted values stay in range; rejected
 * ones come with a message. */
#include "devices.h"
#include "res.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = xmalloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  struct berr err = {{0}};
  int64_t v;
  if (res_parse_size(s, &v, &err) == 0) {
    if (v < 0 || v > RES_SIZE_MAX)
      __builtin_trap();
    char buf[64];
    res_format_size(v, buf, sizeof(buf));
  } else if (!err.msg[0])
    __builtin_trap();
  err.msg[0] = '\0';
  if (res_parse_duration(s, &v, &err) == 0) {
    if (v < 0 || v > RES_DURATION_MAX)
      __builtin_trap();
    char buf[64];
    res_format_duration(v, buf, sizeof(buf));
  } else if (!err.msg[0])
    __builtin_trap();
  struct res_request req = {0};
  err.msg[0] = '\0';
  if (res_parse_list(s, &req, NULL, &err) < 0 && !err.msg[0])
    __builtin_trap();
  res_request_free(&req);
  /* The other forms, kept as the default policy keeps them. */
  struct res_policy warn = {.unknown = RES_UNKNOWN_WARN};
  err.msg[0] = '\0';
  if (res_parse_list(s, &req, &warn, &err) < 0 && !err.msg[0])
    __builtin_trap();
  res_finish(&req);
  if (req.ncpus < 0 || req.ncpus > RES_NCPUS_MAX || req.mem < 0 || req.mem > RES_SIZE_MAX)
    __builtin_trap();
  free(res_site_string(&req));
  res_request_free(&req);
  /* Devices, over a table of two classes (no nodes on disk needed). */
  static struct dev_node gpus[8], fpgas[2];
  struct dev_table t = {.ncls = 2};
  t.cls[0] = (struct dev_class){.name = (char *)"gpu", .dev = gpus, .ndev = 8};
  t.cls[1] = (struct dev_class){.name = (char *)"fpga", .dev = fpgas, .ndev = 2};
  struct dev_counts c;
  err.msg[0] = '\0';
  if (dev_request_from_resources(&t, s, &c, &err) == 0) {
    if (c.n[0] < 0 || c.n[0] > 8 || c.n[1] < 0 || c.n[1] > 2)
      __builtin_trap();
    free(dev_counts_format(&t, &c));
  } else if (!err.msg[0])
    __builtin_trap();
  if (dev_counts_parse(&t, s, &c) == 0)
    free(dev_counts_format(&t, &c));
  struct dev_set held, first;
  if (dev_set_parse(&t, s, &held) == 0) {
    if (dev_set_count(&held, 0) > 8 || dev_set_count(&held, 1) > 2)
      __builtin_trap();
    free(dev_set_format(&t, &held));
    struct dev_counts two = {{2, 1}};
    dev_set_first(&held, &two, &first);
  }
  free(s);
  return 0;
}
