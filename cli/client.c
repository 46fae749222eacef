/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#define REPLY_TIMEOUT_SEC 60

void
cli_error(struct cli_ctx *ctx, const char *fmt, ...) {
  va_list ap;
  if (ctx->errbuf && ctx->errlen) {
    va_start(ap, fmt);
    vsnprintf(ctx->errbuf, ctx->errlen, fmt, ap);
    va_end(ap);
    return;
  }
  fprintf(stderr, "%s: ", ctx->prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int
cli_load_config(struct cli_ctx *ctx) {
  if (ctx->cfg_loaded)
    return 0; /* a command that fetches jobs after loading it itself */
  struct berr err = {{0}};
  if (cfg_load(ctx->config, &ctx->cfg, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    return -EINVAL;
  }
  if (cfg_dialect(&ctx->cfg, &ctx->dialect, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    cfg_free(&ctx->cfg);
    ctx->cfg = (struct boxq_config){0};
    return -EINVAL;
  }
  ctx->cfg_loaded = true;
  return 0;
}

int
cli_call(struct cli_ctx *ctx, struct pbuf *b, struct pmsg *ret, bool quiet) {
  int64_t status;
  int r = cli_request(ctx, b, ret, &status);
  pbuf_free(b);
  if (r < 0)
    return r;
  if (status < 0) {
    const char *msg = pmsg_str(ret, T_MESSAGE);
    if (!quiet)
      cli_error(ctx, "%s", msg ? msg : strerror((int)-status));
    return (int)status;
  }
  return 0;
}

int
cli_call_each(struct cli_ctx *ctx, struct pbuf *b, struct pmsg *ret) {
  int64_t status;
  int r = cli_request(ctx, b, ret, &status);
  pbuf_free(b);
  if (r < 0)
    return -1;
  int errors = cli_print_errors(ctx, ret);
  if (status < 0 && errors == 0) {
    const char *msg = pmsg_str(ret, T_MESSAGE);
    cli_error(ctx, "%s", msg ? msg : strerror((int)-status));
    errors = 1;
  }
  return errors;
}

int
cli_connect(struct cli_ctx *ctx) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctx->cfg.sched_socket);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int e = errno;
    close(fd);
    cli_error(ctx, "cannot reach boxqd at %s: %s (is boxqd running? BOXQ_STATE_DIR=%s)",
              ctx->cfg.sched_socket, strerror(e), ctx->cfg.state_dir);
    return -e;
  }
  struct timeval tv = {ctx->no_timeout ? 0 : REPLY_TIMEOUT_SEC, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  ctx->fd = fd;
  return 0;
}

int
cli_request(struct cli_ctx *ctx, const struct pbuf *b, struct pmsg *ret, int64_t *ret_status) {
  if (ctx->fd < 0) {
    int r = cli_connect(ctx);
    if (r < 0)
      return r;
  }
  int r = proto_send(ctx->fd, b);
  if (r < 0) {
    cli_error(ctx, "cannot send the request to boxqd: %s", strerror(-r));
    return r;
  }
  /* Drop the previous reply's bytes before reading the next. */
  ctx->fr.len = 0;
  size_t flen;
  r = proto_recv(ctx->fd, &ctx->fr, ret, &flen);
  if (r < 0 && ctx->interrupted)
    return -EINTR; /* the caller's signal handler closed the socket */
  if (r < 0) {
    cli_error(ctx, "no reply from boxqd: %s",
              r == -EAGAIN       ? "timed out"
              : r == -ECONNRESET ? "connection closed"
                                 : strerror(-r));
    return r;
  }
  if (ret->type != MSG_REPLY) {
    cli_error(ctx, "unexpected reply type %u from boxqd", ret->type);
    return -EPROTO;
  }
  *ret_status = pmsg_i64_or(ret, T_STATUS, -EPROTO);
  const char *server = pmsg_str(ret, T_SERVER);
  if (server)
    snprintf(ctx->server, sizeof(ctx->server), "%s", server);
  return 0;
}

void
cli_close_connection(struct cli_ctx *ctx) {
  if (ctx->fd >= 0)
    close(ctx->fd);
  ctx->fd = -1;
  pframer_free(&ctx->fr);
}

void
cli_close(struct cli_ctx *ctx) {
  cli_close_connection(ctx);
  cfg_free(&ctx->cfg);
  ctx->cfg_loaded = false;
}

int
cli_print_errors(struct cli_ctx *ctx, const struct pmsg *reply) {
  size_t off = 0;
  struct pfield f;
  int n = 0;
  while (pmsg_next(reply, &off, &f)) {
    if (f.tag != T_ERROR)
      continue;
    const char *s = pfield_str(&f);
    cli_error(ctx, "%s", s ? s : "(malformed error)");
    n++;
  }
  return n;
}
