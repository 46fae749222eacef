#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/history.sh [BUILD_DIR]: inspection at scale. Fills a database with
# 1,000,000 finished jobs (a month of them, with accounting) and 10,000
# queued ones, starts boxqd on it (no worker: nothing runs), and times
# qstat, qacct summaries, qsub and boxq-web's pages against it, beside the
# same on an empty database. Prints one table; asserts nothing.
# Environment: FINISHED (default 1000000), QUEUED (10000), REPEAT (5).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
FINISHED=${FINISHED:-1000000}
QUEUED=${QUEUED:-10000}
REPEAT=${REPEAT:-5}
command -v sqlite3 > /dev/null || { echo "history.sh: needs the sqlite3 CLI" >&2; exit 1; }
T=$(mktemp -d /var/tmp/boxq-bench.XXXXXX)
trap '[ -n "$SCHED_PID" ] && kill "$SCHED_PID" 2> /dev/null; [ -n "$WEB_PID" ] && kill "$WEB_PID" 2> /dev/null; wait 2> /dev/null; rm -rf "$T"' EXIT
SCHED_PID=
WEB_PID=
export BOXQ_CONFIG=$T/boxq.ini
unset BOXQ_STATE_DIR

config() { # state dir
  printf '[boxq]\nstate_dir = %s\nserver_name = bench\n[scheduler]\nallow_root_jobs = true\n' "$1" > "$BOXQ_CONFIG"
  printf 'keep_history = 0\nncpus = 64\nmem = 256gb\n' >> "$BOXQ_CONFIG"
}
up() {
  "$build/scheduler/boxqd" > "$T/sched.log" 2>&1 &
  SCHED_PID=$!
  for _ in $(seq 1 300); do "$build/cli/qstat" -B > /dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$T/sched.log"; exit 1
}
down() { kill "$SCHED_PID"; wait "$SCHED_PID" 2> /dev/null || true; SCHED_PID=; }

# median_ms CMD...: the median wall time of REPEAT runs, in ms.
median_ms() {
  local i t0 t1 times=()
  for i in $(seq 1 "$REPEAT"); do
    t0=$(date +%s%N)
    "$@" > /dev/null
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

# page_ms PATH: the median time to fetch a boxq-web page, in ms (a page
# that is not 200 OK fails the run).
page_ms() {
  local i out times=()
  for i in $(seq 1 "$REPEAT"); do
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT$1")
    [ "${out%% *}" = 200 ] || { echo "history.sh: $1 answered ${out%% *}" >&2; exit 1; }
    times+=("${out#* }")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'
}

row() { printf '  %-44s %12s %12s\n' "$1" "$2" "$3"; }

measure() { # state dir, a finished job's id (empty: one submitted here) -> variables
  config "$1"
  up
  local one=${2:-$(echo true | "$build/cli/qsub" -h)}
  QSTAT_X=$(median_ms "$build/cli/qstat" -x -f "$one")
  QSTAT=$(median_ms "$build/cli/qstat")
  QSTAT_U=$(median_ms "$build/cli/qstat" -u user7)
  QACCT_U=$(median_ms "$build/cli/qacct" --by user --since -30d)
  QACCT_D=$(median_ms "$build/cli/qacct" --by day --since -30d)
  QACCT_W=$(median_ms "$build/cli/qacct" --since -1h --until now)
  QSUB=$(median_ms sh -c "echo true | '$build/cli/qsub' -h")
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$build/web/boxq-web" --listen "127.0.0.1:$PORT" > "$T/web.log" 2>&1 &
  WEB_PID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
  WEB_BOX=$(page_ms /)
  WEB_JOB=$(page_ms "/job/$one")
  WEB_HIST=$(page_ms /history)
  WEB_METRICS=$(page_ms /metrics)
  kill "$WEB_PID"; wait "$WEB_PID" 2> /dev/null || true; WEB_PID=
  RSS=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SCHED_PID/status")
  down
}

# An empty database, as the baseline.
mkdir -p "$T/empty"
config "$T/empty"; up; down
measure "$T/empty"
E=("$QSTAT" "$QSTAT_U" "$QACCT_U" "$QACCT_D" "$QACCT_W" "$QSUB" "$RSS" "$QSTAT_X" "$WEB_BOX" "$WEB_JOB"
   "$WEB_HIST" "$WEB_METRICS")

# The big one: made with SQL in one transaction (boxqd created the schema).
mkdir -p "$T/big"
config "$T/big"; up; down
t0=$(date +%s)
now=$(date +%s)
sqlite3 "$T/big/boxq.db" << SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $FINISHED)
INSERT INTO jobs (id, owner_uid, owner_gid, owner, name, queue, state, end_reason, script, workdir,
                  out_path, err_path, env, ncpus, mem, walltime, ctime, qtime, stime, etime, mtime,
                  exit_status, exec_host, run_count)
