# SPDX-License-Identifier: MIT
# bench/lib.sh: what the benchmark scripts share (sourced). The caller sets
# T (its directory), CG_PARENT, build, BOXQ_CONFIG, SCHED_PID= WORKER_PID=.

# start_boxq [scheduler line...]: both daemons on a fresh state directory,
# up when boxqd has seen the worker. Sets SCHED_PID, WORKER_PID, SPOOL.
start_boxq() {
  rm -rf "$T/state"
  {
    printf '[boxq]\nstate_dir = %s\nserver_name = bench\n' "$T/state"
    printf '[scheduler]\nallow_root_jobs = true\nkeep_history = 0\n'
    [ $# -gt 0 ] && printf '%s\n' "$@"
    printf '[worker]\ncgroup_parent = %s\nkill_grace = 1\n' "$CG_PARENT"
  } > "$BOXQ_CONFIG"
  SPOOL=$("$build/scheduler/boxqd" --print-config | sed -n 's/^spool_dir = //p')
  "$build/worker/boxq-worker" > "$T/worker.log" 2>&1 &
  WORKER_PID=$!
  start_sched
}

# start_sched: boxqd alone (again), up when it has seen the worker.
start_sched() {
  "$build/scheduler/boxqd" > "$T/sched.log" 2>&1 &
  SCHED_PID=$!
  for _ in $(seq 1 200); do
    grep -q "worker ready" "$T/sched.log" 2> /dev/null && return 0
    sleep 0.05
  done
  echo "$(basename "$0"): daemons did not come up" >&2
  cat "$T/sched.log" "$T/worker.log" >&2
  exit 1
}

# remove_cgroups GLOB: the benchmark's parent cgroups (its jobs removed
# their own), under every hierarchy.
remove_cgroups() {
  local d sub
  for d in /sys/fs/cgroup/*/$1 /sys/fs/cgroup/$1; do
    [ -d "$d" ] || continue
    for sub in "$d"/*/; do [ -d "$sub" ] && rmdir "$sub" 2> /dev/null; done
    rmdir "$d" 2> /dev/null
  done
}
