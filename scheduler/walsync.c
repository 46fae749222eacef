/* SPDX-License-Identifier: MIT */
/* Results are stored at once and acknowledged once on disk.
 *
 * A batch of job results commits without waiting for the disk, so that the
 * pass that starts the next jobs runs at once; the worker keeps its copy
 * of each result until it is acknowledged, and acknowledgements wait for
 * a sync of SQLite's write-ahead log that a thread of libuv's pool makes
 * (fdatasync through a descriptor of our own: it flushes the file, whoever
 * wrote it). "Acknowledged" still means "on disk"; the loop never waits
 * for the disk on a job's end. A sync starts WALSYNC_DELAY_MS after the
 * first result it covers, so that a drain of short jobs syncs a few
 * hundred times a second at most, not once per job; only the worker's
 * copies wait that long. Should the log be unreachable, a checkpoint
 * (which syncs it) does the same, in the loop. */
#include "boxqd.h"
#include "log.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALSYNC_DELAY_MS 5

static void start_sync(struct boxqd *d);

static void
push(int64_t **v, size_t *n, size_t *cap, int64_t id) {
  if (*n == *cap) {
    *cap = *cap ? 2 * *cap : 64;
    *v = xrealloc(*v, *cap * sizeof(int64_t));
  }
  (*v)[(*n)++] = id;
}

/* The log's descriptor, reopened should SQLite have made a new file. */
static int
wal_fd(struct boxqd *d) {
  _cleanup_free_ char *path = xasprintf("%s-wal", d->cfg.db_path);
  struct stat now, have;
  if (stat(path, &now) < 0)
    return -errno;
  if (d->wal_fd >= 0 && fstat(d->wal_fd, &have) == 0 && have.st_ino == now.st_ino &&
      have.st_dev == now.st_dev)
    return d->wal_fd;
  closep(&d->wal_fd);
  d->wal_fd = open(path, O_RDONLY | O_CLOEXEC);
  return d->wal_fd >= 0 ? d->wal_fd : -errno;
}

static void
send_synced(struct boxqd *d) {
  for (size_t i = 0; i < d->nsyncing_acks; i++)
    if (d->worker)
      worker_ack_result(d, d->syncing_acks[i]);
  d->nsyncing_acks = 0;
}

static void
on_synced(uv_fs_t *req) {
  struct boxqd *d = req->data;
  int r = (int)req->result;
  uv_fs_req_cleanup(req);
  d->wal_syncing = false;
  if (r < 0) {
    log_warn("cannot sync the database log: %s; checkpointing instead", uv_strerror(r));
    if (db_sync(d->db) < 0) {
      /* Not on disk: no acknowledgement; the worker sends them again. */
      log_error("cannot sync the database: %s", db_errmsg(d->db));
      d->nsyncing_acks = 0;
      return;
    }
  }
  send_synced(d);
  if (!d->stopping)
    walsync_start(d); /* for what came in meanwhile */
}

static void
start_sync(struct boxqd *d) {
  /* What waits now is covered by this sync; later ones by the next. */
  int64_t *t = d->syncing_acks;
  size_t cap = d->cap_syncing_acks;
  d->syncing_acks = d->sync_acks;
  d->cap_syncing_acks = d->cap_sync_acks;
  d->nsyncing_acks = d->nsync_acks;
  d->sync_acks = t;
  d->cap_sync_acks = cap;
  d->nsync_acks = 0;
  int fd = wal_fd(d);
  if (fd >= 0) {
    d->wal_req.data = d;
    if (uv_fs_fdatasync(d->loop, &d->wal_req, fd, on_synced) == 0) {
      d->wal_syncing = true;
      return;
    }
  }
  if (db_sync(d->db) < 0) {
    log_error("cannot sync the database: %s", db_errmsg(d->db));
    d->nsyncing_acks = 0;
    return;
  }
  send_synced(d);
}

void
walsync_ack_later(struct boxqd *d, int64_t id) {
  push(&d->sync_acks, &d->nsync_acks, &d->cap_sync_acks, id);
}

static void
on_sync_timer(uv_timer_t *t) {
  struct boxqd *d = t->data;
  if (d->nsync_acks && !d->wal_syncing)
    start_sync(d);
}

void
walsync_start(struct boxqd *d) {
  if (!d->nsync_acks || d->wal_syncing)
    return;
  if (!d->wal_timer_ready) {
    uv_timer_init(d->loop, &d->wal_timer);
    d->wal_timer.data = d;
    d->wal_timer_ready = true;
  }
  if (!uv_is_active((uv_handle_t *)&d->wal_timer))
    uv_timer_start(&d->wal_timer, on_sync_timer, WALSYNC_DELAY_MS, 0);
}

void
walsync_free(struct boxqd *d) {
  closep(&d->wal_fd);
  free(d->sync_acks);
  free(d->syncing_acks);
}
