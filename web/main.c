/* SPDX-License-Identifier: MIT */
/* boxq-web: the box in a browser, read-only, and /metrics for
 * Prometheus. Listens on loopback or a unix socket (for a reverse proxy);
 * libmicrohttpd speaks HTTP, one thread, so one connection to boxqd
 * serves every request in turn. */
#include "log.h"
#include "web.h"

#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define DEFAULT_LISTEN  "127.0.0.1:8642"
#define DEFAULT_REFRESH 3000

static void
usage(FILE *out) {
  fprintf(out,
          "Usage: boxq-web [--listen ADDR] [-c FILE] [--refresh MS]\n"
          "A read-only web view of boxq (/, /job/ID, /history) and Prometheus metrics "
          "(/metrics).\n"
          "  -l, --listen ADDR   HOST:PORT, [V6]:PORT or unix:PATH (default " DEFAULT_LISTEN ")\n"
          "  -c, --config FILE   boxq's configuration, to find boxqd's socket\n"
          "  -r, --refresh MS    how often pages update themselves (default %d)\n"
          "  -V, --version       print the version\n",
          DEFAULT_REFRESH);
}

/* A listening socket for ADDR; -errno with the reason in err. */
static int
open_listener(const char *addr, struct berr *err) {
  if (strncmp(addr, "unix:", 5) == 0) {
    const char *path = addr + 5;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!*path || strlen(path) >= sizeof(sa.sun_path))
      return berr_set(err, -EINVAL, "--listen %s: a unix socket path of 1 to %zu bytes", addr,
                      sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    /* A socket left by an earlier run goes; anything else stays. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
      unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return berr_set(err, -errno, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
        listen(fd, 64) < 0) {
      int e = errno;
      close(fd);
      return berr_set(err, -e, "--listen %s: %s", addr, strerror(e));
    }
    return fd;
  }
  _cleanup_free_ char *host = NULL;
  const char *port;
  if (addr[0] == '[') { /* [::1]:8642 */
    const char *end = strchr(addr, ']');
    if (!end || end[1] != ':')
      return berr_set(err, -EINVAL, "--listen %s: [V6ADDRESS]:PORT", addr);
    host = xstrndup(addr + 1, (size_t)(end - addr - 1));
    port = end + 2;
  } else {
    const char *colon = strrchr(addr, ':');
    if (!colon)
      return berr_set(err, -EINVAL, "--listen %s: HOST:PORT or unix:PATH", addr);
    host = xstrndup(addr, (size_t)(colon - addr));
    port = colon + 1;
  }
  int64_t p;
  if (parse_i64(port, 1, 65535, &p) < 0)
    return berr_set(err, -EINVAL, "--listen %s: the port must be 1 to 65535", addr);
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res;
  int g = getaddrinfo(*host ? host : NULL, port, &hints, &res);
  if (g != 0)
    return berr_set(err, -EINVAL, "--listen %s: %s", addr, gai_strerror(g));
  int fd = -1, e = 0;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      e = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 64) < 0) {
      e = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0)
    return berr_set(err, -e, "--listen %s: %s", addr, strerror(e));
  return fd;
}

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, const char *type, struct sb *body,
        double render_ms) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(body->len, body->s ? body->s : (char *)"",
                                      body->s ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  *body = (struct sb){0};
  MHD_add_response_header(resp, "Content-Type", type);
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'none'; style-src 'unsafe-inline'; script-src "
                          "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
                          "form-action 'self'; frame-ancestors 'none'");
  char timing[64];
  snprintf(timing, sizeof(timing), "render;dur=%.2f", render_ms);
  MHD_add_response_header(resp, "Server-Timing", timing);
  enum MHD_Result r = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return r;
}

static enum MHD_Result
redirect(struct MHD_Connection *conn, const char *to) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(resp, "Location", to);
  enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_SEE_OTHER, resp);
  MHD_destroy_response(resp);
  return r;
}

