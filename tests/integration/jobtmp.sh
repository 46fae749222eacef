#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A job's private /tmp, both kinds. memory (the default): a tmpfs inside the
# job, at most its mem, counted in its memory use, gone with the job.
# disk: a directory of the user's below job_tmp_dir, removed afterwards.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq
cd "$WORK"

id=$(printf 'stat -f -c %%T /tmp\nstat -c "%%a %%U" /tmp\ndd if=/dev/zero of=/tmp/f bs=1M count=48 2> /dev/null\nls -l /tmp/f | wc -l\n' |
  submit -N mtmp -l mem=256mb)
wait_job "$id"
o="$WORK/mtmp.o$id"
check "job_tmp = memory: /tmp is a tmpfs" test "$(sed -n 1p "$o")" = tmpfs
check "  world-writable with the sticky bit" test "$(sed -n 2p "$o")" = "1777 root"
check "  48 MiB written to it" test "$(sed -n 3p "$o")" = 1
peak=$(afield "$id" mem_peak | awk '{print $1}')
check "  and counted in the job's memory ($peak)" test "$peak" -ge $((48 << 20))
check "  nothing made on the host" test ! -e "$STATE/tmp"

# More than its mem in /tmp: the job cannot complete (ENOSPC or OOM).
id=$(echo 'dd if=/dev/zero of=/tmp/f bs=1M count=256 && echo wrote-all' | submit -N mfull -l mem=64mb)
wait_job "$id" 60
check "a job cannot put more than its mem in /tmp" test "$(jfield "$id" end_reason)" != completed
check "  and never wrote it all" sh -c "! grep -q wrote-all '$WORK/mfull.o$id'"

stop_daemons
check "no sanitizer report in the first daemons' logs" \
  sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$T'/*.log"
stop_boxq
trap - EXIT

start_boxq "job_tmp = disk"
cd "$WORK"
id=$(printf 'stat -f -c %%T /tmp\nstat -c "%%a %%U" /tmp\necho here > /tmp/f\nsleep 2\n' |
  submit -N dtmp -l mem=64mb)
wait_state "$id" R
sleep 0.5
check "job_tmp = disk: the job's directory below job_tmp_dir" test -f "$STATE/tmp/job-$id/f"
check "  private to root's directory" test "$(stat -c '%U %a' "$STATE/tmp")" = "root 700"
wait_job "$id"
o="$WORK/dtmp.o$id"
check "  /tmp is not a tmpfs" test "$(sed -n 1p "$o")" != tmpfs
check "  owned by the job's user" test "$(sed -n 2p "$o")" = "700 root"
check "  removed after the job" test ! -e "$STATE/tmp/job-$id"

# The spool on a noexec mount (/run is on Debian, /dev/shm in containers):
# scripts still run, with or without a #! line, their interpreter's
# argument kept.
stop_daemons
check "no sanitizer report in the second daemons' logs" \
  sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$T'/*.log"
stop_boxq
trap - EXIT
start_boxq
stop_daemons
noexec=$T/noexec
mkdir "$noexec"
mount -t tmpfs -o noexec,nosuid,nodev,mode=755 tmpfs "$noexec" || skip "cannot mount a tmpfs here"
trap 'stop_daemons; umount -l "$noexec"; stop_boxq' EXIT
echo "spool_dir = $noexec/spool" >> "$BOXQ_CONFIG" # the file ends in [worker]
SPOOL=$noexec/spool
start_worker
start_sched
cd "$WORK"
a=$(printf '#!/bin/bash -e\nif [ -n "$BASH_VERSION" ]; then echo bash; else echo not-bash; fi\nfalse\necho not-reached\n' | submit -N shebang)
b=$(printf 'echo plain sh\n' | submit -N plain)
c=$(printf '#!/bin/sh\necho "$0"\n' | submit -N dollar0)
wait_job "$a"
wait_job "$b"
wait_job "$c"
check "noexec spool: a #! script runs under its interpreter" grep -qx bash "$WORK/shebang.o$a"
check "  with the interpreter's argument (-e stopped it)" \
  sh -c "! grep -q not-reached '$WORK/shebang.o$a'"
check "  exit status of the failing command" test "$(jfield "$a" Exit_status)" = 1
check "  a script without #! runs under sh" grep -qx "plain sh" "$WORK/plain.o$b"
check "  \$0 is the script's descriptor, as the kernel gives it" grep -qx /dev/fd/3 "$WORK/dollar0.o$c"

# A spool where others could plant a script or a result (a world-writable
# parent, as /dev/shm itself is) is refused, naming the directory.
stop_daemons
mkdir -m 1777 "$T/open"
cfg=$T/open.ini
sed "s|^spool_dir = .*|spool_dir = $T/open/spool|" "$BOXQ_CONFIG" > "$cfg"
out=$(timeout 10 "$BUILD/worker/boxq-worker" -c "$cfg" 2>&1)
rc=$?
check "a spool below a world-writable directory is refused (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "  naming it" has "$out" "refusing the spool $T/open/spool: $T/open is not a directory that only root can change"
mkdir -m 755 "$T/owned"
install -d -m 755 -o nobody "$T/owned/spool"
sed "s|^spool_dir = .*|spool_dir = $T/owned/spool|" "$BOXQ_CONFIG" > "$cfg"
out=$(timeout 10 "$BUILD/worker/boxq-worker" -c "$cfg" 2>&1)
rc=$?
check "a spool owned by another user is refused (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "  naming it" has "$out" "refusing the spool $T/owned/spool"

finish
