#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Operating the box at run time: qstop/qstart (a queue's jobs start or
# not; running ones go on), qdisable/qenable (new jobs accepted or not),
# qmgr's server scheduling switch and queue attributes, all kept across a
# restart of boxqd, refused to ordinary users, and logged with who did it;
# qmove into another queue, qrun past the policy when the job fits; and
# SIGHUP reading the configuration again (queues added and removed, a bad
# file refused whole).
. "$(dirname "$0")/lib.sh"
require_root_cgroups
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
command -v setpriv > /dev/null || skip "setpriv (util-linux) missing"
start_boxq "[scheduler]" "ncpus = 2" "[queue batch]" "priority = 1" "[queue fast]" "priority = 2"
cd "$WORK"
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" "$@"
}
restart() {
  stop_daemons
  start_worker
  start_sched
}

# ---- qstop / qstart ----
run=$(echo "$TSLEEP 30" | submit -q batch)
wait_state "$run" R
check "qstop batch" "$BIN/qstop" batch
check "  qstat -Q says it is stopped" has "$("$BIN/qstat" -Q batch)" '^batch .* yes  no '
q=$(echo true | submit -q batch)
f=$(echo true | submit -q fast)
check "  another queue's job still runs" wait_job "$f" 10
sleep 0.5
check "  its new job waits" test "$(jfield "$q" job_state)" = Q
check "  its running job goes on" test "$(jfield "$run" job_state)" = R
restart
sleep 0.5
check "  stopped across a restart" test "$(jfield "$q" job_state)" = Q
check "qstart batch" "$BIN/qstart" batch
check "  and ends" wait_job "$q" 10
"$BIN/qdel" "$run"
check "the log says who stopped it" has "$(cat "$T/sched.log")" "queue batch: started = false, by root"

# ---- qdisable / qenable ----
check "qdisable fast" "$BIN/qdisable" fast
out=$(echo true | "$BIN/qsub" -q fast 2>&1)
check "  a new job for it is refused" has "$out" "not accepting jobs"
check "qenable fast" "$BIN/qenable" fast
check "  accepted again" sh -c "echo true | '$BIN/qsub' -q fast > /dev/null"
out=$("$BIN/qstop" nosuch 2>&1)
check "an unknown queue is named" has "$out" "Unknown queue 'nosuch'"
out=$(as_nobody "$BIN/qstop" batch 2>&1)
check "an ordinary user may not stop a queue" has "$out" "only root, managers and operators"

# ---- qmgr ----
check "qmgr: set server scheduling = false" "$BIN/qmgr" -c 'set server scheduling = false'
s=$(echo true | submit)
sleep 0.5
check "  no job starts" test "$(jfield "$s" job_state)" = Q
check "  and it says why" has "$(jfield "$s" comment)" "scheduling is off"
check "  qstat -Bf: scheduling = False" has "$("$BIN/qstat" -B -f)" '^    scheduling = False$'
restart
sleep 0.5
check "  off across a restart" test "$(jfield "$s" job_state)" = Q
check "qmgr -c 's s scheduling=true' (abbreviated)" "$BIN/qmgr" -c 's s scheduling=true'
check "  the job runs" wait_job "$s" 10
check "qmgr: set queue batch started = false" "$BIN/qmgr" -c 'set queue batch started = false'
check "  qmgr: list queue batch shows it" has "$("$BIN/qmgr" -c 'list queue batch')" 'started = False'
echo 'set queue batch started = true' | "$BIN/qmgr"
check "  commands on standard input" has "$("$BIN/qstat" -Q -f batch)" 'started = True'
check "qmgr: list server" has "$("$BIN/qmgr" -c 'list server')" '^Server '
out=$("$BIN/qmgr" -c 'create queue extra' 2>&1)
rc=$?
check "an unknown qmgr command is refused" test "$rc" -ne 0
check "  naming it" has "$out" "'create queue extra': not a command"
out=$(as_nobody "$BIN/qmgr" -c 'set server scheduling = false' 2>&1)
check "an ordinary user may not turn scheduling off" has "$out" "only root, managers and operators"

# ---- qmove, qrun ----
big=$(echo "$TSLEEP 30" | submit -q batch -l ncpus=2)
wait_state "$big" R
mv=$(echo true | submit -q batch -h)
check "qmove fast ID" "$BIN/qmove" fast "$mv"
check "  the job is in fast now" test "$(jfield "$mv" queue)" = fast
out=$("$BIN/qmove" nosuch "$mv" 2>&1)
check "  an unknown queue is named" has "$out" "Unknown queue 'nosuch'"
"$BIN/qdel" "$mv"
r2=$(echo true | submit -q fast)
out=$("$BIN/qrun" "$r2" 2>&1)
check "qrun of a job that does not fit is refused, saying so" has "$out" "does not fit now"
"$BIN/qdel" "$big" "$r2"
wait_job "$big" > /dev/null
"$BIN/qstop" batch
r=$(echo true | submit -q batch)
sleep 0.5
check "qrun: a job of a stopped queue waits" test "$(jfield "$r" job_state)" = Q
out=$(as_nobody "$BIN/qrun" "$r" 2>&1)
check "  an ordinary user may not qrun it" test $? -ne 0
check "qrun starts it past the policy" "$BIN/qrun" "$r"
check "  it runs to the end" wait_job "$r" 10
check "  tracejob says how it started" has "$("$BIN/tracejob" "$r")" "dispatched .*by qrun"
"$BIN/qstart" batch

# ---- SIGHUP: the configuration read again ----
held=$(echo true | submit -q fast -h)
printf '[queue night]\npriority = 3\nmax_ncpus = 1\n' >> "$BOXQ_CONFIG"
sed -i '/^\[queue fast\]$/,+1d' "$BOXQ_CONFIG"
kill -HUP "$SCHED_PID"
eventually grep -q "configuration reloaded" "$T/sched.log"
check "SIGHUP: a queue added" has "$("$BIN/qstat" -Q)" '^night '
check "  with its limits" has "$(echo true | "$BIN/qsub" -q night -l ncpus=2 2>&1)" "max_ncpus"
n=$(echo true | submit -q night)
check "  and it runs jobs" wait_job "$n" 10
check "  a queue removed" test -z "$("$BIN/qstat" -Q 2> /dev/null | grep '^fast ')"
check "  the log says its jobs stay" has "$(cat "$T/sched.log")" "queue fast is gone from the configuration"
"$BIN/qrls" "$held"
sleep 0.5
check "  its job stays queued" test "$(jfield "$held" job_state)" = Q
check "  and says why" has "$(jfield "$held" comment)" "no longer in the configuration"
check "  qmove takes it elsewhere, and it runs" sh -c "'$BIN/qmove' batch $held"
check "  (runs)" wait_job "$held" 10
cp "$BOXQ_CONFIG" "$T/good.ini"
printf '[scheduler]\nbogus_key = 1\n' >> "$BOXQ_CONFIG"
kill -HUP "$SCHED_PID"
eventually grep -q "reload refused" "$T/sched.log"
check "a bad file is refused whole, naming file:line" \
  has "$(cat "$T/sched.log")" "reload refused, the running configuration stays: $BOXQ_CONFIG:[0-9]+"
n2=$(echo true | BOXQ_CONFIG="$T/good.ini" "$BIN/qsub" -q night)
check "  the running configuration stays (its queues take jobs)" test -n "$n2"
cp "$T/good.ini" "$BOXQ_CONFIG"
finish
