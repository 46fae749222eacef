/* SPDX-License-Identifier: MIT */
/* boxq-web's requests to boxqd: the CLI's client code on one connection,
 * errors kept for the page rather than printed. */
#include "web.h"

#include <string.h>

static char errbuf[512];

const char *
web_error(struct web *w) {
  (void)w;
  return errbuf[0] ? errbuf : "no reply from boxqd";
}

/* Sends b (freed) and takes the reply; a connection that broke (boxqd
 * restarted) is opened again once. A failed status is an error too, its
 * message kept for web_error. */
static int
request(struct web *w, struct pbuf *b, struct pmsg *ret) {
  w->cli.errbuf = errbuf;
  w->cli.errlen = sizeof(errbuf);
  errbuf[0] = '\0';
  int64_t status = 0;
  int r = cli_load_config(&w->cli);
  for (int attempt = 0; r == 0 && attempt < 2; attempt++) {
    r = cli_request(&w->cli, b, ret, &status);
    if (r == 0)
      break;
    cli_close_connection(&w->cli);
    if (r == -ECONNREFUSED || r == -ENOENT)
      break; /* boxqd is not there: no use asking again */
  }
  pbuf_free(b);
  if (r == 0 && status < 0) {
    const char *msg = pmsg_str(ret, T_MESSAGE);
    snprintf(errbuf, sizeof(errbuf), "%s", msg ? msg : strerror((int)-status));
    r = (int)status;
  }
  return r;
}

int
web_server_info(struct web *w, char **ret_text) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_SERVER_INFO);
  pb_end(&b);
  struct pmsg reply;
  int r = request(w, &b, &reply);
  if (r < 0)
    return r;
  const char *info = pmsg_str(&reply, T_INFO);
  if (!info) {
    snprintf(errbuf, sizeof(errbuf), "boxqd did not say how the server is");
    return -EPROTO;
  }
  *ret_text = xstrdup(info);
  return 0;
}

const char *
info_get(const char *text, const char *key, char *buf, size_t len) {
  size_t klen = strlen(key);
  for (const char *line = text; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    if (n > klen && line[klen] == '=' && strncmp(line, key, klen) == 0) {
      snprintf(buf, len, "%.*s", (int)(n - klen - 1), line + klen + 1);
      return buf;
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

int64_t
info_i64(const char *text, const char *key, int64_t dflt) {
  char buf[64];
  int64_t v;
  const char *s = info_get(text, key, buf, sizeof(buf));
  return s && parse_i64(s, INT64_MIN, INT64_MAX, &v) == 0 ? v : dflt;
}

int
web_jobs(struct web *w, int flags, const char *ref, struct joblist *ret) {
  w->cli.errbuf = errbuf;
  w->cli.errlen = sizeof(errbuf);
  errbuf[0] = '\0';
  char *ids[1] = {(char *)ref};
  int errors = 0;
  int r = jobs_fetch(&w->cli, flags, ids, ref ? 1 : 0, ret, &errors);
  if (r < 0) {
    cli_close_connection(&w->cli);
    *ret = (struct joblist){0};
    errors = 0;
    r = jobs_fetch(&w->cli, flags, ids, ref ? 1 : 0, ret, &errors);
  }
  if (r == 0 && errors > 0 && ret->n == 0)
    return -ENOENT;
  return r;
}

/* A request about one job (flags: its T_FLAGS, 0 none). */
static int
job_request(struct web *w, uint16_t type, int64_t flags, int64_t id, struct pmsg *reply) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  if (flags)
    pb_i64(&b, T_FLAGS, flags);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  return request(w, &b, reply);
}

int
web_series(struct web *w, int64_t id, struct series_point *pts, size_t *ret_n) {
  *ret_n = 0;
  struct pmsg reply;
  int r = job_request(w, MSG_SERIES, 0, id, &reply);
  if (r < 0)
    return r;
  r = pmsg_series(&reply, pts, ret_n);
  return r < 0 ? r : 0;
}

int
web_events(struct web *w, int64_t id, struct web_event **ret, size_t *ret_n) {
  *ret = NULL;
  *ret_n = 0;
  struct pmsg reply;
  int r = job_request(w, MSG_EVENTS, EVENTS_PUBLIC, id, &reply);
  if (r < 0)
    return r;
  size_t off = 0, cap = 0;
  struct pfield f;
  while (pmsg_next(&reply, &off, &f)) {
    struct pmsg ev;
    if (f.tag != T_EVENT || pmsg_sub(&f, &ev) < 0)
      continue;
    *ret = xgrow(*ret, *ret_n + 1, &cap, sizeof(**ret), 32);
    const char *name = pmsg_str(&ev, EV_NAME), *detail = pmsg_str(&ev, EV_DETAIL);
    (*ret)[(*ret_n)++] = (struct web_event){pmsg_i64_or(&ev, EV_TIME, 0), xstrdup(name ? name : ""),
                                            xstrdup(detail ? detail : "")};
  }
  return 0;
}

void
web_events_free(struct web_event *ev, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(ev[i].name);
    free(ev[i].detail);
  }
  free(ev);
}

int
web_acct(struct web *w, const char *by, int64_t since, int64_t reasons, struct web_group **ret,
         size_t *ret_n) {
  *ret = NULL;
  *ret_n = 0;
  struct pbuf b = {0};
  pb_begin(&b, MSG_ACCT);
  pb_str(&b, A_GROUP_BY, by);
  pb_i64(&b, A_SINCE, since);
  if (reasons)
    pb_i64(&b, A_REASONS, reasons);
  pb_end(&b);
  struct pmsg reply;
  int r = request(w, &b, &reply);
  if (r < 0)
    return r;
  size_t off = 0, cap = 0;
  struct pfield f;
  while (pmsg_next(&reply, &off, &f)) {
    struct pmsg g;
    if (f.tag != T_GROUP || pmsg_sub(&f, &g) < 0)
      continue;
    *ret = xgrow(*ret, *ret_n + 1, &cap, sizeof(**ret), 64);
    const char *key = pmsg_str(&g, G_KEY);
    (*ret)[(*ret_n)++] = (struct web_group){
        .key = xstrdup(key ? key : ""),
        .jobs = pmsg_i64_or(&g, G_JOBS, 0),
        .completed = pmsg_i64_or(&g, G_COMPLETED, 0),
        .failed = pmsg_i64_or(&g, G_FAILED, 0),
        .timeouts = pmsg_i64_or(&g, G_TIMEOUTS, 0),
        .oom_kills = pmsg_i64_or(&g, G_OOM_KILLS, 0),
        .cancelled = pmsg_i64_or(&g, G_CANCELLED, 0),
        .cpu_usec = pmsg_i64_or(&g, G_CPU_USEC, 0),
        .gpu_usec = pmsg_i64_or(&g, G_GPU_USEC, 0),
        .waited = pmsg_i64_or(&g, G_WAITED, 0),
        .wait_sec = pmsg_i64_or(&g, G_WAIT_SEC, 0),
        .wait_max_sec = pmsg_i64_or(&g, G_WAIT_MAX_SEC, 0),
    };
  }
  return 0;
}

void
web_groups_free(struct web_group *g, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(g[i].key);
  free(g);
}
