/* SPDX-License-Identifier: MIT */
/* What follows from a job moving on, beyond the job itself: its array
 * job's state, the jobs that depend on it, its owner's fair-share usage,
 * and deferred jobs (qsub -a) becoming eligible. Event-driven: each
 * function runs inside the transaction of the change that caused it, so a
 * dependent is never left behind by a crash between the two. */
#include "boxqd.h"
#include "log.h"

#include <string.h>
#include <time.h>

/* Jobs waiting to be looked at again; a worklist instead of recursion, so
 * a long chain of dependencies cannot exhaust the stack. */
struct worklist {
  int64_t *finished; /* jobs that reached F: their array and dependents follow */
  size_t n, cap;
};

static void
push(struct worklist *w, int64_t id) {
  w->finished = xgrow(w->finished, w->n, &w->cap, sizeof(int64_t), 16);
  w->finished[w->n++] = id;
}

struct dep_eval {
  enum dep_status status;
  char why[128]; /* the first dependency that can never be satisfied */
};

static int
eval_one(void *ud, const struct db_dep_row *row) {
  struct dep_eval *e = ud;
  enum dep_status s;
  if (!row->exists) {
    s = DEP_NEVER; /* pruned from the database: its outcome is unknown */
  } else {
    bool finished = row->state == JOB_FINISHED;
    bool started = row->stime > 0 || row->run_count > 0 || row->state == JOB_RUNNING ||
                   row->state == JOB_EXITING || row->state == 'B';
    s = sched_dep_status(row->kind, started, finished, row->end_reason == END_COMPLETED);
  }
  if (s == DEP_NEVER && e->status != DEP_NEVER)
    snprintf(e->why, sizeof(e->why), "%s:%lld %s", dep_kind_name(row->kind), (long long)row->dep_id,
             !row->exists                       ? "is no longer known"
             : row->end_reason == END_COMPLETED ? "completed"
             : row->state == JOB_FINISHED       ? "did not complete successfully"
                                                : "cannot happen");
  e->status = sched_dep_combine(e->status, s);
  return 0;
}

/* Applies what the dependencies of job id say now. */
static int
settle(struct boxqd *d, int64_t id, int64_t now, struct worklist *w) {
  struct job_rec j;
  int r = db_get_job(d->db, id, false, &j);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return r;
  if (j.state != JOB_QUEUED && j.state != JOB_HELD && j.state != JOB_WAITING) {
    job_rec_free(&j);
    return 0;
  }
  struct dep_eval e = {DEP_SATISFIED, ""};
  r = db_deps_of(d->db, id, eval_one, &e);
  bool held = j.hold_types && strchr(j.hold_types, 's');
  /* Held, released or ended here: the queue changed under the passes'
   * cached ranking (pass.c). */
  if ((e.status == DEP_PENDING && !held) || (e.status == DEP_SATISFIED && held) ||
      e.status == DEP_NEVER)
    sched_queue_changed(d);
  if (r == 0 && e.status == DEP_PENDING && !held) {
    r = db_hold_add(d->db, id, 's', now);
    if (r >= 0)
      r = db_add_event(d->db, id, now, "waiting", "for its dependencies (system hold)");
  } else if (r == 0 && e.status == DEP_SATISFIED && held) {
    r = db_hold_remove(d->db, id, 's', now);
    if (r >= 0)
      r = db_add_event(d->db, id, now, "eligible", "its dependencies are satisfied");
  } else if (r == 0 && e.status == DEP_NEVER) {
    r = db_finish_unstarted(d->db, id, END_DEPENDENCY, now);
    if (r >= 0) {
      _cleanup_free_ char *detail = xasprintf("dependency never satisfied: %s", e.why);
      r = db_add_event(d->db, id, now, "ended", detail);
      log_info("job %lld: %s", (long long)id, detail);
      push(w, id);
    }
  }
  job_rec_free(&j);
  return r < 0 ? r : 0;
}

static int
settle_all(struct boxqd *d, int64_t *ids, size_t n, int64_t now, struct worklist *w) {
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++)
    r = settle(d, ids[i], now, w);
  free(ids);
  return r;
}

