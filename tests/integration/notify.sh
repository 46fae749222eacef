#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Watching, waiting and being told: qpeek shows a running job's output (and
# follows it) as its reader, qwait waits for jobs (ids, -u, -q) and exits
# with the first non-zero exit status, answered by boxqd when the jobs end
# (one request, no polling), and stops waiting on SIGTERM leaving the jobs
# alone; the site's on_job_end hook runs for every job's end with its
# fields in the environment, as hook_user, killed after hook_timeout,
# without holding up the scheduler.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv > /dev/null || skip "setpriv (util-linux) missing"
HOOKS=$(mktemp -d /var/tmp/boxq-hooks.XXXXXX)
chmod 1777 "$HOOKS"
printf '#!/bin/sh\nenv > "%s/hook.$BOXQ_JOB_ID.tmp"\nid -un >> "%s/hook.$BOXQ_JOB_ID.tmp"\nmv "%s/hook.$BOXQ_JOB_ID.tmp" "%s/hook.$BOXQ_JOB_ID"\ncase "$BOXQ_JOB_NAME" in hang*) exec sleep 300 ;; esac\n' \
  "$HOOKS" "$HOOKS" "$HOOKS" "$HOOKS" > "$HOOKS/hook"
chmod 755 "$HOOKS/hook"
start_boxq "[scheduler]" "ncpus = 4" "on_job_end = $HOOKS/hook" "hook_user = nobody" "hook_timeout = 2"
trap 'stop_boxq; rm -rf "$HOOKS"' EXIT
cd "$WORK"

# ---- qwait ----
a=$(echo "$TSLEEP 1; exit 3" | submit)
b=$(echo "$TSLEEP 2" | submit)
start=$(date +%s%N)
"$BIN/qwait" "$a" "$b.$(jfield "$b" server)"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "qwait returns the first non-zero exit status" test "$rc" = 3
check "  once both have ended (${took} ms)" test "$(jfield "$b" job_state)" = F
check "  not long after (under 1.5 s past the second's 2 s)" test "$took" -lt 3500
ok_ids=$(for i in 1 2 3; do echo true | submit; done)
"$BIN/qwait" $ok_ids
check "qwait on jobs that all succeed: 0" test $? = 0
"$BIN/qwait" "$a"
check "qwait on a finished job answers at once" test $? = 3
k=$(echo "kill -KILL \$\$" | submit)
"$BIN/qwait" "$k"
check "a job killed by signal 9: 137" test $? = 137
out=$("$BIN/qwait" 99999 2>&1)
rc=$?
check "an unknown job: non-zero" test "$rc" -ne 0
check "  named" has "$out" "Unknown Job Id 99999"
arr=$(echo 'exit $PBS_ARRAY_INDEX' | "$BIN/qsub" -J 0-2)
"$BIN/qwait" "$arr"
check "qwait on an array waits for all its tasks" test "$(jfield "${arr%%.*}" job_state)" = F
u1=$(echo "$TSLEEP 1" | submit -q batch)
"$BIN/qwait" -u root
check "qwait -u: every job of the user" test "$(jfield "$u1" job_state)" = F
"$BIN/qwait" -q batch
check "qwait -q with nothing left: 0 at once" test $? = 0
long=$(echo "$TSLEEP 60" | submit)
"$BIN/qwait" "$long" 2> "$T/qwait.err" &
w=$!
sleep 0.5
kill -TERM "$w"
wait "$w"
check "SIGTERM: qwait stops, 130" test $? = 130
check "  saying the jobs keep running" grep -q "no longer waiting" "$T/qwait.err"
check "  and the job does" test "$(jfield "$long" job_state)" = R
"$BIN/qdel" "$long"
"$BIN/qwait" "$long"
check "qwait on a deleted job: it never finished well" test $? -ne 0

# ---- qpeek ----
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" "$@"
}
p=$(printf 'for i in 1 2 3 4 5 6; do echo "line $i"; %s 0.4; done\necho oops >&2\n' "$TSLEEP" |
  submit -N peek -W umask=077)
wait_state "$p" R
sleep 0.6
out=$("$BIN/qpeek" "$p")
check "qpeek: a running job's output so far" has "$out" "^line 1$"
check "  the file is its owner's alone (umask 077)" test "$(stat -c %a "$WORK/peek.o$p")" = 600
out=$(as_nobody "$BIN/qpeek" "$p" 2>&1)
check "  another user cannot read it through qpeek" has "$out" "Permission denied"
"$BIN/qpeek" -f "$p" > "$T/peek.out"
check "qpeek -f follows it to the end" test "$(grep -c '^line' "$T/peek.out")" = 6
check "  and stops when the job ends" test "$(jfield "$p" job_state)" = F
check "qpeek -e: standard error" test "$("$BIN/qpeek" -e "$p")" = oops
check "qpeek -n 2: the last lines" test "$("$BIN/qpeek" -n 2 "$p" | tr '\n' ' ')" = "line 5 line 6 "
hq=$(echo true | submit -h)
out=$("$BIN/qpeek" "$hq" 2>&1)
check "qpeek on a job that has not started says so" has "$out" "has not started"
"$BIN/qdel" "$hq"

# ---- on_job_end ----
h=$(echo 'exit 5' | submit -N hooked -A acct7)
wait_job "$h" > /dev/null
eventually test -f "$HOOKS/hook.$h.$(jfield "$h" server)"
f="$HOOKS/hook.$h.$(jfield "$h" server)"
check "on_job_end ran for the job" test -f "$f"
check "  as hook_user" test "$(tail -1 "$f" 2> /dev/null)" = nobody
check "  with its exit status" grep -q '^BOXQ_JOB_EXIT_STATUS=5$' "$f"
check "  its name, owner, account and end" \
  sh -c "grep -q '^BOXQ_JOB_NAME=hooked$' '$f' && grep -q '^BOXQ_JOB_OWNER=root$' '$f' && grep -q '^BOXQ_JOB_ACCOUNT=acct7$' '$f' && grep -q '^BOXQ_JOB_END_REASON=failed$' '$f'"
check "  and nothing of boxqd's environment" sh -c "! grep -q '^BOXQ_CONFIG=' '$f'"
hang=$(echo true | submit -N hang)
wait_job "$hang" > /dev/null
next=$(echo true | submit -N after)
check "a hanging hook holds nothing up" wait_job "$next" 5
sleep 2.5
check "  and is killed after hook_timeout" has "$(cat "$T/sched.log")" "on_job_end still running after its timeout: killed"
finish
