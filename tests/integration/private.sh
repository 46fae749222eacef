#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Nothing boxqd or the worker writes is readable by other users, from its
# first byte: the database and the files SQLite keeps beside it (-wal and
# -shm, created at the first start), the spool, the jobs' private /tmp
# roots. Checked as another user, on a fresh state directory, before and
# after a restart; under the systemd unit's own UMask= and
# StateDirectoryMode=, and under the loose ones of older units.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv > /dev/null || skip "setpriv (util-linux) missing"
command -v useradd > /dev/null || skip "useradd missing: cannot create the scheduler's account"
unit=$(dirname "$0")/../../etc/systemd/boxqd.service
unit_umask=$(sed -n 's/^UMask=//p' "$unit")
unit_dirmode=$(sed -n 's/^StateDirectoryMode=//p' "$unit")
check "the unit sets a private umask ($unit_umask)" test "$unit_umask" = 0077
check "the unit's state directory lets others only enter ($unit_dirmode)" test "$unit_dirmode" = 0711

suser=bqpriv$$
useradd -r -M -N -g nogroup -s /usr/sbin/nologin "$suser" || skip "cannot create a system user"
T0=$(mktemp -d /var/tmp/boxq-private.XXXXXX)
chmod 755 "$T0"
trap 'stop_boxq; userdel "$suser" 2> /dev/null; rm -rf "$T0"' EXIT
export SCHED_AS=$suser
secret_env=envsecret-$$-$RANDOM
secret_script=scriptsecret-$$-$RANDOM

as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}

# exposed DIR...: every file and directory below DIR that nobody can read
# (a directory: list), other than the client socket, which all may use.
exposed() {
  local f
  find "$@" -mindepth 1 2> /dev/null | while read -r f; do
    case $f in */boxqd.sock) continue ;; esac
    if [ -d "$f" ]; then
      as_nobody ls "$f" > /dev/null 2>&1 && echo "$f"
    elif as_nobody head -c1 "$f" > /dev/null 2>&1; then
      echo "$f"
    fi
  done
}

# check_private WHEN: files exist, none is readable by nobody, no secret
# can be found by nobody, and the state directory cannot be listed.
check_private() {
  local when=$1 left
  check "$when: the database and its -wal and -shm exist" \
    test -f "$STATE/boxq.db" -a -f "$STATE/boxq.db-wal" -a -f "$STATE/boxq.db-shm"
  check "$when: root finds the secrets in the state directory (the test can fail)" \
    grep -rqa -e "$secret_env" "$STATE"
  left=$(exposed "$STATE" "$SPOOL")
  check "$when: nobody can read or list anything in the state directory or the spool${left:+: $left}" \
    test -z "$left"
  check "$when: nobody can find a secret there" \
    sh -c "! setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups grep -rqa -e '$secret_env' -e '$secret_script' '$STATE' '$SPOOL' 2> /dev/null"
  check "$when: nobody cannot list the state directory" sh -c "! setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups ls '$STATE' > /dev/null 2>&1"
  check "$when: every regular file in the state directory is its owner's alone" \
    test -z "$(find "$STATE" -type f -perm /077)"
  # A job's script is read again through /dev/fd by the job's user; its
  # directory is root's alone.
  check "$when: and in the spool, all but job scripts" \
    test -z "$(find "$SPOOL" -type f -perm /077 ! -name script)"
  check "$when: but everyone can still use the queue" \
    sh -c "setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups env BOXQ_CONFIG='$BOXQ_CONFIG' '$BIN/qstat' > /dev/null"
}

# run_case NAME UMASK DIRMODE: a fresh state directory made as systemd
# would (StateDirectoryMode=DIRMODE, owned by the scheduler's account),
# both daemons started under UMask=UMASK, jobs with secrets, then a
# restart.
run_case() {
  local name=$1 mask=$2 dirmode=$3
  mkdir -m "$dirmode" "$T0/$name"
  chown "$suser" "$T0/$name"
  export DAEMON_UMASK=$mask
  start_boxq "scheduler_user = $suser" "[boxq]" "state_dir = $T0/$name"
  STATE=$T0/$name
  cd "$WORK"
  held=$(printf '#!/bin/sh\necho %s\n' "$secret_script" | submit -h -v "TOKEN=$secret_env" -N held)
  running=$(printf '#!/bin/sh\necho %s; sleep 30\n' "$secret_script" |
    as_nobody env BOXQ_CONFIG="$BOXQ_CONFIG" "$BIN/qsub" -v "TOKEN=$secret_env" -N running | cut -d. -f1)
  wait_state "$running" R
  sleep 0.3
  check "$name: another user's job runs (its script is read as its user)" \
    grep -qx "$secret_script" "$WORK/running.o$running"
  check "$name: the state directory is closed up to 0711" test "$(stat -c %a "$STATE")" = 711
  check_private "$name, first start"
  kill "$SCHED_PID"
  wait "$SCHED_PID" 2> /dev/null
  start_sched
  check_private "$name, after a restart"
  "$BIN/qdel" "$held" "$running"
  wait_job "$running"
  stop_daemons
  if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/*.log; then
    fail "$name: sanitizer reports in the daemon logs"
    grep -hE -A30 "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/*.log | head -80
  fi
  stop_boxq
  trap 'userdel "$suser" 2> /dev/null; rm -rf "$T0"' EXIT
}

run_case unit "$unit_umask" "$unit_dirmode"
run_case loose 0022 0755
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
