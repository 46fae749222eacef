# SPDX-License-Identifier: MIT
# Shared helpers for boxq integration tests: start the real daemons on a
# private state directory, submit real jobs, check what the kernel did.
# Each test script sources this file; CTest sets BOXQ_BUILD.
set -u

BUILD=${BOXQ_BUILD:?BOXQ_BUILD must point at the build directory}
BIN=$BUILD/cli
HELPERS=$BUILD/tests # replaced by a copy outside /tmp in start_boxq
PASS=0
FAIL=0

skip() {
  echo "SKIP: $*"
  exit 77
}

require_root_cgroups() {
  [ "$(id -u)" = 0 ] || skip "needs root (creates cgroups and namespaces)"
  [ -d /sys/fs/cgroup ] || skip "no /sys/fs/cgroup"
  if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
    skip "cannot create PID namespaces here"
  fi
}

ok() {
  PASS=$((PASS + 1))
  echo "ok - $*"
}

fail() {
  FAIL=$((FAIL + 1))
  echo "not ok - $*"
}

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

# finish: stops the daemons, fails on any sanitizer report in their logs
# (the suite also runs under ASan/UBSan), prints the count.
finish() {
  stop_daemons
  if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/*.log 2>/dev/null; then
    fail "sanitizer reports in the daemon logs"
    grep -hE -A30 "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/*.log | head -80
  fi
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

stop_daemons() {
  [ -n "${SCHED_PID:-}" ] && kill "$SCHED_PID" 2>/dev/null
  [ -n "${WORKER_PID:-}" ] && kill "$WORKER_PID" 2>/dev/null
  wait 2>/dev/null
  SCHED_PID=
  WORKER_PID=
}

# start_boxq [ini lines...]: a fresh state directory (outside /tmp, so jobs
# get their private /tmp), a config, and both daemons.
start_boxq() {
  T=$(mktemp -d /var/tmp/boxq-it.XXXXXX)
  chmod 755 "$T"
  STATE=$T/state
  WORK=$T/work
  mkdir -p "$WORK" "$T/bin"
  chmod 1777 "$WORK"
  # Jobs get a private /tmp, so workloads must not live below /tmp (a
  # checkout may): copy the helpers next to the test's state.
  cp "$BUILD/tests/memhog" "$BUILD/tests/cpuburn" "$BUILD/tests/forkmany" "$BUILD/tests/rawclient" \
    "$T/bin/"
  chmod 755 "$T/bin" "$T/bin"/*
  HELPERS=$T/bin
  # Jobs sleep through $TSLEEP, a path of this test's own: a test finds its
  # processes by that (no_process "$TSLEEP"), never by a common name that
  # another user's 'sleep 60' would match.
  ln -s "$(command -v sleep)" "$T/bin/sleep"
  TSLEEP=$T/bin/sleep
  CG_PARENT=boxq-it-$$
  export BOXQ_CONFIG=$T/boxq.ini
  unset BOXQ_STATE_DIR
  {
    echo "[boxq]"
    echo "state_dir = $STATE"
    echo "[scheduler]"
    echo "allow_root_jobs = true"
    echo "[worker]"
    echo "cgroup_parent = $CG_PARENT"
    echo "kill_grace = 1"
    for line in "$@"; do echo "$line"; done
  } > "$BOXQ_CONFIG"
  # Running jobs' spool (in memory, derived from the state directory).
  SPOOL=$("$BUILD/scheduler/boxqd" --print-config | sed -n 's/^spool_dir = //p')
  # This instance's jobs: CG_JOBS/job-ID in each hierarchy.
  CG_JOBS=$CG_PARENT/$("$BUILD/scheduler/boxqd" --print-config | sed -n 's/^cgroup_instance = //p')
  trap stop_boxq EXIT
  start_worker
  start_sched
}

# DAEMON_UMASK=MASK starts the daemons with that umask (a unit's UMask=).
start_worker() {
  (umask "${DAEMON_UMASK:-$(umask)}" && exec "$BUILD/worker/boxq-worker") >> "$T/worker.log" 2>&1 &
  WORKER_PID=$!
}

start_sched() {
  # SCHED_AS=user runs boxqd unprivileged, as the systemd unit does.
  (umask "${DAEMON_UMASK:-$(umask)}" &&
    exec ${SCHED_AS:+setpriv --reuid="$SCHED_AS" --regid="$(id -g "${SCHED_AS:-root}")" --clear-groups} \
      "$BUILD/scheduler/boxqd") >> "$T/sched.log" 2>&1 &
  SCHED_PID=$!
  wait_ready
}

# Waits until boxqd answers and the worker link is up.
wait_ready() {
  for _ in $(seq 1 100); do
    if grep -q "worker ready" "$T/sched.log" 2>/dev/null && "$BIN/qstat" > /dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "daemons did not come up"
  cat "$T/sched.log" "$T/worker.log"
  exit 1
}

stop_boxq() {
  local rc=$?
  stop_daemons
  # Shepherds of jobs still running are ours too: end them (their jobs die
  # with them), then remove every cgroup this test made. The kernel may
  # report a cgroup busy for a moment after its last task or child went,
  # so removal is retried for a while.
  local shepherds
  shepherds=$(pgrep -f "boxq-shepherd (idle )?$SPOOL" 2> /dev/null)
  [ -n "$shepherds" ] && kill -9 $shepherds 2> /dev/null
  local d job i
  for d in /sys/fs/cgroup/*/"$CG_PARENT" /sys/fs/cgroup/"$CG_PARENT"; do
    [ -d "$d" ] || continue
    for job in "$d"/*/job-* "$d"/*/ "$d"/supervisor; do
      [ -d "$job" ] || continue
      [ -f "$job/cgroup.kill" ] && echo 1 > "$job/cgroup.kill" 2>/dev/null
      for p in $(cat "$job/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
      for i in $(seq 1 50); do rmdir "$job" 2>/dev/null || [ ! -d "$job" ] && break; sleep 0.1; done
    done
    for i in $(seq 1 50); do rmdir "$d" 2>/dev/null || [ ! -d "$d" ] && break; sleep 0.1; done
    [ -d "$d" ] && echo "# warning: could not remove $d"
  done
  if [ "$rc" -ne 0 ] || [ "$FAIL" -ne 0 ]; then
    echo "--- sched.log"; tail -n 40 "$T/sched.log" 2>/dev/null
    echo "--- worker.log"; tail -n 60 "$T/worker.log" 2>/dev/null
  fi
  rm -rf "$T" "$SPOOL"
}

# submit [qsub args...]: prints the numeric id.
submit() {
  local out
  out=$("$BIN/qsub" "$@") || return 1
  echo "${out%%.*}"
}

# jfield ID KEY: a value from `qstat -x -f` (PBS Pro's forms, whatever
# dialect the test's configuration names).
jfield() {
  BOXQ_DIALECT=pbspro "$BIN/qstat" -x -f "$1" | sed -n "s/^    $2 = //p"
}

# afield ID KEY: a value from `qacct -j`.
afield() {
  "$BIN/qacct" -j "$1" | awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'
}

# wait_job ID [SECONDS]: until the job is finished.
wait_job() {
  local id=$1 limit=${2:-30} i
  for i in $(seq 1 $((limit * 10))); do
    [ "$(jfield "$id" job_state)" = F ] && return 0
    sleep 0.1
  done
  echo "job $id did not finish in ${limit}s"
  "$BIN/qstat" -x -f "$id"
  return 1
}

# wait_state ID STATE [SECONDS]
wait_state() {
  local id=$1 st=$2 limit=${3:-30} i
  for i in $(seq 1 $((limit * 10))); do
    [ "$(jfield "$id" job_state)" = "$st" ] && return 0
    sleep 0.1
  done
  return 1
}

# job_script BODY: writes a script file in $WORK and prints its path.
job_script() {
  local f
  f=$(mktemp "$WORK/job.XXXXXX")
  printf '#!/bin/sh\n%s\n' "$1" > "$f"
  chmod 644 "$f"
  echo "$f"
}

# eventually CMD...: CMD succeeds within about 2 s (for what a daemon does
# just after it reports, such as a shepherd removing a finished job's
# cgroup once the job's result is in).
eventually() {
  local i
  for i in $(seq 1 40); do
    "$@" && return 0
    sleep 0.05
  done
  "$@"
}

# has TEXT PATTERN: TEXT contains a line matching PATTERN (grep -E).
has() {
  grep -qE -- "$2" <<< "$1"
}

# no_process REGEX: no live (non-zombie) process has a command line
# matching REGEX, allowing the kernel up to 3 s to finish tearing a job
# down; prints any that remain.
no_process() {
  local i left
  for i in $(seq 1 30); do
    left=$(ps -eo pid=,stat=,args= | awk -v re="$1" '$2 !~ /^Z/ && $0 ~ re && !/awk -v re/')
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "# still running: $left"
  return 1
}
