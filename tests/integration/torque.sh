#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Torque's ways on the real daemons: under dialect = torque a finished job
# stays in qstat as C with its exit_status for keep_completed, then is
# forgotten; pbsnodes -o puts the node offline (running jobs go on, none
# starts, it outlives a restart, only managers may) and -c clears it;
# -l cput is enforced on the job's CPU time; -m/-M mail goes through sendmail
# (or is recorded without one); qstat -n -1 shows the real
# execution slots.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v setpriv > /dev/null || skip "setpriv (util-linux) missing"
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
start_boxq "[boxq]" "dialect = torque" "[scheduler]" "ncpus = 2" "keep_completed = 3"
cd "$WORK"
tq() { "$BIN/qstat" "$@"; }            # the file says torque
pbs() { BOXQ_DIALECT=pbspro "$BIN/qstat" "$@"; }
field() { jfield "$@"; }

# ---- keep_completed ----
id=$(echo 'exit 7' | submit -N seven)
wait_job "$id" > /dev/null
out=$(tq)
check "a finished job stays in qstat as C" has "$out" "^$id\.[^ ]+ +seven .* C batch"
check "  qstat -f shows exit_status" has "$(tq -f "$id")" '^    exit_status = 7$'
check "  the XML too" has "$(tq -x "$id")" '<job_state>C</job_state>.*<exit_status>7</exit_status>'
sleep 3.5
check "after keep_completed it is gone from qstat" test -z "$(tq 2> /dev/null | grep "^$id\.")"
out=$(tq "$id" 2>&1)
check "  and qstat ID says Unknown Job Id" has "$out" "Unknown Job Id $id\."
check "  the PBS Pro forms still have its history" test "$(field "$id" job_state)" = F
check "BOXQ_DIALECT=pbspro overrides the file" test -z "$(pbs | grep "^$id\.")"
out=$(BOXQ_DIALECT=slurm "$BIN/qstat" 2>&1)
check "an unknown BOXQ_DIALECT is an error naming it" has "$out" "BOXQ_DIALECT=slurm"

# ---- qstat -n -1: the real execution slots ----
run=$(echo "$TSLEEP 60" | submit -l nodes=1:ppn=2 -N wide)
wait_state "$run" R
# exec_host follows the start by a moment: the worker reports the slots.
for _ in $(seq 1 50); do
  host=$(field "$run" exec_host)
  [ -n "$host" ] && break
  sleep 0.1
done
check "qstat -n -1 shows the job's slots on its line" \
  has "$(tq -n -1 "$run")" "^$run\.[^ ]+ .* R .*   ${host%%/*}/0-1$"
check "pbsnodes -a: job-exclusive, its slots" has "$("$BIN/pbsnodes" -a)" "^     jobs = 0-1/$run\."

# ---- pbsnodes -o / -c ----
node=$("$BIN/pbsnodes" -a | head -1)
out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups env BOXQ_CONFIG="$BOXQ_CONFIG" \
  "$BIN/pbsnodes" -o "$node" 2>&1)
check "pbsnodes -o by an ordinary user is refused" has "$out" "only root, managers and operators"
check "pbsnodes -o" "$BIN/pbsnodes" -o -N "disk check" "$node"
check "  -l lists the node offline with its note" has "$("$BIN/pbsnodes" -l -n)" "^$node +offline +disk check$"
check "  the running job goes on" test "$(field "$run" job_state)" = R
"$BIN/qdel" "$run"
wait_job "$run" > /dev/null
q=$(echo true | submit -N waits)
sleep 1
check "  a new job does not start" test "$(field "$q" job_state)" = Q
check "  and says why" has "$(field "$q" comment)" "node is offline"
stop_daemons
start_worker
start_sched
check "  offline outlives a restart" has "$("$BIN/pbsnodes" -l)" "^$node +offline$"
sleep 1
check "  the job still waits" test "$(field "$q" job_state)" = Q
check "pbsnodes -c" "$BIN/pbsnodes" -c "$node"
check "  the job starts and ends" wait_job "$q" 20
out=$("$BIN/pbsnodes" -o nosuchnode 2>&1)
check "pbsnodes names an unknown node" has "$out" "Unknown node: nosuchnode"

# ---- -l cput ----
burn=$(echo "$HELPERS/cpuburn 2 60" | submit -l cput=2,ncpus=2 -N burn)
check "a job over its cput is ended" wait_job "$burn" 30
check "  as cput-exceeded" test "$(field "$burn" end_reason)" = cput-exceeded
used=$(field "$burn" resources_used.cput)
check "  within a second per CPU of its limit (used $used)" \
  sh -c "case '$used' in 00:00:0[2-4]) true ;; *) false ;; esac"
check "  Resource_List.cput shown" test "$(field "$burn" Resource_List.cput)" = 00:00:02
check "  tracejob says so" has "$("$BIN/tracejob" "$burn")" " cput +cput 2s exceeded"
ok_job=$(echo "$HELPERS/cpuburn 1 1" | submit -l cput=00:01:00)
wait_job "$ok_job" > /dev/null
check "a job under its cput completes" test "$(field "$ok_job" end_reason)" = completed
check "qacct counts cput-exceeded as failed" \
  has "$("$BIN/qacct" --state cput-exceeded --csv)" "^$burn\."

# ---- mail (-m, -M) ----
m=$(echo true | submit -m abe -M someone@example.org)
wait_job "$m" > /dev/null
check "without a sendmail, mail is recorded only" \
  has "$("$BIN/tracejob" "$m")" " mail +ended: for someone@example.org, not sent \(/usr/sbin/sendmail"
# A sendmail of the test's own: it keeps what it was given.
printf '#!/bin/sh\nf=%s/mail.$$\n{ echo "ARGS: $*"; cat; } > "$f.tmp" && mv "$f.tmp" "$f"\n' "$T" \
  > "$T/bin/sendmail"
chmod 755 "$T/bin/sendmail"
echo "sendmail = $T/bin/sendmail" >> "$BOXQ_CONFIG"
stop_daemons
start_worker
start_sched
m=$(echo 'exit 3' | submit -N mailed -m abe -M someone@example.org,other)
late=$(echo "$TSLEEP 10" | submit -l walltime=1 -N late)
quiet=$(echo true | submit -m n)
for j in "$m" "$late" "$quiet"; do wait_job "$j" 20 > /dev/null; done
eventually test "$(ls "$T"/mail.* 2> /dev/null | grep -vc tmp)" -ge 3
mails=$(cat "$T"/mail.* 2> /dev/null)
check "-m b: a mail when it began" has "$mails" "^Begun execution$"
check "-m e: one when it ended, with its exit status" has "$mails" "^Exit_status=3$"
check "  to the -M users, as sendmail's arguments" has "$mails" "^ARGS: -oi -- someone@example.org other$"
check "  Subject: PBS JOB id" has "$mails" "^Subject: PBS JOB $m\."
check "no -m: PBS's default, a mail when the system ends it" has "$mails" "^Subject: PBS JOB $late\."
check "  saying why" has "$mails" "^walltime 1s exceeded$"
check "  to its owner" has "$mails" "^ARGS: -oi -- root$"
check "-m n: none" test -z "$(grep -l "PBS JOB $quiet\." "$T"/mail.* 2> /dev/null)"
check "tracejob shows each mail sent" test "$("$BIN/tracejob" "$m" | grep -c " mail .* through ")" = 2
check "qstat -f: Mail_Points, Mail_Users" \
  test "$(field "$m" Mail_Points)/$(field "$m" Mail_Users)" = abe/someone@example.org,other
finish
