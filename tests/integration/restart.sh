#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A committed job survives a SIGKILL of boxqd; a job running while boxqd
# is down keeps running and its end is recorded after the restart; a job
# survives a restart of the worker.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq
cd "$WORK"

held=$(echo 'echo ran-after-restart' | submit -h -N held -l mem=32mb)
queued_name=$(jfield "$held" Job_Name)
run=$(echo 'sleep 3; echo finished' | submit -N across)
wait_state "$run" R
kill -9 "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
check "boxqd is gone" sh -c "! kill -0 $SCHED_PID 2>/dev/null"
sleep 4 # the running job ends while boxqd is down
: > "$T/sched.log"
start_sched
check "held job still there after SIGKILL" test "$(jfield "$held" job_state)" = H
check "with its name" test "$(jfield "$held" Job_Name)" = "$queued_name"
check "and its resources" test "$(jfield "$held" Resource_List.mem)" = 32mb
wait_job "$run" 20
check "job that ended while boxqd was down is recorded" test "$(jfield "$run" end_reason)" = completed
check "with its accounting" test -n "$(afield "$run" cpu)"
check "its output is complete" grep -qx finished "$WORK/across.o$run"
"$BIN/qrls" "$held"
wait_job "$held"
check "the held job runs after release" grep -qx ran-after-restart "$WORK/held.o$held"

# The worker restarts under a running job: the shepherd keeps it.
id=$(echo 'sleep 3; echo survived' | submit -N wrestart)
wait_state "$id" R
sleep 0.5
kill -9 "$WORKER_PID"
wait "$WORKER_PID" 2> /dev/null
start_worker
wait_job "$id" 30
check "job survives a worker restart" test "$(jfield "$id" end_reason)" = completed
check "and finishes its work" grep -qx survived "$WORK/wrestart.o$id"

# A shepherd killed: the job is ended and recorded as lost.
id=$(echo 'sleep 60' | submit -N lost)
wait_state "$id" R
sleep 0.5
shep=$(pgrep -f "boxq-shepherd $STATE/jobs/$id\$")
check "found the job's shepherd" test -n "$shep"
kill -9 $shep
wait_job "$id" 30
check "a job whose shepherd died is 'lost'" test "$(jfield "$id" end_reason)" = lost
check "and none of its processes remain" no_process 'sleep 60$'

finish
