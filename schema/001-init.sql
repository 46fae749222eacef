-- boxq schema, version 1: the queue, the event log and the accounting.
-- Times are unix seconds (UTC); 0 means "not yet".

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  owner_uid     INTEGER NOT NULL,
  owner_gid     INTEGER NOT NULL,
  owner         TEXT NOT NULL,
  name          TEXT NOT NULL,
  queue         TEXT NOT NULL,
  submit_host   TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL CHECK (state IN ('Q','H','W','R','E','F')),
  end_reason    INTEGER NOT NULL DEFAULT 0,
  priority      INTEGER NOT NULL DEFAULT 0,
  hold_types    TEXT NOT NULL DEFAULT '',
  script        BLOB NOT NULL,
  workdir       TEXT NOT NULL,
  out_path      TEXT NOT NULL,
  err_path      TEXT NOT NULL,
  join_oe       INTEGER NOT NULL DEFAULT 0,
  env           BLOB NOT NULL,           -- "K=V\0K=V\0..."
  groups        TEXT NOT NULL DEFAULT '', -- supplementary gids, space separated
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
  comment       TEXT
);
-- Unfinished jobs are few and read often (scheduling, qstat).
CREATE INDEX jobs_active ON jobs (state, priority DESC, id) WHERE state <> 'F';
CREATE INDEX jobs_owner ON jobs (owner_uid, id);

CREATE TABLE job_usage (
  job_id          INTEGER PRIMARY KEY REFERENCES jobs(id),
  cpu_usec        INTEGER NOT NULL,
  user_usec       INTEGER NOT NULL,
  sys_usec        INTEGER NOT NULL,
  mem_peak        INTEGER NOT NULL,
  mem_peak_src    INTEGER NOT NULL,
  oom_kills       INTEGER NOT NULL,
  nr_throttled    INTEGER NOT NULL,
  throttled_usec  INTEGER NOT NULL,
  pids_peak       INTEGER NOT NULL,
  io_rbytes       INTEGER NOT NULL,
  io_wbytes       INTEGER NOT NULL,
  wall_usec       INTEGER NOT NULL,
  ru_utime_usec   INTEGER NOT NULL,
  ru_stime_usec   INTEGER NOT NULL,
  ru_maxrss_kb    INTEGER NOT NULL,
  cg_backend      TEXT NOT NULL
);

-- Append-only history of each job (tracejob).
CREATE TABLE job_events (
  id      INTEGER PRIMARY KEY,
  job_id  INTEGER NOT NULL,
  time    INTEGER NOT NULL,
  event   TEXT NOT NULL,
  detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_events_job ON job_events (job_id, id);