/* The last task of an array has ended: the array job ends with it. */
static int
finish_array(struct boxqd *d, int64_t array_id, int64_t now, struct worklist *w) {
  bool unfinished;
  int r = db_array_unfinished(d->db, array_id, &unfinished);
  if (r < 0 || unfinished)
    return r;
  struct db_array_outcome o;
  r = db_array_outcome(d->db, array_id, &o);
  if (r < 0)
    return r;
  /* As PBS: 0 if every task succeeded, 1 if one failed, 2 if one was deleted. */
  struct job_rec end = {.id = array_id, .etime = now, .has_exit = o.any_started};
  if (o.completed == o.tasks) {
    end.end_reason = END_COMPLETED;
    end.exit_status = 0;
  } else if (o.cancelled == o.tasks) {
    end.end_reason = END_CANCELLED;
  } else {
    end.end_reason = END_FAILED;
    end.exit_status = o.cancelled ? 2 : 1;
  }
  r = db_job_ended(d->db, &end);
  if (r == 0) {
    _cleanup_free_ char *detail =
        xasprintf("%lld tasks: %lld completed, %lld failed, %lld deleted", (long long)o.tasks,
                  (long long)o.completed, (long long)o.failed, (long long)o.cancelled);
    r = db_add_event(d->db, array_id, now, "ended", detail);
  }
  if (r == 0)
    push(w, array_id);
  return r;
}

/* What follows from job id reaching F; each step may end more jobs. */
static int
after_end(struct boxqd *d, int64_t id, int64_t array_id, bool is_array, int64_t now,
          struct worklist *w) {
  int r = 0;
  int64_t *ids;
  size_t n;
  if (array_id)
    r = finish_array(d, array_id, now, w);
  if (r == 0 && is_array && (r = db_task_dependents(d->db, id, &ids, &n)) == 0)
    r = settle_all(d, ids, n, now, w);
  if (r == 0 && (r = db_dependents(d->db, id, &ids, &n)) == 0)
    r = settle_all(d, ids, n, now, w);
  return r;
}

static int
drain(struct boxqd *d, struct worklist *w, int64_t now) {
  int r = 0;
  /* Every job pushed has ended; each step may end more. */
  while (r == 0 && w->n > 0) {
    int64_t id = w->finished[--w->n];
    struct job_rec j;
    r = db_get_job(d->db, id, false, &j);
    if (r == -ENOENT) {
      r = 0;
      continue;
    }
    if (r < 0)
      break;
    r = after_end(d, id, j.array_id, j.array_spec != NULL, now, w);
    job_rec_free(&j);
  }
  free(w->finished);
  *w = (struct worklist){0};
  return r;
}

int
wf_job_finished(struct boxqd *d, const struct job_rec *j, int64_t now) {
  /* The caller has the row: no need to read it back. */
  struct worklist w = {0};
  int r = after_end(d, j->id, j->array_id, j->array_spec != NULL, now, &w);
  if (r == 0)
    return drain(d, &w, now);
  free(w.finished);
  return r;
}

int
wf_array_check(struct boxqd *d, int64_t array_id, int64_t now) {
  struct job_rec j;
  int r = db_get_job(d->db, array_id, false, &j);
  if (r < 0)
    return r == -ENOENT ? 0 : r;
  struct worklist w = {0};
  if (j.state == JOB_FINISHED)
    push(&w, array_id);
  else
    r = finish_array(d, array_id, now, &w);
  job_rec_free(&j);
  if (r == 0)
    return drain(d, &w, now);
  free(w.finished);
  return r;
}

int
wf_job_started(struct boxqd *d, const struct job_rec *j, int64_t now) {
  struct worklist w = {0};
  int64_t *ids;
  size_t n;
  int r = 0;
  if (j->array_id) {
    r = db_array_begun(d->db, j->array_id, now);
    if (r == 0 && (r = db_dependents(d->db, j->array_id, &ids, &n)) == 0)
      r = settle_all(d, ids, n, now, &w);
  }
  if (r == 0 && (r = db_dependents(d->db, j->id, &ids, &n)) == 0)
    r = settle_all(d, ids, n, now, &w);
  if (r == 0)
    return drain(d, &w, now);
  free(w.finished);
  return r;
}

