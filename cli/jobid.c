/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "jobref.h"

#include <string.h>

int
cli_put_jobids(struct cli_ctx *ctx, struct pbuf *b, char **ids, int n, bool reject_options,
               int *errors) {
  int added = 0;
  for (int i = 0; i < n; i++) {
    struct job_ref ref;
    struct berr err = {{0}};
    if (reject_options && ids[i][0] == '-') {
      cli_error(ctx, "unknown option %s", ids[i]);
      return -1;
    }
    if (job_ref_parse(ids[i], &ref, &err) < 0) {
      cli_error(ctx, "%s", err.msg);
      (*errors)++;
      continue;
    }
    char text[48];
    job_ref_format(&ref, text, sizeof(text));
    pb_str(b, T_JOBREF, text);
    added++;
  }
  return added;
}
