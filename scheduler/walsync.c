/* SPDX-License-Identifier: MIT */
/* Results and submissions are stored at once and answered once on disk.
 *
 * A batch of job results commits without waiting for the disk, so that the
 * pass that starts the next jobs runs at once; the worker keeps its copy
 * of each result until it is acknowledged, and acknowledgements wait for
 * a sync of SQLite's write-ahead log that a thread of libuv's pool makes
 * (fdatasync through a descriptor of our own: it flushes the file, whoever
 * wrote it). "Acknowledged" still means "on disk"; the loop never waits
 * for the disk on a job's end. A sync starts WALSYNC_DELAY_MS after the
 * first result it covers, so that a drain of short jobs syncs some tens of
 * times a second, not once per job; only the worker's copies wait that
 * long.
 *
 * A submission commits the same way and its reply (the job id: "stored")
 * waits for the sync, which starts at once: qsub waits as long as for a
 * synchronous commit, the loop goes on meanwhile, and submissions that
 * arrive together share one sync. Should the log be unreachable, a
 * checkpoint (which syncs it) does the same, in the loop. */
#include "boxqd.h"
#include "log.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 20, not 5: 50 syncs a second at most instead of 200, each a flush of
 * the disk's cache and an interrupt or two (boxqd 0.25 -> 0.23 ms a
 * drained job, held drain about 2.5% faster). Only the worker's copies of
 * results wait the longer. */
#define WALSYNC_DELAY_MS 20

#define SWAP(a, b)                                                                                 \
  do {                                                                                             \
    __typeof__(a) swap_tmp_ = (a);                                                                 \
    (a) = (b);                                                                                     \
    (b) = swap_tmp_;                                                                               \
  } while (0)

static void start_sync(struct boxqd *d);

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
  for (size_t i = 0; i < d->nsyncing_replies; i++) {
    struct sync_reply *r = &d->syncing_replies[i];
    conn_send(r->c, &r->reply);
    pbuf_free(&r->reply);
  }
  d->nsyncing_replies = 0;
}

/* Nothing of the last sync's commits is known to be on disk: no worker
 * acknowledgement (the worker sends its results again), and each waiting
 * client is told what is known. */
static void
sync_failed(struct boxqd *d) {
  d->nsyncing_acks = 0;
  for (size_t i = 0; i < d->nsyncing_replies; i++) {
    struct sync_reply *r = &d->syncing_replies[i];
    pbuf_free(&r->reply);
    struct pbuf b = {0};
    pb_begin(&b, MSG_REPLY);
    pb_i64(&b, T_STATUS, -EIO);
    _cleanup_free_ char *msg =
        r->id ? xasprintf("job %lld was stored but the database could not be synced to disk "
                          "(%s): check it with qstat before submitting it again",
                          (long long)r->id, db_errmsg(d->db))
              : xasprintf("the change was made but the database could not be synced to disk "
                          "(%s): check with qstat",
                          db_errmsg(d->db));
    pb_str(&b, T_MESSAGE, msg);
    pb_end(&b);
    conn_send(r->c, &b);
    pbuf_free(&b);
  }
  d->nsyncing_replies = 0;
}

static void
on_synced(uv_fs_t *req) {
  struct boxqd *d = req->data;
  int r = (int)req->result;
  uv_fs_req_cleanup(req);
  d->wal_syncing = false;
  if (r < 0)
    log_warn("cannot sync the database log: %s; checkpointing instead", uv_strerror(r));
  if (r < 0 && db_sync(d->db) < 0) {
    log_error("cannot sync the database: %s", db_errmsg(d->db));
    sync_failed(d);
  } else
    send_synced(d);
  /* What came in meanwhile, after a failure too: a client waits for it. */
  if (!d->stopping)
    walsync_start(d);
}

static void
start_sync(struct boxqd *d) {
  /* What waits now is covered by this sync; later ones by the next (the
   * lists of the last sync are empty: sent, or given up). */
  SWAP(d->sync_acks, d->syncing_acks);
  SWAP(d->cap_sync_acks, d->cap_syncing_acks);
  SWAP(d->nsync_acks, d->nsyncing_acks);
  SWAP(d->sync_replies, d->syncing_replies);
  SWAP(d->cap_sync_replies, d->cap_syncing_replies);
  SWAP(d->nsync_replies, d->nsyncing_replies);
  if (d->wal_timer_ready)
    uv_timer_stop(&d->wal_timer);
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
    sync_failed(d);
    return;
  }
  send_synced(d);
}

void
walsync_ack_later(struct boxqd *d, int64_t id) {
  d->sync_acks = xgrow(d->sync_acks, d->nsync_acks, &d->cap_sync_acks, sizeof(int64_t), 64);
  d->sync_acks[d->nsync_acks++] = id;
}

void
walsync_reply_later(struct boxqd *d, struct conn *c, struct pbuf *b, int64_t id) {
  d->sync_replies =
      xgrow(d->sync_replies, d->nsync_replies, &d->cap_sync_replies, sizeof(*d->sync_replies), 16);
  d->sync_replies[d->nsync_replies++] = (struct sync_reply){.c = c, .reply = *b, .id = id};
  *b = (struct pbuf){0};
  walsync_start(d);
}

static void
forget_in(struct sync_reply *v, size_t *n, struct conn *c) {
  size_t k = 0;
  for (size_t i = 0; i < *n; i++) {
    if (v[i].c == c)
      pbuf_free(&v[i].reply);
    else
      v[k++] = v[i];
  }
  *n = k;
}

void
walsync_forget_conn(struct boxqd *d, struct conn *c) {
  forget_in(d->sync_replies, &d->nsync_replies, c);
  forget_in(d->syncing_replies, &d->nsyncing_replies, c);
}

static void
on_sync_timer(uv_timer_t *t) {
  struct boxqd *d = t->data;
  if ((d->nsync_acks || d->nsync_replies) && !d->wal_syncing)
    start_sync(d);
}

void
walsync_start(struct boxqd *d) {
  if (d->wal_syncing)
    return; /* on_synced starts the next one */
  if (d->nsync_replies) {
    start_sync(d);
    return;
  }
  if (!d->nsync_acks)
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
  for (size_t i = 0; i < d->nsync_replies; i++)
    pbuf_free(&d->sync_replies[i].reply);
  for (size_t i = 0; i < d->nsyncing_replies; i++)
    pbuf_free(&d->syncing_replies[i].reply);
  free(d->sync_replies);
  free(d->syncing_replies);
}
