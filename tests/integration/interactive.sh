#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# qsub -I, driven through a real pseudo-terminal (ptydrive.py): the job
# waits in the queue (Ctrl-C or a dead qsub withdraws it), then the
# terminal is the job's: its cgroup and limits (a memory hog is OOM-killed
# in it), its namespaces and private /tmp, as the user, in the submit
# directory; window size changes, ^C and ^Z reach the job's foreground;
# the exit status is the shell's; walltime and qdel end it, and say so on
# the terminal; a dropped qsub hangs it up; it is accounted like any job.
# Also qsub -I -- command and the batch form qsub -- command.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
PY=/usr/bin/python3
[ -x "$PY" ] || skip "python3 missing (drives the pseudo-terminal)"
[ -x /bin/bash ] || skip "bash missing"
DRIVE="$PY $(cd "$(dirname "$0")" && pwd)/ptydrive.py --timeout 30"
start_boxq "[scheduler]" "ncpus = 2"
cd "$WORK"
# drove WHAT STATUS TRANSCRIPT: a ptydrive run's verdict (its transcript
# shown when it failed).
drove() {
  if [ "$2" = 0 ]; then ok "$1"; else fail "$1"; cat "$3"; fi
}
jobid_of() { sed -n 's/^qsub: waiting for job \([0-9]*\)\..*/\1/p' "$1" | head -1; }

# A session: its sandbox, its terminal, its limits, its exit status.
$DRIVE 'expect:waiting for job [0-9]+\.' 'expect:ready' \
  'send:echo "E=$PBS_ENVIRONMENT W=$(pwd) ID=$(id -u) I=$(cat /proc/1/comm) T=$(ls -A /tmp | wc -l)"\r' \
  "expect:E=PBS_INTERACTIVE W=$WORK ID=0 I=boxq-init T=0" \
  'send:grep -c "job-${PBS_JOBID%%.*}$" /proc/self/cgroup | sed "s/^/CG=/"\r' 'expect:CG=[1-9]' \
  'winsize:50:132' 'send:stty size\r' 'expect:[^0-9]50 132' \
  "send:$TSLEEP 100\r" 'sleep:0.5' 'send:\x03' 'send:echo "INT=$?"\r' 'expect:INT=130' \
  "send:$TSLEEP 101\r" 'sleep:0.5' 'send:\x1a' 'expect:Stopped' 'send:kill -9 %1; wait\r' \
  "send:$HELPERS/memhog 200 || echo HOG=\$?\r" 'expect:HOG=137' \
  'send:exit 7\r' 'expect:ended: out-of-memory' 'exit:7' \
  -- "$BIN/qsub" -I -S /bin/bash -l mem=64mb,walltime=120 > "$T/s1.out" 2>&1
drove "qsub -I: the job's sandbox, terminal, ^C, ^Z, size, limits, exit status" $? "$T/s1.out"
s1=$(jobid_of "$T/s1.out")
check "  qstat -f says interactive" has "$(BOXQ_DIALECT=pbspro "$BIN/qstat" -f -x "$s1")" \
  'interactive = True'
check "  accounted: qacct has its exit status" \
  sh -c "BOXQ_DIALECT=pbspro '$BIN/qacct' -j $s1 | grep -Eq '^exit_status +7'"
check "  its record: finished, exit 7" test "$(jfield "$s1" Exit_status)" = 7
check "  its socket is gone" test ! -e "$STATE/tty/$s1"

# One command, its status; and the batch form of the same syntax.
$DRIVE 'expect:hello interactive world' 'exit:3' \
  -- "$BIN/qsub" -I -- sh -c 'echo hello interactive world; exit 3' > "$T/s2.out" 2>&1
drove "qsub -I -- command: its output and exit status" $? "$T/s2.out"
b=$("$BIN/qsub" -N cmdjob -- /bin/echo "batch  'quoted'")
wait_job "$b" 20 > /dev/null
check "qsub -- command (batch): runs the command" \
  test "$(cat "$WORK/cmdjob.o${b%%.*}")" = "batch  'quoted'"

