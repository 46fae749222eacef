-- boxq schema, version 19: accounting summaries kept as jobs end, so that
-- qacct over a month reads some thousands of rows, not a million jobs.
--
-- acct_job is what one finished job adds to the summaries; every summary
-- and every recount is a sum over it. acct_hour sums it by hour of end
-- time (UTC), owner, queue, account, project and end reason; acct_day
-- sums acct_hour by UTC day. A job's end adds its row in the same
-- transaction (trigger acct_job_ended). Anything else that touches a
-- finished job's figures (qrerun, a result stored twice, retention)
-- marks its hour in acct_dirty, and boxqd recounts the marked hours
-- before it commits (db.c), so the summaries always equal a recount.
CREATE VIEW acct_job AS
  SELECT j.id AS id, j.etime AS etime, j.etime / 3600 AS hour, j.etime / 86400 AS day,
         j.owner AS owner, j.queue AS queue, j.account AS account, j.project AS project,
         j.end_reason AS end_reason, 1 AS jobs, COALESCE(u.oom_kills, 0) AS oom_kills,
         COALESCE(u.cpu_usec, 0) AS cpu_usec, COALESCE(u.wall_usec, 0) AS wall_usec,
         j.ncpus * COALESCE(u.wall_usec, 0) AS cpu_alloc_usec, COALESCE(u.mem_peak, 0) AS mem_peak,
         j.ngpus * COALESCE(u.wall_usec, 0) AS gpu_usec
  FROM jobs j LEFT JOIN job_usage u ON u.job_id = j.id
  WHERE j.state = 'F' AND j.array_spec = '';

CREATE TABLE acct_hour (
  hour           INTEGER NOT NULL,
  owner          TEXT NOT NULL,
  queue          TEXT NOT NULL,
  account        TEXT NOT NULL,
  project        TEXT NOT NULL,
  end_reason     INTEGER NOT NULL,
  jobs           INTEGER NOT NULL,
  oom_kills      INTEGER NOT NULL,
  cpu_usec       INTEGER NOT NULL,
  wall_usec      INTEGER NOT NULL,
  cpu_alloc_usec INTEGER NOT NULL,
  mem_peak       INTEGER NOT NULL,
  gpu_usec       INTEGER NOT NULL,
  PRIMARY KEY (hour, owner, queue, account, project, end_reason)
) WITHOUT ROWID;

CREATE TABLE acct_day (
  day            INTEGER NOT NULL,
  owner          TEXT NOT NULL,
  queue          TEXT NOT NULL,
  account        TEXT NOT NULL,
  project        TEXT NOT NULL,
  end_reason     INTEGER NOT NULL,
  jobs           INTEGER NOT NULL,
  oom_kills      INTEGER NOT NULL,
  cpu_usec       INTEGER NOT NULL,
  wall_usec      INTEGER NOT NULL,
  cpu_alloc_usec INTEGER NOT NULL,
  mem_peak       INTEGER NOT NULL,
  gpu_usec       INTEGER NOT NULL,
  PRIMARY KEY (day, owner, queue, account, project, end_reason)
) WITHOUT ROWID;

-- Hours whose summaries must be recounted before the next commit.
CREATE TABLE acct_dirty (hour INTEGER PRIMARY KEY);

-- A job's end: its row added to its hour and its day. A job's usage is
-- stored before its end (db_job_ended), so the view has it here.
CREATE TRIGGER acct_job_ended AFTER UPDATE OF state ON jobs
WHEN OLD.state <> 'F' AND NEW.state = 'F' AND NEW.array_spec = ''
BEGIN
  INSERT INTO acct_hour
    SELECT hour, owner, queue, account, project, end_reason, jobs, oom_kills, cpu_usec, wall_usec,
           cpu_alloc_usec, mem_peak, gpu_usec FROM acct_job WHERE id = NEW.id
  ON CONFLICT DO UPDATE SET jobs = jobs + excluded.jobs, oom_kills = oom_kills + excluded.oom_kills,
    cpu_usec = cpu_usec + excluded.cpu_usec, wall_usec = wall_usec + excluded.wall_usec,
    cpu_alloc_usec = cpu_alloc_usec + excluded.cpu_alloc_usec,
    mem_peak = MAX(mem_peak, excluded.mem_peak), gpu_usec = gpu_usec + excluded.gpu_usec;
  INSERT INTO acct_day
    SELECT day, owner, queue, account, project, end_reason, jobs, oom_kills, cpu_usec, wall_usec,
           cpu_alloc_usec, mem_peak, gpu_usec FROM acct_job WHERE id = NEW.id
  ON CONFLICT DO UPDATE SET jobs = jobs + excluded.jobs, oom_kills = oom_kills + excluded.oom_kills,
    cpu_usec = cpu_usec + excluded.cpu_usec, wall_usec = wall_usec + excluded.wall_usec,
    cpu_alloc_usec = cpu_alloc_usec + excluded.cpu_alloc_usec,
    mem_peak = MAX(mem_peak, excluded.mem_peak), gpu_usec = gpu_usec + excluded.gpu_usec;
END;

-- A finished job changed (qrerun puts it back in the queue, a field it is
-- summed by changed) or went (retention): its old and new hours.
CREATE TRIGGER acct_job_changed AFTER UPDATE OF state, end_reason, etime, owner, queue, account,
  project, ncpus, ngpus, array_spec ON jobs
WHEN OLD.state = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty VALUES (OLD.etime / 3600), (NEW.etime / 3600);
END;
CREATE TRIGGER acct_job_deleted AFTER DELETE ON jobs
WHEN OLD.state = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty VALUES (OLD.etime / 3600);
END;

-- A job stored as finished (an import, a restore: boxq never does).
CREATE TRIGGER acct_job_inserted AFTER INSERT ON jobs
WHEN NEW.state = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty VALUES (NEW.etime / 3600);
END;

-- A finished job's usage stored or dropped after its end.
CREATE TRIGGER acct_usage_added AFTER INSERT ON job_usage
WHEN (SELECT state FROM jobs WHERE id = NEW.job_id) = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty SELECT etime / 3600 FROM jobs WHERE id = NEW.job_id;
END;
CREATE TRIGGER acct_usage_changed AFTER UPDATE ON job_usage
WHEN (SELECT state FROM jobs WHERE id = NEW.job_id) = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty SELECT etime / 3600 FROM jobs WHERE id = NEW.job_id;
END;
CREATE TRIGGER acct_usage_deleted AFTER DELETE ON job_usage
WHEN (SELECT state FROM jobs WHERE id = OLD.job_id) = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty SELECT etime / 3600 FROM jobs WHERE id = OLD.job_id;
END;

-- The finished jobs already there: every hour they ended in, recounted
-- when boxqd opens the database.
INSERT OR IGNORE INTO acct_dirty SELECT DISTINCT etime / 3600 FROM jobs WHERE state = 'F';
