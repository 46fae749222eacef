#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh [BUILD_DIR]: boxq's speed, one table. Every figure is
# measured in this run beside its baseline, and given as a ratio too,
# because shared machines are noisy:
#   floor      N trivial jobs with boxq's isolation and no scheduler (bench/floor)
#   boxq held  N `true` jobs submitted held, then released at once: drain time
#   boxq open  N `true` jobs submitted one after another while they run
#              (and the same loop alone, running `qsub --help`)
#   boxq array one array of N `true` tasks, released at once
#   qsub       latency, process start to id printed (job durably stored)
#   array      a 100,000-task array in one qsub
#   pass       one scheduling pass over 100,000 queued jobs (bench/sched_pass)
#   history    qstat/qacct/qsub against 1,000,000 finished jobs (bench/history.sh)
#   peers      task-spooler (tsp) and nq, the same workload, when installed
# Every job of the boxq workloads is checked to have run exactly once and
# been accounted; a failure there exits non-zero. Speed is only reported.
# Environment: N (2000), QSUB_N (1000), ARRAY_N (100000), IDLE_S (60: seconds
# the idle rows count the daemons' wakeups over), SMALL=1 for a
# quick correctness run (what the test suite does), OUTPUTS=disk to write
# the jobs' output files on the file system of /var/tmp instead of a tmpfs.
#
# Output files go to a tmpfs by default, for every workload alike: on ext4,
# creating files within minutes of deleting many (the last run's) is slower
# by an amount that fades with time (ext4's recently_deleted check, without
# a journal), which would favour whichever workload runs last. The database
# stays on disk: its syncs are part of the cost.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
build=$(cd "$build" && pwd)
. "$top/bench/lib.sh"
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (jobs get cgroups)" >&2; exit 1; }
if [ "${SMALL:-0}" = 1 ]; then
  N=${N:-40} QSUB_N=${QSUB_N:-20} ARRAY_N=${ARRAY_N:-1000} PASS_N=2000 HIST_N=20000
  IDLE_S=${IDLE_S:-5}
else
  N=${N:-2000} QSUB_N=${QSUB_N:-1000} ARRAY_N=${ARRAY_N:-100000} PASS_N=100000 HIST_N=1000000
  IDLE_S=${IDLE_S:-60}
fi
CPUS=$(nproc)
T=$(mktemp -d /var/tmp/boxq-bench.XXXXXX)
chmod 755 "$T"
CG_PARENT=boxq-bench-$$
SCHED_PID= WORKER_PID= SPOOL=
cleanup() {
  set +e
  [ -n "$SCHED_PID" ] && kill "$SCHED_PID" 2> /dev/null
  [ -n "$WORKER_PID" ] && kill "$WORKER_PID" 2> /dev/null
  [ -n "${TS_SOCKET:-}" ] && tsp -K 2> /dev/null
  wait 2> /dev/null
  # The worker's parent cgroups (its jobs removed their own).
  remove_cgroups "$CG_PARENT"
  cd /
  mountpoint -q "$OUT" && umount "$OUT"
  # A run stopped midway leaves results nobody acknowledged in the spool.
  [ -n "$SPOOL" ] && rm -rf "$SPOOL"
  rm -rf "$T"
}
trap cleanup EXIT
export BOXQ_CONFIG=$T/boxq.ini
unset BOXQ_STATE_DIR
BIN=$build/cli

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }
per_job_ms() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.2f", s * 1000 / n }'; }
# CPU time the whole machine spent busy (all CPUs, any process), in ms;
# steal (another guest's) is not ours.
# Read before a workload's clock starts and after it stops: the reading's
# own processes stay out of the wall time.
HZ=$(getconf CLK_TCK)
busy_ms() { awk -v hz="$HZ" '/^cpu / { printf "%d", ($2 + $3 + $4 + $7 + $8) * 1000 / hz }' /proc/stat; }
busy_per_job() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.2f ms", (b - a) / n }'; }

