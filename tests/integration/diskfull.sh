#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A full disk or a read-only file system under the queue: qsub is refused
# with a clear message, nothing stored is damaged, and service resumes by
# itself when space (or write access) returns.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v sqlite3 > /dev/null || skip "sqlite3 (the CLI) is needed to check the database"
mnt=$(mktemp -d /var/tmp/boxq-small.XXXXXX)
mount -t tmpfs -o size=3m tmpfs "$mnt" || skip "cannot mount a tmpfs here"
cleanup_mnt() { umount -l "$mnt" 2> /dev/null; rmdir "$mnt" 2> /dev/null; }
start_boxq "[boxq]" "state_dir = $mnt/state"
trap 'stop_boxq; cleanup_mnt' EXIT
STATE=$mnt/state
cd "$WORK"

big=$(head -c 150000 /dev/zero | tr '\0' '#')
stored=0
refusal=""
for i in $(seq 1 40); do
  if out=$(printf 'echo %s\n%s\n' "$i" "$big" | "$BIN/qsub" -h -N fill$i 2>&1); then
    stored=$((stored + 1))
  else
    refusal=$out
    break
  fi
done
echo "# $stored jobs stored before the disk was full"
check "the disk filled up" test -n "$refusal"
check "qsub says the disk is full, and where" has "$refusal" "disk holding the queue is full \\($STATE\\)"
check "boxqd is still running" kill -0 "$SCHED_PID"
check "every stored job is still there" test "$("$BIN/qstat" | tail -n +3 | wc -l)" -eq "$stored"
check "the database is intact" test "$(sqlite3 "$STATE/boxq.db" 'PRAGMA integrity_check')" = ok

mount -o remount,size=64m "$mnt"
id=$(echo 'echo space' | submit -N afterspace)
check "service resumes when space returns" test -n "$id"
"$BIN/qrls" "$id"
wait_job "$id"
check "and jobs run" grep -qx space "$WORK/afterspace.o$id"

# Read-only: a file system cannot become read-only under open files (the
# kernel refuses the remount), so the case is boxqd starting on one.
kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
mount -o remount,ro "$mnt"
check "the state file system is read-only now" sh -c "! touch '$STATE/probe' 2>/dev/null"
out=$(timeout 10 "$BUILD/scheduler/boxqd" 2>&1)
rc=$?
check "boxqd refuses a read-only queue (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "and says it is read-only" has "$out" "read-only"
mount -o remount,rw "$mnt"
: > "$T/sched.log"
start_sched
id=$(echo true | submit -N rw)
check "service resumes when the disk is writable again" test -n "$id"
check "the database is intact afterwards" test "$(sqlite3 "$STATE/boxq.db" 'PRAGMA integrity_check')" = ok
check "with every job stored before" test "$("$BIN/qstat" -x | tail -n +3 | wc -l)" -eq $((stored + 2))

finish
