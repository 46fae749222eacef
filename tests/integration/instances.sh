#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two instances on one machine (a test instance beside production, each
# with its own state directory, the same cgroup_parent) run jobs with the
# same ids side by side and never touch each other's: each keeps its jobs
# in a cgroup of its own, which its worker locks. A second worker for the
# same state directory refuses to start and disturbs nothing.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq
cd "$WORK"

# Instance A: two long jobs, ids 1 and 2.
a1=$(echo "$TSLEEP 30" | submit -N a1)
a2=$(echo "$TSLEEP 30" | submit -N a2)
wait_state "$a1" R && wait_state "$a2" R
check "instance A runs jobs $a1 and $a2" test "$a1.$a2" = 1.2

# Instance B: its own state directory, the same cgroup_parent, default
# everything else; its jobs take the same ids.
B=$T/b
mkdir -p "$B"
printf '[boxq]\nstate_dir = %s/state\n[scheduler]\nallow_root_jobs = true\n[worker]\ncgroup_parent = %s\nkill_grace = 1\n' \
  "$B" "$CG_PARENT" > "$B/boxq.ini"
B_SPOOL=$(BOXQ_CONFIG=$B/boxq.ini "$BUILD/scheduler/boxqd" --print-config | sed -n 's/^spool_dir = //p')
B_JOBS=$CG_PARENT/$(BOXQ_CONFIG=$B/boxq.ini "$BUILD/scheduler/boxqd" --print-config | sed -n 's/^cgroup_instance = //p')
check "the two instances have cgroups of their own ($CG_JOBS, $B_JOBS)" test "$CG_JOBS" != "$B_JOBS"
BOXQ_CONFIG=$B/boxq.ini "$BUILD/worker/boxq-worker" >> "$B/worker.log" 2>&1 &
b_worker=$!
BOXQ_CONFIG=$B/boxq.ini "$BUILD/scheduler/boxqd" >> "$B/sched.log" 2>&1 &
b_sched=$!
stop_b() {
  kill "$b_sched" "$b_worker" 2> /dev/null
  wait "$b_sched" "$b_worker" 2> /dev/null
  local s
  s=$(pgrep -f "boxq-shepherd (idle )?$B_SPOOL")
  [ -n "$s" ] && kill -9 $s 2> /dev/null
  rm -rf "$B_SPOOL"
}
trap 'stop_b; stop_boxq' EXIT
qb() { BOXQ_CONFIG=$B/boxq.ini "$@"; }
for _ in $(seq 1 50); do qb "$BIN/qstat" > /dev/null 2>&1 && grep -q "worker ready" "$B/sched.log" && break; sleep 0.1; done
b1=$(echo 'echo b-one' | qb "$BIN/qsub" -N b1 | cut -d. -f1)
b2=$(echo 'echo b-two; sleep 1' | qb "$BIN/qsub" -N b2 | cut -d. -f1)
check "instance B's jobs take the same ids ($b1, $b2)" test "$b1.$b2" = 1.2
for _ in $(seq 1 100); do
  [ "$(qb "$BIN/qstat" -x -f "$b2" | sed -n 's/^    job_state = //p')" = F ] && break
  sleep 0.1
done
check "B's jobs completed" test "$(qb "$BIN/qstat" -x -f "$b1" | sed -n 's/^    end_reason = //p').$(qb "$BIN/qstat" -x -f "$b2" | sed -n 's/^    end_reason = //p')" = completed.completed
check "  in B's own cgroup" has "$(qb "$BIN/qstat" -x -f "$b1" | sed -n 's/^    cgroup = //p')" "$B_JOBS/job-1\$"
sleep 0.5
check "A's jobs are still running" test "$(jfield "$a1" job_state).$(jfield "$a2" job_state)" = R.R
check "  in A's own cgroup" has "$(jfield "$a1" cgroup)" "$CG_JOBS/job-1\$"
check "  with their processes" test -n "$(cat /sys/fs/cgroup/pids/"$CG_JOBS"/job-1/cgroup.procs /sys/fs/cgroup/"$CG_JOBS"/job-1/cgroup.procs 2> /dev/null)"
check "B's worker logged nothing about A's jobs" sh -c "! grep -q 'job 1: removed\|leftover' '$B/worker.log'"

# B restarts its worker while A's jobs run: its recovery stays in its own.
kill "$b_worker"
wait "$b_worker" 2> /dev/null
BOXQ_CONFIG=$B/boxq.ini "$BUILD/worker/boxq-worker" >> "$B/worker.log" 2>&1 &
b_worker=$!
sleep 1
b3=$(echo 'echo b-three' | qb "$BIN/qsub" -N b3 | cut -d. -f1)
for _ in $(seq 1 50); do
  [ "$(qb "$BIN/qstat" -x -f "$b3" | sed -n 's/^    job_state = //p')" = F ] && break
  sleep 0.1
done
check "after B's worker restarts, B's job $b3 completes" test "$(qb "$BIN/qstat" -x -f "$b3" | sed -n 's/^    end_reason = //p')" = completed
check "and A's jobs still run" test "$(jfield "$a1" job_state).$(jfield "$a2" job_state)" = R.R

# A second worker for A's state directory refuses, and A keeps working.
out=$(timeout 10 "$BUILD/worker/boxq-worker" 2>&1)
rc=$?
check "a second worker for the same state directory refuses ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "  saying why ($out)" has "$out" "in use by another boxq worker|another boxq-worker runs"
check "  and A still answers and runs its jobs" test "$(jfield "$a1" job_state)" = R
# A worker of another state directory told to share A's cgroup.
printf '[boxq]\nstate_dir = %s/c\n[worker]\ncgroup_parent = %s\ncgroup_instance = %s\n' \
  "$T" "$CG_PARENT" "${CG_JOBS#"$CG_PARENT"/}" > "$T/c.ini"
out=$(BOXQ_CONFIG=$T/c.ini timeout 10 "$BUILD/worker/boxq-worker" 2>&1)
rc=$?
check "a worker told to share A's cgroup refuses ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "  naming the cgroup ($out)" has "$out" "cgroup .*$CG_JOBS is in use by another boxq worker"
check "  and A's jobs still run" test "$(jfield "$a1" job_state).$(jfield "$a2" job_state)" = R.R
rm -rf "/run/boxq/var-tmp-$(basename "$T")-c" 2> /dev/null

"$BIN/qdel" "$a1" "$a2"
wait_job "$a1" && wait_job "$a2"
check "A's jobs end as cancelled, not failed" \
  test "$(jfield "$a1" end_reason).$(jfield "$a2" end_reason)" = cancelled.cancelled
stop_b
trap stop_boxq EXIT
finish
