-- boxq schema, version 13: -l cput, the CPU seconds a job may use in all
-- (its cgroup's usage, checked by its shepherd; 0: no limit), and qsub's
-- -m (mail points: a b e, or n; '' is PBS's default, a) and -M (whom).
ALTER TABLE jobs ADD COLUMN cput INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN mail_points TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN mail_users TEXT NOT NULL DEFAULT '';
