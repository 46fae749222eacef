/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"

/* Adds a crontab to b, a MSG_CRON set request being built: T_TEXT (the
 * text less boxq's "#|" status lines) and a T_CRON with its job for each
 * schedule line. Errors name LABEL:LINE. *ret_entries: how many. */
int crontab_encode(struct cli_ctx *ctx, const char *text, const char *label, struct pbuf *b,
                   int *ret_entries, struct berr *err);
