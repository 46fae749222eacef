/* SPDX-License-Identifier: MIT */
/* Operating the box at run time, for root, managers and operators:
 * queues stopped and started (qstop/qstart: their jobs may start or not),
 * disabled and enabled (qdisable/qenable: they accept new jobs or not),
 * and the whole server's scheduling (qmgr -c 'set server scheduling =
 * false'). Each change is kept in server_attrs, so it outlives a restart
 * over the configuration file's values, and logged with who made it. */
#include "boxqd.h"
#include "log.h"

#include <pwd.h>
#include <string.h>

#define ATTR_SCHEDULING "scheduling"

static char *
attr_name(const char *queue, const char *what) {
  return xasprintf("queue:%s:%s", queue, what);
}

void
admin_load(struct boxqd *d) {
  char *v = NULL;
  d->scheduling_off = db_get_attr(d->db, ATTR_SCHEDULING, &v) == 0 && strcmp(v, "false") == 0;
  free(v);
  if (d->scheduling_off)
    log_info("scheduling is off (qmgr -c 'set server scheduling = true' turns it on)");
  for (size_t i = 0; i < d->cfg.nqueues; i++) {
    struct boxq_queue *q = &d->cfg.queues[i];
    static const char *const what[] = {"enabled", "started"};
    bool *field[] = {&q->enabled, &q->started};
    for (size_t k = 0; k < ARRAY_SIZE(what); k++) {
      _cleanup_free_ char *name = attr_name(q->name, what[k]);
      if (db_get_attr(d->db, name, &v) == 0) {
        *field[k] = strcmp(v, "true") == 0;
        log_info("queue %s: %s = %s (set at run time)", q->name, what[k], v);
      }
      free(v);
      v = NULL;
    }
  }
}

/* Who asked, for the log. */
static void
caller_name(const struct conn *c, char *buf, size_t len) {
  struct passwd pw, *res = NULL;
  char pwbuf[16384];
  if (getpwuid_r(c->uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
    snprintf(buf, len, "%s", pw.pw_name);
  else
    snprintf(buf, len, "uid %u", (unsigned)c->uid);
}

static int
set_attr(struct boxqd *d, const char *name, const char *value, struct berr *err) {
  int r = db_begin(d->db);
  if (r == 0)
    r = db_set_attr(d->db, name, value);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0)
    return berr_set(err, r, "cannot record %s: %s", name, db_errmsg(d->db));
  return 0;
}

void
req_admin(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  if (!may_act_on_any(d, c)) {
    reply_status(c, -EPERM, "only root, managers and operators may change queues or the server");
    return;
  }
  int64_t flags = pmsg_i64_or(m, T_FLAGS, 0);
  char who[64];
  caller_name(c, who, sizeof(who));
  struct berr err = {{0}};
  if (flags & (ADMIN_SCHEDULING_ON | ADMIN_SCHEDULING_OFF)) {
    bool off = flags & ADMIN_SCHEDULING_OFF;
    if (set_attr(d, ATTR_SCHEDULING, off ? "false" : NULL, &err) < 0) {
      reply_status(c, -EIO, "%s", err.msg);
      return;
    }
    if (off != d->scheduling_off)
      log_info("scheduling turned %s by %s", off ? "off" : "on", who);
    d->scheduling_off = off;
    if (off)
      ready_take_back_all(d, "scheduling is off");
    sched_queue_changed(d);
    sched_request_pass(d);
    reply_status(c, 0, NULL);
    return;
  }
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    const char *name = f.tag == T_INFO ? pfield_str(&f) : NULL;
    if (!name)
      continue;
    struct boxq_queue *q = (struct boxq_queue *)cfg_queue(&d->cfg, name);
    if (!q) {
      _cleanup_free_ char *msg = xasprintf("Unknown queue '%.64s'", name);
      reply_add_error(&b, &status, -ENOENT, msg);
      continue;
    }
    const struct {
      int64_t flag;
      const char *what;
      bool *field, value;
    } changes[] = {{ADMIN_QUEUE_ENABLE, "enabled", &q->enabled, true},
                   {ADMIN_QUEUE_DISABLE, "enabled", &q->enabled, false},
                   {ADMIN_QUEUE_START, "started", &q->started, true},
                   {ADMIN_QUEUE_STOP, "started", &q->started, false}};
    for (size_t k = 0; k < ARRAY_SIZE(changes); k++) {
      if (!(flags & changes[k].flag))
        continue;
      _cleanup_free_ char *attr = attr_name(q->name, changes[k].what);
      if (set_attr(d, attr, changes[k].value ? "true" : "false", &err) < 0) {
        reply_add_error(&b, &status, -EIO, err.msg);
        break;
      }
      if (*changes[k].field != changes[k].value)
        log_info("queue %s: %s = %s, by %s", q->name, changes[k].what,
                 changes[k].value ? "true" : "false", who);
      *changes[k].field = changes[k].value;
    }
  }
  if (flags & (ADMIN_QUEUE_START | ADMIN_QUEUE_STOP)) {
    sched_queue_changed(d); /* a full pass: a stopped queue's ready jobs are asked back */
    sched_request_pass(d);
  }
  reply_finish(d, c, &b, status);
}
