/* SPDX-License-Identifier: MIT */
/* boxqd: the scheduler daemon. Runs in the foreground, logs to stderr. */
#include "boxqd.h"
#include "log.h"
#include "res.h"

#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
usage(FILE *out) {
  fprintf(out,
          "Usage: boxqd [-c FILE] [--print-config] [--version]\n"
          "The boxq scheduler daemon. Runs in the foreground and logs to stderr.\n"
          "  -c, --config FILE   configuration file (default: $BOXQ_CONFIG or " BOXQ_DEFAULT_CONFIG
          ")\n"
          "      --print-config  print the effective configuration and exit\n"
          "  -V, --version       print the version and exit\n");
}

static void
on_signal(uv_signal_t *h, int signum) {
  struct boxqd *d = h->data;
  log_info("signal %d: shutting down", signum);
  worker_link_stop(d);
  wf_stop(d);
  retention_stop(d);
  cron_stop(d);
  uv_close((uv_handle_t *)&d->server, NULL);
  uv_close((uv_handle_t *)&d->sig_term, NULL);
  uv_close((uv_handle_t *)&d->sig_int, NULL);
  uv_close((uv_handle_t *)&d->sig_hup, NULL);
}

static void
on_sighup(uv_signal_t *h, int signum) {
  (void)signum;
  log_info("SIGHUP: reading the configuration again");
  config_reload(h->data);
}

/* The first n online CPUs: those pinned jobs are given. */
static void
pinnable_cpus(int64_t n, struct cpuset *ret) {
  struct cpuset online = {{0}};
  char *text = NULL;
  if (read_file_at(AT_FDCWD, "/sys/devices/system/cpu/online", 4096, &text, NULL) < 0 ||
      cpuset_parse(text, &online) < 0)
    for (int c = 0; c < sysconf(_SC_NPROCESSORS_ONLN); c++)
      cpuset_add(&online, c);
  free(text);
  *ret = (struct cpuset){{0}};
  for (int c = 0, got = 0; c < CPUSET_MAX && got < n; c++)
    if (cpuset_has(&online, c)) {
      cpuset_add(ret, c);
      got++;
    }
}

void
sched_capacity_update(struct boxqd *d) {
  if (d->cfg.ncpus)
    d->cap.ncpus = d->cfg.ncpus;
  else {
    int64_t online = sysconf(_SC_NPROCESSORS_ONLN);
    d->cap.ncpus = online > d->cfg.ncpus_reserve ? online - d->cfg.ncpus_reserve : 1;
  }
  pinnable_cpus(d->cap.ncpus, &d->pin_cpus);
  /* Pinned jobs need real CPUs: capacity cannot exceed them. */
  if (d->cfg.pin_cpus && cpuset_count(&d->pin_cpus) < d->cap.ncpus)
    d->cap.ncpus = cpuset_count(&d->pin_cpus);
  if (d->cfg.mem)
    d->cap.mem = d->cfg.mem;
  else {
    int64_t phys = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    d->cap.mem = phys > d->cfg.mem_reserve ? phys - d->cfg.mem_reserve : phys;
  }
  for (size_t c = 0; c < DEV_CLASSES_MAX; c++)
    d->cap.dev[c] = c < d->devs.ncls ? (int32_t)d->devs.cls[c].ndev : 0;
}

/* Says which devices jobs may ask for. */
static void
log_devices(const struct dev_table *t) {
  for (size_t c = 0; c < t->ncls; c++) {
    const struct dev_class *cls = &t->cls[c];
    log_info("devices %s (%s): %zu, %s%s%s", cls->name, cls->detected ? "found" : "configured",
             cls->ndev, cls->ndev ? cls->dev[0].path : "none", cls->ndev > 1 ? " ... " : "",
             cls->ndev > 1 ? cls->dev[cls->ndev - 1].path : "");
    if (cls->ndev == 0)
      log_warn("[devices %s] matches no device node: jobs asking for %s wait", cls->name,
               cls->name);
  }
}

