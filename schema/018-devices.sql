-- boxq schema, version 18: devices as resources. What a job asks of each
-- device class ("gpu=2"), its GPU count for the accounting summaries, and
-- the devices it holds while it runs ("gpu:0,1").
ALTER TABLE jobs ADD COLUMN devreq TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN ngpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN devices TEXT NOT NULL DEFAULT '';
