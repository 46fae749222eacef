#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# qsig -s suspend|resume: a running job's cgroup is frozen (cgroup v2's
# freezer, in hybrid mode's controller-less tree too): state S, its CPU
# time stops growing, its walltime stops running, and it goes on where it
# was when resumed; the time suspended is shown and in tracejob; a
# suspended job can be deleted and leaves nothing; only its owner or a
# manager may.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv > /dev/null || skip "setpriv (util-linux) missing"
start_boxq "[scheduler]" "ncpus = 2"
cd "$WORK"
backend=$(BOXQ_DIALECT=pbspro "$BIN/qstat" -B -f | sed -n 's/^    cgroup_backend = //p')
case "$backend" in v2 | hybrid) ;; *) skip "no cgroup v2 tree to freeze jobs in (backend $backend)" ;; esac
# The job's cgroup in the v2 tree (hybrid: below unified/).
v2dir() {
  local d
  for d in /sys/fs/cgroup/unified/"$CG_JOBS"/job-"$1" /sys/fs/cgroup/"$CG_JOBS"/job-"$1"; do
    [ -f "$d/cgroup.freeze" ] && { echo "$d"; return; }
  done
}
usage() { sed -n 's/^usage_usec //p' "$1/cpu.stat"; }

b=$(echo "$HELPERS/cpuburn 1 60" | submit -l walltime=5 -N burn)
wait_state "$b" R
sleep 1
check "qsig -s suspend" "$BIN/qsig" -s suspend "$b"
check "  qstat shows S" test "$(jfield "$b" job_state)" = S
d=$(v2dir "$b")
check "  its cgroup is frozen" eventually grep -q '^frozen 1$' "$d/cgroup.events"
u1=$(usage "$d")
sleep 1.5
u2=$(usage "$d")
check "  its CPU time stops ($u1 -> $u2 usec)" test $((u2 - u1)) -lt 50000
sleep 4.5
check "  its walltime stops: still there past 5 s" test "$(jfield "$b" job_state)" = S
check "  qstat -f shows the time suspended" has "$(jfield "$b" suspended_time)" '^00:00:0[5-9]$'
out=$("$BIN/qsig" -s suspend "$b" 2>&1)
check "  suspending it again says so" has "$out" "suspended already"
check "qsig -s resume" "$BIN/qsig" -s resume "$b"
check "  running again" test "$(jfield "$b" job_state)" = R
check "  thawed" eventually grep -q '^frozen 0$' "$d/cgroup.events"
sleep 1
u3=$(usage "$d")
check "  its CPU time grows again" test $((u3 - u2)) -gt 300000
wait_job "$b" 20 > /dev/null
check "  it ends at its walltime, counted without the suspension" \
  test "$(jfield "$b" end_reason)" = timeout
wall=$(BOXQ_DIALECT=pbspro "$BIN/qacct" -j "$b" | awk '$1 == "ru_wallclock" { print int($2) }')
check "  having run for its walltime plus the suspension (${wall}s)" test "$wall" -ge 10
check "  tracejob: suspended and resumed" \
  sh -c "'$BIN/tracejob' $b | grep -q ' suspended ' && '$BIN/tracejob' $b | grep -q ' resumed .*after [5-9]s'"

q=$(echo "$TSLEEP 60" | submit -N frozen)
wait_state "$q" R
out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups \
  env BOXQ_CONFIG="$BOXQ_CONFIG" "$BIN/qsig" -s suspend "$q" 2>&1)
check "another user may not suspend it" test "$(jfield "$q" job_state)" = R
"$BIN/qsig" -s suspend "$q"
check "qdel of a suspended job" "$BIN/qdel" "$q"
check "  ends it" wait_job "$q" 10
check "  as cancelled" test "$(jfield "$q" end_reason)" = cancelled
eventually no_process "$TSLEEP" && ok "  nothing of it is left" || fail "  nothing of it is left"
out=$("$BIN/qsig" -s resume "$q" 2>&1)
check "resume of a finished job is refused" has "$out" "only a running job can be resumed"

# qhold of a running job suspends it, qrls resumes it. What it holds:
# suspend_releases = none (the default) keeps its CPUs; cpus gives them to
# other jobs meanwhile (read again on SIGHUP).
big=$(echo "$TSLEEP 60" | submit -l ncpus=2 -N big)
wait_state "$big" R
small=$(echo "$TSLEEP 60" | submit -l ncpus=1 -N small)
check "qhold of a running job" "$BIN/qhold" "$big"
check "  suspends it" test "$(jfield "$big" job_state)" = S
sleep 1
check "  it keeps its CPUs (suspend_releases = none): the next job waits" \
  test "$(jfield "$small" job_state)" = Q
echo "suspend_releases = cpus" >> "$BOXQ_CONFIG"
kill -HUP "$SCHED_PID"
check "  suspend_releases = cpus: the next job starts on its CPUs" wait_state "$small" R
check "qrls of the suspended job" "$BIN/qrls" "$big"
check "  resumes it" test "$(jfield "$big" job_state)" = R
check "  tracejob: suspended by qhold, resumed by qrls" \
  sh -c "'$BIN/tracejob' $big | grep -q 'suspended.*qhold by uid' && '$BIN/tracejob' $big | grep -q 'resumed.*qrls by uid'"
"$BIN/qdel" "$big" "$small"
wait_job "$big" 10 > /dev/null
wait_job "$small" 10 > /dev/null
finish
