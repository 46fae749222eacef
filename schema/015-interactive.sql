-- boxq schema, version 15: qsub -I. An interactive job runs on a
-- terminal its qsub attaches to instead of writing output files.
ALTER TABLE jobs ADD COLUMN interactive INTEGER NOT NULL DEFAULT 0;
