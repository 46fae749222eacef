#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The complete sandbox: process limits and a fork bomb, a private network,
# signals through the job's init (qsig), live usage while a job runs, I/O
# accounting, and 200 jobs that leave nothing behind.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "sample_interval = 1" "[scheduler]" "pin_cpus = true"
cd "$WORK"
H=$HELPERS

# pids: forks past the limit fail inside the job.
id=$(echo "$H/forkmany 40" | submit -N pids -l pids=16)
wait_job "$id" 30
line=$(cat "$WORK/pids.o$id")
forked=$(echo "$line" | sed -n 's/^forked=\([0-9]*\) .*/\1/p')
eagain=$(echo "$line" | sed -n 's/.*eagain=\([0-9]*\)$/\1/p')
check "pids=16: at most 16 processes ($line)" test "${forked:-99}" -lt 16
check "pids=16: forks past the limit fail with EAGAIN" test "${eagain:-0}" -ge 24
check "qacct pids_peak at the limit" test "$(afield "$id" pids_peak)" -le 16
check "Resource_List.pids shown" test "$(jfield "$id" Resource_List.pids)" = 16

# A fork bomb stays inside its job; the box stays responsive. The script's
# own process forks once, before the bomb exists, then needs no fork
# (exec): with the job's 64 pids taken by the bomb, a fork of its own
# fails at times, which ends a script with "Cannot fork", and the job
# "failed" before its walltime (seen in CI: forking sleep after the bomb,
# and the second fork of `bomb | bomb &` run by the script itself).
id=$(printf 'bomb() { bomb | bomb & }\n(bomb) &\nexec sleep 100\n' | submit -N bomb -l pids=64,walltime=5)
wait_state "$id" R
sleep 1
start=$(date +%s%N)
responsive=yes
timeout 10 sh -c 'for i in $(seq 1 50); do /bin/true; done' || responsive=no
took=$((($(date +%s%N) - start) / 1000000))
check "the box runs 50 commands during a fork bomb (${took} ms)" test "$responsive" = yes
wait_job "$id" 30
r=$(jfield "$id" end_reason)
[ "$r" = timeout ] || echo "# bomb: $r, exit $(jfield "$id" exit_status); stderr: $(head -c 300 "$WORK/bomb.e$id" 2> /dev/null)"
check "the fork bomb's job ends at its walltime" test "$r" = timeout
check "the bomb never had more than 64 processes" test "$(afield "$id" pids_peak)" -le 64
check "  and did fill them ($(afield "$id" pids_peak))" test "$(afield "$id" pids_peak)" -ge 60
check "nothing of the bomb is left" eventually sh -c "[ -z \"\$(ls -d /sys/fs/cgroup/pids/$CG_JOBS/job-$id 2>/dev/null)\" ]"

