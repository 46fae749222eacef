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
run=$(echo 'sleep 3; echo finished' | submit -N across -l ncpus=2)
wait_state "$run" R
queued=$(echo 'echo queued-ran' | submit -N queued)
check "a job waits for room while the box is full" test "$(jfield "$queued" job_state)" = Q
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
wait_job "$queued" 20
check "the queued job then starts and completes" grep -qx queued-ran "$WORK/queued.o$queued"
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

# The worker is down when a job ends: its result waits in the spool, the
# restarted worker reports it, and the job is never run twice.
id=$(echo 'echo ran >> once.log; sleep 2' | submit -N once)
wait_state "$id" R
sleep 0.3
kill -9 "$WORKER_PID"
wait "$WORKER_PID" 2> /dev/null
sleep 3
check "the job ended while the worker was down" test -f "$SPOOL/$id/result"
start_worker
wait_job "$id" 30
check "its result is recorded after the worker restarts" test "$(jfield "$id" end_reason)" = completed
check "it ran exactly once" test "$(wc -l < "$WORK/once.log")" -eq 1
check "run_count is 1" test "$(jfield "$id" run_count)" = 1

# A shepherd killed: the job is ended and recorded as lost.
id=$(echo "$TSLEEP 60" | submit -N lost)
wait_state "$id" R
sleep 0.5
shep=$(pgrep -f "boxq-shepherd $SPOOL/$id\$")
check "found the job's shepherd" test -n "$shep"
kill -9 $shep
wait_job "$id" 30
check "a job whose shepherd died is 'lost'" test "$(jfield "$id" end_reason)" = lost
check "and none of its processes remain" no_process "$TSLEEP 60"

# qsub -r y: a lost run is requeued and runs again.
id=$(echo 'echo run >> rerun.log; sleep 2' | submit -N rerun -r y)
wait_state "$id" R
sleep 0.5
kill -9 $(pgrep -f "boxq-shepherd $SPOOL/$id\$")
for _ in $(seq 1 100); do [ "$(jfield "$id" run_count)" = 2 ] && break; sleep 0.1; done
wait_job "$id" 30
check "a rerunnable job whose run was lost ran again" test "$(jfield "$id" end_reason)" = completed
check "twice in all" test "$(wc -l < "$WORK/rerun.log")" -eq 2
check "Rerunable = True" test "$(jfield "$id" Rerunable)" = True
check "run_count = 2" test "$(jfield "$id" run_count)" = 2

# Shepherds serve one job after another, so a request names the job it is
# for (a number in the signal's value): one meant for the job a shepherd
# ran before must not reach its next job.
id=$(echo 'sleep 30' | submit -N reuse)
wait_state "$id" R
sleep 0.3
shep=$(pgrep -f "boxq-shepherd $SPOOL/$id\$")
check "found the job's shepherd" test -n "$shep"
"$BUILD/tests/sigq" "$shep" 1 $((12345 << 8))
sleep 1
check "a cancel naming another of its jobs is ignored" test "$(jfield "$id" job_state)" = R
"$BIN/qdel" "$id"
wait_job "$id" 30
check "qdel still ends the job" test "$(jfield "$id" end_reason)" = cancelled
idle=$(pgrep -f "boxq-shepherd idle $SPOOL" | sort | tr '\n' ' ')
check "its shepherd stays for the next job" has " $idle" " $shep "
id=$(echo 'echo next' | submit -N reuse2)
wait_job "$id" 30
used=$(sed -n "s/.*job $id: shepherd \([0-9]*\) runs it.*/\1/p" "$T/worker.log")
check "the next job ran on a kept shepherd ($used)" has " $idle" " $used "
check "  and completed" grep -qx next "$WORK/reuse2.o$id"

# Idle shepherds killed: the worker forgets them and forks anew.
kill -9 $(pgrep -f "boxq-shepherd idle $SPOOL") 2> /dev/null
sleep 0.3
id=$(echo 'echo after' | submit -N afterkill)
wait_job "$id" 30
check "a job after its idle shepherds were killed runs" grep -qx after "$WORK/afterkill.o$id"
check "  with no error" test "$(jfield "$id" end_reason)" = completed

# A request can reach an idle shepherd before the job it names (the worker
# sent it right after handing the job over): it still applies to that job.
keep=$(pgrep -f "boxq-shepherd idle $SPOOL" | head -1)
others=$(pgrep -f "boxq-shepherd idle $SPOOL" | grep -vx "$keep" | tr '\n' ' ')
[ -n "$others" ] && kill -9 $others
sleep 0.3
last=$(sed -n "s/.*shepherd $keep runs it.*(its job \([0-9]*\)).*/\1/p" "$T/worker.log" | tail -1)
check "the worker logs a kept shepherd's job count ($last)" test -n "$last"
"$BUILD/tests/sigq" "$keep" 1 $(((${last:-0} + 1) << 8))
id=$(echo 'sleep 20' | submit -N early)
wait_job "$id" 15
check "a cancel that came before its job was handed over ends it" test "$(jfield "$id" end_reason)" = cancelled
check "  on that shepherd" grep -q "job $id: shepherd $keep runs it" "$T/worker.log"
"$BIN/qdel" "$id" 2> /dev/null
wait_job "$id" 30

# Idle shepherds leave with their worker (their channel closes).
check "there is an idle shepherd" test -n "$(pgrep -f "boxq-shepherd idle $SPOOL")"
kill -9 "$WORKER_PID"
wait "$WORKER_PID" 2> /dev/null
check "idle shepherds leave with their worker" no_process "boxq-shepherd idle $SPOOL"
start_worker
wait_ready

# The box "reboots": every boxq process dies, the job cgroups vanish. Running
# jobs are recorded as lost, or requeued when rerunnable.
lost=$(echo "$TSLEEP 60" | submit -N rebootlost)
again=$(echo 'echo boot >> boot.log; sleep 1' | submit -N rebootagain -r y)
wait_state "$lost" R
wait_state "$again" R
sleep 0.5
kill -9 "$SCHED_PID" "$WORKER_PID" $(pgrep -f "boxq-shepherd $SPOOL/") 2> /dev/null
wait 2> /dev/null
check "every job process died with its shepherd" no_process "$TSLEEP 60"
for d in /sys/fs/cgroup/*/"$CG_JOBS"/job-* /sys/fs/cgroup/unified/"$CG_JOBS"/job-*; do
  [ -d "$d" ] && rmdir "$d"
done
: > "$T/sched.log"
start_worker
start_sched
wait_job "$lost" 30
check "after the reboot the running job is lost" test "$(jfield "$lost" end_reason)" = lost
check "with the lost exit status" test "$(jfield "$lost" Exit_status)" = -3
wait_job "$again" 30
check "the rerunnable one ran again to completion" test "$(jfield "$again" end_reason)" = completed
check "twice in all" test "$(wc -l < "$WORK/boot.log")" -eq 2

finish
