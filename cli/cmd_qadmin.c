/* SPDX-License-Identifier: MIT */
/* Operating the server at run time (root, managers, operators): qstart /
 * qstop (a queue's jobs may start, or not), qenable / qdisable (it accepts
 * new jobs, or not), and qmgr's commands for those and for the server's
 * scheduling. Everything else a site sets lives in boxq.ini. */
#include "cli.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int
admin_request(struct cli_ctx *ctx, int64_t flags, char **queues, int n) {
  if (cli_load_config(ctx) < 0)
    return 1;
  struct pbuf b = {0};
  pb_begin(&b, MSG_ADMIN);
  pb_i64(&b, T_FLAGS, flags);
  for (int i = 0; i < n; i++)
    pb_str(&b, T_INFO, queues[i]);
  pb_end(&b);
  struct pmsg reply;
  return cli_call_each(ctx, &b, &reply) != 0 ? 1 : 0;
}

/* qstart, qstop, qenable, qdisable: QUEUE... */
int
cmd_queue_state(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct {
    const char *verb;
    int64_t flag;
    const char *what;
  } verbs[] = {
      {"qstart", ADMIN_QUEUE_START, "Lets the queues' jobs start again."},
      {"qstop", ADMIN_QUEUE_STOP,
       "Starts none of the queues' jobs until qstart (running ones go on)."},
      {"qenable", ADMIN_QUEUE_ENABLE, "Lets the queues accept new jobs."},
      {"qdisable", ADMIN_QUEUE_DISABLE, "Refuses new jobs for the queues (their jobs go on)."},
  };
  size_t v = 0;
  while (v < ARRAY_SIZE(verbs) - 1 && strcmp(verbs[v].verb, ctx->prog) != 0)
    v++;
  if (argc < 2 || argv[1][0] == '-') {
    bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    fprintf(help ? stdout : stderr, "Usage: %s queue[@server] ...\n%s\n", ctx->prog, verbs[v].what);
    return help ? 0 : 2;
  }
  for (int i = 1; i < argc; i++)
    argv[i][strcspn(argv[i], "@")] = '\0'; /* queue@server: one server */
  return admin_request(ctx, verbs[v].flag, argv + 1, argc - 1);
}

/* ---- qmgr ---- */

static const char qmgr_usage[] =
    "Usage: qmgr -c 'command' ...   (or commands on standard input)\n"
    "  set server scheduling = true|false   start jobs, or none (running ones go on)\n"
    "  set queue NAME enabled = true|false  accept new jobs, or not\n"
    "  set queue NAME started = true|false  start its jobs, or not\n"
    "  list server | print server           the server's attributes\n"
    "  list queue [NAME]                     the queues' attributes\n"
    "Words may be abbreviated as in PBS (s for set or server, q for queue, l for\n"
    "list, p for print). Everything else a site sets is in boxq.ini.\n";

/* Splits cmd into words at blanks, '=' a word of its own: "a=b" is
 * "a", "=", "b". *buf holds them (free it). */
static int
words(const char *cmd, char **buf, char **w, int max) {
  char *p = *buf = xmalloc(3 * strlen(cmd) + 1);
  for (const char *c = cmd; *c; c++) {
    if (*c == '=') {
      memcpy(p, " = ", 3);
      p += 3;
    } else
      *p++ = *c;
  }
  *p = '\0';
  int n = 0;
  char *save = NULL;
  for (char *t = strtok_r(*buf, " \t\r\n", &save); t && n < max;
       t = strtok_r(NULL, " \t\r\n", &save))
    w[n++] = t;
  return n;
}

/* A PBS verb or object, abbreviated or not. */
static bool
is(const char *w, const char *full, const char *abbrev) {
  return !strcasecmp(w, full) || (abbrev && !strcasecmp(w, abbrev));
}

