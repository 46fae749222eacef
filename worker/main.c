/* SPDX-License-Identifier: MIT */
/* boxq-worker: the root half of boxq. Runs in the foreground, logs to
 * stderr, listens on a root-only socket for the scheduler. */
#include "drain.h"
#include "log.h"
#include "launch.h"
#include "spool.h"
#include "worker.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
usage(FILE *out) {
  fprintf(out,
          "Usage: boxq-worker [-c FILE] [--version]\n"
          "The boxq job executor (root). Runs in the foreground and logs to stderr.\n"
          "  -c, --config FILE   configuration file (default: $BOXQ_CONFIG or " BOXQ_DEFAULT_CONFIG
          ")\n"
          "  -V, --version       print the version and the cgroup backend, then exit\n");
}

static void
on_sched_msg(struct conn *c, const struct pmsg *m) {
  struct worker *w = c->data;
  switch (m->type) {
    case MSG_DISPATCH:
      wjob_dispatch(w, m);
      break;
    case MSG_ENDED_ACK:
      wjob_ack(w, pmsg_i64_or(m, T_JOBID, 0));
      break;
    case MSG_TAKE_BACK:
      wjob_take_back(w, pmsg_i64_or(m, T_JOBID, 0));
      break;
    case MSG_SIGNAL:
      wjob_signal(w, pmsg_i64_or(m, T_JOBID, 0), (int)pmsg_i64_or(m, T_SIGNAL, 0),
                  pmsg_i64_or(m, T_FLAGS, 0) != 0);
      break;
    default:
      log_warn("unexpected message %u from the scheduler", m->type);
      break;
  }
}

static void
on_sched_close(struct conn *c) {
  struct worker *w = c->data;
  if (w->sched == c) {
    w->sched = NULL;
    /* Jobs handed ahead were never started: boxqd, when it reconnects,
     * takes the worker's hello for what runs and forgets the rest. */
    wready_clear(&w->ready);
    log_info("scheduler disconnected");
  }
}

static void
on_connection(uv_stream_t *server, int status) {
  struct worker *w = server->data;
  if (status < 0)
    return;
  struct conn *c = conn_new(w->loop, w, on_sched_msg, on_sched_close);
  if (conn_accept(server, c) < 0) {
    conn_close(c);
    return;
  }
  /* Only the scheduler may hand us jobs: whoever can, can run anything as
   * anyone. */
  if (c->uid != 0 && c->uid != w->sched_uid) {
    log_warn("refusing a connection from uid %u: only the scheduler (%s) may connect",
             (unsigned)c->uid, w->cfg.scheduler_user);
    conn_close(c);
    return;
  }
  if (w->sched) {
    log_info("a new scheduler connection replaces the old one");
    conn_close(w->sched);
  }
  w->sched = c;
  log_info("scheduler connected (pid %d)", (int)c->pid);
  wjob_send_hello(w);
}

static void
on_sample_timer(uv_timer_t *t) {
  wjob_relay_usage(t->data);
  shep_retire_idle(t->data);
}

static void
on_signal(uv_signal_t *h, int signum) {
  struct worker *w = h->data;
  uv_close((uv_handle_t *)&w->sample_timer, NULL);
  worker_flush(w);
  uv_close((uv_handle_t *)&w->outbox_timer, NULL);
  log_info("signal %d: shutting down; running jobs continue under their shepherds", signum);
  uv_close((uv_handle_t *)&w->server, NULL);
  if (w->sched)
    conn_close(w->sched);
  shep_close_all(w);
  wdrain_close_all(w);
  uv_close((uv_handle_t *)&w->sig_term, NULL);
  uv_close((uv_handle_t *)&w->sig_int, NULL);
}

/* The spool and its parent may sit in a world-writable place (/dev/shm):
 * both must be real directories that only root can change, or someone
 * could plant a job's script or result. Checked before they are created
 * (missing is fine then: nothing is followed through a planted symlink)
 * and after. */
static int
check_spool_owner(const char *dir, bool may_be_missing) {
  _cleanup_free_ char *parent = xstrdup(dir);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent)
    *slash = '\0';
  const char *paths[] = {dir, parent};
  for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
    struct stat st;
    if (lstat(paths[i], &st) < 0) {
      if (errno == ENOENT && may_be_missing)
        continue;
      log_error("cannot check %s: %s", paths[i], strerror(errno));
      return -errno;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
      log_error("refusing the spool %s: %s is not a directory that only root can change "
                "(owner uid %u, mode %03o); remove it or set [worker] spool_dir",
                dir, paths[i], (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
      return -EPERM;
    }
  }
  return 0;
}

