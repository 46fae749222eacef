-- boxq schema, version 21: what the web view (boxq-web) plots.
--
-- job_series: a job's CPU and memory over its run, the usage samples
-- boxqd receives kept in at most 256 evenly spread points (common/series.h),
-- one blob per job, kept with its accounting (dropped when the job is
-- expired or run again). job_usage.mem_now: the memory in use at the
-- sample (memory.current), beside the peak.
--
-- The accounting summaries gain how long jobs waited in the queue:
-- waited (jobs that started), wait_sec (their waits summed: start time
-- less queue time) and wait_max_sec. The view, the end trigger and the
-- summaries themselves are rebuilt; every hour is recounted at open.
ALTER TABLE job_usage ADD COLUMN mem_now INTEGER NOT NULL DEFAULT -1;

CREATE TABLE job_series (
  job_id INTEGER PRIMARY KEY REFERENCES jobs(id),
  points BLOB NOT NULL
);

DROP TRIGGER acct_job_ended;
DROP VIEW acct_job;
CREATE VIEW acct_job AS
  SELECT j.id AS id, j.etime AS etime, j.etime / 3600 AS hour, j.etime / 86400 AS day,
         j.owner AS owner, j.queue AS queue, j.account AS account, j.project AS project,
         j.end_reason AS end_reason, 1 AS jobs, COALESCE(u.oom_kills, 0) AS oom_kills,
         COALESCE(u.cpu_usec, 0) AS cpu_usec, COALESCE(u.wall_usec, 0) AS wall_usec,
         j.ncpus * COALESCE(u.wall_usec, 0) AS cpu_alloc_usec, COALESCE(u.mem_peak, 0) AS mem_peak,
         j.ngpus * COALESCE(u.wall_usec, 0) AS gpu_usec,
         j.stime > 0 AS waited, CASE WHEN j.stime > 0 THEN MAX(j.stime - j.qtime, 0) ELSE 0 END
           AS wait_sec,
         CASE WHEN j.stime > 0 THEN MAX(j.stime - j.qtime, 0) ELSE 0 END AS wait_max_sec
  FROM jobs j LEFT JOIN job_usage u ON u.job_id = j.id
  WHERE j.state = 'F' AND j.array_spec = '';

ALTER TABLE acct_hour ADD COLUMN waited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acct_hour ADD COLUMN wait_sec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acct_hour ADD COLUMN wait_max_sec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acct_day ADD COLUMN waited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acct_day ADD COLUMN wait_sec INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acct_day ADD COLUMN wait_max_sec INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER acct_job_ended AFTER UPDATE OF state ON jobs
WHEN OLD.state <> 'F' AND NEW.state = 'F' AND NEW.array_spec = ''
BEGIN
  INSERT INTO acct_hour
    SELECT hour, owner, queue, account, project, end_reason, jobs, oom_kills, cpu_usec, wall_usec,
           cpu_alloc_usec, mem_peak, gpu_usec, waited, wait_sec, wait_max_sec
    FROM acct_job WHERE id = NEW.id
  ON CONFLICT DO UPDATE SET jobs = jobs + excluded.jobs, oom_kills = oom_kills + excluded.oom_kills,
    cpu_usec = cpu_usec + excluded.cpu_usec, wall_usec = wall_usec + excluded.wall_usec,
    cpu_alloc_usec = cpu_alloc_usec + excluded.cpu_alloc_usec,
    mem_peak = MAX(mem_peak, excluded.mem_peak), gpu_usec = gpu_usec + excluded.gpu_usec,
    waited = waited + excluded.waited, wait_sec = wait_sec + excluded.wait_sec,
    wait_max_sec = MAX(wait_max_sec, excluded.wait_max_sec);
  INSERT INTO acct_day
    SELECT day, owner, queue, account, project, end_reason, jobs, oom_kills, cpu_usec, wall_usec,
           cpu_alloc_usec, mem_peak, gpu_usec, waited, wait_sec, wait_max_sec
    FROM acct_job WHERE id = NEW.id
  ON CONFLICT DO UPDATE SET jobs = jobs + excluded.jobs, oom_kills = oom_kills + excluded.oom_kills,
    cpu_usec = cpu_usec + excluded.cpu_usec, wall_usec = wall_usec + excluded.wall_usec,
    cpu_alloc_usec = cpu_alloc_usec + excluded.cpu_alloc_usec,
    mem_peak = MAX(mem_peak, excluded.mem_peak), gpu_usec = gpu_usec + excluded.gpu_usec,
    waited = waited + excluded.waited, wait_sec = wait_sec + excluded.wait_sec,
    wait_max_sec = MAX(wait_max_sec, excluded.wait_max_sec);
END;

-- A wait is start time less queue time: a change of either is recounted.
CREATE TRIGGER acct_job_waits_changed AFTER UPDATE OF stime, qtime ON jobs
WHEN OLD.state = 'F'
BEGIN
  INSERT OR IGNORE INTO acct_dirty VALUES (OLD.etime / 3600);
END;

INSERT OR IGNORE INTO acct_dirty SELECT DISTINCT etime / 3600 FROM jobs WHERE state = 'F';
