/* SPDX-License-Identifier: MIT */
/* qsub's side of Grid Engine's language that needs the server or speaks
 * to the user: -hold_jid resolved against the caller's jobs, the words
 * of a submission and of -sync y's end, the array bounds its variables
 * and messages give. The options themselves are qsub_sge.c's. */
#include "jobref.h"
#include "jobs_fetch.h"
#include "qsub_opts.h"
#include "sge_out.h"

#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

/* An array's first and last index and its step, as Grid Engine gives
 * them (SGE_TASK_FIRST, "ID.1-10:2"): of a list, its ends and first step. */
void
sge_array_bounds(const char *spec, int64_t *first, int64_t *last, int64_t *step) {
  struct job_array_range *ranges;
  size_t nranges;
  int64_t count;
  if (!spec || job_array_parse_list(spec, &ranges, &nranges, &count, NULL) < 0 || !nranges)
    return;
  const struct job_array_range *end = &ranges[nranges - 1];
  *first = ranges[0].first;
  *last = end->first + (end->last - end->first) / end->step * end->step; /* 1-4:2 ends at 3 */
  *step = ranges[0].step;
  free(ranges);
}

/* Whether words hold an option only Grid Engine's qsub has. */
bool
sge_words(int argc, char *const *argv) {
  static const char *const words[] = {"-cwd",  "-terse", "-pe", "-hold_jid", "-hold_jid_ad",
                                      "-sync", "-wd",    "-tc", "-notify",   "-now",
                                      "-hard", "-soft",  "-b",  NULL};
  for (int i = 0; i < argc && argv[i][0] == '-'; i++)
    for (const char *const *w = words; *w; w++)
      if (!strcmp(argv[i], *w))
        return true;
  return false;
}

/* -hold_jid / -hold_jid_ad: ids, or names (patterns) of the submitter's
 * own unfinished jobs, resolved now as Grid Engine does; into j's
 * dependencies (afterany; aftercorr_any for -hold_jid_ad, task by task). */
static void
sge_add_dep(struct qsub_opts *o, const char *kind, int64_t id, bool array) {
  _cleanup_free_ char *dep = xasprintf("%s:%lld%s", kind, (long long)id, array ? "[]" : "");
  char *joined = o->depend ? xasprintf("%s,%s", o->depend, dep) : xstrdup(dep);
  free(o->depend);
  o->depend = joined;
}

static int
sge_resolve_holds(struct cli_ctx *ctx, struct qsub_opts *o, const char *list, bool per_task,
                  struct joblist *mine, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  const char *kind = per_task ? "aftercorr_any" : "afterany";
  for (char *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
    int64_t id;
    /* "123" or "123.server"; Grid Engine's "123.1-10" task ranges: the array */
    _cleanup_free_ char *num = xstrndup(item, strcspn(item, "."));
    if (parse_i64(num, 1, INT64_MAX, &id) == 0) {
      sge_add_dep(o, kind, id, per_task);
      continue;
    }
    int errs;
    if (!mine->jobs && jobs_fetch(ctx, 0, NULL, 0, mine, &errs) < 0)
      return berr_set(err, -EIO, "-hold_jid %s: cannot list your jobs", item);
    for (size_t i = 0; i < mine->n; i++) {
      const struct job_rec *other = &mine->jobs[i];
      if (other->uid == (int64_t)getuid() && !other->array_id && other->name &&
          fnmatch(item, other->name, 0) == 0)
        sge_add_dep(o, kind, other->id, per_task);
    }
  }
  return 0;
}

int
qsub_sge_holds(struct cli_ctx *ctx, struct qsub_opts *o, struct berr *err) {
  struct joblist mine = {0};
  int r = 0;
  if (o->hold_jid)
    r = sge_resolve_holds(ctx, o, o->hold_jid, false, &mine, err);
  if (r == 0 && o->hold_jid_ad)
    r = sge_resolve_holds(ctx, o, o->hold_jid_ad, true, &mine, err);
  joblist_free(&mine);
  if (r == 0 && !o->depend)
    o->depend = xstrdup("afterany:"); /* names matching no job: no dependency */
  return r;
}

/* Grid Engine's word of a submission: "Your job 12 ("name") has been
 * submitted", or only the id with -terse; an array is "12.1-10:1". */
void
sge_submitted(const struct qsub_opts *o, const struct job_rec *j, int64_t id) {
  char idstr[96];
  snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
  if (o->array_spec) {
    int64_t first = 0, last = 0, step = 1;
    sge_array_bounds(j->array_spec, &first, &last, &step);
    snprintf(idstr, sizeof(idstr), "%lld.%lld-%lld:%lld", (long long)id, (long long)first,
             (long long)last, (long long)step);
  }
  if (o->terse)
    printf("%s\n", idstr);
  else
    printf("Your job%s %s (\"%s\") has been submitted\n", o->array_spec ? "-array" : "", idstr,
           j->name);
}

/* qsub -sync y's last words: how the job ended, and its exit status. */
int
sge_report_end(const struct job_rec *j, const char *idstr) {
  if (!j->has_exit || j->exit_status < 0) {
    printf("Unable to run job %s\n", idstr);
    return 1;
  }
  if (j->exit_status >= JOB_EXIT_SIGNAL_BASE) {
    const char *name = sigabbrev_np((int)(j->exit_status - JOB_EXIT_SIGNAL_BASE));
    printf("Job %s exited because of signal SIG%s\n", idstr, name ? name : "UNKNOWN");
    return 1;
  }
  printf("Job %s exited with exit code %lld.\n", idstr, (long long)j->exit_status);
  return (int)j->exit_status;
}
