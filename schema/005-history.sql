-- boxq schema, version 5: history that stays fast and bounded. Finished
-- jobs are found by end time (qacct --since/--until, retention), and a
-- job whose history was pruned keeps only its accounting row.
ALTER TABLE jobs ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0; -- 1: script, env and events dropped
CREATE INDEX jobs_ended ON jobs (etime) WHERE state = 'F';
