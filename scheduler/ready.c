/* SPDX-License-Identifier: MIT */
/* The ready set: queued jobs handed to the worker ahead of time, so that
 * a place freed by a short job is filled at once, without a round trip
 * through boxqd (worker/ready.h says how the worker picks). The pass
 * (pass.c) chooses them with the policy's successors rule; in the database
 * they stay queued until the worker reports one started.
 *
 * boxqd keeps the same set as the worker, and the requests that wait on
 * it: a request that would act on a job in the set (qdel, qhold, qalter,
 * ...) asks the worker for it back and is parked; when the worker answers
 * (returned unstarted, or started) the request runs again, and acts on a
 * queued job or on a running one, as on any other. While the worker is
 * away, what it started is unknown: parked requests wait for its hello. */
#include "boxqd.h"
#include "idmap.h"
#include "log.h"

#include <string.h>

struct ready_job {
  int64_t id, array_id;
  bool taking_back; /* MSG_TAKE_BACK sent */
};

struct parked_req {
  struct conn *c;
  uint16_t type; /* the request as received */
  uint8_t *body;
  size_t len;
};

struct ready_set {
  struct ready_job *jobs;
  size_t n, cap;
  struct idmap index; /* id -> its entry's index + 1 */
  /* Jobs (or arrays) parked requests act on: not handed again before
   * those requests have run, or a pass could hand a job back as soon as
   * the worker returned it, and the request wait for ever. */
  struct ready_job *claims;
  size_t nclaims, cap_claims;
  struct parked_req *parked;
  size_t nparked, cap_parked;
  bool worker_lost; /* since the connection closed: until the next hello */
  uv_idle_t replay; /* parked requests run again from the loop */
  bool replay_init;
};

static struct ready_set *
rs_of(struct boxqd *d) {
  if (!d->ready)
    d->ready = xcalloc(1, sizeof(*d->ready));
  return d->ready;
}

static ssize_t
index_of(const struct ready_set *rs, int64_t id) {
  return rs ? (ssize_t)(intptr_t)idmap_get(&rs->index, id) - 1 : -1;
}

void
ready_added(struct boxqd *d, int64_t id, int64_t array_id) {
  struct ready_set *rs = rs_of(d);
  if (index_of(rs, id) >= 0)
    return;
  rs->jobs = xgrow(rs->jobs, rs->n, &rs->cap, sizeof(*rs->jobs), 16);
  rs->jobs[rs->n++] = (struct ready_job){.id = id, .array_id = array_id};
  idmap_put(&rs->index, id, (void *)(intptr_t)rs->n);
}

bool
ready_has(const struct boxqd *d, int64_t id) {
  return index_of(d->ready, id) >= 0;
}

static bool
touches(const struct ready_job *r, const struct job_rec *j) {
  return r->id == j->id || (j->array_spec && r->array_id == j->id);
}

bool
ready_claim(struct boxqd *d, const struct job_rec *j) {
  struct ready_set *rs = d->ready;
  bool any = false;
  for (size_t i = 0; rs && i < rs->n; i++)
    if (touches(&rs->jobs[i], j)) {
      ready_take_back(d, rs->jobs[i].id, "a request acts on it");
      any = true;
    }
  if (any) {
    rs->claims = xgrow(rs->claims, rs->nclaims, &rs->cap_claims, sizeof(*rs->claims), 8);
    rs->claims[rs->nclaims++] =
        (struct ready_job){.id = j->array_spec ? 0 : j->id, .array_id = j->array_spec ? j->id : 0};
  }
  return any;
}

bool
ready_claimed(const struct boxqd *d, int64_t id, int64_t array_id) {
  const struct ready_set *rs = d->ready;
  for (size_t i = 0; rs && i < rs->nclaims; i++)
    if ((rs->claims[i].id && rs->claims[i].id == id) ||
        (rs->claims[i].array_id && rs->claims[i].array_id == array_id))
      return true;
  return false;
}

size_t
ready_count(const struct boxqd *d) {
  return d->ready ? d->ready->n : 0;
}

int64_t
ready_id(const struct boxqd *d, size_t i) {
  return d->ready->jobs[i].id;
}

void
ready_take_back(struct boxqd *d, int64_t id, const char *why) {
  struct ready_set *rs = rs_of(d);
  ssize_t i = index_of(rs, id);
  if (i < 0 || rs->jobs[i].taking_back || rs->worker_lost || !d->worker)
    return;
  rs->jobs[i].taking_back = true;
  struct pbuf b = {0};
  pb_begin(&b, MSG_TAKE_BACK);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  conn_send(d->worker, &b);
  pbuf_free(&b);
  log_debug("job %lld: asked back from the worker: %s", (long long)id, why);
}