/* Interactive jobs' terminals listen here (tty.c): root's, writable by
 * nobody else, so no one can put a socket of theirs in a job's place;
 * searchable by all (a job's owner connects to its known name), listable
 * by none. */
static int
make_tty_dir(const char *dir) {
  if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
    log_error("cannot create %s: %s", dir, strerror(errno));
    return -1;
  }
  struct stat st;
  if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
      (st.st_mode & (S_IWGRP | S_IWOTH))) {
    log_error("%s must be a directory of root's that no one else may write to; remove it", dir);
    return -1;
  }
  if ((st.st_mode & 07777) != 0711 && chmod(dir, 0711) < 0) { /* whatever the umask */
    log_error("cannot open %s to users: %s", dir, strerror(errno));
    return -1;
  }
  return 0;
}

int
main(int argc, char **argv) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"version", no_argument, NULL, 'V'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  /* Jobs' scripts, environments and results pass through its spool:
   * nothing the worker creates is anyone else's to read (what must be,
   * cgroup directories and sockets, gets its mode explicitly). Shepherds
   * set their own. */
  umask(077);
  const char *config = NULL;
  bool version = false;
  int o;
  while ((o = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
    switch (o) {
      case 'c':
        config = optarg;
        break;
      case 'V':
        version = true;
        break;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  struct worker w = {.init_fd = -1, .cg_lock_fd = -1, .spool_lock_fd = -1};
  _cleanup_free_ char *cg_parent = NULL;
  struct berr err = {{0}};
  if (cfg_load(config, &w.cfg, &err) < 0) {
    fprintf(stderr, "boxq-worker: %s\n", err.msg);
    return 1;
  }
  if (version) {
    enum cg_mode mode = CG_MODE_NONE;
    cg_detect(w.cfg.cgroup_mount, &mode, NULL);
    printf("boxq-worker " BOXQ_VERSION " (protocol %d, cgroup backend: %s)\n",
           BOXQ_PROTOCOL_VERSION, cg_mode_name(mode));
    cfg_free(&w.cfg);
    return 0;
  }
  log_init("boxq-worker", (enum log_level)log_level_from_string(w.cfg.log_level));
  int rc = 1;
  if (geteuid() != 0) {
    log_error("boxq-worker must run as root: it creates cgroups and namespaces and starts jobs "
              "as their users");
    goto out;
  }
  char init_path[PATH_MAX];
  w.init_fd = launch_open_init(NULL, init_path, sizeof(init_path), &err);
  if (w.init_fd < 0) {
    log_error("%s: refusing to start (it is every job's PID 1)", err.msg);
    goto out;
  }
  log_debug("job init program: %s", init_path);
  /* The same classes boxqd counts: which of the box's devices a job may
   * open follows from them and the devices it was given. */
  if (dev_table_load(&w.cfg, "", &w.devs, &err) < 0) {
    log_error("%s: %s", w.cfg.config_path ? w.cfg.config_path : "configuration", err.msg);
    goto out;
  }
  /* Each instance's jobs in a cgroup of its own, which its worker locks:
   * two instances on one machine (a test beside production) never take
   * each other's job-1 for a leftover. */
  cg_parent = xasprintf("%s/%s", w.cfg.cgroup_parent, w.cfg.cgroup_instance);
  if (cg_system_open(&w.sys, w.cfg.cgroup_mount, w.cfg.cgroup_mode, cg_parent, true, &err) < 0) {
    if (!w.cfg.allow_no_cgroups) {
      log_error("no usable cgroups, refusing to start: %s (allow_no_cgroups = true runs jobs "
                "without limits)",
                err.msg);
      goto out;
    }
    log_warn("no usable cgroups (%s): jobs run WITHOUT cpu, memory or process limits "
             "(allow_no_cgroups = true)",
             err.msg);
    w.sys.mode = CG_MODE_NONE;
  }
  if (w.sys.mode != CG_MODE_NONE && (w.cg_lock_fd = cg_system_lock(&w.sys)) < 0) {
    if (w.cg_lock_fd == -EWOULDBLOCK)
      log_error("cgroup %s is in use by another boxq worker: each instance needs its own state "
                "directory or [worker] cgroup_instance",
                w.sys.parent);
    else
      log_error("cannot lock cgroup %s: %s", w.sys.parent, strerror(-w.cg_lock_fd));
    goto out;
  }
  w.server_name = cfg_server_name(&w.cfg);
  struct passwd *spw = getpwnam(w.cfg.scheduler_user);
  if (!spw) {
    log_error("scheduler_user '%s' has no account on this machine", w.cfg.scheduler_user);
    goto out;
  }
  w.sched_uid = spw->pw_uid;
  int r;
  if (check_spool_owner(w.cfg.spool_dir, true) < 0)
    goto out;
  if ((r = make_state_dir(w.cfg.state_dir)) < 0 || (r = mkdir_p(w.cfg.spool_dir, 0700)) < 0) {
    log_error("cannot create %s: %s", w.cfg.spool_dir, strerror(-r));
    goto out;
  }
  if (check_spool_owner(w.cfg.spool_dir, false) < 0)
    goto out;
  chmod(w.cfg.spool_dir, 0700); /* a real directory of root's: checked just above */
  if (make_tty_dir(w.cfg.tty_dir) < 0)
    goto out;
  /* One worker per state directory: a second would take over the first's
   * socket and its running jobs' spool. */
  if ((w.spool_lock_fd = lock_dir_at(AT_FDCWD, w.cfg.spool_dir)) < 0) {
    if (w.spool_lock_fd == -EWOULDBLOCK)
      log_error("another boxq-worker runs for state directory %s (its spool %s is locked)",
                w.cfg.state_dir, w.cfg.spool_dir);
    else
      log_error("cannot lock the spool %s: %s", w.cfg.spool_dir, strerror(-w.spool_lock_fd));
    goto out;
  }
  if (shepherd_arg_area(&w.args) < 0)
    w.args = (struct arg_area){0}; /* unknown: shepherds keep the worker's name */
  /* Shepherds kept between jobs: as many as jobs may start at once. */
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  w.max_idle_sheps = cpus > 2 ? (int)cpus : 2;
  w.loop = uv_default_loop();
  wjob_recover_all(&w);
  w.server.data = &w;
  r = conn_listen(w.loop, &w.server, w.cfg.worker_socket, 0600, on_connection);
  w.server.data = &w;
  if (r < 0) {
    log_error("cannot listen on %s: %s", w.cfg.worker_socket, uv_strerror(r));
    goto out;
  }
  /* Mode 0600, owned by the scheduler's account: nobody else can connect. */
  if (chown(w.cfg.worker_socket, w.sched_uid, 0) < 0) {
    log_error("cannot hand %s to %s: %s", w.cfg.worker_socket, w.cfg.scheduler_user,
              strerror(errno));
    goto out;
  }
  uv_timer_init(w.loop, &w.outbox_timer);
  w.outbox_timer.data = &w;
  uv_timer_init(w.loop, &w.sample_timer);
  w.sample_timer.data = &w;
  uv_timer_start(&w.sample_timer, on_sample_timer, (uint64_t)w.cfg.sample_interval * 1000,
                 (uint64_t)w.cfg.sample_interval * 1000);
  uv_signal_init(w.loop, &w.sig_term);
  uv_signal_init(w.loop, &w.sig_int);
  w.sig_term.data = w.sig_int.data = &w;
  uv_signal_start(&w.sig_term, on_signal, SIGTERM);
  uv_signal_start(&w.sig_int, on_signal, SIGINT);
  signal(SIGPIPE, SIG_IGN);
  log_info("boxq-worker ready on %s (cgroup %s, parent %s, spool %s, job /tmp in %s)",
           w.cfg.worker_socket, cg_mode_name(w.sys.mode), w.sys.parent ? w.sys.parent : "none",
           w.cfg.spool_dir, w.cfg.job_tmp);
  uv_run(w.loop, UV_RUN_DEFAULT);
  if (uv_loop_close(w.loop) < 0)
    log_warn("event loop closed with open handles");
  unlink(w.cfg.worker_socket);
  rmdir(w.cfg.spool_dir); /* when no job is left in it */
  rc = 0;
out:
  while (w.jobs)
    wjob_free(&w, w.jobs);
  idmap_free(&w.jobs_by_id);
  wready_clear(&w.ready);
  for (struct wshep *s = w.sheps, *next; s; s = next) {
    next = s->next;
    free(s);
  }
  pbuf_free(&w.outbox);
  if (w.init_fd >= 0)
    close(w.init_fd);
  closep(&w.cg_lock_fd);
  closep(&w.spool_lock_fd);
  cg_system_close(&w.sys);
  usercache_free(&w.users);
  dev_table_free(&w.devs);
  cfg_free(&w.cfg);
  return rc;
}
