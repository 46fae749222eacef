/* SPDX-License-Identifier: MIT */
/* Retention: finished jobs older than keep_history lose their script,
 * environment and event log and leave qstat -x (their accounting stays);
 * older than keep_accounting, they go entirely. In small transactions,
 * one per turn of the event loop, so the queue is never held up. */
#include "boxqd.h"
#include "log.h"

#include <time.h>

#define PRUNE_BATCH 500

static void
on_prune_timer(uv_timer_t *t) {
  struct boxqd *d = t->data;
  if (d->stopping)
    return;
  int64_t now = (int64_t)time(NULL);
  int n = 0;
  bool expire = false;
  if (d->cfg.keep_history > 0)
    n = db_prune_batch(d->db, now - d->cfg.keep_history, PRUNE_BATCH, false);
  if (n == 0 && d->cfg.keep_accounting > 0) {
    expire = true;
    n = db_prune_batch(d->db, now - d->cfg.keep_accounting, PRUNE_BATCH, true);
  }
  if (n < 0)
    log_error("retention: %s", db_errmsg(d->db));
  else if (n > 0) {
    d->pruned_this_round += n;
    log_debug("retention: %s %d job(s)", expire ? "deleted" : "pruned the history of", n);
  } else if (d->pruned_this_round > 0) {
    log_info("retention: %lld finished job(s) pruned or deleted", (long long)d->pruned_this_round);
    d->pruned_this_round = 0;
  }
  /* A full batch: more may be due; go on at the next turn of the loop. */
  uint64_t next = n == PRUNE_BATCH ? 0 : (uint64_t)d->cfg.prune_interval * 1000;
  uv_timer_start(t, on_prune_timer, next, 0);
}

void
retention_start(struct boxqd *d) {
  uv_timer_init(d->loop, &d->prune);
  d->prune.data = d;
  if (d->cfg.keep_history > 0 || d->cfg.keep_accounting > 0)
    uv_timer_start(&d->prune, on_prune_timer, 1000, 0);
}

void
retention_stop(struct boxqd *d) {
  uv_timer_stop(&d->prune);
  uv_close((uv_handle_t *)&d->prune, NULL);
}
