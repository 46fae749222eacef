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

/* A reply that waits for the sync that covers its change. */
struct sync_reply {
  struct conn *c;
  struct pbuf reply;
  int64_t id; /* the job submitted, or 0: a change to existing jobs */
};

/* What waits for the next sync, and what the one running covers. */
struct walsync {
  struct boxqd *d;
  int64_t *acks, *syncing_acks; /* results to acknowledge to the worker */
  size_t nacks, cap_acks, nsyncing_acks, cap_syncing_acks;
  struct sync_reply *replies, *syncing_replies; /* clients' replies */
  size_t nreplies, cap_replies, nsyncing_replies, cap_syncing_replies;
  uv_fs_t req;
  uv_timer_t timer; /* syncs are a few milliseconds apart: one covers many results */
  bool syncing;
  int fd;
};

/* boxqd's, made at its first use. */
static struct walsync *
ws_of(struct boxqd *d) {
  if (!d->walsync) {
    struct walsync *ws = xcalloc(1, sizeof(*ws));
    ws->d = d;
    ws->fd = -1;
    uv_timer_init(d->loop, &ws->timer);
    ws->timer.data = ws;
    d->walsync = ws;
  }
  return d->walsync;
}

static void start_sync(struct walsync *ws);

/* The log's descriptor, reopened should SQLite have made a new file. */
static int
wal_fd(struct walsync *ws) {
  _cleanup_free_ char *path = xasprintf("%s-wal", ws->d->cfg.db_path);
  struct stat now, have;
  if (stat(path, &now) < 0)
    return -errno;
  if (ws->fd >= 0 && fstat(ws->fd, &have) == 0 && have.st_ino == now.st_ino &&
      have.st_dev == now.st_dev)
    return ws->fd;
  closep(&ws->fd);
  ws->fd = open(path, O_RDONLY | O_CLOEXEC);
  return ws->fd >= 0 ? ws->fd : -errno;
}

static void
send_synced(struct walsync *ws) {
  for (size_t i = 0; i < ws->nsyncing_acks; i++)
    if (ws->d->worker)
      worker_ack_result(ws->d, ws->syncing_acks[i]);
  ws->nsyncing_acks = 0;
  for (size_t i = 0; i < ws->nsyncing_replies; i++) {
    struct sync_reply *r = &ws->syncing_replies[i];
    conn_send(r->c, &r->reply);
    pbuf_free(&r->reply);
  }
  ws->nsyncing_replies = 0;
}

/* Nothing of the last sync's commits is known to be on disk: no worker
 * acknowledgement (the worker sends its results again), and each waiting
 * client is told what is known. */
static void
sync_failed(struct walsync *ws) {
  struct boxqd *d = ws->d;
  ws->nsyncing_acks = 0;
  for (size_t i = 0; i < ws->nsyncing_replies; i++) {
    struct sync_reply *r = &ws->syncing_replies[i];
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
  ws->nsyncing_replies = 0;
}

static void
on_synced(uv_fs_t *req) {
  struct walsync *ws = req->data;
  struct boxqd *d = ws->d;
  int r = (int)req->result;
  uv_fs_req_cleanup(req);
  ws->syncing = false;
  if (r < 0)
    log_warn("cannot sync the database log: %s; checkpointing instead", uv_strerror(r));
  if (r < 0 && db_sync(d->db) < 0) {
    log_error("cannot sync the database: %s", db_errmsg(d->db));
    sync_failed(ws);
  } else
    send_synced(ws);
  /* What came in meanwhile, after a failure too: a client waits for it. */
  if (!d->stopping)
    walsync_start(d);
}

static void
start_sync(struct walsync *ws) {
  struct boxqd *d = ws->d;
  /* What waits now is covered by this sync; later ones by the next (the
   * lists of the last sync are empty: sent, or given up). */
  SWAP(ws->acks, ws->syncing_acks);
  SWAP(ws->cap_acks, ws->cap_syncing_acks);
  SWAP(ws->nacks, ws->nsyncing_acks);
  SWAP(ws->replies, ws->syncing_replies);
  SWAP(ws->cap_replies, ws->cap_syncing_replies);
  SWAP(ws->nreplies, ws->nsyncing_replies);
  uv_timer_stop(&ws->timer);
  int fd = wal_fd(ws);
  if (fd >= 0) {
    ws->req.data = ws;
    if (uv_fs_fdatasync(d->loop, &ws->req, fd, on_synced) == 0) {
      ws->syncing = true;
      return;
    }
  }
  if (db_sync(d->db) < 0) {
    log_error("cannot sync the database: %s", db_errmsg(d->db));
    sync_failed(ws);
    return;
  }
  send_synced(ws);
}

void
walsync_ack_later(struct boxqd *d, int64_t id) {
  struct walsync *ws = ws_of(d);
  ws->acks = xgrow(ws->acks, ws->nacks, &ws->cap_acks, sizeof(int64_t), 64);
  ws->acks[ws->nacks++] = id;
}

size_t
walsync_acks_mark(struct boxqd *d) {
  return ws_of(d)->nacks;
}

void
walsync_drop_acks(struct boxqd *d, size_t mark) {
  struct walsync *ws = ws_of(d);
  if (mark < ws->nacks)
    ws->nacks = mark;
}

void
walsync_reply_later(struct boxqd *d, struct conn *c, struct pbuf *b, int64_t id) {
  struct walsync *ws = ws_of(d);
  ws->replies = xgrow(ws->replies, ws->nreplies, &ws->cap_replies, sizeof(*ws->replies), 16);
  ws->replies[ws->nreplies++] = (struct sync_reply){.c = c, .reply = *b, .id = id};
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
  struct walsync *ws = d->walsync;
  if (!ws)
    return;
  forget_in(ws->replies, &ws->nreplies, c);
  forget_in(ws->syncing_replies, &ws->nsyncing_replies, c);
}

static void
on_sync_timer(uv_timer_t *t) {
  struct walsync *ws = t->data;
  if ((ws->nacks || ws->nreplies) && !ws->syncing)
    start_sync(ws);
}

void
walsync_start(struct boxqd *d) {
  struct walsync *ws = ws_of(d);
  if (ws->syncing)
    return; /* on_synced starts the next one */
  if (ws->nreplies) {
    start_sync(ws);
    return;
  }
  if (ws->nacks && !uv_is_active((uv_handle_t *)&ws->timer))
    uv_timer_start(&ws->timer, on_sync_timer, WALSYNC_DELAY_MS, 0);
}

void
walsync_free(struct boxqd *d) {
  struct walsync *ws = d->walsync;
  if (!ws)
    return;
  closep(&ws->fd);
  free(ws->acks);
  free(ws->syncing_acks);
  for (size_t i = 0; i < ws->nreplies; i++)
    pbuf_free(&ws->replies[i].reply);
  for (size_t i = 0; i < ws->nsyncing_replies; i++)
    pbuf_free(&ws->syncing_replies[i].reply);
  free(ws->replies);
  free(ws->syncing_replies);
  free(ws);
  d->walsync = NULL;
}
