-- boxq schema, version 4: the scheduling policy. Job arrays (a parent row
-- per array, one row per task pointing at it), dependencies, deferred
-- start (qsub -a), fair-share usage and the history of rerun jobs.
-- The jobs table is rebuilt because its state CHECK gains 'B' (an array
-- whose tasks have begun); SQLite cannot alter a CHECK in place.

CREATE TABLE jobs_v4 (
  id            INTEGER PRIMARY KEY,
  owner_uid     INTEGER NOT NULL,
  owner_gid     INTEGER NOT NULL,
  owner         TEXT NOT NULL,
  name          TEXT NOT NULL,
  queue         TEXT NOT NULL,
  submit_host   TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL CHECK (state IN ('Q','H','W','R','E','F','B')),
  end_reason    INTEGER NOT NULL DEFAULT 0,
  priority      INTEGER NOT NULL DEFAULT 0,
  hold_types    TEXT NOT NULL DEFAULT '',
  script        BLOB NOT NULL,           -- empty for a task: its array's is used
  workdir       TEXT NOT NULL,
  out_path      TEXT NOT NULL,
  err_path      TEXT NOT NULL,
  join_oe       INTEGER NOT NULL DEFAULT 0,
  env           BLOB NOT NULL,           -- "K=V\0K=V\0..."; empty for a task
  groups        TEXT NOT NULL DEFAULT '',
  ncpus         INTEGER NOT NULL,
  mem           INTEGER NOT NULL,
  walltime      INTEGER NOT NULL DEFAULT 0,
  ctime         INTEGER NOT NULL,
  qtime         INTEGER NOT NULL,
  stime         INTEGER NOT NULL DEFAULT 0,
  etime         INTEGER NOT NULL DEFAULT 0,
  mtime         INTEGER NOT NULL,
  exit_status   INTEGER,
  exec_host     TEXT,
  cgroup        TEXT,
  comment       TEXT,
  pids          INTEGER NOT NULL DEFAULT 0,
  net           TEXT NOT NULL DEFAULT '',
  cpus          TEXT NOT NULL DEFAULT '',
  rerunnable    INTEGER NOT NULL DEFAULT 0,
  run_count     INTEGER NOT NULL DEFAULT 0,
  array_id      INTEGER NOT NULL DEFAULT 0,  -- a task: its array job's id
  array_index   INTEGER NOT NULL DEFAULT 0,  -- a task: its index
  array_spec    TEXT NOT NULL DEFAULT '',    -- an array job: "1-100:2"
  array_limit   INTEGER NOT NULL DEFAULT 0,  -- an array job: tasks running at once (%N)
  depend        TEXT NOT NULL DEFAULT '',    -- as given: "afterok:12:13"
  exec_time     INTEGER NOT NULL DEFAULT 0   -- qsub -a
);
INSERT INTO jobs_v4 (id, owner_uid, owner_gid, owner, name, queue, submit_host, state, end_reason,
                     priority, hold_types, script, workdir, out_path, err_path, join_oe, env,
                     groups, ncpus, mem, walltime, ctime, qtime, stime, etime, mtime, exit_status,
                     exec_host, cgroup, comment, pids, net, cpus, rerunnable, run_count)
  SELECT id, owner_uid, owner_gid, owner, name, queue, submit_host, state, end_reason,
         priority, hold_types, script, workdir, out_path, err_path, join_oe, env,
         groups, ncpus, mem, walltime, ctime, qtime, stime, etime, mtime, exit_status,
         exec_host, cgroup, comment, pids, net, cpus, rerunnable, run_count
  FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v4 RENAME TO jobs;
CREATE INDEX jobs_active ON jobs (state, priority DESC, id) WHERE state <> 'F';
CREATE INDEX jobs_owner ON jobs (owner_uid, id);
CREATE INDEX jobs_array ON jobs (array_id, array_index) WHERE array_id <> 0;
CREATE INDEX jobs_array_state ON jobs (array_id, state) WHERE array_id <> 0;
CREATE INDEX jobs_deferred ON jobs (exec_time) WHERE state = 'W';

-- "job_id may start only once dep_id ..." (kind: 0 after, 1 afterok,
-- 2 afternotok, 3 afterany); looked up by dep_id when that job moves on.
CREATE TABLE job_deps (
  job_id  INTEGER NOT NULL,
  kind    INTEGER NOT NULL,
  dep_id  INTEGER NOT NULL,
  PRIMARY KEY (job_id, kind, dep_id)
) WITHOUT ROWID;
CREATE INDEX job_deps_target ON job_deps (dep_id);

-- Fair share: each user's allocated CPU-seconds, decayed to `updated`.
CREATE TABLE user_usage (
  uid      INTEGER PRIMARY KEY,
  usage    REAL NOT NULL,
  updated  INTEGER NOT NULL
);

-- Earlier runs of jobs run again with qrerun: what each run used stays.
CREATE TABLE job_runs (
  job_id       INTEGER NOT NULL,
  run          INTEGER NOT NULL,
  stime        INTEGER NOT NULL,
  etime        INTEGER NOT NULL,
  end_reason   INTEGER NOT NULL,
  exit_status  INTEGER,
  cpu_usec     INTEGER,
  mem_peak     INTEGER,
  wall_usec    INTEGER,
  oom_kills    INTEGER,
  PRIMARY KEY (job_id, run)
);