SELECT i, 1000 + i % 50, 1000, 'user' || (i % 50), 'job' || i, CASE WHEN i % 5 = 0 THEN 'fast' ELSE 'batch' END,
       'F', CASE WHEN i % 97 = 0 THEN 4 WHEN i % 13 = 0 THEN 2 ELSE 1 END, 'true', '/w', '', '', x'',
       1 + i % 4, 1073741824, 3600, $now - 2592000 + i * 2592 / ($FINISHED / 1000) - 100,
       $now - 2592000 + i * 2592 / ($FINISHED / 1000) - 100, $now - 2592000 + i * 2592 / ($FINISHED / 1000) - 60,
       $now - 2592000 + i * 2592 / ($FINISHED / 1000), $now - 2592000 + i * 2592 / ($FINISHED / 1000),
       0, 'bench', 1 FROM n;
INSERT INTO job_usage (job_id, cpu_usec, user_usec, sys_usec, mem_peak, mem_peak_src, oom_kills,
                       nr_throttled, throttled_usec, pids_peak, io_rbytes, io_wbytes, wall_usec,
                       ru_utime_usec, ru_stime_usec, ru_maxrss_kb, cg_backend)
SELECT id, 50000000, 45000000, 5000000, 104857600, 1, end_reason = 4, 0, 0, 3, -1, -1, 60000000,
       45000000, 5000000, 102400, 'v1' FROM jobs;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $QUEUED)
INSERT INTO jobs (owner_uid, owner_gid, owner, name, queue, state, script, workdir, out_path,
                  err_path, env, ncpus, mem, walltime, ctime, qtime, mtime)
SELECT 1000 + i % 50, 1000, 'user' || (i % 50), 'queued' || i, 'batch', 'H', 'true', '/w', '', '', x'',
       1, 1073741824, 3600, $now, $now, $now FROM n;
-- A full usage series (256 points) for the job whose page is timed.
INSERT INTO job_series (job_id, points) VALUES ($((FINISHED / 2)), zeroblob(256 * 32));
COMMIT;
SQL
fill=$(($(date +%s) - t0))
measure "$T/big" $((FINISHED / 2))
B=("$QSTAT" "$QSTAT_U" "$QACCT_U" "$QACCT_D" "$QACCT_W" "$QSUB" "$RSS" "$QSTAT_X" "$WEB_BOX" "$WEB_JOB"
   "$WEB_HIST" "$WEB_METRICS")
size=$(du -m "$T/big/boxq.db" | cut -f1)

echo "boxq inspection at scale: $FINISHED finished + $QUEUED queued jobs (database ${size} MiB, filled in ${fill}s)"
echo "median of $REPEAT runs, whole command (process start to exit):"
row "" "empty db" "big db"
row "qstat -x -f of one job ms" "${E[7]}" "${B[7]}"
row "qstat (every queued job, $QUEUED lines) ms" "${E[0]}" "${B[0]}"
row "qstat -u user7 ms" "${E[1]}" "${B[1]}"
row "qacct --by user --since -30d (a month) ms" "${E[2]}" "${B[2]}"
row "qacct --by day --since -30d ms" "${E[3]}" "${B[3]}"
row "qacct --since -1h (recent jobs) ms" "${E[4]}" "${B[4]}"
row "qsub -h (durable) ms" "${E[5]}" "${B[5]}"
row "boxqd resident memory MiB" "${E[6]}" "${B[6]}"
echo "boxq-web pages, median of $REPEAT fetches (curl, whole request):"
row "/ (the box now: $QUEUED waiting, 200 shown) ms" "${E[8]}" "${B[8]}"
row "/job/ID (a finished job, 256-point series) ms" "${E[9]}" "${B[9]}"
row "/history (30 days of summaries) ms" "${E[10]}" "${B[10]}"
row "/metrics ms" "${E[11]}" "${B[11]}"
