-- boxq schema, version 3: rerunnable jobs (qsub -r y) and how often a job
-- was started (PBS's run_count).
ALTER TABLE jobs ADD COLUMN rerunnable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN run_count INTEGER NOT NULL DEFAULT 0;
