-- A fixed set of jobs for the golden output tests (tests/integration/
-- formats.sh): every state, an array, a dependency, names and paths with
-- quotes, backslashes and non-ASCII letters. Times are UTC, 2026-11-01/02.
INSERT INTO jobs (id, owner_uid, owner_gid, owner, name, queue, submit_host, state, end_reason,
                  priority, hold_types, script, workdir, out_path, err_path, join_oe, env, ncpus,
                  mem, walltime, ctime, qtime, stime, etime, mtime, exit_status, exec_host, cgroup,
                  comment, pids, run_count, array_spec, array_limit, array_id, array_index, depend)
VALUES
 (1, 1000, 1000, 'alice', 'prepare', 'batch', 'box', 'F', 1, 0, '', 'echo ok', '/home/alice', '',
  '', 0, X'504154483D2F62696E00', 1, 67108864, 600, 1793520000, 1793520000, 1793520010,
  1793520070, 1793520070, 0, 'golden', 'v2:boxq/job-1', NULL, 4096, 1, '', 0, 0, 0, ''),
 (2, 1001, 1001, 'bob', 'hog', 'fast', 'box', 'F', 4, 0, '', 'hog', '/home/bob', '', '', 1,
  X'', 2, 134217728, 0, 1793520100, 1793520100, 1793520110, 1793520115, 1793520115, 137,
  'golden', 'v2:boxq/job-2', 'out of memory: the kernel killed 1 process(es) at mem=134217728 bytes',
  4096, 1, '', 0, 0, 0, ''),
 (3, 1000, 1000, 'alice', 'q"uote\back-naïve', 'batch', 'box', 'Q', 0, 5, '', 'true',
  '/home/alice/dir "x"', '/home/alice/out "1".txt', '', 0,
  X'4D53473D6C696E65310A6C696E6532004E414D453D6E61C3AF766500', 1, 1073741824, 3600, 1793611800,
  1793611800, 0, 0, 1793611800, NULL, NULL, NULL, NULL, 4096, 0, '', 0, 0, 0, ''),
 (4, 1001, 1001, 'bob', 'report', 'batch', 'box', 'H', 0, 0, 's', 'true', '/home/bob', '', '', 0,
  X'', 1, 1073741824, 0, 1793611800, 1793611800, 0, 0, 1793611800, NULL, NULL, NULL, NULL, 4096,
  0, '', 0, 0, 0, 'afterok:3'),
 (5, 1000, 1000, 'alice', 'sweep', 'batch', 'box', 'B', 0, 0, '', 'echo $PBS_ARRAY_INDEX',
  '/home/alice', '', '', 0, X'', 1, 268435456, 300, 1793611800, 1793611800, 1793611810, 0,
  1793611810, NULL, NULL, NULL, NULL, 4096, 0, '1-2', 1, 0, 0, ''),
 (6, 1000, 1000, 'alice', 'sweep', 'batch', 'box', 'F', 1, 0, '', X'', '/home/alice', '', '', 0,
  X'', 1, 268435456, 300, 1793611800, 1793611800, 1793611810, 1793611840, 1793611840, 0,
  'golden', 'v2:boxq/job-6', NULL, 4096, 1, '', 1, 5, 1, ''),
 (7, 1000, 1000, 'alice', 'sweep', 'batch', 'box', 'Q', 0, 0, '', X'', '/home/alice', '', '', 0,
  X'', 1, 268435456, 300, 1793611800, 1793611800, 0, 0, 1793611800, NULL, NULL, NULL, NULL, 4096,
  0, '', 1, 5, 2, ''),
 (8, 1001, 1001, 'bob', 'later', 'fast', 'box', 'W', 0, 0, '', 'true', '/home/bob', '', '', 0, X'',
  1, 1073741824, 0, 1793611800, 1793611800, 0, 0, 1793611800, NULL, NULL, NULL, NULL, 4096, 0, '',
  0, 0, 0, '');
UPDATE jobs SET exec_time = 4102444800 WHERE id = 8; -- 2100-01-01: stays deferred
INSERT INTO job_deps (job_id, kind, dep_id) VALUES (4, 1, 3);
INSERT INTO job_usage (job_id, cpu_usec, user_usec, sys_usec, mem_peak, mem_peak_src, oom_kills,
                       nr_throttled, throttled_usec, pids_peak, io_rbytes, io_wbytes, wall_usec,
                       ru_utime_usec, ru_stime_usec, ru_maxrss_kb, cg_backend, oom_events,
                       mem_max_events, swap_peak, final)
VALUES (1, 45000000, 40000000, 5000000, 52428800, 1, 0, 3, 120000, 4, 1048576, 2097152, 60000000,
        40000000, 5000000, 51200, 'v2', 0, 0, 0, 1),
       (2, 5000000, 1000000, 4000000, 134217728, 1, 1, 0, 0, 2, -1, -1, 5000000, 1000000,
        4000000, 131072, 'v2', 1, 12, 0, 1),
       (6, 1500000, 1000000, 500000, 1048576, 1, 0, 0, 0, 1, 0, 4096, 30000000, 1000000, 500000,
        1024, 'v2', 0, 0, 0, 1);
INSERT INTO job_events (job_id, time, event, detail) VALUES
 (1, 1793520000, 'submitted', ''),
 (1, 1793520010, 'started', 'in cgroup v2:boxq/job-1 with ncpus=1 mem=64mb'),
 (1, 1793520070, 'ended', 'completed, exit status 0');
