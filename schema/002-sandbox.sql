-- boxq schema, version 2: the complete job sandbox.
-- A process limit, an optional private network, CPU pinning, and more of
-- what the kernel counts.
ALTER TABLE jobs ADD COLUMN pids INTEGER NOT NULL DEFAULT 0;   -- pids.max; 0 = none
ALTER TABLE jobs ADD COLUMN net TEXT NOT NULL DEFAULT '';      -- '' host network, 'none' loopback only
ALTER TABLE jobs ADD COLUMN cpus TEXT NOT NULL DEFAULT '';     -- CPUs the job is pinned to, e.g. '0-1'
ALTER TABLE job_usage ADD COLUMN oom_events INTEGER NOT NULL DEFAULT -1;     -- -1: not counted
ALTER TABLE job_usage ADD COLUMN mem_max_events INTEGER NOT NULL DEFAULT -1; -- times at the limit
ALTER TABLE job_usage ADD COLUMN swap_peak INTEGER NOT NULL DEFAULT -1;
ALTER TABLE job_usage ADD COLUMN final INTEGER NOT NULL DEFAULT 1;           -- 0: a live sample
