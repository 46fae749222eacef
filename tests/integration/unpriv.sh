#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# boxqd runs as an unprivileged account; only the worker is root, and only
# that account (and root) can reach the worker.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v useradd > /dev/null || skip "useradd missing: cannot create the scheduler's account"
suser=bqsch$$
useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$suser" || skip "cannot create a system user"
trap 'userdel "$suser" 2> /dev/null' EXIT
export SCHED_AS=$suser
# The state directory belongs to the scheduler's account, as systemd's
# StateDirectory= makes it; the worker (root) adds its root-only spool.
T0=$(mktemp -d /var/tmp/boxq-unpriv.XXXXXX)
chmod 755 "$T0"
mkdir "$T0/state"
chown "$suser" "$T0/state"
start_boxq "scheduler_user = $suser" "[boxq]" "state_dir = $T0/state"
trap 'stop_boxq; userdel "$suser" 2> /dev/null; rm -rf "$T0"' EXIT
STATE=$T0/state
cd "$WORK"

check "boxqd runs as $suser, not root" test "$(ps -o user= -p "$SCHED_PID" | tr -d ' ')" = "$suser"
check "the worker runs as root" test "$(ps -o user= -p "$WORKER_PID" | tr -d ' ')" = root
check "the worker socket belongs to the scheduler's account, mode 600" \
  test "$(stat -c '%U %a' "$STATE/worker.sock")" = "$suser 600"
check "the job spool is root-only" test "$(stat -c '%U %a' "$SPOOL")" = "root 700"
check "the state directory: the scheduler's, others may only enter" \
  test "$(stat -c '%U %a' "$STATE")" = "$suser 711"
check "the client socket: every local user may connect" \
  test "$(stat -c '%U %a' "$STATE/boxqd.sock")" = "$suser 666"
check "the database belongs to the scheduler, mode 600" \
  test "$(stat -c '%U %a' "$STATE/boxq.db")" = "$suser 600"
id=$(echo 'echo "uid=$(id -un)"' | setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups \
  env BOXQ_CONFIG="$BOXQ_CONFIG" "$BIN/qsub" | cut -d. -f1)
wait_job "$id"
check "jobs run as their submitter" grep -qx "uid=nobody" "$WORK/STDIN.o$id"
check "with full accounting" test -n "$(afield "$id" cpu)"
check "other users cannot reach the worker" sh -c "! setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups '$HELPERS/rawclient' '$STATE/worker.sock' unknown 2>/dev/null"

finish