static int
bool_word(const char *w) {
  if (!strcasecmp(w, "true") || !strcasecmp(w, "t") || !strcmp(w, "1"))
    return 1;
  if (!strcasecmp(w, "false") || !strcasecmp(w, "f") || !strcmp(w, "0"))
    return 0;
  return -1;
}

static int
print_info(struct cli_ctx *ctx, enum proto_type type, const char *header_fmt, char *name) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  if (name)
    pb_str(&b, T_INFO, name);
  pb_end(&b);
  struct pmsg reply;
  int errors = cli_call_each(ctx, &b, &reply);
  if (errors < 0)
    return 1;
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(&reply, &off, &f)) {
    if (f.tag != T_INFO && f.tag != T_QUEUE)
      continue;
    _cleanup_free_ char *text = xstrdup(pfield_str(&f) ? pfield_str(&f) : "");
    char *save = NULL;
    bool first = true;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      char *eq = strchr(line, '=');
      if (!eq)
        continue;
      *eq = '\0';
      if (first && f.tag == T_QUEUE && !strcmp(line, "name")) {
        printf("Queue %s\n", eq + 1);
        first = false;
        continue;
      }
      if (first && f.tag == T_INFO) {
        printf(header_fmt, ctx->server);
        first = false;
      }
      printf("\t%s = %s\n", line, eq + 1);
    }
    putchar('\n');
  }
  return errors ? 1 : 0;
}

static int
qmgr_command(struct cli_ctx *ctx, const char *cmd) {
  char *w[8];
  _cleanup_free_ char *buf = NULL;
  int n = words(cmd, &buf, w, 8);
  if (n == 0 || w[0][0] == '#')
    return 0;
  if (is(w[0], "set", "s") && n == 5 && is(w[1], "server", "s") &&
      !strcasecmp(w[2], "scheduling") && !strcmp(w[3], "=") && bool_word(w[4]) >= 0)
    return admin_request(ctx, bool_word(w[4]) ? ADMIN_SCHEDULING_ON : ADMIN_SCHEDULING_OFF, NULL,
                         0);
  if (is(w[0], "set", "s") && n == 6 && is(w[1], "queue", "q") && !strcmp(w[4], "=") &&
      bool_word(w[5]) >= 0 && (!strcasecmp(w[3], "enabled") || !strcasecmp(w[3], "started"))) {
    bool on = bool_word(w[5]);
    int64_t flag = !strcasecmp(w[3], "enabled") ? (on ? ADMIN_QUEUE_ENABLE : ADMIN_QUEUE_DISABLE)
                                                : (on ? ADMIN_QUEUE_START : ADMIN_QUEUE_STOP);
    return admin_request(ctx, flag, &w[2], 1);
  }
  if ((is(w[0], "list", "l") || is(w[0], "print", "p")) && n == 2 && is(w[1], "server", "s"))
    return print_info(ctx, MSG_SERVER_INFO, "Server %s\n", NULL);
  if ((is(w[0], "list", "l") || is(w[0], "print", "p")) && (n == 2 || n == 3) &&
      is(w[1], "queue", "q"))
    return print_info(ctx, MSG_QUEUE_INFO, "", n == 3 ? w[2] : NULL);
  cli_error(ctx, "'%s': not a command boxq's qmgr knows (qmgr --help lists them)", cmd);
  return 1;
}

int
cmd_qmgr(struct cli_ctx *ctx, int argc, char **argv) {
  if (cli_load_config(ctx) < 0)
    return 1;
  int rc = 0, ncmd = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(qmgr_usage, stdout);
      return 0;
    }
    if (!strcmp(argv[i], "-c") && i + 1 < argc) {
      rc |= qmgr_command(ctx, argv[++i]);
      ncmd++;
      continue;
    }
    fputs(qmgr_usage, stderr);
    return 2;
  }
  if (ncmd > 0)
    return rc;
  char line[4096];
  while (fgets(line, sizeof(line), stdin)) {
    line[strcspn(line, "\n")] = '\0';
    rc |= qmgr_command(ctx, line);
  }
  return rc;
}
