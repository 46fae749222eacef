/* SPDX-License-Identifier: MIT */
/* Resource values: sizes, durations, lists. Accepted values stay in range;
 * rejected ones come with a message. */
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
  free(s);
  return 0;
}
