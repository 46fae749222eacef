-- boxq schema, version 16: schedules (boxq cron, qsub --cron). A user's
-- crontab is kept as written (crontabs.text) and as its entries, each
-- with the job it submits when due (template: an encoded job record,
-- built and checked at installation) and when that is next. cron_runs
-- records what each due time did: the job submitted, or why none was.
CREATE TABLE crontabs (
  uid INTEGER PRIMARY KEY,
  text TEXT NOT NULL,
  mtime INTEGER NOT NULL
);
CREATE TABLE cron_entries (
  id INTEGER PRIMARY KEY,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  line INTEGER NOT NULL,
  spec TEXT NOT NULL,
  command TEXT NOT NULL,
  template BLOB NOT NULL,
  next_run INTEGER NOT NULL,
  last_run INTEGER NOT NULL DEFAULT 0,
  last_job INTEGER NOT NULL DEFAULT 0,
  last_outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cron_entries_next ON cron_entries (next_run);
CREATE INDEX cron_entries_uid ON cron_entries (uid);
CREATE TABLE cron_runs (
  id INTEGER PRIMARY KEY,
  uid INTEGER NOT NULL,
  spec TEXT NOT NULL,
  command TEXT NOT NULL,
  due INTEGER NOT NULL,
  at INTEGER NOT NULL,
  job_id INTEGER NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX cron_runs_uid ON cron_runs (uid, due);
