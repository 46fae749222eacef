#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Limits enforced by the kernel, each shown with a workload that would
# break it: memory (OOM kill), CPU quota, walltime, no stray processes,
# and accounting that agrees with the kernel's own rusage.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq
cd "$WORK"
H=$HELPERS

# A job allocating 4x its memory limit is OOM-killed and recorded as such.
id=$(echo "$H/memhog 256" | submit -N oom -l mem=64mb)
oom_id=$id
wait_job "$id" 60
check "memory hog ends out-of-memory" test "$(jfield "$id" end_reason)" = out-of-memory
check "qacct says out-of-memory" test "$(afield "$id" end_reason)" = out-of-memory
check "qacct counts the OOM kill" test "$(afield "$id" oom_kills)" -ge 1
check "tracejob shows the OOM kill" has "$("$BIN/tracejob" "$id")" "oom +out of memory: the kernel killed"
check "exit status is not success" test "$(jfield "$id" Exit_status)" != 0
peak=$(afield "$id" mem_peak | awk '{print $1}')
check "peak memory at the limit, not above ($peak)" test "$peak" -le $((64 << 20))
check "peak memory close to the limit ($peak)" test "$peak" -ge $((48 << 20))
check "hog never printed success" sh -c "! grep -q touched '$WORK/oom.o$id'"

