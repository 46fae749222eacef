-- boxq schema, version 18: devices as resources. What a job asks of each
-- device class ("gpu=2"), its GPU count for the accounting summaries, and
-- the devices it holds while it runs ("gpu:0,1"); and, where NVIDIA's
-- library was there to ask, its GPUs' sampled utilisation and memory.
ALTER TABLE jobs ADD COLUMN devreq TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN ngpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN devices TEXT NOT NULL DEFAULT '';
ALTER TABLE job_usage ADD COLUMN gpu_samples INTEGER NOT NULL DEFAULT 0; -- 0: not sampled
ALTER TABLE job_usage ADD COLUMN gpu_util INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job_usage ADD COLUMN gpu_mem_peak INTEGER NOT NULL DEFAULT 0;
