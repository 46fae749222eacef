-- boxq schema, version 14: qsig -s suspend|resume. suspended_at is when
-- the running job was frozen (0: it runs); suspended_sec the time it has
-- spent frozen before, added up at each resume and at its end.
ALTER TABLE jobs ADD COLUMN suspended_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN suspended_sec INTEGER NOT NULL DEFAULT 0;