int
wf_settle(struct boxqd *d, int64_t id, int64_t now) {
  struct worklist w = {0};
  int r = settle(d, id, now, &w);
  if (r == 0)
    return drain(d, &w, now);
  free(w.finished);
  return r;
}

/* ---- fair share ---- */

struct user_usage *
wf_usage_of(struct boxqd *d, int64_t uid) {
  size_t at = (size_t)(intptr_t)idmap_get(&d->usage_index, uid + 1);
  if (at)
    return &d->usage[at - 1];
  d->usage = xrealloc(d->usage, (d->nusage + 1) * sizeof(*d->usage));
  d->usage[d->nusage] = (struct user_usage){.uid = uid, .usage = 0, .updated = 0};
  idmap_put(&d->usage_index, uid + 1, (void *)(intptr_t)(d->nusage + 1));
  return &d->usage[d->nusage++];
}

double
wf_usage_now(struct boxqd *d, const struct user_usage *u, int64_t now) {
  return sched_decay(u->usage, now - u->updated, d->cfg.fairshare_half_life);
}

int
wf_charge(struct boxqd *d, int64_t uid, double cpu_seconds, int64_t now) {
  if (cpu_seconds <= 0)
    return 0;
  struct user_usage *u = wf_usage_of(d, uid);
  double v = wf_usage_now(d, u, now) + cpu_seconds;
  int r = db_usage_save(d->db, uid, v, now);
  if (r == 0) {
    u->usage = v;
    u->updated = now;
  }
  return r;
}

static int
load_one(void *ud, int64_t uid, double usage, int64_t updated) {
  struct boxqd *d = ud;
  struct user_usage *u = wf_usage_of(d, uid);
  u->usage = usage;
  u->updated = updated;
  return 0;
}

/* ---- deferred jobs (qsub -a) ---- */

static void
on_deferred_timer(uv_timer_t *t) {
  wf_deferred_check(t->data);
}

void
wf_deferred_check(struct boxqd *d) {
  if (d->stopping)
    return;
  int64_t now = (int64_t)time(NULL);
  int64_t *ids = NULL;
  size_t n = 0;
  int r = db_deferred_due(d->db, now, &ids, &n);
  if (r == 0 && n > 0) {
    r = db_begin(d->db);
    for (size_t i = 0; r == 0 && i < n; i++) {
      r = db_set_state(d->db, ids[i], JOB_QUEUED, "", now);
      if (r == 0)
        r = db_add_event(d->db, ids[i], now, "eligible", "its execution time (-a) has come");
    }
    if (r == 0)
      r = db_commit(d->db);
    else
      db_rollback(d->db);
    if (r == 0)
      sched_request_pass(d);
  }
  free(ids);
  if (r < 0)
    log_error("deferred jobs: %s", db_errmsg(d->db));
  int64_t next = 0;
  if (db_deferred_next(d->db, &next) < 0)
    next = 0;
  uv_timer_stop(&d->deferred);
  if (r < 0)
    uv_timer_start(&d->deferred, on_deferred_timer, 5000, 0); /* try again soon */
  else if (next > 0)
    uv_timer_start(&d->deferred, on_deferred_timer, next > now ? (uint64_t)(next - now) * 1000 : 0,
                   0);
}

int
wf_start(struct boxqd *d, struct berr *err) {
  uv_timer_init(d->loop, &d->deferred);
  d->deferred.data = d;
  int r = db_usage_load(d->db, load_one, d);
  if (r < 0)
    return berr_set(err, r, "cannot load fair-share usage: %s", db_errmsg(d->db));
  wf_deferred_check(d);
  return 0;
}

void
wf_stop(struct boxqd *d) {
  uv_timer_stop(&d->deferred);
  uv_close((uv_handle_t *)&d->deferred, NULL);
  free(d->usage);
  d->usage = NULL;
  d->nusage = 0;
  idmap_free(&d->usage_index);
}
