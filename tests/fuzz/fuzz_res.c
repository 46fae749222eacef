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
  if (res_parse_list(s, &req, &err) < 0 && !err.msg[0])
    __builtin_trap();
  free(s);
  return 0;
}
