-- boxq schema, version 10: qsub -A (the account a job is charged to) and
-- -P (its project), recorded, shown by qstat, filtered and summed by
-- qacct; "" when not given.
ALTER TABLE jobs ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN project TEXT NOT NULL DEFAULT '';