stop_boxq() {
  kill "$SCHED_PID" "$WORKER_PID" 2> /dev/null
  wait "$SCHED_PID" "$WORKER_PID" 2> /dev/null || true
  SCHED_PID= WORKER_PID=
}
# Until no job is left queued, held, running or exiting (with an array's id:
# until none of its tasks is). Each look costs a qstat process, which the
# floor does not pay: look rarely while many jobs are left (0.5 ms per job
# left, faster than any drain here, so the wait cannot overshoot the end),
# often near the end.
wait_drained() { # [array id]
  local info line left n ms s
  while :; do
    left=0
    if [ -n "${1:-}" ]; then
      info=$("$BIN/qstat" -x -f "$1")
      if [[ $info =~ array_state_count\ =\ Queued:([0-9]+)\ Running:([0-9]+)\ Exiting:([0-9]+) ]]; then
        left=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3]))
      fi
    else
      info=$("$BIN/qstat" -B -f)
      while IFS= read -r line; do
        if [[ $line =~ ^\ \ \ \ (queued|held|waiting|running|exiting|begun)\ =\ ([0-9]+)$ ]]; then
          n=${BASH_REMATCH[2]}
          left=$((left + n))
        fi
      done <<< "$info"
    fi
    [ "$left" = 0 ] && break
    ms=$((left / 2))
    ((ms > 1000)) && ms=1000
    ((ms < 10)) && ms=10
    printf -v s '%d.%03d' $((ms / 1000)) $((ms % 1000))
    sleep "$s"
  done
  # The array job itself ends with its last task.
  [ -z "${1:-}" ] || wait_drained
}
# Every job ran exactly once, completed, and was accounted.
check_exactly_once() { # expected
  local db=$T/state/boxq.db
  local done starts usage
  done=$(sqlite3 "$db" "select count(*) from jobs where array_spec = '' and state = 'F' and end_reason = 1 and run_count = 1")
  starts=$(sqlite3 "$db" "select count(*) from job_events where event = 'started'")
  usage=$(sqlite3 "$db" "select count(*) from job_usage where final = 1")
  if [ "$done" != "$1" ] || [ "$starts" != "$1" ] || [ "$usage" != "$1" ]; then
    echo "run.sh: expected $1 jobs run exactly once: completed $done, starts $starts, accounted $usage" >&2
    exit 1
  fi
}

# Where the jobs write their outputs (see above).
OUT=$T/out
mkdir -p "$OUT"
if [ "${OUTPUTS:-memory}" != disk ] && mount -t tmpfs -o size=2g,mode=755 boxq-bench-out "$OUT"; then
  OUT_WHERE="a tmpfs"
else
  OUT_WHERE="$(df --output=fstype "$OUT" | tail -1)"
fi
echo "boxq benchmark on $(uname -r), $CPUS CPUs; N = $N trivial jobs, outputs on $OUT_WHERE" >&2

# ---- floor ----
# Run before the boxq workloads and again after them: the machine drifts
# over a minute, and the mean of the two brackets what boxq met.
run_floor() { # into directory $1; prints the wall time
  mkdir -p "$1"
  "$build/bench/floor" -n "$N" -j "$CPUS" -p "$CG_PARENT-floor" "$1" | awk '{ print $2 }'
}
fb0=$(busy_ms)
f_wall1=$(run_floor "$OUT/floor1")
fb1=$(busy_ms)

# ---- boxq: held, then released ----
start_boxq 'max_array_size = 1000000'
mkdir -p "$OUT/work"
cd "$OUT/work"
ids=()
for i in $(seq 1 "$N"); do
  ids+=("$("$BIN/qsub" -h -N t <<< true)")
