#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The end-to-end path: qsub options and #PBS directives, output files, the
# job's environment and isolation, qstat/qacct, hold/release/delete.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq
cd "$WORK"

# A job with directives, overridden in part by the command line.
s=$(job_script '#PBS -N fromdirective
#PBS -l mem=64mb,walltime=00:05:00
#PBS -l ncpus=1
echo "out line"
echo "err line" >&2
echo "pwd=$(pwd)"
echo "jobid=$PBS_JOBID workdir=$PBS_O_WORKDIR foo=$FOO"
exit 0')
out=$("$BIN/qsub" -N cmdname -v FOO=bar "$s")
check "qsub prints ID.SERVER" test -n "$(echo "$out" | grep -E '^[0-9]+\.[^.]+')"
id=${out%%.*}
wait_job "$id"
check "command line wins over #PBS -N" test "$(jfield "$id" Job_Name)" = cmdname
check "directive resources kept" test "$(jfield "$id" Resource_List.mem)" = 64mb
check "walltime from directive" test "$(jfield "$id" Resource_List.walltime)" = 00:05:00
check "Exit_status 0" test "$(jfield "$id" Exit_status)" = 0
check "end_reason completed" test "$(jfield "$id" end_reason)" = completed
check "stdout in NAME.oID" grep -qx "out line" "$WORK/cmdname.o$id"
check "stderr in NAME.eID" grep -qx "err line" "$WORK/cmdname.e$id"
check "runs in the submit directory" grep -qx "pwd=$WORK" "$WORK/cmdname.o$id"
check "PBS variables and -v" grep -q "jobid=$out workdir=$WORK foo=bar" "$WORK/cmdname.o$id"
check "qacct shows the record" test "$(afield "$id" end_reason)" = completed
check "qstat -x lists it as F" sh -c "'$BIN/qstat' -x | grep -E '^$id\\.' | grep -q ' F '"
check "qstat without -x hides finished" sh -c "! '$BIN/qstat' | grep -qE '^$id\\.'"

# Script on standard input, -j oe, an explicit -o.
id=$(printf 'echo to-out\necho to-err >&2\n' | submit -j oe -o "$WORK/joined.log")
wait_job "$id"
check "stdin script named STDIN" test "$(jfield "$id" Job_Name)" = STDIN
check "-j oe merges stderr" sh -c "grep -qx to-out '$WORK/joined.log' && grep -qx to-err '$WORK/joined.log'"
check "-j oe writes no .e file" test ! -e "$WORK/STDIN.e$id"

# -e into a directory, non-zero exit.
mkdir -p "$WORK/errs"
id=$(printf 'echo bad >&2\nexit 3\n' | submit -N failing -e "$WORK/errs")
wait_job "$id"
check "exit status kept" test "$(jfield "$id" Exit_status)" = 3
check "non-zero exit is 'failed'" test "$(jfield "$id" end_reason)" = failed
check "-e DIR uses the default name inside" grep -qx bad "$WORK/errs/failing.e$id"

# Isolation: own PID namespace with an init, own session, private /tmp,
# own UTS and IPC namespaces.
s=$(job_script 'echo "pid=$$"
echo "init=$(cat /proc/1/comm)"
echo "sid=$(ps -o sid= -p $$ | tr -d " ")"
echo "tty=$(ps -o tty= -p $$ | tr -d " ")"
echo "nprocs=$(ls -d /proc/[0-9]* | wc -l)"
echo private > /tmp/boxq-private-marker
ls -A /tmp | wc -l | sed "s/^/tmpfiles=/"
hostname boxq-renamed && echo "host=$(hostname)"
echo "ipc=$(ipcmk -M 4096 >/dev/null && ipcs -m | grep -c "^0x")"')
id=$(submit -N iso "$s")
wait_job "$id"
o="$WORK/iso.o$id"
check "job script is PID 2 under its own init" grep -qx "pid=2" "$o"
check "PID 1 of the job is boxq-init" grep -qx "init=boxq-init" "$o"
check "job leads its own session" grep -qx "sid=2" "$o"
check "job has no controlling terminal" grep -qx "tty=?" "$o"
check "only the job's processes are visible" sh -c "n=\$(sed -n 's/^nprocs=//p' '$o'); [ \"\$n\" -le 6 ]"
check "private /tmp starts empty" grep -qx "tmpfiles=1" "$o"
check "private /tmp does not leak to the host" test ! -e /tmp/boxq-private-marker
check "hostname change stays in the job's UTS namespace" sh -c "grep -qx host=boxq-renamed '$o' && [ \"\$(hostname)\" != boxq-renamed ]"
check "SysV IPC of the job is its own" grep -qx "ipc=1" "$o"

# Hold, release, delete.
id=$(echo 'echo released' | submit -h -N held)
check "qsub -h holds" test "$(jfield "$id" job_state)" = H
check "qhold of a held job is fine" "$BIN/qhold" "$id"
"$BIN/qrls" "$id"
wait_job "$id"
check "released job ran" grep -qx released "$WORK/held.o$id"
check "qrls of a finished job fails" sh -c "! '$BIN/qrls' $id 2>/dev/null"

# One request over several jobs: each is done or refused on its own.
h1=$(echo true | submit -N multi1)
h2=$(echo true | submit -h -N multi2)
"$BIN/qhold" "$h2"
out=$("$BIN/qdel" 999999 "$h2" 2>&1)
rc=$?
check "qdel of several jobs, one unknown: non-zero exit" test "$rc" -ne 0
check "  naming the unknown one" has "$out" "Unknown Job Id 999999"
check "  and the known one is deleted" test "$(jfield "$h2" end_reason)" = cancelled
wait_job "$h1"
h3=$(echo true | submit -h -N multi3)
h4=$(echo true | submit -h -N multi4)
"$BIN/qrls" "$h3" "$h4" "$h1" 2> /dev/null
wait_job "$h3"
wait_job "$h4"
check "qrls of two held jobs and a finished one releases both held" \
  test "$(jfield "$h3" end_reason)/$(jfield "$h4" end_reason)" = completed/completed

id=$(echo 'echo never' | submit -h -N deleted)
"$BIN/qdel" "$id"
check "qdel of a queued job: F" test "$(jfield "$id" job_state)" = F
check "qdel of a queued job: cancelled" test "$(jfield "$id" end_reason)" = cancelled
check "deleted job never ran" test ! -e "$WORK/deleted.o$id"

id=$(echo 'sleep 300' | submit -N running)
wait_state "$id" R
sleep 0.5
start=$(date +%s)
"$BIN/qdel" "$id"
wait_job "$id" 15
check "qdel of a running job ends it as cancelled" test "$(jfield "$id" end_reason)" = cancelled
check "qdel ends a running job within the grace period" test $(($(date +%s) - start)) -le 5

# Several ids at once, one unknown: the known ones are answered.
a=$(echo true | submit)
wait_job "$a"
out=$("$BIN/qstat" -x "$a" 999999 2>"$WORK/err.txt")
rc=$?
check "unknown id: non-zero exit" test "$rc" -ne 0
check "unknown id named on stderr" grep -q "Unknown Job Id 999999" "$WORK/err.txt"
check "known id still shown" has "$out" "^$a\\."
check "bad id is refused" sh -c "! '$BIN/qdel' 12abc 2>/dev/null"

# tracejob: the job's history, with the limits and cgroup it started with.
id=$(echo 'sleep 1' | submit -h -N traced -l mem=128mb)
"$BIN/qrls" "$id"
wait_job "$id"
trace=$("$BIN/tracejob" "$id")
echo "$trace" | sed 's/^/# /'
check "tracejob names the job" has "$trace" "^Job: $id\\..* \\(traced, owner "
check "tracejob: submitted held" has "$trace" "submitted +held at submission"
check "tracejob: released, dispatched" has "$trace" "released" 
check "tracejob: started with its limits and cgroup" has "$trace" "started +in cgroup .*job-$id with ncpus=1 mem=128mb"
check "tracejob: ended" has "$trace" "ended +completed, exit status 0"
check "tracejob: accounted" has "$trace" "accounted +cpu .*peak memory"
out=$("$BIN/tracejob" 999999 2>&1)
check "tracejob of an unknown job fails, naming it" has "$out" "Unknown Job Id 999999"

# The cgroup backend is named by the worker and in the server's status.
backend=$("$BUILD/worker/boxq-worker" --version | sed -n 's/.*cgroup backend: \([a-z0-9]*\).*/\1/p')
check "boxq-worker --version names the cgroup backend ($backend)" has "$backend" '^(v2|v1|hybrid)$'
check "qstat -B -f names the same backend" has "$("$BIN/qstat" -B -f)" "cgroup_backend = $backend"
check "qstat -B shows the server active" has "$("$BIN/qstat" -B)" "Active"

# A job's result goes to boxqd as soon as its shepherd has written it, and
# the shepherd then waits for the worker's next job: once every job has
# ended, the worker has forgotten every spool, keeps at most one idle
# shepherd per CPU (at least 2) and has no unreaped child.
settled() {
  local i z kids max
  max=$(nproc)
  [ "$max" -lt 2 ] && max=2
  for i in $(seq 1 30); do
    z=$(ps -eo stat=,ppid= | awk -v w="$WORKER_PID" '$2 == w && $1 ~ /^Z/' | wc -l)
    kids=$(ps -eo stat=,ppid= | awk -v w="$WORKER_PID" '$2 == w' | wc -l)
    [ "$z" -eq 0 ] && [ "$kids" -le "$max" ] && [ -z "$(ls -A "$SPOOL" 2> /dev/null)" ] && return 0
    sleep 0.1
  done
  echo "# children of the worker: $kids ($z unreaped); spool: $(ls -A "$SPOOL" 2> /dev/null | tr '\n' ' ')"
  return 1
}
ids=()
for i in $(seq 1 20); do ids+=("$(echo true | submit -h)"); done
"$BIN/qrls" "${ids[@]}"
for id in "${ids[@]}"; do wait_job "$id" 30 > /dev/null; done
check "20 short jobs: nothing unreaped, no spool left, few idle shepherds" settled
used=$(for id in "${ids[@]}"; do sed -n "s/.*job $id: shepherd \([0-9]*\) runs it.*/\1/p" "$T/worker.log"; done | sort -u | wc -l)
check "the 20 jobs ran on shepherds kept between jobs ($used of them)" test "$used" -ge 1 -a "$used" -le "$(($(nproc) > 2 ? $(nproc) : 2))"

finish