void
ready_take_back_all(struct boxqd *d, const char *why) {
  size_t n = ready_count(d);
  int64_t *ids = xcalloc(n + 1, sizeof(*ids));
  for (size_t i = 0; i < n; i++)
    ids[i] = ready_id(d, i);
  for (size_t i = 0; i < n; i++)
    ready_take_back(d, ids[i], why);
  free(ids);
}

static void on_replay(uv_idle_t *h);

static void
replay_soon(struct boxqd *d) {
  struct ready_set *rs = d->ready;
  if (rs && rs->nparked && rs->replay_init)
    uv_idle_start(&rs->replay, on_replay);
}

void
ready_gone(struct boxqd *d, int64_t id) {
  struct ready_set *rs = d->ready;
  ssize_t i = index_of(rs, id);
  if (i < 0)
    return;
  idmap_del(&rs->index, id);
  rs->jobs[i] = rs->jobs[--rs->n];
  if ((size_t)i < rs->n)
    idmap_put(&rs->index, rs->jobs[i].id, (void *)(intptr_t)(i + 1));
  replay_soon(d);
}

void
ready_worker_lost(struct boxqd *d) {
  rs_of(d)->worker_lost = true;
}

void
ready_forget_all(struct boxqd *d) {
  struct ready_set *rs = rs_of(d);
  rs->n = 0;
  idmap_free(&rs->index);
  rs->worker_lost = false;
  replay_soon(d);
}

static bool
has_parked(const struct ready_set *rs, const struct conn *c) {
  for (size_t i = 0; rs && i < rs->nparked; i++)
    if (rs->parked[i].c == c)
      return true;
  return false;
}

bool
ready_park(struct boxqd *d, struct conn *c, const struct pmsg *m, bool touches) {
  struct ready_set *rs = d->ready;
  /* A client's requests are answered in order: one behind a parked
   * request waits too. */
  if (!touches && !has_parked(rs, c))
    return false;
  rs = rs_of(d);
  rs->parked = xgrow(rs->parked, rs->nparked, &rs->cap_parked, sizeof(*rs->parked), 8);
  struct parked_req *p = &rs->parked[rs->nparked++];
  *p = (struct parked_req){.c = c, .type = m->type, .body = xmalloc(m->len + 1), .len = m->len};
  memcpy(p->body, m->p, m->len);
  return true;
}

void
ready_forget_conn(struct boxqd *d, struct conn *c) {
  struct ready_set *rs = d->ready;
  size_t k = 0;
  for (size_t i = 0; rs && i < rs->nparked; i++) {
    if (rs->parked[i].c == c)
      free(rs->parked[i].body);
    else
      rs->parked[k++] = rs->parked[i];
  }
  if (rs)
    rs->nparked = k;
}

/* Every parked request runs again, in the order received; those that
 * still touch the set park again (req_dispatch). */
static void
on_replay(uv_idle_t *h) {
  struct boxqd *d = h->data;
  struct ready_set *rs = d->ready;
  uv_idle_stop(h);
  struct parked_req *v = rs->parked;
  size_t n = rs->nparked;
  rs->parked = NULL;
  rs->nparked = rs->cap_parked = 0;
  rs->nclaims = 0; /* each request claims again what it still waits for */
  for (size_t i = 0; i < n; i++) {
    struct pmsg m = {.type = v[i].type, .p = v[i].body, .len = v[i].len};
    req_dispatch(d, v[i].c, &m);
    free(v[i].body);
  }
  free(v);
}

void
ready_start(struct boxqd *d) {
  struct ready_set *rs = rs_of(d);
  uv_idle_init(d->loop, &rs->replay);
  rs->replay.data = d;
  rs->replay_init = true;
}

void
ready_stop(struct boxqd *d) {
  struct ready_set *rs = d->ready;
  if (rs && rs->replay_init) {
    uv_idle_stop(&rs->replay);
    uv_close((uv_handle_t *)&rs->replay, NULL);
  }
}

void
ready_free(struct boxqd *d) {
  struct ready_set *rs = d->ready;
  if (!rs)
    return;
  for (size_t i = 0; i < rs->nparked; i++)
    free(rs->parked[i].body);
  free(rs->parked);
  free(rs->claims);
  free(rs->jobs);
  idmap_free(&rs->index);
  free(rs);
  d->ready = NULL;
}
