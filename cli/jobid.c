/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <string.h>

int
cli_put_jobids(struct cli_ctx *ctx, struct pbuf *b, char **ids, int n, bool reject_options,
               int *errors) {
  int added = 0;
  for (int i = 0; i < n; i++) {
    int64_t id;
    struct berr err = {{0}};
    if (reject_options && ids[i][0] == '-') {
      cli_error(ctx, "unknown option %s", ids[i]);
      return -1;
    }
    if (cli_parse_jobid(ids[i], &id, &err) < 0) {
      cli_error(ctx, "%s", err.msg);
      (*errors)++;
      continue;
    }
    pb_i64(b, T_JOBID, id);
    added++;
  }
  return added;
}

int
cli_parse_jobid(const char *s, int64_t *ret, struct berr *err) {
  size_t digits = strspn(s, "0123456789");
  if (digits == 0)
    return berr_set(err, -EINVAL, "illegally formed job identifier: %s", s);
  if (s[digits] == '[')
    return berr_set(err, -ENOTSUP, "array jobs are not supported yet: %s", s);
  if (s[digits] != '\0' && (s[digits] != '.' || s[digits + 1] == '\0'))
    return berr_set(err, -EINVAL, "illegally formed job identifier: %s", s);
  _cleanup_free_ char *num = xstrndup(s, digits);
  int64_t v;
  if (parse_i64(num, 1, INT64_MAX, &v) < 0)
    return berr_set(err, -EINVAL, "illegally formed job identifier: %s", s);
  *ret = v;
  return 0;
}
