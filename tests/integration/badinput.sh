#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input of every kind gets a clear error and a non-zero exit, and no
# daemon crashes on it.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq
cd "$WORK"
chmod 755 "$T/bin" "$T/bin/rawclient"
SOCK=$STATE/boxqd.sock

for mode in garbage badmagic huge partial badfields; do
  check "boxqd drops a client sending $mode" "$HELPERS/rawclient" "$SOCK" "$mode"
  check "boxqd alive after $mode" kill -0 "$SCHED_PID"
done
check "malformed strings get an error reply" "$HELPERS/rawclient" "$SOCK" badstring
check "unknown request gets an error reply" "$HELPERS/rawclient" "$SOCK" unknown
"$HELPERS/rawclient" "$SOCK" flood
check "boxqd alive after a flood of unread replies" kill -0 "$SCHED_PID"
# Submissions are answered once on disk (walsync.c): a client that hangs
# up first leaves replies with no one to take them.
"$HELPERS/rawclient" "$SOCK" submitquit 50
sleep 0.3
check "boxqd alive after clients hang up before their submissions are confirmed" \
  kill -0 "$SCHED_PID"
n=$("$BIN/qselect" -N rq | wc -l)
check "what they submitted is stored all the same ($n of 50)" test "$n" -eq 50
"$BIN/qdel" $("$BIN/qselect" -N rq) > /dev/null
if id nobody > /dev/null 2>&1; then
  # LeakSanitizer cannot trace a process whose uid changed: not for this one.
  out=$(ASAN_OPTIONS=detect_leaks=0 setpriv --reuid=nobody --regid="$(id -g nobody)" \
    --clear-groups "$HELPERS/rawclient" "$SOCK" hold 100)
  check "one user holds at most 64 connections ($out)" test "$out" = kept=64
  check "others are still served meanwhile" "$BIN/qstat"
fi
check "boxqd still answers" "$BIN/qstat"
id=$(echo 'echo still-working' | submit)
wait_job "$id"
check "and still runs jobs" grep -qx still-working "$WORK/STDIN.o$id"

# Only root reaches the worker.
check "worker socket is root-only" test "$(stat -c %a "$STATE/worker.sock")" = 600
if id nobody > /dev/null 2>&1; then
  check "nobody cannot connect to the worker" sh -c "! setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups '$HELPERS/rawclient' '$STATE/worker.sock' unknown 2>/dev/null"
fi
check "worker alive" kill -0 "$WORKER_PID"

# qsub errors name what is wrong and where; nothing is submitted.
before=$("$BIN/qstat" -x | wc -l)
printf '#!/bin/sh\n#PBS -N ok\n#PBS -l mem=lots\necho hi\n' > bad.sh
out=$("$BIN/qsub" bad.sh 2>&1)
check "bad directive: non-zero exit" test $? -ne 0
check "bad directive: names file:line" has "$out" 'bad.sh:3'
check "bad directive: names the value" has "$out" 'lots' 
out=$("$BIN/qsub" -l mem=2000000tb bad.sh 2>&1) || true
check "huge memory refused" has "$out" 'too large' 
out=$(echo true | "$BIN/qsub" -l ncpus=4000 2>&1)
check "more CPUs than the box: refused, naming the limit" has "$out" 'exceeds this server' 
out=$(echo true | "$BIN/qsub" -l walltime=-5 2>&1)
check "negative walltime refused" test -n "$out"
out=$("$BIN/qsub" /nonexistent/job.sh 2>&1)
check "missing script: non-zero exit" test $? -ne 0
check "missing script: named" has "$out" '/nonexistent/job.sh' 
out=$(printf '' | "$BIN/qsub" 2>&1)
check "empty script refused" has "$out" 'empty' 
printf 'echo \0binary\n' > nul.sh
out=$("$BIN/qsub" nul.sh 2>&1)
check "script with NUL refused" has "$out" 'NUL' 
head -c 2000000 /dev/zero | tr '\0' 'x' > big.sh
out=$("$BIN/qsub" big.sh 2>&1)
check "oversized script refused with the limit" has "$out" 'limit' 
out=$(echo true | "$BIN/qsub" -N 'bad name' 2>&1)
check "bad job name refused" test -n "$out"
out=$(echo true | "$BIN/qsub" -X 2>&1)
check "unsupported option said so" has "$out" 'not supported' 
check "nothing was submitted by the bad requests" test "$("$BIN/qstat" -x | wc -l)" = "$before"

# A dead daemon: a clear error, non-zero exit.
out=$(BOXQ_STATE_DIR=$T/nowhere "$BIN/qstat" 2>&1)
check "no daemon: non-zero exit" test $? -ne 0
check "no daemon: says where it looked" has "$out" 'cannot reach boxqd' 

# Bad configuration: file:line and the key; the daemon does not start.
printf '[boxq]\nstate_dir = %s\n[scheduler]\nncpus = many\n' "$T/x" > "$T/bad.ini"
out=$("$BUILD/scheduler/boxqd" -c "$T/bad.ini" 2>&1)
check "bad config: boxqd exits non-zero" test $? -ne 0
check "bad config: names file:line" has "$out" "$T/bad.ini:4"
check "bad config: names the key" has "$out" ncpus
out=$("$BUILD/worker/boxq-worker" -c "$T/bad.ini" 2>&1)
check "bad config: worker exits non-zero" test $? -ne 0
out=$(BOXQ_CONFIG=$T/bad.ini "$BIN/qstat" 2>&1)
check "bad config: the CLI says so too" has "$out" 'bad.ini:4' 

# The job init program (boxq-init) is every job's PID 1, run as root: a
# worker without a safe one refuses to start, and says which and why. The
# worker looks beside itself first: copies of it meet prepared ones.
printf '[boxq]\nstate_dir = %s\n' "$T/initless" > "$T/initless.ini"
mkdir -p "$T/wbin"
cp "$BUILD/worker/boxq-worker" "$BUILD/worker/boxq-init" "$T/wbin/"
chmod 775 "$T/wbin/boxq-init"
out=$(timeout 10 "$T/wbin/boxq-worker" -c "$T/initless.ini" 2>&1)
rc=$?
check "group-writable job init: the worker refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
check "and names it and why" has "$out" "$T/wbin/boxq-init must belong to root and be writable by no one else"
chmod 755 "$T/wbin/boxq-init"
mkdir -p "$T/noexec"
if mount -t tmpfs -o noexec,mode=755 boxq-noexec "$T/noexec"; then
  # Only the init on the noexec mount, bound over the one beside the worker.
  cp -p "$T/wbin/boxq-init" "$T/noexec/"
  mount --bind "$T/noexec/boxq-init" "$T/wbin/boxq-init"
  out=$(timeout 10 "$T/wbin/boxq-worker" -c "$T/initless.ini" 2>&1)
  rc=$?
  umount "$T/wbin/boxq-init"
  umount "$T/noexec"
  check "job init on a noexec file system: the worker refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
  check "and says so" has "$out" "boxq-init is on a file system mounted noexec"
else
  echo "# skip: cannot mount a noexec tmpfs here"
fi
rm "$T/wbin/boxq-init"
out=$(timeout 10 "$T/wbin/boxq-worker" -c "$T/initless.ini" 2>&1)
rc=$?
if has "$out" "no job init program"; then
  check "no job init program: the worker refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
  check "and says where it looked" has "$out" "$T/wbin/boxq-init"
else
  echo "# skip: a boxq-init is installed on this machine: $out"
fi

finish
