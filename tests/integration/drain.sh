#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The worker's loop never waits for a job to die. A job whose processes
# cannot die at once (here: frozen by the v1 freezer, as a process in
# uninterruptible sleep would be) loses its shepherd; while the worker
# empties its cgroup, other jobs start and end on time; once the processes
# can die, the job is recorded as lost and its cgroup removed.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
[ -w /sys/fs/cgroup/freezer/cgroup.procs ] ||
  skip "needs the v1 freezer to hold a job's processes unkillable (this machine has none)"
start_boxq
FZ=/sys/fs/cgroup/freezer/boxq-it-$$-frozen
thaw() {
  [ -d "$FZ" ] || return 0
  echo THAWED > "$FZ/freezer.state" 2> /dev/null
  for _ in $(seq 1 50); do rmdir "$FZ" 2> /dev/null && return 0; sleep 0.1; done
}
trap 'thaw; stop_boxq' EXIT
cd "$WORK"

id=$(echo "$TSLEEP 300" | submit -N stuck)
wait_state "$id" R
sleep 0.3
procs=$(cat /sys/fs/cgroup/pids/"$CG_JOBS"/job-"$id"/cgroup.procs)
check "the job's processes are in its cgroup ($(echo $procs))" test -n "$procs"
mkdir "$FZ"
for p in $procs; do echo "$p" > "$FZ/cgroup.procs"; done
echo FROZEN > "$FZ/freezer.state"
for _ in $(seq 1 50); do [ "$(cat "$FZ/freezer.state")" = FROZEN ] && break; sleep 0.05; done
check "they are frozen" test "$(cat "$FZ/freezer.state")" = FROZEN
shep=$(pgrep -f "boxq-shepherd $SPOOL/$id\$")
check "found its shepherd" test -n "$shep"
frozen_at=$EPOCHREALTIME
kill -9 $shep
sleep 0.2

# The worker is emptying the stuck job's cgroup: other jobs go on.
t0=$EPOCHREALTIME
q=$(echo 'echo quick' | submit -N quick)
wait_job "$q" 10
t1=$EPOCHREALTIME
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
check "a job submitted meanwhile ran at once (${took}s)" awk -v t="$took" 'BEGIN { exit !(t < 1.5) }'
check "  and completed" grep -qx quick "$WORK/quick.o$q"
check "the stuck job is not recorded before its processes are gone" test "$(jfield "$id" job_state)" = R

# Hold them for 3 s in all (the worker gives a cgroup 5), then let them die.
sleep "$(awk -v a="$frozen_at" -v b="$EPOCHREALTIME" 'BEGIN { d = 3 - (b - a); print (d > 0 ? d : 0) }')"
thaw
wait_job "$id" 10
check "once they could die the job is recorded as lost" test "$(jfield "$id" end_reason)" = lost
check "its cgroup is removed" eventually test ! -d /sys/fs/cgroup/pids/"$CG_JOBS"/job-"$id"
check "nothing of it is left" no_process "$TSLEEP 300"
check "the worker did not give up on it" sh -c "! grep -q 'processes remain' '$T/worker.log'"
finish
