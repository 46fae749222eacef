-- boxq schema, version 7: long arrays cost the scheduler nothing per task.
-- An array's next waiting tasks in index order, and how many wait, are a
-- seek instead of a walk past the tasks that already ran (which made a
-- long array's dispatches quadratic); the pass's covering index leads
-- with array_id, so the plain queued jobs are found without stepping over
-- an array's waiting tasks, and arrays (array_spec > '') by a range.
CREATE INDEX jobs_array_next ON jobs (array_id, state, array_index) WHERE array_id <> 0;
DROP INDEX jobs_array_state;
DROP INDEX jobs_sched;
CREATE INDEX jobs_sched ON jobs (state, array_spec, array_id, id, owner_uid, queue, ncpus, mem,
                                 walltime, priority, qtime, array_limit, stime, mtime)
  WHERE state <> 'F';