static void
close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int
main(int argc, char **argv) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"print-config", no_argument, NULL, 'P'},
                                       {"version", no_argument, NULL, 'V'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  /* Each pass allocates and frees its arrays (a MiB or two with 10,000
   * queued jobs): keep up to 16 MiB of freed heap rather than give it back
   * to the kernel and fault it in again at every pass. The mmap threshold
   * too: setting the trim threshold fixes it at 128 KiB, and every array
   * above that was mapped, faulted in and unmapped at every pass (10% of
   * a full pass over 10,000 jobs). */
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  /* The queue holds every user's scripts and environments: nothing boxqd
   * creates is anyone else's to read, from its first byte (the socket
   * clients use gets its mode explicitly). */
  umask(077);
  const char *config = NULL;
  bool print = false;
  int o;
  while ((o = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
    switch (o) {
      case 'c':
        config = optarg;
        break;
      case 'P':
        print = true;
        break;
      case 'V':
        printf("boxqd " BOXQ_VERSION " (protocol %d)\n", BOXQ_PROTOCOL_VERSION);
        return 0;
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
  struct boxqd d = {.config_arg = config};
  struct berr err = {{0}};
  if (cfg_load(config, &d.cfg, &err) < 0) {
    fprintf(stderr, "boxqd: %s\n", err.msg);
    return 1;
  }
  if (print) {
    cfg_print(&d.cfg, stdout);
    cfg_free(&d.cfg);
    return 0;
  }
  log_init("boxqd", (enum log_level)log_level_from_string(d.cfg.log_level));
  if (dev_table_load(&d.cfg, "", &d.devs, &err) < 0) {
    log_error("%s: %s", d.cfg.config_path ? d.cfg.config_path : "configuration", err.msg);
    cfg_free(&d.cfg);
    return 1;
  }
  log_devices(&d.devs);
  sched_capacity_update(&d);
  d.server_name = cfg_server_name(&d.cfg);

  int r = make_state_dir(d.cfg.state_dir);
  if (r < 0) {
    log_error("cannot create state directory %s: %s", d.cfg.state_dir, strerror(-r));
    cfg_free(&d.cfg);
    return 1;
  }
  if (db_open(d.cfg.db_path, &d.db, &err) < 0) {
    log_error("%s", err.msg);
    cfg_free(&d.cfg);
    return 1;
  }

  node_load(&d);
  admin_load(&d);
  d.loop = uv_default_loop();
  d.started_at = d.worker_since = (int64_t)time(NULL);
  r = server_start(&d);
  if (r < 0) {
    log_error("cannot listen on %s: %s", d.cfg.sched_socket, uv_strerror(r));
    node_free(&d);
    db_close(d.db);
    cfg_free(&d.cfg);
    return 1;
  }
  uv_signal_init(d.loop, &d.sig_term);
  uv_signal_init(d.loop, &d.sig_int);
  d.sig_term.data = d.sig_int.data = &d;
  uv_signal_start(&d.sig_term, on_signal, SIGTERM);
  uv_signal_start(&d.sig_int, on_signal, SIGINT);
  uv_signal_init(d.loop, &d.sig_hup);
  d.sig_hup.data = &d;
  uv_signal_start(&d.sig_hup, on_sighup, SIGHUP);
  signal(SIGPIPE, SIG_IGN);
  worker_link_start(&d);
  if (wf_start(&d, &err) < 0) {
    log_error("%s", err.msg);
    return 1;
  }
  retention_start(&d);
  cron_start(&d);

  char mem[32];
  res_format_size(d.cap.mem, mem, sizeof(mem));
  log_info("boxqd ready on %s (server %s, capacity ncpus=%lld mem=%s)", d.cfg.sched_socket,
           d.server_name, (long long)d.cap.ncpus, mem);
  uv_run(d.loop, UV_RUN_DEFAULT);

  uv_walk(d.loop, close_walk, NULL);
  uv_run(d.loop, UV_RUN_DEFAULT);
  r = uv_loop_close(d.loop);
  if (r < 0)
    log_warn("event loop closed with open handles: %s", uv_strerror(r));
  unlink(d.cfg.sched_socket);
  db_close(d.db);
  sched_pass_free(&d);
  worker_batch_free(&d);
  ready_free(&d);
  walsync_free(&d);
  idmap_free(&d.conns_by_uid);
  node_free(&d);
  waiters_free(&d);
  dev_table_free(&d.devs);
  cfg_free(&d.cfg);
  log_info("stopped");
  return 0;
}
