/* SPDX-License-Identifier: MIT */
/* qdel, qhold, qrls and qmod as Grid Engine's users type them (dialect
 * sge): job lists "12,13", an array's task "12.3" or tasks "12.1-5",
 * -u USER for all of someone's jobs, and Grid Engine's words for what was
 * done ("alice has deleted job 13"). One request per job, so that each
 * answer is said against its job. */
#include "jobref.h"
#include "jobs_fetch.h"
#include "sge_out.h"

#include <string.h>
#include <unistd.h>

/* The caller's name, as Grid Engine's messages give it (this static
 * program looks up no accounts: the login's, or the job's owner's when
 * that is the caller). */
static void
caller_name(const struct job_rec *j, char *buf, size_t len) {
  const char *u = getenv("USER");
  if (!u || !*u)
    u = getenv("LOGNAME");
  if (u && *u)
    snprintf(buf, len, "%s", u);
  else if (j && j->owner && j->uid == (int64_t)getuid())
    snprintf(buf, len, "%s", j->owner);
  else
    snprintf(buf, len, "uid %u", (unsigned)getuid());
}

/* One job, acted on; says so as Grid Engine does. 0, or 1 on failure. */
static int
act_on(struct cli_ctx *ctx, enum sge_action action, const char *ref, const char *label) {
  struct joblist l;
  int errs;
  char *fetch_ids[] = {(char *)ref}, me[64];
  if (jobs_fetch(ctx, 0, fetch_ids, 1, &l, &errs) < 0 || errs)
    return 1;
  bool running = l.n == 1 && l.jobs[0].stime && l.jobs[0].state != JOB_FINISHED;
  caller_name(l.n == 1 ? &l.jobs[0] : NULL, me, sizeof(me));
  joblist_free(&l);
  static const enum proto_type types[] = {
      [SGE_DELETE] = MSG_DELETE,   [SGE_HOLD] = MSG_HOLD,      [SGE_RELEASE] = MSG_RELEASE,
      [SGE_SUSPEND] = MSG_SUSPEND, [SGE_RESUME] = MSG_SUSPEND,
  };
  struct pbuf b = {0};
  pb_begin(&b, types[action]);
  if (action == SGE_SUSPEND || action == SGE_RESUME)
    pb_i64(&b, T_FLAGS, action == SGE_RESUME);
  char *ids[] = {(char *)ref};
  if (cli_job_request(ctx, &b, ids, 1) != 0)
    return 1;
  switch (action) {
    case SGE_DELETE:
      if (running)
        printf("%s has registered the job %s for deletion\n", me, label);
      else
        printf("%s has deleted job %s\n", me, label);
      break;
    case SGE_HOLD:
    case SGE_RELEASE:
      printf("modified hold of job %s\n", label);
      break;
    case SGE_SUSPEND:
    case SGE_RESUME:
      printf("%s - %ssuspended job %s\n", me, action == SGE_RESUME ? "un" : "", label);
      break;
  }
  return 0;
}

/* "12", "12.server", "12.3" (task 3), "12.1-5[:2]" (tasks). */
static int
act_on_word(struct cli_ctx *ctx, enum sge_action action, const char *word) {
  size_t n = strspn(word, "0123456789");
  if (!n || (word[n] && word[n] != '.')) {
    cli_error(ctx, "'%s' is not a job id (NUMBER, or NUMBER.TASK for an array's task)", word);
    return 1;
  }
  _cleanup_free_ char *num = xstrndup(word, n);
  const char *task = word[n] ? word + n + 1 : "";
  int64_t first, last, step = 1;
  char range_end = 0;
  if (!*task || !strchr("0123456789", task[0]))
    return act_on(ctx, action, num, num); /* "12" or "12.server" */
  int got = sscanf(task, "%lld-%lld:%lld%c", (long long *)&first, (long long *)&last,
                   (long long *)&step, &range_end);
  if (got < 2) {
    if (sscanf(task, "%lld%c", (long long *)&first, &range_end) != 1) {
      cli_error(ctx, "'%s': a task is NUMBER.TASK or NUMBER.FIRST-LAST[:STEP]", word);
      return 1;
    }
    last = first;
  }
  if (first < 0 || last < first || step < 1 || last - first > JOB_ARRAY_MAX || range_end) {
    cli_error(ctx, "'%s': a task is NUMBER.TASK or NUMBER.FIRST-LAST[:STEP]", word);
    return 1;
  }
  int bad = 0;
  for (int64_t t = first; t <= last; t += step) {
    char ref[64], label[64];
    snprintf(ref, sizeof(ref), "%s[%lld]", num, (long long)t);
    snprintf(label, sizeof(label), "%s.%lld", num, (long long)t);
    bad |= act_on(ctx, action, ref, label);
  }
  return bad;
}

int
sge_job_control(struct cli_ctx *ctx, enum sge_action action, int argc, char **argv) {
  int bad = 0, words = 0;
  for (int i = 1; i < argc; i++) {
    const char *w = argv[i];
    if (!strcmp(w, "-f") || !strcmp(w, "-h") || !strcmp(w, "u")) {
      /* qdel -f (forced: boxq always ends a job), qhold/qrls -h u (the
       * user hold, the only one users have). */
      if (!strcmp(w, "-h") && i + 1 < argc && argv[i + 1][0] != '-')
        i++;
      continue;
    }
    if (!strcmp(w, "-u") && i + 1 < argc) {
      /* Every unfinished job of these users (each user's own only, as
       * ever: boxqd refuses the rest). */
      struct joblist l;
      int errs;
      if (jobs_fetch_users(ctx, 0, argv[++i], NULL, 0, &l, &errs) < 0)
        return 1;
      for (size_t k = 0; k < l.n; k++) {
        if (l.jobs[k].array_id)
          continue; /* the array acts for its tasks */
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)l.jobs[k].id);
        bad |= act_on(ctx, action, num, num);
      }
      joblist_free(&l);
      words++;
      continue;
    }
    if (w[0] == '-') {
      cli_error(ctx, "unknown option %s", w);
      return 2;
    }
    _cleanup_free_ char *copy = xstrdup(w);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
      bad |= act_on_word(ctx, action, item);
    words++;
  }
  if (!words) {
    fprintf(stderr, "Usage: %s [-u user] job_id[.task][,job_id...] ...\n", ctx->prog);
    return 2;
  }
  return bad ? 1 : 0;
}

int
cmd_qmod(struct cli_ctx *ctx, int argc, char **argv) {
  static const char usage[] =
      "Usage: qmod -sj|-usj job_id[.task][,...] ...   suspend or resume jobs\n"
      "       qmod -s|-us job_id ...                  the same (Grid Engine's short forms)\n"
      "       qmod -cj job_id ...                     clear a job's error state (none in boxq)\n";
  if (argc < 2 || !strcmp(argv[1], "-help") || !strcmp(argv[1], "--help")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *op = argv[1];
  if (!strcmp(op, "-cj")) {
    return 0; /* boxq has no error state to clear: a failed launch ends the job */
  }
  if (strcmp(op, "-sj") && strcmp(op, "-usj") && strcmp(op, "-s") && strcmp(op, "-us")) {
    cli_error(ctx,
              "%s: boxq's qmod suspends (-sj) and resumes (-usj) jobs; queues are "
              "stopped with qstop and qdisable",
              op);
    return 2;
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  bool resume = op[1] == 'u';
  return sge_job_control(ctx, resume ? SGE_RESUME : SGE_SUSPEND, argc - 1, argv + 1);
}