done
b0=$(busy_ms) t0=$(now)
"$BIN/qrls" "${ids[@]}"
wait_drained
t1=$(now) b1=$(busy_ms)
h_wall=$(elapsed "$t0" "$t1")
h_busy=$(busy_per_job "$N" "$b0" "$b1")
check_exactly_once "$N"
h_ms=$(per_job_ms "$N" "$h_wall")
# Started by the worker on its own, from its ready set: the rest waited for a pass.
h_followed=$(sqlite3 "$T/state/boxq.db" "select count(*) from jobs j where (select detail from job_events e where e.job_id = j.id and e.event = 'dispatched' order by e.id desc limit 1) like 'started by the worker%'")
stop_boxq

# ---- boxq: an array of N tasks, released at once ----
start_boxq 'max_array_size = 1000000'
cd "$OUT/work"
arr_id=$("$BIN/qsub" -h -N a -J "1-$N" <<< true)
b0=$(busy_ms) t0=$(now)
"$BIN/qrls" "${arr_id%%.*}"
wait_drained "${arr_id%%.*}"
t1=$(now) b1=$(busy_ms)
a_wall=$(elapsed "$t0" "$t1")
a_busy=$(busy_per_job "$N" "$b0" "$b1")
check_exactly_once "$N"
a_ms=$(per_job_ms "$N" "$a_wall")
stop_boxq

# ---- boxq: open submission ----
start_boxq 'max_array_size = 1000000'
cd "$OUT/work"
b0=$(busy_ms) t0=$(now)
for i in $(seq 1 "$N"); do
  "$BIN/qsub" -N t <<< true > /dev/null
done
wait_drained
t1=$(now) b1=$(busy_ms)
o_wall=$(elapsed "$t0" "$t1")
o_busy=$(busy_per_job "$N" "$b0" "$b1")
check_exactly_once "$N"
o_ms=$(per_job_ms "$N" "$o_wall")
stop_boxq
# What the open row's loop costs before boxq does anything: the shell's
# fork and qsub's process start, each job (qsub --help stores nothing).
b0=$(busy_ms) t0=$(now)
for i in $(seq 1 "$N"); do
  "$BIN/qsub" --help <<< true > /dev/null
done
t1=$(now) b1=$(busy_ms)
l_wall=$(elapsed "$t0" "$t1")
l_busy=$(busy_per_job "$N" "$b0" "$b1")
fb2=$(busy_ms)
f_wall2=$(run_floor "$OUT/floor2")
fb3=$(busy_ms)
f_wall=$(awk -v a="$f_wall1" -v b="$f_wall2" 'BEGIN { printf "%.3f", (a + b) / 2 }')
f_rate=$(rate "$N" "$f_wall")
f_ms=$(per_job_ms "$N" "$f_wall")
f_busy=$(busy_per_job $((2 * N)) 0 $((fb1 - fb0 + fb3 - fb2)))
start_boxq 'max_array_size = 1000000'
cd "$OUT/work"

# ---- qsub latency (held jobs: nothing runs meanwhile) ----
lat=()
for i in $(seq 1 "$QSUB_N"); do
  a=$EPOCHREALTIME
  "$BIN/qsub" -h -N lat <<< true > /dev/null
  b=$EPOCHREALTIME
  lat+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
done
read -r q50 q99 < <(printf '%s\n' "${lat[@]}" | sort -n | awk '{ v[NR] = $1 } END { i50 = int(NR * 0.5 + 0.5); i99 = int(NR * 0.99 + 0.5); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; print v[i50], v[i99] }')
# The same process start with nothing to do, as the baseline.
base=()
for i in $(seq 1 "$QSUB_N"); do
  a=$EPOCHREALTIME
  "$BIN/qsub" --help > /dev/null
  b=$EPOCHREALTIME
  base+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
done
b50=$(printf '%s\n' "${base[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR * 0.5 + 0.5)] }')

# ---- a big array in one call ----
a=$EPOCHREALTIME
arr=$("$BIN/qsub" -h -J "1-$ARRAY_N" <<< true)
b=$EPOCHREALTIME
arr_s=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }')
tasks=$(sqlite3 "$T/state/boxq.db" "select count(*) from jobs where array_id = ${arr%%\[*}")
[ "$tasks" = "$ARRAY_N" ] || { echo "run.sh: the array has $tasks tasks, not $ARRAY_N" >&2; exit 1; }
a=$EPOCHREALTIME
"$BIN/qdel" "${arr%%.*}" > /dev/null
b=$EPOCHREALTIME
del_s=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }')
stop_boxq

