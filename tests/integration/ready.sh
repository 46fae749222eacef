#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ready set ([scheduler] lookahead): queued jobs handed to the worker
# ahead of time, each started by the worker the moment a running job's
# place that it fits frees. On a one-CPU server: a job handed ahead is
# queued in the database as in qstat, qstat -B, qstat -Q and qselect, and
# says why it waits; qhold, qalter, qsig, qrls and qdel act on it as on
# any queued job (boxqd takes it back first); one ranked below a new job
# goes back and the new one runs first; a drain of short jobs runs each
# exactly once, one at a time, most of them started by the worker.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "[scheduler]" "ncpus = 1" "lookahead = 2" "default_mem = 64mb"
cd "$WORK"
events() { "$BIN/tracejob" "$1"; }
# ev_has ID PATTERN: the job's event log has a line matching PATTERN.
ev_has() { has "$(events "$1")" "$2"; }
handed() { has "$(jfield "$1" comment)" "handed to the worker"; }
not_handed() { ! handed "$1"; }
db_state() { sqlite3 "$STATE/boxq.db" "select state from jobs where id = $1"; }

# ---- handed ahead while a long job runs; every verb acts on it ----
long=$(echo 'sleep 3' | submit -N long)
wait_state "$long" R 10
s1=$(echo 'echo s1 ran' | submit -N s1)
s2=$(echo 'echo s2 ran' | submit -N s2)
check "the next jobs are handed to the worker" eventually handed "$s2"
check "  the first too" handed "$s1"
check "  shown queued" test "$(jfield "$s1" job_state)" = Q
check "  and queued in the database" test "$(db_state "$s1")" = Q
counted() { has "$1" "queued = $2" && has "$1" "running = $3"; }
check "the server counts them queued" counted "$("$BIN/qstat" -B -f)" 2 1
check "  and so does its queue" \
  test "$("$BIN/qstat" -Q | awk '$1 == "batch" { print $6, $7 }')" = "2 1"
check "  and qselect -s Q lists them" \
  test "$("$BIN/qselect" -s Q | sed 's/\..*//' | sort | tr '\n' ' ')" = "$(printf '%s\n' "$s1" "$s2" | sort | tr '\n' ' ')"
check "qhold holds one" "$BIN/qhold" "$s1"
check "  held" test "$(jfield "$s1" job_state)" = H
check "  no longer handed to the worker" not_handed "$s1"
check "qalter alters one" "$BIN/qalter" -p 7 "$s2"
check "  altered" test "$(jfield "$s2" Priority)" = 7
out=$("$BIN/qsig" -s USR1 "$s2" 2>&1)
check "qsig refuses it as any queued job" has "$out" "not running"
check "qrls releases the held one" "$BIN/qrls" "$s1"
check "  queued again" test "$(jfield "$s1" job_state)" = Q
eventually handed "$s2"
check "qdel deletes one" "$BIN/qdel" "$s2"
wait_job "$s2" 10 > /dev/null
check "  cancelled" test "$(jfield "$s2" end_reason)" = cancelled
check "  never having run" test ! -e "s2.o$s2"
wait_job "$long" 20 > /dev/null
wait_job "$s1" 20 > /dev/null
check "the other runs once the long job has ended" test "$(cat "s1.o$s1")" = "s1 ran"
check "  not before" test "$(date -d "$(jfield "$s1" stime)" +%s)" -ge \
  "$(date -d "$(jfield "$long" obittime)" +%s)"

# ---- a job ranked higher takes the place of handed ones ----
long=$(echo 'sleep 2' | submit -N long2)
wait_state "$long" R 10
low1=$(echo 'echo low1 >> order' | submit -N low1 -p -100)
low2=$(echo 'echo low2 >> order' | submit -N low2 -p -100)
eventually handed "$low1"
top=$(echo 'echo top >> order' | submit -N top -p 500)
check "a higher-priority job takes back the handed ones" eventually not_handed "$low1"
for j in "$top" "$low1" "$low2"; do wait_job "$j" 20 > /dev/null; done
check "  and runs before them" test "$(head -1 order)" = top
check "  which run after it" test "$(sed -n '2,3p' order | sort | tr '\n' ' ')" = "low1 low2 "

# ---- a drain of short jobs: one at a time, each once ----
mkdir -p running
body='touch "$PBS_O_WORKDIR/running/$PBS_JOBID"
ls "$PBS_O_WORKDIR/running" | wc -l >> "$PBS_O_WORKDIR/seen"
rm "$PBS_O_WORKDIR/running/$PBS_JOBID"'
ids=()
for i in $(seq 1 30); do ids+=("$(submit -h -N d <<< "$body")"); done
"$BIN/qrls" "${ids[@]}"
for i in "${ids[@]}"; do wait_job "$i" 60 > /dev/null; done
followed=0
for i in "${ids[@]}"; do
  has "$(events "$i")" "started by the worker in the place of job" && followed=$((followed + 1))
done
check "short jobs drained through the ready set ($followed of 30)" test "$followed" -gt 0
check "  every one completed once" test "$(grep -c . seen)" = 30
check "  never two at once on one CPU (saw $(sort -n seen | tail -1))" test "$(sort -n seen | tail -1)" = 1
runs=$(sqlite3 "$STATE/boxq.db" "select count(*) from jobs where name = 'd' and run_count = 1 and state = 'F' and end_reason = 1")
check "  each recorded run once and completed" test "$runs" = 30

# ---- what boxqd asks of the worker (a stand-in that starts nothing) ----
kill "$WORKER_PID"
wait "$WORKER_PID" 2> /dev/null
WORKER_PID=
"$HELPERS/rawclient" "$STATE/worker.sock" worker 3 > asked &
fake=$!
alone=$(echo 'sleep 60' | submit -N alone)
for _ in $(seq 1 100); do [ -s asked ] && break; sleep 0.1; done # boxqd reconnects each 0.5 s
h=()
for i in 1 2 3; do h+=("$(echo true | submit -h -N "h$i")"); done
"$BIN/qrls" "${h[@]}"
wait "$fake"
check "a job with a free CPU is sent to start" test "$(sed -n 1p asked)" = "$alone 0"
check "the next two (lookahead 2 for one place) go to the ready set" \
  test "$(sed -n '2,3p' asked | tr '\n' ' ')" = "${h[0]} 1 ${h[1]} 1 "

# ---- what the worker does with what it is sent (a stand-in boxqd) ----
# It starts a ready job in the place of the first that ends, and says so
# before that job's result; one asked back goes back.
kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
SCHED_PID=
start_worker
"$HELPERS/rawclient" "$STATE/worker.sock" scheduler "$WORK" 900001 > told
check "the job runs, one asked back goes back" \
  test "$(sed -n '1,/^--$/p' told | tr '\n' ' ')" = "started 900001 returned 900003 -- "
check "  when it ends, the ready one starts in its place, reported first" \
  test "$(sed '1,/^--$/d' told | tr '\n' ' ')" = "started 900002 instead 900001 ended 900001 ended 900002 "
finish
