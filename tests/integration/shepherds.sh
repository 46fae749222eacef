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
