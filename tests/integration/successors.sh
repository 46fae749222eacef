#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Successors ([scheduler] lookahead): jobs handed to the worker ahead of
# time, each to start the moment a given running job of the same user
# ends. On a one-CPU server: a held successor shows as waiting and says
# for what, is never started beside its predecessor, can be deleted
# before it starts, goes back to the queue when its predecessor runs long,
# and is taken back when a job ranked higher arrives. A drain of short
# jobs through successors runs each exactly once, one at a time.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "[scheduler]" "ncpus = 1" "lookahead = 2" "default_mem = 64mb"
cd "$WORK"
events() { "$BIN/tracejob" "$1"; }
# ev_has ID PATTERN: the job's event log has a line matching PATTERN.
ev_has() { has "$(events "$1")" "$2"; }
ev_lacks() { ! ev_has "$@"; }

# ---- held behind a long job; deleted while held; given back ----
long=$(echo 'sleep 3' | submit -N long)
wait_state "$long" R 10
s1=$(echo 'echo s1 ran' | submit -N s1)
s2=$(echo 'echo s2 ran' | submit -N s2)
check "the next job is handed over to follow the running one" \
  eventually ev_has "$s1" "dispatched.*to start when job $long ends"
check "  and shows as waiting" test "$(jfield "$s1" job_state)" = Q
check "  saying what for" has "$(jfield "$s1" comment)" "next to start when job $long ends"
check "the one after it follows it" eventually ev_has "$s2" "to start when job $s1 ends"
counted() { has "$1" "queued = $2" && has "$1" "running = $3"; }
check "the server counts held ones queued, not running" counted "$("$BIN/qstat" -B -f)" 2 1
check "  and so does its queue" \
  test "$("$BIN/qstat" -Q | awk '$1 == "batch" { print $6, $7 }')" = "2 1"
check "  and qselect -s Q lists them" \
  test "$("$BIN/qselect" -s Q | sed 's/\..*//' | sort | tr '\n' ' ')" = "$(printf '%s\n' "$s1" "$s2" | sort | tr '\n' ' ')"
out=$("$BIN/qhold" "$s1" 2>&1)
check "it cannot be held meanwhile (non-zero exit)" test $? -ne 0
check "  saying it is about to start" has "$out" "starts when job $long ends"
out=$("$BIN/qsig" -s USR1 "$s1" 2>&1)
check "nor signalled" has "$out" "starts when job $long ends"
"$BIN/qdel" "$s1"
wait_job "$s1" 10
check "a held successor deleted ends cancelled" test "$(jfield "$s1" end_reason)" = cancelled
check "  never having run" test ! -e "s1.o$s1"
check "  and says so" has "$(jfield "$s1" comment)" "deleted before it started"
# The worker holds one for a second of its predecessor's run at most.
check "one held while the job before it runs long goes back to the queue" \
  eventually ev_has "$s2" "returned"
check "  shown queued again" test "$(jfield "$s2" job_state)" = Q
wait_job "$long" 20
wait_job "$s2" 20
check "it runs once the long job has ended" test "$(cat "s2.o$s2")" = "s2 ran"
check "  not before" test "$(date -d "$(jfield "$s2" stime)" +%s)" -ge \
  "$(date -d "$(jfield "$long" obittime)" +%s)"

# ---- none is planned behind a job already known to run long ----
long=$(echo 'sleep 4' | submit -N long3)
wait_state "$long" R 10
sleep 2.2
late=$(echo true | submit -N late)
sleep 1
check "a job submitted after the running one has run past the wait is not held behind it" \
  ev_lacks "$late" "to start when job"
wait_job "$late" 20 > /dev/null

# ---- a job ranked higher takes the place of held ones ----
long=$(echo 'sleep 2' | submit -N long2)
wait_state "$long" R 10
low1=$(echo 'echo low1 >> order' | submit -N low1 -p -100)
low2=$(echo 'echo low2 >> order' | submit -N low2 -p -100)
eventually ev_has "$low1" "to start when job $long ends"
top=$(echo 'echo top >> order' | submit -N top -p 500)
check "a higher-priority job takes back the held ones" eventually ev_has "$low1" "returned"
for j in "$top" "$low1" "$low2"; do wait_job "$j" 20 > /dev/null; done
check "  and runs before them" test "$(head -1 order)" = top

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
  has "$(events "$i")" "to start when job" && followed=$((followed + 1))
done
check "short jobs drained through successors ($followed of 30)" test "$followed" -gt 0
check "  every one completed once" test "$(grep -c . seen)" = 30
check "  never two at once on one CPU (saw $(sort -n seen | tail -1))" test "$(sort -n seen | tail -1)" = 1

# ---- what boxqd asks of the worker (a stand-in that starts nothing) ----
# While more jobs wait than a pass places, it wants each start reported at
# once (T_PROMPT), so that it can plan successors before a short job ends.
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
check "a job started with nothing else waiting: its start may wait for company" \
  test "$(sed -n 1p asked)" = "$alone 0 0"
check "two of three planned to follow it: their starts are wanted at once" \
  test "$(sed -n '2,3p' asked | tr '\n' ' ')" = "${h[0]} $alone 1 ${h[1]} ${h[0]} 1 "

# ---- what the worker does with what it is sent (a stand-in boxqd) ----
# One place takes one successor: a second one sent for the same job (boxqd
# planned it before hearing of a trade) goes back, so that boxqd's chains
# stay the worker's.
kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
SCHED_PID=
start_worker
"$HELPERS/rawclient" "$STATE/worker.sock" scheduler "$WORK" 900001 > told
check "the job runs, its first successor waits, a second one for the same place goes back" \
  test "$(sed -n '1,/^--$/p' told | tr '\n' ' ')" = "started 900001 returned 900003 -- "
check "  and both end when cancelled" \
  test "$(sed '1,/^--$/d' told | sort | tr '\n' ' ')" = "ended 900001 ended 900002 "
finish
