#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/scale.sh [BUILD_DIR]: boxq on the boxes people really share (64 to
# 256 CPUs, dozens of users, hundreds of jobs at once), simulated on this
# one: capacity configured larger than the hardware, jobs that sleep. One
# table, beside bench/run.sh's; every figure next to its baseline or goal.
#   wide        ncpus = 256: 256 `sleep` jobs of 50 users, held, released at
#               once: time to the last start. Then 10,000 more queued by the
#               same users: boxqd's own timing of its full scheduling passes
#               (qstat -B -f) while the 256 run. When those end, the next 256
#               must all come from the users who had used the least (fair
#               share: checked, the run fails otherwise).
#   running     ncpus = 1000: 1,000 `sleep` jobs at once: memory of boxqd,
#               the worker and the shepherds per job (RSS, and PSS: shared
#               pages split), descriptors per job, CPU of boxqd and the worker
#               over RUN_S seconds of nothing else, qstat and qstat -f.
#   latency     one job at a time on an idle box: from qsub returning to the
#               job's first command, against bench/floor's launch of the same
#               script with the same isolation (no scheduler).
#   submitters  8 processes submitting 500 jobs each while jobs run, against
#               1 process submitting 500: jobs stored per second.
# The 50 users are made up: libnss_wrapper gives the daemons and the
# clients a passwd file of this run's own, and jobs run as those uids.
# Environment: SMALL=1 (the test suite's quick run), WAVE_S (60: the wide
# jobs' sleep), RUN_S (60).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
build=$(cd "$build" && pwd)
. "$top/bench/lib.sh"
[ "$(id -u)" = 0 ] || { echo "scale.sh: run as root (jobs get cgroups)" >&2; exit 1; }
command -v sqlite3 > /dev/null || { echo "scale.sh: needs the sqlite3 CLI" >&2; exit 1; }
command -v setpriv > /dev/null || { echo "scale.sh: needs setpriv (util-linux)" >&2; exit 1; }
NSSW=
for f in /usr/lib/*/libnss_wrapper.so /usr/lib64/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
  [ -f "$f" ] && NSSW=$f && break
done
[ -n "$NSSW" ] || { echo "scale.sh: needs libnss_wrapper (Debian: libnss-wrapper)" >&2; exit 1; }
# AddressSanitizer refuses what nss_wrapper does in the shepherds (it loads
# libc with RTLD_DEEPBIND once their environment is cleared).
if ldd "$build/worker/boxq-worker" 2> /dev/null | grep -q libasan; then
  echo "scale.sh: the made-up users (nss_wrapper) cannot run under AddressSanitizer: use a plain build" >&2
  exit 1
fi
if [ "${SMALL:-0}" = 1 ]; then
  WIDE=16 USERS=5 QUEUED=100 WAVE_S=${WAVE_S:-6} TOGGLES=20
  RUN_N=40 RUN_S=${RUN_S:-3} LAT_N=20 SUB_P=4 SUB_N=20
else
  WIDE=256 USERS=50 QUEUED=10000 WAVE_S=${WAVE_S:-60} TOGGLES=300
  RUN_N=1000 RUN_S=${RUN_S:-60} LAT_N=1000 SUB_P=8 SUB_N=500
fi
T=$(mktemp -d /var/tmp/boxq-scale.XXXXXX)
chmod 755 "$T"
CG_PARENT=boxq-scale-$$
SCHED_PID= WORKER_PID= SPOOL=
cleanup() {
  set +e
  if [ -n "$SCHED_PID" ]; then
    # The jobs first: killed daemons would leave their shepherds running.
    "$BIN/qselect" 2> /dev/null | xargs -r "$BIN/qdel" > /dev/null 2>&1
    for _ in $(seq 1 600); do
      [ "$("$BIN/qstat" -B -f 2> /dev/null | sed -n 's/^ *total_jobs = //p')" = 0 ] && break
      sleep 0.1
    done
    kill "$SCHED_PID" 2> /dev/null
  fi
  [ -n "$WORKER_PID" ] && kill "$WORKER_PID" 2> /dev/null
  wait 2> /dev/null
  remove_cgroups "$CG_PARENT*"
  [ -n "$SPOOL" ] && rm -rf "$SPOOL"
  cd /
  rm -rf "$T"
}
trap cleanup EXIT
export BOXQ_CONFIG=$T/boxq.ini
unset BOXQ_STATE_DIR
BIN=$build/cli

# ---- the made-up users: bq00.. with uids 61000.. ----
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
mkdir -m 1777 "$T/home" "$T/work" "$T/starts"
for i in $(seq 0 $((USERS - 1))); do
  printf 'bq%02d:x:%d:%d::%s:/bin/sh\n' "$i" $((61000 + i)) $((61000 + i)) "$T/home" >> "$T/passwd"
  printf 'bq%02d:x:%d:\n' "$i" $((61000 + i)) >> "$T/group"
done
export LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group
as_user() { # N command...: run as user bqN
  local uid=$((61000 + $1))
  shift
  setpriv --reuid=$uid --regid=$uid --clear-groups "$@"
}

ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-50s %14s %14s %8s\n' "$1" "$2" "$3" "$4"; }
# Percentiles of numbers on stdin (nearest rank): "p50 p99".
pcts() { sort -g | awk '{ v[NR] = $1 } END { i = int(NR * 0.5 + 0.999); j = int(NR * 0.99 + 0.999);
  if (NR == 0) print "- -"; else printf "%.2f %.2f\n", v[i], v[j] }'; }
server_field() { "$BIN/qstat" -B -f | sed -n "s/^ *$1 = //p"; }

stop_boxq() {
  "$BIN/qselect" | xargs -r "$BIN/qdel" > /dev/null 2>&1 || true
  wait_until_count total_jobs 0 120
  kill "$SCHED_PID" "$WORKER_PID" 2> /dev/null
  wait "$SCHED_PID" "$WORKER_PID" 2> /dev/null || true
  SCHED_PID= WORKER_PID=
}
wait_until_count() { # field n timeout_s: until qstat -B -f says field = n
  local end=$((SECONDS + $3))
  while [ "$(server_field "$1")" != "$2" ]; do
    ((SECONDS < end)) || { echo "scale.sh: $1 never reached $2 ($(server_field "$1"))" >&2; exit 1; }
    sleep 0.05
  done
}
shepherds() { pgrep -f "boxq-shepherd (idle )?$SPOOL" | tr '\n' ' '; }
fail() { echo "scale.sh: $*" >&2; exit 1; }

echo "boxq at scale on $(uname -r), $(nproc) CPUs" >&2

# ---- wide: 256 CPUs, 50 users ----
start_boxq "ncpus = $WIDE" "mem = $((WIDE * 4))gb"
cd "$T/work"
starter="date +%s.%N > $T/starts/\$PBS_JOBID; exec sleep $WAVE_S"
# The first wave: half the users ("light") one job each, the others the rest.
LIGHT=$((USERS / 2))
: > "$T/wave1"
for k in $(seq 0 $((WIDE - 1))); do
  if ((k < LIGHT)); then u=$k; else u=$((LIGHT + (k - LIGHT) % (USERS - LIGHT))); fi
  echo "$(as_user "$u" "$BIN/qsub" -h -N w1 <<< "$starter") $u" >> "$T/wave1"
done
# The queue behind it: QUEUED jobs, the users interleaved, held for now.
per_user=$((QUEUED / USERS))
submit_stream() { # stream: users s, s+8, ... each per_user jobs
  local j u
  for j in $(seq 1 "$per_user"); do
    for ((u = $1; u < USERS; u += 8)); do
      echo "$(as_user "$u" "$BIN/qsub" -h -N q <<< "$starter") $u"
    done
  done > "$T/queued.$1"
}
streams=()
for s in 0 1 2 3 4 5 6 7; do
  submit_stream "$s" &
  streams+=($!)
done
wait "${streams[@]}"
cat "$T"/queued.? > "$T/queued"
[ "$(wc -l < "$T/queued")" = $((per_user * USERS)) ] || fail "not every queued job was submitted"
t0=$EPOCHREALTIME
"$BIN/qrls" $(cut -d' ' -f1 "$T/wave1")
end=$((SECONDS + 30))
while [ "$(ls "$T/starts" | wc -l)" -lt "$WIDE" ]; do
  ((SECONDS < end)) || fail "the first $WIDE jobs did not all start"
  sleep 0.01
done
last=$(cat "$T"/starts/* | sort -g | tail -1)
wide_last_ms=$(ms_between "$t0" "$last")
# Release the queue: it waits behind the running wave.
"$BIN/qrls" $(cut -d' ' -f1 "$T/queued")
wait_until_count queued $((per_user * USERS)) 60
# Full passes over that queue: each hold and release of one job asks for
# one. boxqd is restarted first (its jobs run on), so that its timings
# (the last 1,024 passes) hold only passes over this queue, not the cheap
# ones of the submissions.
kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null || true
start_sched
wait_until_count running "$WIDE" 30
n0=$(server_field sched_full_passes)
probe=$(head -1 "$T/queued" | cut -d' ' -f1)
for _ in $(seq 1 "$TOGGLES"); do
  "$BIN/qhold" "$probe"
  sleep 0.03 # the pass alone on the machine, not beside the next client
  "$BIN/qrls" "$probe"
  sleep 0.03
done
sleep 0.2
n1=$(server_field sched_full_passes)
pass_p50=$(server_field sched_full_pass_p50_ms)
pass_p99=$(server_field sched_full_pass_p99_ms)
[ "$(server_field running)" = "$WIDE" ] || fail "the first wave ended before the passes were timed: raise WAVE_S"
pass_n=$((n1 - n0))
((n0 + pass_n <= 1024)) || fail "more than 1,024 passes: the timings are not only this queue's"

# Fair share: the next WIDE starts all belong to light users.
end=$((SECONDS + WAVE_S + 60))
while [ "$(ls "$T/starts" | wc -l)" -lt $((2 * WIDE)) ]; do
  ((SECONDS < end)) || fail "the second wave did not start"
  sleep 0.2
done
declare -A owner_of
while read -r id u; do owner_of[${id%%.*}]=$u; done < "$T/queued"
heavy_started=0
for f in $(cd "$T/starts" && for x in *; do echo "$(cat "$x") ${x%%.*}"; done | sort -g | sed -n "$((WIDE + 1)),$((2 * WIDE))p" | cut -d' ' -f2); do
  u=${owner_of[$f]:-}
  [ -n "$u" ] || fail "job $f of the second wave is not one of the queued jobs"
  ((u < LIGHT)) || heavy_started=$((heavy_started + 1))
done
[ "$heavy_started" = 0 ] || fail "fair share: $heavy_started of the second wave's $WIDE starts went to the heavier users"
stop_boxq
rm -f "$T"/starts/*

# ---- running: 1,000 jobs at once ----
start_boxq "ncpus = $RUN_N" "mem = $((RUN_N * 4))gb"
cd "$T/work"
ids=()
for i in $(seq 1 "$RUN_N"); do ids+=("$("$BIN/qsub" -h -N r <<< 'exec sleep 3600')"); done
"$BIN/qrls" "${ids[@]}"
wait_until_count running "$RUN_N" 300
sleep 2 # the first usage samples
pids="$SCHED_PID $WORKER_PID $(shepherds)"
# Every job's shepherd, and the few idle ones the worker keeps ready.
nsheph=$(($(wc -w <<< "$pids") - 2))
((nsheph >= RUN_N)) || fail "expected $RUN_N shepherds or more, found $nsheph"
sum_status() { local p; for p in $pids; do awk -v k="$1:" '$1 == k { print $2 }' "/proc/$p/$2"; done | awk '{ s += $1 } END { print s }'; }
rss_kb=$(sum_status VmRSS status)
pss_kb=$(sum_status Pss smaps_rollup)
fds=0
for p in $pids; do fds=$((fds + $(ls "/proc/$p/fd" | wc -l))); done
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(($(cpu_ticks "$SCHED_PID") + $(cpu_ticks "$WORKER_PID")))
s0=0; for p in $(shepherds); do s0=$((s0 + $(cpu_ticks "$p"))); done
sleep "$RUN_S"
c1=$(($(cpu_ticks "$SCHED_PID") + $(cpu_ticks "$WORKER_PID")))
s1=0; for p in $(shepherds); do s1=$((s1 + $(cpu_ticks "$p"))); done
HZ=$(getconf CLK_TCK)
daemons_pct=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v s="$RUN_S" 'BEGIN { printf "%.2f", t / hz / s * 100 }')
sheph_pct=$(awk -v t=$((s1 - s0)) -v hz="$HZ" -v s="$RUN_S" 'BEGIN { printf "%.2f", t / hz / s * 100 }')
median_ms() {
  local i t0 times=()
  for i in 1 2 3 4 5; do
    t0=$EPOCHREALTIME
    "$@" > /dev/null
    times+=("$(ms_between "$t0" "$EPOCHREALTIME")")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n 3p
}
qstat_ms=$(median_ms "$BIN/qstat")
qstatf_ms=$(median_ms "$BIN/qstat" -f)
[ "$("$BIN/qstat" | grep -c ' R ')" = "$RUN_N" ] || fail "qstat does not list $RUN_N running jobs"
stop_boxq

# ---- latency: qsub returning to the job's first command, idle box ----
start_boxq "ncpus = $(nproc)" "mem = 16gb"
mkdir -p "$T/lat"
cd "$T/lat"
: > "$T/lat.t"
for i in $(seq 1 "$LAT_N"); do
  id=$("$BIN/qsub" -N l <<< 'date +%s.%N')
  echo "${id%%.*} $EPOCHREALTIME" >> "$T/lat.t"
  "$BIN/qwait" "$id"
done
while read -r id t; do
  s=$(cat "l.o$id")
  ms_between "$t" "$s"
  echo
done < "$T/lat.t" | pcts > "$T/lat.boxq"
read -r lat50 lat99 < "$T/lat.boxq"
stop_boxq
mkdir -p "$T/floor"
"$build/bench/floor" -n "$LAT_N" -j 1 -l -s 'date +%s.%N
' -p "$CG_PARENT-floor" "$T/floor" > "$T/floor.out"
awk '$1 == "begin" { print $2, $3 }' "$T/floor.out" | while read -r id ns; do
  s=$(cat "$T/floor/floor.o$id")
  awk -v a="$ns" -v b="$s" 'BEGIN { printf "%.3f\n", (b - a / 1e9) * 1000 }'
done | pcts > "$T/lat.floor"
read -r flat50 flat99 < "$T/lat.floor"

# ---- submitters: 8 at once against 1 ----
start_boxq "ncpus = $(nproc)" "mem = 16gb"
mkdir -p "$T/sub"
cd "$T/sub"
submit_n() { local i; for i in $(seq 1 "$SUB_N"); do "$BIN/qsub" -N s <<< true > /dev/null; done; }
t0=$EPOCHREALTIME
submit_n
one_s=$(ms_between "$t0" "$EPOCHREALTIME")
wait_until_count total_jobs 0 120
t0=$EPOCHREALTIME
streams=()
for p in $(seq 1 "$SUB_P"); do
  submit_n &
  streams+=($!)
done
wait "${streams[@]}"
many_s=$(ms_between "$t0" "$EPOCHREALTIME")
wait_until_count total_jobs 0 300
want=$((SUB_N * (SUB_P + 1)))
done_n=$(sqlite3 "$T/state/boxq.db" "select count(*) from jobs where state = 'F' and end_reason = 1 and run_count = 1")
[ "$done_n" = "$want" ] || fail "submitters: $done_n of $want jobs ran exactly once"
one_rate=$(awk -v n="$SUB_N" -v ms="$one_s" 'BEGIN { printf "%.0f", n / ms * 1000 }')
many_rate=$(awk -v n=$((SUB_N * SUB_P)) -v ms="$many_s" 'BEGIN { printf "%.0f", n / ms * 1000 }')
stop_boxq

echo
echo "boxq at scale: $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
row "measure" "value" "baseline/goal" "ratio"
row "-------" "-----" "-------------" "-----"
row "wide: $WIDE jobs of $USERS users released, last start" "$wide_last_ms ms" "1000 ms" "$(ratio "$wide_last_ms" 1000)"
row "wide: full pass, $((per_user * USERS)) queued, $WIDE running, p50" "$pass_p50 ms" "10 ms" "$(ratio "$pass_p50" 10)"
row "wide: full pass p99 (over $pass_n passes)" "$pass_p99 ms" "" ""
row "wide: next $WIDE starts from the lighter users" "$WIDE of $WIDE" "" ""
row "running $RUN_N: RSS per job (daemons + shepherds)" "$((rss_kb / RUN_N)) KiB" "512 KiB" "$(ratio $((rss_kb / RUN_N)) 512)"
row "running $RUN_N: PSS per job (shared pages split)" "$((pss_kb / RUN_N)) KiB" "512 KiB" "$(ratio $((pss_kb / RUN_N)) 512)"
row "running $RUN_N: descriptors per job" "$(awk -v f="$fds" -v n="$RUN_N" 'BEGIN { printf "%.1f", f / n }')" "" ""
row "running $RUN_N: boxqd + worker CPU, $RUN_S s" "$daemons_pct %" "1 %" "$(ratio "$daemons_pct" 1)"
row "running $RUN_N: shepherds' CPU, $RUN_S s" "$sheph_pct %" "" ""
row "running $RUN_N: qstat" "$qstat_ms ms" "" ""
row "running $RUN_N: qstat -f" "$qstatf_ms ms" "" ""
row "latency, qsub to first command, p50 ($LAT_N jobs)" "$lat50 ms" "$flat50 ms" "$(ratio "$lat50" "$flat50")"
row "latency p99" "$lat99 ms" "$flat99 ms" "$(ratio "$lat99" "$flat99")"
row "submitters: $SUB_P x $SUB_N at once, jobs/s" "$many_rate" "$one_rate" "$(ratio "$many_rate" "$one_rate")"
echo "(baselines: wide and running against the issue's goals; latency against bench/floor launching"
echo " the same script with the same isolation, no scheduler; submitters against 1 process)"
echo "every wide job started, fair share held, every submitted job ran exactly once"