# /dev/shm is the job's own tmpfs, and what it holds is the job's memory.
id=$(echo 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=256 2>&1 | tail -1' | submit -N shm -l mem=64mb)
wait_job "$id" 60
check "filling /dev/shm counts against the job's memory" test "$(jfield "$id" end_reason)" = out-of-memory
check "and never touched the host's /dev/shm" test ! -e /dev/shm/fill

# No swap for jobs: memory+swap is held to the memory limit.
id=$(printf 'sleep 2
' | submit -N noswap -l mem=96mb)
wait_state "$id" R
sleep 0.5
if [ -e "/sys/fs/cgroup/memory/$CG_JOBS/job-$id/memory.memsw.limit_in_bytes" ]; then
  check "v1: memsw limit equals the memory limit" \
    test "$(cat "/sys/fs/cgroup/memory/$CG_JOBS/job-$id/memory.memsw.limit_in_bytes")" = $((96 << 20))
elif [ -e "/sys/fs/cgroup/$CG_JOBS/job-$id/memory.swap.max" ]; then
  check "v2: memory.swap.max is 0" test "$(cat "/sys/fs/cgroup/$CG_JOBS/job-$id/memory.swap.max")" = 0
else
  echo "# no swap accounting in this kernel: nothing to limit"
fi
wait_job "$id"

# The same hog within its limit completes: the limit, not the hog, failed it.
id=$(echo "$H/memhog 32" | submit -N fits -l mem=128mb)
wait_job "$id" 60
check "job within its memory completes" test "$(jfield "$id" end_reason)" = completed
peak=$(afield "$id" mem_peak | awk '{print $1}')
check "peak memory seen by the kernel ($peak >= 32 MiB)" test "$peak" -ge $((32 << 20))

# ncpus=1 on this box: two spinning threads get one CPU's worth of time.
id=$(echo "$H/cpuburn 2 4" | submit -N burn1 -l ncpus=1)
wait_job "$id" 60
cpu=$(afield "$id" cpu | tr -d s)
wall=$(afield "$id" ru_wallclock | tr -d s)
ratio=$(awk -v c="$cpu" -v w="$wall" 'BEGIN { printf "%.2f", c / w }')
echo "# ncpus=1: cpu ${cpu}s over ${wall}s wall = $ratio CPUs"
check "ncpus=1 holds 2 threads to about 1 CPU ($ratio)" awk -v r="$ratio" 'BEGIN { exit !(r > 0.7 && r < 1.15) }'
check "throttling recorded ($(afield "$id" throttled_periods) periods)" test "$(afield "$id" throttled_periods)" -gt 0

# The launch starts a job's processes on the shepherd's CPU; the job runs
# on every CPU the worker may use, like the worker itself.
id=$(echo 'grep Cpus_allowed_list /proc/self/status' | submit -N cpus)
wait_job "$id" 30
check "a job may run on every CPU the worker may" \
  test "$(cat "$WORK/cpus.o$id")" = "$(grep Cpus_allowed_list "/proc/$WORKER_PID/status")"

if [ "$(nproc)" -ge 2 ]; then
  id=$(echo "$H/cpuburn 2 3" | submit -N burn2 -l ncpus=2)
  wait_job "$id" 60
  cpu=$(afield "$id" cpu | tr -d s)
  wall=$(afield "$id" ru_wallclock | tr -d s)
  ratio=$(awk -v c="$cpu" -v w="$wall" 'BEGIN { printf "%.2f", c / w }')
  echo "# ncpus=2: $ratio CPUs"
  check "ncpus=2 lets the same burner use more than 1.4 CPUs ($ratio)" awk -v r="$ratio" 'BEGIN { exit !(r > 1.4) }'
fi

# Accounting agrees with the kernel's rusage of the same job.
id=$(echo "$H/cpuburn 1 2" | submit -N rusage -l ncpus=1)
wait_job "$id" 60
cg=$(afield "$id" cpu | tr -d s)
ru_u=$(afield "$id" rusage_utime | tr -d s)
ru_s=$(afield "$id" rusage_stime | tr -d s)
echo "# cgroup cpu ${cg}s, rusage ${ru_u}+${ru_s}s"
check "cgroup CPU time within 2% of rusage" awk -v c="$cg" -v u="$ru_u" -v s="$ru_s" \
  'BEGIN { r = u + s; d = c - r; if (d < 0) d = -d; exit !(r > 1.5 && d / r < 0.02) }'

cu=$(afield "$id" cpu_user | tr -d s)
cs=$(afield "$id" cpu_sys | tr -d s)
check "user + system CPU add up to the total ($cu + $cs = $cg)" awk -v c="$cg" -v u="$cu" -v s="$cs" \
  'BEGIN { d = c - u - s; if (d < 0) d = -d; exit !(d < 0.002) }'

# A known allocation: the peak the kernel reports is within 5% of it.
id=$(echo "$H/memhog 200" | submit -N known -l mem=512mb)
wait_job "$id" 60
peak=$(afield "$id" mem_peak | awk '{print $1}')
check "peak of a 200 MiB allocation within 5% ($peak)" \
  awk -v p="$peak" 'BEGIN { m = 200 * 1048576; exit !(p >= m && p <= m * 1.05) }'
# wait4's largest resident set is the job's own: the hog's 200 MiB and
# its program; for a trivial job at most a shell's own, or nothing when
# that may be the launcher's (the kernel's figure was the shepherd's
# resident size: 5-7 MB for 'true', tens of MB under ASan).
rss=$(afield "$id" rusage_maxrss | awk '{print $1}')
check "rusage_maxrss of the 200 MiB hog is its own ($rss kb)" \
  awk -v r="$rss" 'BEGIN { m = 200 * 1024; exit !(r >= m && r <= m * 1.05) }'
id=$(echo true | submit -N tiny)
wait_job "$id"
rss=$(afield "$id" rusage_maxrss | awk '{print $1}')
check "a trivial job claims no more than a shell's resident set ('$rss' kb)" \
  test "${rss:-0}" -lt 4096
check "  while its peak memory is still the cgroup's ($(afield "$id" mem_peak))" \
  test -n "$(afield "$id" mem_peak)"
if [ "$(afield "$oom_id" cgroup_backend)" = v2 ]; then
  check "memory limit hits counted on an OOM job" test "$(afield "$oom_id" mem_limit_hits)" -ge 1
else
  check "v1: limit hits not claimed" test -z "$(afield "$oom_id" mem_limit_hits)"
fi

# Walltime: SIGTERM, grace, SIGKILL; recorded as a timeout.
start=$(date +%s)
id=$(printf 'trap "echo got TERM" TERM\nwhile :; do sleep 1; done\n' | submit -N wall -l walltime=2)
wait_job "$id" 30
took=$(($(date +%s) - start))
check "walltime exceeded is 'timeout'" test "$(jfield "$id" end_reason)" = timeout
check "tracejob shows the walltime kill" has "$("$BIN/tracejob" "$id")" "walltime +walltime 00:00:0[0-9] exceeded"
check "SIGTERM reached the job first" grep -q "got TERM" "$WORK/wall.o$id"
check "killed after the grace period (${took}s)" test "$took" -le 8
check "exit status says killed by SIGKILL" test "$(jfield "$id" Exit_status)" = 265

# Nothing escapes: a job that daemonizes leaves no process behind.
s=$(job_script "setsid sh -c '$TSLEEP 71.1' > /dev/null 2>&1 < /dev/null &
( $TSLEEP 71.2 & ) 
nohup $TSLEEP 71.3 > /dev/null 2>&1 &
echo spawned")
id=$(submit -N escape "$s")
wait_job "$id"
sleep 0.3
check "job itself completed" test "$(jfield "$id" end_reason)" = completed
check "no daemonized process outlives the job" no_process "$TSLEEP"

# The job's cgroups are gone afterwards.
left=$(ls -d /sys/fs/cgroup/*/"$CG_JOBS"/job-* /sys/fs/cgroup/unified/"$CG_JOBS"/job-* 2>/dev/null | wc -l)
check "no job cgroup left behind ($left)" test "$left" -eq 0
check "no per-job /tmp left behind" sh -c "[ -z \"\$(ls -A '$STATE/tmp' 2>/dev/null)\" ]"

finish
