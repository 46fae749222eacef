#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shepherds kept between jobs: an idle one goes after shepherd_idle
# seconds; with shepherd_idle = 0 every job gets a new one and none stays.
# (Requests naming the right job across kept shepherds: it_restart.)
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "sample_interval = 1" "shepherd_idle = 2"
cd "$WORK"

idle_count() { pgrep -f "boxq-shepherd idle $SPOOL" | wc -l; }
shepherd_of() { sed -n "s/.*job $1: shepherd \([0-9]*\) runs it.*/\1/p" "$T/worker.log"; }

id=$(echo true | submit)
wait_job "$id" 30
check "a job's shepherd is kept once the job is done" test "$(idle_count)" -ge 1
a=$(shepherd_of "$id")
id=$(echo true | submit)
wait_job "$id" 30
check "and serves the next job" test "$(shepherd_of "$id")" = "$a"
gone=no
for _ in $(seq 1 50); do
  [ "$(idle_count)" -eq 0 ] && gone=yes && break
  sleep 0.1
done
check "an idle shepherd goes after shepherd_idle (2 s)" test "$gone" = yes
id=$(echo 'echo again' | submit -N again)
wait_job "$id" 30
check "a job after that gets a new shepherd" test "$(shepherd_of "$id")" != "$a"
check "  and completes" grep -qx again "$WORK/again.o$id"

# A shepherd removes a job's emptied cgroup after noting its result, so
# that the next job need not wait for that. One killed in between: the
# worker removes what it left. (Made by hand beside a finished job, whose
# idle shepherd is then killed.)
id=$(echo true | submit -N left)
wait_job "$id" 30
s=$(shepherd_of "$id")
made=0
for d in /sys/fs/cgroup/*/"$CG_JOBS" /sys/fs/cgroup/"$CG_JOBS"; do
  [ -d "$d" ] && mkdir "$d/job-$id" && made=$((made + 1))
done
check "a leftover cgroup of job $id made in $made hierarchies" test "$made" -ge 1
kill -9 "$s"
check "a shepherd killed after its job's result: the worker removes what the job left" \
  eventually sh -c "! ls -d /sys/fs/cgroup/*/$CG_JOBS/job-$id /sys/fs/cgroup/$CG_JOBS/job-$id 2>/dev/null | grep -q ."
check "  and says so" grep -q "job $id: removing the cgroup its shepherd left" "$T/worker.log"

# The worker killed in the middle of a drain, while it hands jobs to kept
# shepherds: every job either ran once and completed, or never ran and is
# recorded lost (not rerunnable here); none both, none twice.
ids=()
for i in $(seq 1 150); do
  ids+=("$(echo "echo \$PBS_JOBID >> $WORK/ran.log" | submit -h -r n -o /dev/null -e /dev/null)")
done
"$BIN/qrls" "${ids[@]}"
sleep 0.15
kill -9 "$WORKER_PID"
wait "$WORKER_PID" 2> /dev/null
before=$(wc -l < "$WORK/ran.log")
start_worker
for id in "${ids[@]}"; do wait_job "$id" 60 > /dev/null; done
echo "# $before of 150 jobs had run when the worker was killed"
completed=0 lost=0 bad=
for id in "${ids[@]}"; do
  n=$(grep -c "^$id\." "$WORK/ran.log")
  case "$(jfield "$id" end_reason)" in
    completed) completed=$((completed + 1)); [ "$n" -eq 1 ] || bad+="$id:completed,ran$n " ;;
    lost) lost=$((lost + 1)); [ "$n" -eq 0 ] || bad+="$id:lost,ran$n " ;;
    *) bad+="$id:$(jfield "$id" end_reason) " ;;
  esac
done
[ -n "$bad" ] && echo "# $bad"
check "worker killed mid-drain: $completed ran once, $lost never ran (lost), none both" test -z "$bad"
check "  some jobs ended after the restart" grep -q "found its shepherd\|scheduler connected" "$T/worker.log"

# shepherd_idle = 0: a new shepherd for every job, none kept.
stop_daemons
sed -i 's/^shepherd_idle = .*/shepherd_idle = 0/' "$BOXQ_CONFIG"
: > "$T/sched.log"
start_worker
start_sched
ids=()
for i in $(seq 1 6); do ids+=("$(echo true | submit -h)"); done
"$BIN/qrls" "${ids[@]}"
for id in "${ids[@]}"; do wait_job "$id" 30 > /dev/null; done
n=$(for id in "${ids[@]}"; do shepherd_of "$id"; done | sort -u | wc -l)
check "shepherd_idle = 0: six jobs, six shepherds ($n)" test "$n" -eq 6
check "  and none is kept" no_process "boxq-shepherd idle $SPOOL"
done_ok=$(for id in "${ids[@]}"; do jfield "$id" end_reason; done | grep -c completed)
check "  every job completed ($done_ok)" test "$done_ok" -eq 6

finish
