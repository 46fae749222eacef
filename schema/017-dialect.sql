-- boxq schema, version 17: the language a job was written in (Grid
-- Engine's jobs get its variables) and its warnings: a signal after a
-- soft run time (qsub -l s_rt), and -notify's signals before a suspend
-- or a kill.
ALTER TABLE jobs ADD COLUMN dialect TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN warn_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN warn_signal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