# ---- idle: how often the daemons wake with nothing to do ----
# Each time a thread is scheduled in counts (the third field of every
# thread's schedstat): the wakeups of boxqd, the worker and its idle
# shepherds, over IDLE_S seconds of an empty queue, after a settling
# second. The baseline is the goal: once a second.
wakeups() { # PID...: times their threads were scheduled in so far
  local p n=0 f
  for p in "$@"; do
    for f in /proc/"$p"/task/*/schedstat; do
      [ -r "$f" ] && n=$((n + $(awk '{ print $3 }' "$f" 2> /dev/null || echo 0)))
    done
  done
  echo "$n"
}
start_boxq 'max_array_size = 1000000'
sleep 1
shepherds() { pgrep -f "boxq-shepherd (idle )?$SPOOL" | tr '\n' ' '; }
w_s0=$(wakeups "$SCHED_PID")
w_w0=$(wakeups "$WORKER_PID" $(shepherds))
sleep "$IDLE_S"
w_s1=$(wakeups "$SCHED_PID")
w_w1=$(wakeups "$WORKER_PID" $(shepherds))
idle_sched=$((w_s1 - w_s0))
idle_worker=$((w_w1 - w_w0))
stop_boxq

# ---- one scheduling pass, and history at scale ----
pass=$("$build/bench/sched_pass" -n "$PASS_N" -k 5 "$T" | awk '/whole pass/ { print $NF }')
hist=$(FINISHED=$HIST_N QUEUED=10000 REPEAT=3 bash "$top/bench/history.sh" "$build" 2>/dev/null)
hval() { echo "$hist" | awk -v k="$1" 'index($0, k) { print $(NF - 1), $NF; exit }'; }

# ---- peers ----
peer_rows=()
if command -v tsp > /dev/null; then
  export TS_SOCKET=$T/tsp.sock TS_MAXFINISHED=$((N + 10)) TS_SAVELIST_DIR=$T TMPDIR=$OUT
  tsp -S "$CPUS" > /dev/null
  b0=$(busy_ms) t0=$(now)
  for i in $(seq 1 "$N"); do tsp true > /dev/null; done
  tsp -w > /dev/null 2>&1 || true
  while grep -qE ' (running|queued) ' <<< "$(tsp)"; do sleep 0.01; done
  t1=$(now) b1=$(busy_ms)
  tsp -K 2> /dev/null || true
  w=$(elapsed "$t0" "$t1")
  peer_rows+=("task-spooler (no isolation), open|$(rate "$N" "$w") jobs/s|$(per_job_ms "$N" "$w") ms|$(busy_per_job "$N" "$b0" "$b1")|$(ratio "$(per_job_ms "$N" "$w")" "$f_ms")")
fi
if command -v nq > /dev/null; then
  export NQDIR=$OUT/nq
  mkdir -p "$NQDIR"
  b0=$(busy_ms) t0=$(now)
  for i in $(seq 1 "$N"); do nq true > /dev/null; done
  nq -w 2> /dev/null || true
  t1=$(now) b1=$(busy_ms)
  w=$(elapsed "$t0" "$t1")
  peer_rows+=("nq (serial, no isolation), open|$(rate "$N" "$w") jobs/s|$(per_job_ms "$N" "$w") ms|$(busy_per_job "$N" "$b0" "$b1")|$(ratio "$(per_job_ms "$N" "$w")" "$f_ms")")
fi

row() { printf '%-44s %16s %16s %10s\n' "$@"; }
wrow() { printf '%-44s %16s %10s %12s %10s\n' "$@"; }
echo
echo "boxq benchmark: $(uname -r), $CPUS CPUs, job outputs on $OUT_WHERE, $(date -u +%Y-%m-%dT%H:%MZ)"
wrow "workload" "throughput" "per job" "machine/job" "vs floor"
wrow "--------" "----------" "-------" "-----------" "--------"
wrow "floor: $N jobs, $CPUS launchers, boxq isolation" "$f_rate jobs/s" "$f_ms ms" "$f_busy" "1.00"
wrow "  (floor before, after the boxq rows)" "$(rate "$N" "$f_wall1") $(rate "$N" "$f_wall2")" "" "" ""
wrow "boxq: $N held, then released" "$(rate "$N" "$h_wall") jobs/s" "$h_ms ms" "$h_busy" "$(ratio "$h_ms" "$f_ms")"
wrow "boxq: $N submitted while running" "$(rate "$N" "$o_wall") jobs/s" "$o_ms ms" "$o_busy" "$(ratio "$o_ms" "$f_ms")"
wrow "  its loop alone (bash, qsub --help)" "$(rate "$N" "$l_wall")/s" "$(per_job_ms "$N" "$l_wall") ms" "$l_busy" "$(ratio "$(per_job_ms "$N" "$l_wall")" "$f_ms")"
wrow "boxq: one $N-task array, released" "$(rate "$N" "$a_wall") jobs/s" "$a_ms ms" "$a_busy" "$(ratio "$a_ms" "$f_ms")"
for p in "${peer_rows[@]}"; do
  IFS='|' read -r a b c d e <<< "$p"
  wrow "$a" "$b" "$c" "$d" "$e"
done
echo
row "measure" "value" "baseline" "ratio"
row "-------" "-----" "--------" "-----"
row "held: started from the ready set" "$h_followed of $N" "" ""
row "qsub latency p50 ($QSUB_N submissions)" "$q50 ms" "$b50 ms" "$(ratio "$q50" "$b50")"
row "qsub latency p99" "$q99 ms" "" ""
row "qsub -J 1-$ARRAY_N (one call)" "$arr_s s" "" ""
row "qdel of that array (one call)" "$del_s s" "" ""
row "scheduling pass, $PASS_N queued jobs" "$pass ms" "" ""
row "idle $IDLE_S s: boxqd wakeups" "$idle_sched" "$IDLE_S" "$(ratio "$idle_sched" "$IDLE_S")"
row "idle $IDLE_S s: worker + shepherds wakeups" "$idle_worker" "$IDLE_S" "$(ratio "$idle_worker" "$IDLE_S")"
read -r e b < <(hval "qstat -x -f of one job")
row "qstat -x -f of one of $HIST_N finished" "$b ms" "$e ms" "$(ratio "$b" "$e")"
read -r e b < <(hval "qstat (every queued job")
row "qstat, 10000 queued + $HIST_N finished" "$b ms" "$e ms" "$(ratio "$b" "$e")"
read -r e b < <(hval "qacct --by user")
row "qacct --by user over a month of them" "$b ms" "$e ms" "$(ratio "$b" "$e")"
read -r e b < <(hval "qsub -h (durable)")
row "qsub into that database" "$b ms" "$e ms" "$(ratio "$b" "$e")"
read -r e b < <(hval "resident memory")
row "boxqd resident memory there" "$b MiB" "$e MiB" "$(ratio "$b" "$e")"
read -r e b < <(hval "/ (the box now")
row "boxq-web /, 10000 queued + $HIST_N finished" "$b ms" "$e ms" "$(ratio "$b" "$e")"
read -r e b < <(hval "/history (30 days")
row "boxq-web /history over them" "$b ms" "$e ms" "$(ratio "$b" "$e")"
echo "(machine/job: CPU time of the whole machine, all processes, per job; the open row's loop"
echo " alone forks the shell and starts qsub, storing nothing: the part of that row no scheduler"
echo " can save; baselines: floor = the same jobs without boxq; qsub = the same process printing"
echo " its help; the last six = the same commands on an empty database)"
echo "every job of the boxq workloads ran exactly once and was accounted"