# As another user: their uid; nobody else may attach.
if id nobody > /dev/null 2>&1 && command -v setpriv > /dev/null; then
  AS_NOBODY="setpriv --reuid=nobody --regid=$(id -g nobody) --init-groups env BOXQ_CONFIG=$BOXQ_CONFIG"
  $DRIVE "expect:U=$(id -u nobody)" 'exit:0' \
    -- $AS_NOBODY "$BIN/qsub" -I -- sh -c 'echo U=$(id -u)' > "$T/s3.out" 2>&1
  drove "qsub -I as another user runs as that user" $? "$T/s3.out"
  $DRIVE --pidfile "$T/s4.pid" 'expect:ready' 'send:echo MINE\r' 'expect:MINE' 'sleep:3' \
    'send:exit\r' 'exit:0' -- "$BIN/qsub" -I -S /bin/sh > "$T/s4.out" 2>&1 &
  drv=$!
  s4=
  for _ in $(seq 1 100); do
    s4=$("$BIN/qselect" -s R | sed -n 's/^\([0-9]*\)\..*/\1/p' | head -1)
    [ -n "$s4" ] && [ -S "$STATE/tty/$s4" ] && break
    sleep 0.1
  done
  out=$($AS_NOBODY "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print("refused:", e.strerror)' "$STATE/tty/$s4" 2>&1)
  check "  another user cannot attach to a job's terminal ($out)" has "$out" refused
  wait "$drv"
  drove "  while its owner's session goes on" $? "$T/s4.out"
fi

# walltime and qdel end it and say why on the terminal.
$DRIVE 'expect:ready' "send:$TSLEEP 100\r" 'expect:walltime 3s exceeded' 'expect:ended: timeout' \
  'exit:137' -- "$BIN/qsub" -I -S /bin/bash -l walltime=3 > "$T/s5.out" 2>&1
drove "walltime ends an interactive job, and the terminal is told" $? "$T/s5.out"
$DRIVE 'expect:ready' "send:$BIN/qdel \$PBS_JOBID\r" 'expect:deleted \(qdel\)' 'expect:ended: cancelled' \
  -- "$BIN/qsub" -I -S /bin/bash -v BOXQ_CONFIG > "$T/s6.out" 2>&1
drove "qdel ends it, and the terminal is told" $? "$T/s6.out"

# A dropped qsub: the terminal hangs up, the job ends, nothing is left.
$DRIVE 'expect:ready' "send:$TSLEEP 102 & echo BG\r" 'expect:BG' 'kill:9' 'exit:-9' \
  -- "$BIN/qsub" -I -S /bin/bash > "$T/s7.out" 2>&1
drove "qsub -I killed" $? "$T/s7.out"
s7=$(jobid_of "$T/s7.out")
check "  its job ends (kill_grace = 1)" wait_job "$s7" 10
check "  as hung up" has "$(jfield "$s7" comment)" "hung up: its qsub -I went away"
eventually no_process "$TSLEEP 102" && ok "  nothing of it is left" || fail "  nothing of it is left"

# Waiting in the queue: it says so; Ctrl-C withdraws the job, and so
# does a qsub that dies while waiting.
$DRIVE 'expect:waiting for job' 'sleep:0.5' 'send:\x03' 'expect:withdrawn' 'exit:130' \
  -- "$BIN/qsub" -I -h > "$T/s8.out" 2>&1
drove "Ctrl-C while waiting withdraws the job" $? "$T/s8.out"
s8=$(jobid_of "$T/s8.out")
check "  which has ended, cancelled" test "$(jfield "$s8" end_reason)" = cancelled
$DRIVE 'expect:waiting for job' 'sleep:0.5' 'kill:9' 'exit:-9' \
  -- "$BIN/qsub" -I -h > "$T/s9.out" 2>&1
s9=$(jobid_of "$T/s9.out")
check "a qsub -I killed while waiting: its job is withdrawn" eventually \
  test "$(jfield "$s9" end_reason)" = cancelled
check "  and tracejob says why" \
  sh -c "'$BIN/tracejob' $s9 | grep -q 'its qsub -I went away before it started'"
out=$("$BIN/qsub" -I -J 1-3 2>&1)
check "an interactive array is refused" has "$out" "cannot be an array job"
out=$(echo true | "$BIN/qsub" -I 2>&1)
check "a shell on standard input that is not a terminal is refused" has "$out" "not one"
out=$(echo hello | timeout 20 "$BIN/qsub" -I -- cat 2>&1)
check "  but one command may read it, to its end" has "$out" "^qsub: job [0-9]+.* completed"
finish