/* A job as a URL may name it: "123", "123[]", "123[7]", with ".server". */
static bool
job_ref_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || s[0] < '0' || s[0] > '9')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!strchr("0123456789[].-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", s[i]))
      return false;
  return true;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state) {
  (void)version;
  (void)upload;
  struct web *w = cls;
  static int first_call;
  if (*state == NULL) { /* headers only so far: answer on the next call */
    *state = &first_call;
    return MHD_YES;
  }
  if (*upload_size) /* a body to a read-only view: ignored */
    *upload_size = 0;
  struct sb body = {0};
  int64_t t0 = now_mono_usec();
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    sb_puts(&body, "boxq-web is read-only: GET only\n");
    return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", &body, 0);
  }
  bool fragment = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fragment") != NULL;
  const char *html = "text/html; charset=utf-8";
  int status = 0;
  if (strcmp(url, "/") == 0)
    status = page_box(w, &body, fragment);
  else if (strcmp(url, "/history") == 0)
    status = page_history(w, &body, fragment);
  else if (strcmp(url, "/metrics") == 0) {
    page_metrics(w, &body);
    cli_close_connection(&w->cli);
    return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &body,
                   (double)(now_mono_usec() - t0) / 1000);
  } else if (strcmp(url, "/job") == 0) {
    const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
    if (id && job_ref_ok(id)) {
      _cleanup_free_ char *to = xasprintf("/job/%s", id);
      return redirect(conn, to);
    }
    status = MHD_HTTP_BAD_REQUEST;
  } else if (strncmp(url, "/job/", 5) == 0 && job_ref_ok(url + 5))
    status = page_job(w, url + 5, &body, fragment);
  else
    status = MHD_HTTP_NOT_FOUND;
  if (status && body.len == 0) {
    html_head(&body, "Not found", NULL);
    sb_printf(&body, "<div class=\"err\">%s: ",
              status == MHD_HTTP_BAD_REQUEST ? "Not a job id" : "No such page");
    sb_html(&body, url);
    sb_puts(&body, "</div>");
    html_tail(&body, w->refresh_ms);
  }
  /* Never an idle connection left open: boxqd would wait for it when
   * asked to stop. A connection costs a tenth of a millisecond. */
  cli_close_connection(&w->cli);
  double ms = (double)(now_mono_usec() - t0) / 1000;
  if (!fragment)
    sb_printf(&body, "<!-- rendered in %.2f ms -->\n", ms);
  return respond(conn, status ? (unsigned)status : MHD_HTTP_OK, html, &body, ms);
}

static void
on_mhd_error(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  log_warn("http: %s", msg);
}

int
main(int argc, char **argv) {
  log_init("boxq-web", LOG_LVL_INFO);
  static const struct option opts[] = {
      {"listen", required_argument, NULL, 'l'},  {"config", required_argument, NULL, 'c'},
      {"refresh", required_argument, NULL, 'r'}, {"version", no_argument, NULL, 'V'},
      {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
  const char *listen_addr = DEFAULT_LISTEN;
  struct web w = {.cli = {.prog = "boxq-web", .fd = -1}, .refresh_ms = DEFAULT_REFRESH};
  int o;
  while ((o = getopt_long(argc, argv, "l:c:r:Vh", opts, NULL)) != -1) {
    switch (o) {
      case 'l':
        listen_addr = optarg;
        break;
      case 'c':
        w.cli.config = optarg;
        break;
      case 'r': {
        int64_t ms;
        if (parse_i64(optarg, 200, 3600000, &ms) < 0) {
          fprintf(stderr, "boxq-web: --refresh %s: milliseconds, 200 to 3600000\n", optarg);
          return 2;
        }
        w.refresh_ms = (int)ms;
        break;
      }
      case 'V':
        printf("boxq-web %s\n", BOXQ_VERSION);
        return 0;
      case 'h':
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    usage(stderr);
    return 2;
  }
  if (cli_load_config(&w.cli) < 0)
    return 1; /* said */
  struct berr err = {{0}};
  int fd = open_listener(listen_addr, &err);
  if (fd < 0) {
    fprintf(stderr, "boxq-web: %s\n", err.msg);
    return 1;
  }
  /* The signals are taken by sigwait below, never by MHD's thread. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct MHD_Daemon *mhd =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                       on_request, &w, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
                       (unsigned)256, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL, MHD_OPTION_END);
  if (!mhd) {
    fprintf(stderr, "boxq-web: cannot start the HTTP server on %s\n", listen_addr);
    close(fd);
    return 1;
  }
  log_info("boxq-web ready on %s (boxqd at %s)", listen_addr, w.cli.cfg.sched_socket);
  int sig = 0;
  sigwait(&sigs, &sig);
  log_info("signal %d: shutting down", sig);
  MHD_stop_daemon(mhd); /* closes fd */
  if (strncmp(listen_addr, "unix:", 5) == 0)
    unlink(listen_addr + 5);
  cli_close(&w.cli);
  return 0;
}
