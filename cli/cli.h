/* SPDX-License-Identifier: MIT */
/* The boxq command line: one binary, one entry per verb (qsub, qstat, ...),
 * dispatched on argv[0] or on `boxq VERB`. */
#pragma once

#include "cfg.h"
#include "job.h"
#include "proto.h"

#include <signal.h>

struct cli_ctx {
  const char *prog;   /* the verb, for messages */
  const char *config; /* -c FILE, or NULL */
  struct boxq_config cfg;
  bool cfg_loaded;                   /* cli_load_config loads it once */
  enum boxq_dialect dialect;         /* whose output forms: set by cli_load_config */
  bool no_timeout;                   /* waits for a reply as long as it takes (qwait) */
  volatile sig_atomic_t interrupted; /* set by a signal handler that shut fd down */
  int fd;                            /* connection to boxqd, -1 until cli_connect */
  struct pframer fr;
  char server[256]; /* the server name from the last reply */
  /* Where cli_error writes instead of stderr (the last error), when set:
   * a library (libdrmaa) reports through its callers, never on stderr. */
  char *errbuf;
  size_t errlen;
};

struct cli_cmd {
  const char *name;
  const char *summary;
  int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

/* client.c */
int cli_load_config(struct cli_ctx *ctx);
int cli_connect(struct cli_ctx *ctx);
/* Sends b and waits for the MSG_REPLY; *ret_status is its T_STATUS. The
 * reply stays valid until the next request. */
int cli_request(struct cli_ctx *ctx, const struct pbuf *b, struct pmsg *ret, int64_t *ret_status);
/* The same for requests with one status: b is freed; a failed status is
 * printed (its message, or strerror) unless quiet. 0, or -errno. */
int cli_call(struct cli_ctx *ctx, struct pbuf *b, struct pmsg *ret, bool quiet);
/* For requests about several things (ids, queues): b is freed, each
 * T_ERROR printed, a failed status without any printed too. Returns how
 * many failed, or -1 when there was no reply. */
int cli_call_each(struct cli_ctx *ctx, struct pbuf *b, struct pmsg *ret);
void cli_close(struct cli_ctx *ctx);
/* Closes the connection only: the next request connects again. */
void cli_close_connection(struct cli_ctx *ctx);
void cli_error(struct cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints every T_ERROR of a reply to stderr; returns how many. */
int cli_print_errors(struct cli_ctx *ctx, const struct pmsg *reply);

/* jobid.c: adds a T_JOBREF ("123", "123[]", "123[7]", with or without
 * ".server") for each of ids[0..n) to b; a malformed one is reported
 * on stderr and counted in *errors. Returns how many were added, or -1 for
 * a word that is an option (starts with '-') when options are not allowed. */
int cli_put_jobids(struct cli_ctx *ctx, struct pbuf *b, char **ids, int n, bool reject_options,
                   int *errors);

/* cmd_qalter.c: changes the fields of j that flags (ALTER_*) name in each
 * job of ids (qalter, qmove, scontrol update). 0, 1 or 2 as
 * cli_job_request. */
int cli_alter_request(struct cli_ctx *ctx, int64_t flags, const struct job_rec *j, char **ids,
                      int nids);

/* cmd_qsub.c: fills j from qsub's merged options (all but the script):
 * opts' -N or default_name, the working directory relative to cwd, the
 * resources, the environment (qsub's PBS_O_* and -v/-V). */
struct qsub_opts;
int qsub_fill_job(const struct qsub_opts *opts, const char *cwd, const char *default_name,
                  struct job_rec *j, struct berr *err);

/* cmd_qsub.c: sends job j (its script in it) to boxqd; *ret_id the id
 * it was given, *ret_server its server's name, *ret_ref "ID[]" for an
 * array (or NULL), valid until the next request. Errors are said. */
int qsub_send(struct cli_ctx *ctx, const struct job_rec *j, int64_t *ret_id,
              const char **ret_server, const char **ret_ref);
/* Waits for job id to end (qsub -W block=true, sbatch --wait); returns
 * its status as a shell gives it (sge: Grid Engine's words said). */
int qsub_wait_for_end(struct cli_ctx *ctx, int64_t id, bool sge);

/* cmd_qsub.c: Grid Engine's -hold_jid and -hold_jid_ad: ids, or names
 * (patterns) of the caller's unfinished jobs resolved now, as Grid Engine
 * does, into opts' -W depend list (afterany; aftercorr_any, task by task,
 * for -hold_jid_ad). */
int qsub_sge_holds(struct cli_ctx *ctx, struct qsub_opts *opts, struct berr *err);

/* cmd_cron.c: qsub --cron: adds a schedule that runs script (an
 * absolute path) with qsub's option words opts, in cwd. */
int cron_add_script(struct cli_ctx *ctx, const char *spec, char *const *opts, int nopts,
                    const char *script, const char *cwd);

/* cmd_qctl.c: adds the ids to a request begun in b (with its other
 * fields), sends it, reports each failed id; frees b. 0 if every job was
 * acted on, 1 otherwise, 2 for a bad argument. */
int cli_job_request(struct cli_ctx *ctx, struct pbuf *b, char **ids, int nids);

/* cmd_qacct.c: qacct's dates (now, today, yesterday, YYYY-MM-DD[ HH:MM[:SS]],
 * -7d/-12h/-30m/-45s, @EPOCH), local time. -EINVAL if s is none of them. */
int qacct_parse_when(const char *s, int64_t now, int64_t *ret);

/* fmt.c */
void fmt_time(int64_t t, char *buf, size_t len); /* "Sun Nov 29 01:40:00 2026" */
/* Local time t in strftime's format; "-" for none (t <= 0). */
void fmt_time_as(int64_t t, const char *format, char *buf, size_t len);
void fmt_hms_usec(int64_t usec, char *buf, size_t len); /* "HH:MM:SS" */
const char *fmt_mem_src(int64_t src);
/* Text in columns, counted in characters (UTF-8 continuation bytes do
 * not count), never cutting one in half: how many s has, s past its
 * first n, and s cut or padded to width as printf's %-W.Ws (left) or
 * %W.Ws does for bytes. */
size_t fmt_text_chars(const char *s);
const char *fmt_text_skip(const char *s, size_t n);
void fmt_put_text(const char *s, int width, bool left);

int cmd_qsub(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qstat(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qdel(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qhold(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qrls(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qacct(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qsig(struct cli_ctx *ctx, int argc, char **argv);
int cmd_tracejob(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qalter(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qrerun(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qmod(struct cli_ctx *ctx, int argc, char **argv);
int cmd_sbatch(struct cli_ctx *ctx, int argc, char **argv);
/* cmd_qctl.c: "TERM", "SIGTERM", "15" -> 15; -1 if unknown. */
int cli_parse_signal(const char *s);
int cmd_qselect(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pbsnodes(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qwait(struct cli_ctx *ctx, int argc, char **argv);
int cmd_cron(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qmove(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qrun(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qpeek(struct cli_ctx *ctx, int argc, char **argv);
/* qstart, qstop, qenable, qdisable: by ctx->prog. */
int cmd_queue_state(struct cli_ctx *ctx, int argc, char **argv);
int cmd_qmgr(struct cli_ctx *ctx, int argc, char **argv);
