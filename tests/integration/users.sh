#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Jobs run as their submitter, with that user's groups; a user cannot act
# on another's job; output files are opened with the user's rights; root's
# jobs are refused unless the configuration allows them.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv > /dev/null || skip "setpriv (util-linux) missing"
# Daemon-side variables (secrets, preload) must never reach a job.
export BOXQ_DAEMON_SECRET=daemon-only LD_PRELOAD=
start_boxq
unset BOXQ_DAEMON_SECRET LD_PRELOAD
cd "$WORK"

# as_nobody CMD...: run a client as nobody with nobody's groups.
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" "$@"
}

nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
s=$(job_script 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
echo "user=$USER home=$HOME"
touch /root/boxq-should-not-exist 2>/dev/null && echo "wrote as root"
exit 0')
chmod 644 "$s"
id=$(as_nobody "$BIN/qsub" -N asnobody "$s" | cut -d. -f1)
check "nobody can submit" test -n "$id"
wait_job "$id"
o="$WORK/asnobody.o$id"
check "job runs as nobody's uid and gid" grep -qx "uid=$nobody_uid gid=$nobody_gid groups=$(id -G nobody)" "$o"
check "job environment names the user" grep -q "^user=nobody " "$o"
check "job cannot use root's rights" sh -c "! grep -q 'wrote as root' '$o' && [ ! -e /root/boxq-should-not-exist ]"
check "Job_Owner is nobody" sh -c "'$BIN/qstat' -x -f $id | grep -q 'Job_Owner = nobody@'"
check "output file belongs to nobody" test "$(stat -c %u "$o")" = "$nobody_uid"

# Output where nobody may not write: the job fails to start, nothing written.
target=/root/boxq-out-$$
id=$(as_nobody "$BIN/qsub" -N denied -o "$target" "$s" | cut -d. -f1)
wait_job "$id"
check "unwritable output: launch failed" test "$(jfield "$id" end_reason)" = launch-failed
check "unwritable output: its own exit status (-2: files)" test "$(jfield "$id" Exit_status)" = -2
check "the reason names the file and the error" sh -c "'$BIN/qstat' -x -f $id | grep 'comment = ' | grep -q 'output file $target: Permission denied'"
check "nothing was written there" test ! -e "$target"

# A symlink planted at the output path cannot redirect the write.
ln -s /root/boxq-link-target-$$ "$WORK/planted.out"
id=$(as_nobody "$BIN/qsub" -N planted -o "$WORK/planted.out" "$s" | cut -d. -f1)
wait_job "$id"
check "symlinked output does not let nobody write as root" test ! -e /root/boxq-link-target-$$
rm -f "$WORK/planted.out"

# Working directory the user cannot enter.
mkdir -p "$T/private"
chmod 700 "$T/private"
id=$(cd "$T/private" && echo true | as_nobody "$BIN/qsub" -N nodir -o "$WORK/nodir.out" 2>/dev/null | cut -d. -f1)
if [ -n "$id" ]; then
  wait_job "$id"
  check "inaccessible working directory: launch failed" test "$(jfield "$id" end_reason)" = launch-failed
  check "  with the files' exit status (-2)" test "$(jfield "$id" Exit_status)" = -2
else
  ok "inaccessible working directory refused at submission"
fi

# Nobody cannot touch root's jobs; root can touch nobody's.
rid=$(echo 'sleep 60' | submit -h -N rootjob)
as_nobody "$BIN/qdel" "$rid" 2> "$WORK/e1"
rc=$?
check "qdel of another's job: non-zero exit" test "$rc" -ne 0
check "qdel of another's job: says unauthorized" grep -q "Unauthorized" "$WORK/e1"
as_nobody "$BIN/qrls" "$rid" 2> /dev/null
check "nobody cannot qrls root's job" test "$(jfield "$rid" job_state)" = H
sid=$(echo 'trap "echo got-usr1" USR1; while :; do sleep 0.1; done' | submit -N sigvictim)
wait_state "$sid" R
out=$(as_nobody "$BIN/qsig" -s USR1 "$sid" 2>&1)
check "nobody cannot qsig root's job" has "$out" "Unauthorized"
"$BIN/qdel" "$sid"
wait_job "$sid"
check "the signal never reached it" sh -c "! grep -q got-usr1 '$WORK/sigvictim.o$sid'"
out=$(as_nobody "$BIN/tracejob" "$sid" 2>&1)
check "nobody cannot read the history of root's job" has "$out" "Unauthorized"
nid=$(echo 'sleep 60' | as_nobody "$BIN/qsub" -h -N nobodyjob | cut -d. -f1)
as_nobody "$BIN/qhold" "$rid" 2> /dev/null
check "root's job untouched" test "$(jfield "$rid" job_state)" = H
"$BIN/qdel" "$nid"
check "root can qdel nobody's job" test "$(jfield "$nid" end_reason)" = cancelled
"$BIN/qdel" "$rid"

# The environment is built, not inherited from the daemons.
s=$(job_script 'env | sort')
id=$(as_nobody env BOXQ_SECRET=leak "$BIN/qsub" -N env "$s" | cut -d. -f1)
wait_job "$id"
check "no daemon variable reaches the job" sh -c "! grep -q -e BOXQ_CONFIG -e BOXQ_DAEMON_SECRET -e LD_PRELOAD '$WORK/env.o$id'"
check "without -V the submitter's variables stay out" sh -c "! grep -q BOXQ_SECRET '$WORK/env.o$id'"
id=$(as_nobody env BOXQ_SECRET=mine "$BIN/qsub" -V -N envv "$s" | cut -d. -f1)
wait_job "$id"
check "-V copies the submitter's own environment" grep -qx "BOXQ_SECRET=mine" "$WORK/envv.o$id"
id=$(echo 'echo "id=$PBS_JOBID"' | as_nobody "$BIN/qsub" -v PBS_JOBID=fake -N pbsid | cut -d. -f1)
wait_job "$id"
check "PBS_JOBID set by boxq, not the submitter" grep -q "^id=$id\\." "$WORK/pbsid.o$id"

# Operators (here by group) and managers (here by name) may act on other
# users' jobs; nobody else may.
if command -v useradd > /dev/null; then
  opuser=bqop$$
  mgruser=bqmgr$$
  opgroup=bqops$$
  groupadd "$opgroup" && useradd -M -N -g nogroup -G "$opgroup" -s /bin/sh "$opuser" &&
    useradd -M -N -g nogroup -s /bin/sh "$mgruser"
  trap 'userdel "$opuser" 2>/dev/null; userdel "$mgruser" 2>/dev/null; groupdel "$opgroup" 2>/dev/null; stop_boxq' EXIT
  as_op() { setpriv --reuid="$opuser" --regid=nogroup --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" "$@"; }
  as_mgr() { setpriv --reuid="$mgruser" --regid=nogroup --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" "$@"; }
  printf '[scheduler]\noperators = @%s\nmanagers = %s\n' "$opgroup" "$mgruser" >> "$BOXQ_CONFIG"
  kill "$SCHED_PID"
  wait "$SCHED_PID" 2> /dev/null
  start_sched
  nid=$(echo 'sleep 60' | as_nobody "$BIN/qsub" -h -N victim | cut -d. -f1)
  as_op "$BIN/qhold" "$nid"
  check "an operator (by group) may act on another user's job" as_op "$BIN/qdel" "$nid"
  check "the job was cancelled by the operator" test "$(jfield "$nid" end_reason)" = cancelled
  oid=$(echo 'sleep 60' | as_op "$BIN/qsub" -h -N opjob | cut -d. -f1)
  as_nobody "$BIN/qdel" "$oid" 2> /dev/null
  check "a plain user still may not touch the operator's job" test "$(jfield "$oid" job_state)" = H
  as_mgr "$BIN/qrls" "$oid"
  check "a manager (by name) may release another user's job" test "$(jfield "$oid" job_state)" != H
  check "and delete it" as_mgr "$BIN/qdel" "$oid"
  # A user removed while their job waited: the job never runs as anyone.
  gone=bqgone$$
  useradd -M -N -g nogroup -s /bin/sh "$gone"
  gid_job=$(echo 'id' | setpriv --reuid="$gone" --regid=nogroup --clear-groups \
    env BOXQ_CONFIG="$BOXQ_CONFIG" "$BIN/qsub" -h -N gone -o "$WORK/gone.out" | cut -d. -f1)
  userdel "$gone"
  "$BIN/qrls" "$gid_job"
  wait_job "$gid_job"
  check "job of a removed user: launch failed" test "$(jfield "$gid_job" end_reason)" = launch-failed
  check "  with the user's exit status (-10)" test "$(jfield "$gid_job" Exit_status)" = -10
  check "  and never ran" test ! -e "$WORK/gone.out"
else
  echo "# useradd missing: operator and manager tests skipped"
fi

# Root's jobs are refused by default.
sed -i 's/allow_root_jobs = true/allow_root_jobs = false/' "$BOXQ_CONFIG"
kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
: > "$T/sched.log"
start_sched
out=$(echo true | "$BIN/qsub" 2>&1)
rc=$?
check "root submission refused by default" test "$rc" -ne 0
check "refusal names the setting" has "$out" 'allow_root_jobs' 
id=$(echo true | as_nobody "$BIN/qsub" | cut -d. -f1)
check "other users still submit" test -n "$id"

finish
