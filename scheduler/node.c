/* SPDX-License-Identifier: MIT */
/* The node: this machine as pbsnodes shows it (its CPUs and memory, what
 * running jobs hold, its load), and its offline state (pbsnodes -o/-c),
 * kept across restarts, under which no job starts. */
#include "boxqd.h"
#include "log.h"

#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>

#define ATTR_OFFLINE "node_offline"
#define ATTR_NOTE    "node_note"
#define ATTR_CHANGED "node_state_changed"

void
node_load(struct boxqd *d) {
  char *v = NULL;
  d->offline = db_get_attr(d->db, ATTR_OFFLINE, &v) == 0 && strcmp(v, "1") == 0;
  free(v);
  if (db_get_attr(d->db, ATTR_NOTE, &d->node_note) < 0)
    d->node_note = NULL;
  d->node_changed = 0;
  if (db_get_attr(d->db, ATTR_CHANGED, &v) == 0)
    parse_i64(v, 0, INT64_MAX, &d->node_changed);
  free(v);
  if (d->offline)
    log_info("the node is offline (pbsnodes -c clears it): no job starts");
}

void
node_free(struct boxqd *d) {
  free(d->node_note);
  d->node_note = NULL;
}

struct node_usage {
  struct boxqd *d;
  int64_t ncpus, mem, njobs;
  char *jobs;    /* "job=ID.SERVER NCPUS CPUS" lines */
  int64_t *uids; /* distinct owners */
  size_t nuids;
};

static int
count_running(void *ud, struct job_rec *j) {
  struct node_usage *u = ud;
  u->ncpus += j->ncpus;
  u->mem += j->mem;
  u->njobs++;
  _cleanup_free_ char *id = job_display_id(j, u->d->server_name);
  char *more = xasprintf("%sjob=%s %lld %s\n", u->jobs ? u->jobs : "", id, (long long)j->ncpus,
                         j->cpus && *j->cpus ? j->cpus : "-");
  free(u->jobs);
  u->jobs = more;
  for (size_t i = 0; i < u->nuids; i++)
    if (u->uids[i] == j->uid)
      return 0;
  u->uids = xrealloc(u->uids, (u->nuids + 1) * sizeof(*u->uids));
  u->uids[u->nuids++] = j->uid;
  return 0;
}

/* A /proc/meminfo value in bytes, or -1. */
static int64_t
meminfo(const char *text, const char *key) {
  const char *p = strstr(text, key);
  long long kb;
  if (!p || sscanf(p + strlen(key), ": %lld kB", &kb) != 1)
    return -1;
  return (int64_t)kb * 1024;
}

void
req_node_info(struct boxqd *d, struct conn *c) {
  struct node_usage u = {.d = d};
  int r = db_list_running(d->db, count_running, &u);
  char load[64] = "0.00";
  _cleanup_free_ char *mi = NULL;
  size_t milen = 0;
  FILE *f = fopen("/proc/loadavg", "re");
  if (f) {
    if (fscanf(f, "%63s", load) != 1)
      snprintf(load, sizeof(load), "0.00");
    fclose(f);
  }
  if (read_file_at(AT_FDCWD, "/proc/meminfo", 1 << 20, &mi, &milen) < 0)
    mi = xstrdup("");
  int64_t phys = meminfo(mi, "MemTotal"), avail = meminfo(mi, "MemAvailable"),
          swap = meminfo(mi, "SwapTotal"), swapfree = meminfo(mi, "SwapFree");
  struct utsname un;
  if (uname(&un) < 0)
    memset(&un, 0, sizeof(un));
  const char *state = d->offline ? "offline" : u.ncpus >= d->cap.ncpus ? "busy" : "free";
  _cleanup_free_ char *info = xasprintf(
      "name=%s\nstate=%s\nncpus=%lld\nmem=%lld\nassigned_ncpus=%lld\nassigned_mem=%lld\n"
      "njobs=%lld\nnusers=%zu\nloadave=%s\nphysmem=%lld\navailmem=%lld\ntotmem=%lld\n"
      "opsys=linux\nuname=%s %s %s %s %s\nstate_changed=%lld\nworker=%s\nnote=%s\n%s",
      d->server_name, state, (long long)d->cap.ncpus, (long long)d->cap.mem, (long long)u.ncpus,
      (long long)u.mem, (long long)u.njobs, u.nuids, load, (long long)phys,
      (long long)(avail >= 0 && swapfree >= 0 ? avail + swapfree : avail),
      (long long)(phys >= 0 && swap >= 0 ? phys + swap : phys), un.sysname, un.nodename, un.release,
      un.version, un.machine, (long long)d->node_changed,
      d->worker_ready ? "connected" : "disconnected", d->node_note ? d->node_note : "",
      u.jobs ? u.jobs : "");
  free(u.jobs);
  free(u.uids);
  _cleanup_free_ char *devs = places_status(d);
  _cleanup_free_ char *all = xasprintf("%s%s", info, devs);
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  pb_str(&b, T_INFO, all);
  reply_finish(d, c, &b, r < 0 ? r : 0);
}

/* Puts the node offline or back: a job already running keeps running;
 * the ones handed to the worker ahead of time are asked back. */
static int
node_set_offline(struct boxqd *d, bool offline, const char *note, struct berr *err) {
  int64_t now = now_sec();
  char changed[32];
  snprintf(changed, sizeof(changed), "%lld", (long long)now);
  bool state_changes = offline != d->offline;
  int r = db_begin(d->db);
  if (r == 0 && state_changes) {
    r = db_set_attr(d->db, ATTR_OFFLINE, offline ? "1" : NULL);
    if (r == 0)
      r = db_set_attr(d->db, ATTR_CHANGED, changed);
  }
  if (r == 0 && note)
    r = db_set_attr(d->db, ATTR_NOTE, *note ? note : NULL);
  if (r == 0)
    r = db_commit(d->db);
  else
    db_rollback(d->db);
  if (r < 0)
    return berr_set(err, r, "cannot record the node's state: %s", db_errmsg(d->db));
  if (note) {
    free(d->node_note);
    d->node_note = *note ? xstrdup(note) : NULL;
  }
  if (!state_changes)
    return 0;
  d->offline = offline;
  d->node_changed = now;
  log_info("the node is %s", offline ? "offline: no job starts" : "back online");
  if (offline)
    ready_take_back_all(d, "the node went offline");
  sched_queue_changed(d);
  sched_request_pass(d);
  return 0;
}

void
req_node_set(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  if (!may_act_on_any(d, c)) {
    reply_status(c, -EPERM, "only root, managers and operators may change the node's state");
    return;
  }
  int64_t flags = pmsg_i64_or(m, T_FLAGS, 0);
  const char *note = pmsg_str(m, T_MESSAGE);
  if (note && strlen(note) > 1024) {
    reply_status(c, -EINVAL, "a node's note is at most 1024 characters");
    return;
  }
  for (const char *p = note; p && *p; p++)
    if (*p == '\n') {
      reply_status(c, -EINVAL, "a node's note is one line");
      return;
    }
  struct berr err = {{0}};
  int r = 0;
  if (flags & (NODE_OFFLINE | NODE_CLEAR))
    r = node_set_offline(d, flags & NODE_OFFLINE, note, &err);
  else if (note)
    r = node_set_offline(d, d->offline, note, &err);
  if (r < 0) {
    reply_status(c, r, "%s", err.msg);
    return;
  }
  reply_status(c, 0, "%s", d->offline ? "offline" : "free");
}