# net=none: a network namespace with loopback only, and up.
s=$(job_script 'echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " ")"
ip -o link show lo | grep -q "UP" && echo "lo=up"
echo "sysnet=$(ls /sys/class/net | tr "\n" " ")"
ls /sys/fs/cgroup | grep -qE "^(memory|cgroup.controllers)$" && echo "cgroups=kept"')
id=$(submit -N nonet -l net=none "$s")
wait_job "$id"
check "net=none: only the loopback interface" grep -qx "ifaces=lo " "$WORK/nonet.o$id"
check "net=none: loopback is up" grep -qx "lo=up" "$WORK/nonet.o$id"
check "net=none: /sys/class/net shows only loopback ($(grep sysnet= "$WORK/nonet.o$id"))" \
  grep -qx "sysnet=lo " "$WORK/nonet.o$id"
check "net=none: /sys/fs/cgroup is still there" grep -qx "cgroups=kept" "$WORK/nonet.o$id"
host_ifaces=$(tail -n +3 /proc/net/dev | wc -l)
if [ "$host_ifaces" -gt 1 ]; then
  id=$(submit -N withnet "$s")
  wait_job "$id"
  check "without net=none the job sees the host's interfaces" sh -c "! grep -qx 'ifaces=lo ' '$WORK/withnet.o$id'"
fi

# qsig: signals reach every process of the job through its init.
s=$(job_script 'trap "echo main-got-USR1; sleep 0.5; exit 0" USR1
( trap "echo child-got-USR1; exit 0" USR1; setsid sleep 50 & while :; do sleep 0.1; done ) &
while :; do sleep 0.1; done')
id=$(submit -N sig "$s")
wait_state "$id" R
sleep 1
"$BIN/qsig" -s USR1 "$id"
wait_job "$id" 15
check "qsig -s USR1 reaches the job script" grep -qx main-got-USR1 "$WORK/sig.o$id"
check "and its other processes" grep -qx child-got-USR1 "$WORK/sig.o$id"
out=$("$BIN/qsig" -s USR1 "$id" 2>&1)
check "qsig of a finished job is refused" has "$out" "not running"
out=$("$BIN/qsig" -s STOP "$id" 2>&1)
check "qsig of an unsupported signal is refused" has "$out" "cannot be sent to jobs"
id=$(echo 'sleep 100' | submit -N killme)
wait_state "$id" R
"$BIN/qsig" -s KILL "$id"
wait_job "$id" 15
check "qsig -s KILL ends the job" test "$(jfield "$id" Exit_status)" = 265

# Live usage while the job runs (qstat -f resources_used, Time Use).
id=$(echo "$H/cpuburn 1 6" | submit -N live)
wait_state "$id" R
sleep 3.5
cput=$(jfield "$id" resources_used.cput)
state=$(jfield "$id" job_state)
check "resources_used.cput grows while running ($cput, state $state)" sh -c "[ '$state' = R ] && [ '$cput' != 00:00:00 ] && [ -n '$cput' ]"
wait_job "$id" 30
check "the final record replaces the samples" test "$(afield "$id" cpu | tr -d s | cut -d. -f1)" -ge 5

# I/O accounting: direct writes are counted to the job.
id=$(echo 'dd if=/dev/zero of=io.bin bs=1M count=16 oflag=direct 2>/dev/null; rm -f io.bin' | submit -N io)
wait_job "$id"
wbytes=$(afield "$id" io_write | awk '{print $1}')
if [ "$(afield "$id" cgroup_backend)" = v2 ]; then
  check "16 MiB of direct writes accounted (${wbytes:-none})" test "${wbytes:-0}" -ge $((16 << 20))
else
  check "v1 I/O recorded as not counted, never as a false 0" test -z "$wbytes"
fi

# CPU pinning: running jobs get CPUs of their own.
if [ "$(nproc)" -ge 2 ]; then
  s=$(job_script 'sleep 1; grep Cpus_allowed_list /proc/self/status | cut -f2')
  a=$(submit -N pin -l ncpus=1 "$s")
  b=$(submit -N pin -l ncpus=1 "$s")
  wait_job "$a"
  wait_job "$b"
  ca=$(cat "$WORK/pin.o$a")
  cb=$(cat "$WORK/pin.o$b")
  check "a pinned job runs on one CPU ($ca)" has "$ca" '^[0-9]+$'
  check "two running pinned jobs never share a CPU ($ca, $cb)" test "$ca" != "$cb"
  check "qstat -f shows the job's CPUs" test "$(jfield "$a" cpus)" = "$ca"
  c=$(submit -N pin2 -l ncpus=2 "$s")
  wait_job "$c"
  check "ncpus=2 is pinned to two CPUs" has "$(cat "$WORK/pin2.o$c")" '^[0-9]+[-,][0-9]+$'
fi

# 200 short jobs, then nothing of theirs is left anywhere.
mounts_before=$(wc -l < /proc/self/mountinfo)
first=""
for i in $(seq 1 200); do
  id=$(echo 'echo ok > /dev/null' | submit -N many -o /dev/null -e /dev/null)
  [ -n "$first" ] || first=$id
done
wait_job "$id" 120
for j in $(seq "$first" "$id"); do wait_job "$j" 30 > /dev/null; done
done_ok=$("$BIN/qstat" -x | awk '$2 == "many" && $5 == "F"' | wc -l)
check "all 200 jobs finished ($done_ok)" test "$done_ok" -eq 200
completed=$("$BIN/qacct" | awk '$2 == "many" && $4 == "completed"' | wc -l)
check "all 200 completed" test "$completed" -eq 200
sleep 0.5
left=$(ls -d /sys/fs/cgroup/*/"$CG_JOBS"/job-* /sys/fs/cgroup/unified/"$CG_JOBS"/job-* 2>/dev/null | wc -l)
check "no job cgroup left ($left)" test "$left" -eq 0
check "no spool directory left" test -z "$(ls -A "$SPOOL")"
check "no private /tmp left" test -z "$(ls -A "$STATE/tmp" 2>/dev/null)"
check "no shepherd runs a job any more" no_process "boxq-shepherd $SPOOL/"
idle=$(pgrep -f "boxq-shepherd idle $SPOOL" | wc -l)
check "at most one idle shepherd per CPU (at least 2) is kept ($idle)" test "$idle" -le "$(($(nproc) > 2 ? $(nproc) : 2))"
# This test's job inits: children of its shepherds (other boxq instances
# on the machine, such as a parallel test run, have their own).
no_init_of_ours() {
  local p pp
  for p in $(pgrep -x boxq-init); do
    pp=$(ps -o ppid= -p "$p" | tr -d ' ')
    [ -n "$pp" ] && grep -qF "$SPOOL" "/proc/$pp/cmdline" 2> /dev/null && return 1
  done
  return 0
}
check "no job init left" no_init_of_ours
check "no mount left on the host" test "$(wc -l < /proc/self/mountinfo)" -eq "$mounts_before"

finish
