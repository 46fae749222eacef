#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The scheduling policy with the real daemons: queues and their limits,
# pending reasons, dependencies, arrays with a cap, deferred start,
# backfill, qalter, qselect and qrerun.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "[scheduler]" "ncpus = 2" "mem = 2gb" "default_mem = 64mb" \
  "[queue batch]" "default_walltime = 10:00" "max_walltime = 1:00:00" "max_ncpus = 2" \
  "[queue fast]" "priority = 100" "max_ncpus = 1" "max_mem = 256mb" "max_job_priority = 100" \
  "[queue limited]" "max_user_ncpus = 1" "default_walltime = 5:00" \
  "[queue closed]" "enabled = false" \
  "[queue paused]" "started = false" \
  "[queue private]" "acl_users = nobody" "acl_groups = nogroup"
cd "$WORK"
q() { "$BIN/qstat" "$@"; }

# ---- queues: admission ----
out=$(echo true | "$BIN/qsub" -q nosuch 2>&1)
check "unknown queue refused" has "$out" "Unknown queue 'nosuch'"
out=$(echo true | "$BIN/qsub" -q fast -l ncpus=2 2>&1)
check "above a queue maximum refused, naming it" has "$out" "ncpus=2 exceeds queue 'fast' max_ncpus \(1\)"
out=$(echo true | "$BIN/qsub" -l walltime=2:00:00 2>&1)
check "walltime above the default queue's maximum refused" has "$out" "max_walltime \(01:00:00\)"
out=$(echo true | "$BIN/qsub" -q fast -l mem=1gb 2>&1)
check "mem above the maximum refused" has "$out" "max_mem \(256mb\)"
out=$(echo true | "$BIN/qsub" -q fast -p 500 2>&1)
check "priority above the queue's max_job_priority refused" has "$out" "max_job_priority \(100\)"
out=$(echo true | "$BIN/qsub" -q closed 2>&1)
check "disabled queue refuses jobs" has "$out" "not accepting jobs"
out=$(echo true | "$BIN/qsub" -q private 2>&1)
check "queue ACL refuses others" has "$out" "may not submit to queue 'private'"
check "nothing was stored by the refusals" test -z "$(q -x)"

# Queue defaults fill what the job left out.
id=$(echo true | submit -q limited -h)
check "queue default walltime applied" test "$(jfield "$id" Resource_List.walltime)" = 00:05:00
"$BIN/qdel" "$id"

# ---- a stopped queue and a per-user limit: jobs wait and say why ----
p=$(echo true | submit -q paused)
sleep 0.3
check "job in a stopped queue waits" test "$(jfield "$p" job_state)" = Q
check "and says why" has "$(jfield "$p" comment)" "queue is stopped"
check "qstat -f shows its priority factors" has "$(jfield "$p" sched_priority)" "^priority=[0-9]+ queue=.* fairshare=.* age=.* size=.* job="
"$BIN/qdel" "$p"

l1=$(echo 'sleep 3' | submit -q limited -N lim1)
l2=$(echo 'sleep 1' | submit -q limited -N lim2)
wait_state "$l1" R 10
sleep 0.3
check "second job over the user's CPU limit waits" test "$(jfield "$l2" job_state)" = Q
check "its comment names the limit" has "$(jfield "$l2" comment)" "max_user_ncpus"
wait_job "$l1" 20
wait_job "$l2" 20
check "it runs once the first has ended" test "$(jfield "$l2" stime)" != ""
check "and not before" test "$(date -d "$(jfield "$l2" stime)" +%s)" -ge "$(date -d "$(jfield "$l1" obittime)" +%s)"

# ---- dependencies ----
a=$(echo 'sleep 1; exit 0' | submit -N dep_a)
bad=$(echo 'exit 3' | submit -N dep_bad)
b=$(echo 'echo b ran' | submit -N dep_b -W depend=afterok:$a)
c=$(echo 'echo c ran' | submit -N dep_c -W depend=afterok:$bad)
d=$(echo 'echo d ran' | submit -N dep_d -W depend=afternotok:$bad)
e=$(echo 'echo e ran' | submit -N dep_e -W depend=afterany:$a:$bad)
f=$(echo 'echo f ran' | submit -N dep_f -W depend=afterok:$c)
check "a dependent waits held by the system" test "$(jfield "$b" Hold_Types)" = s
check "and says on what" has "$(jfield "$b" comment)" "afterok:$a"
for j in $a $bad $b $c $d $e $f; do wait_job "$j" 30; done
check "afterok ran after success" test "$(cat dep_b.o$b)" = "b ran"
check "afterok on a failure never runs" test "$(jfield "$c" end_reason)" = dependency-never-satisfied
check "  and produced no output" test ! -e "dep_c.o$c"
check "afternotok ran after the failure" test "$(cat dep_d.o$d)" = "d ran"
check "afterany ran after both" test "$(cat dep_e.o$e)" = "e ran"
check "the chain behind a never-satisfied job ends too" test "$(jfield "$f" end_reason)" = dependency-never-satisfied
check "b started after a ended" test "$(date -d "$(jfield "$b" stime)" +%s)" -ge "$(date -d "$(jfield "$a" obittime)" +%s)"
check "tracejob says why c never ran" has "$("$BIN/tracejob" "$c")" "dependency never satisfied: afterok:$bad did not complete"
out=$(echo true | "$BIN/qsub" -W depend=afterok:99999 2>&1)
check "a dependency on an unknown job is refused" has "$out" "Unknown Job Id 99999"

# ---- arrays ----
mkdir -p "$WORK/running"
arr=$(job_script 'touch "$PBS_O_WORKDIR/running/$PBS_ARRAY_INDEX"
ls "$PBS_O_WORKDIR/running" | wc -l > "$PBS_O_WORKDIR/seen.$PBS_ARRAY_INDEX"
sleep 0.6
rm "$PBS_O_WORKDIR/running/$PBS_ARRAY_INDEX"
echo "task $PBS_ARRAY_INDEX of $PBS_ARRAY_ID is $PBS_JOBID"')
out=$("$BIN/qsub" -N arr -J 1-6%2 "$arr")
check "an array's id is ID[]" has "$out" '^[0-9]+\[\]\.'
A=${out%%\[*}
after_arr=$(echo 'echo after array' | submit -N after_arr -W depend=afterok:$A[])
sleep 0.5
check "qstat shows the array begun (B)" has "$(q)" "^$A\[\]\..* B batch"
check "qstat -t lists its tasks" has "$(q -t)" "^$A\[3\]\."
check "qstat -f of one task" test "$(jfield "$A[2]" array_index)" = 2
wait_job "$A[]" 60
check "array ended completed" test "$(jfield "$A[]" end_reason)" = completed
check "  with exit status 0" test "$(jfield "$A[]" Exit_status)" = 0
check "  counts its tasks" has "$(jfield "$A[]" array_state_count)" "Expired:6"
maxrun=$(cat seen.* | sort -n | tail -1)
check "never more than %2 tasks at once (saw $maxrun)" test "$maxrun" -le 2
check "each task saw its index and ids" test "$(cat arr.o$A.4)" = "task 4 of $A[].$("$BIN/qstat" -B -f | sed -n 's/^Server: //p') is $A[4].$("$BIN/qstat" -B -f | sed -n 's/^Server: //p')"
n=$(ls arr.o$A.* | wc -l)
check "six task outputs, named NAME.oID.INDEX ($n)" test "$n" = 6
wait_job "$after_arr" 20
check "afterok on the array ran after all its tasks" test "$(cat after_arr.o$after_arr)" = "after array"

# qdel of one task, qhold of a whole array, and the array as a dependency
out=$("$BIN/qsub" -N arr2 -J 0-3 -h "$(job_script 'echo $PBS_ARRAY_INDEX')")
B=${out%%\[*}
dep2=$(echo 'echo never' | submit -N dep2 -W depend=afterok:$B[])
"$BIN/qdel" "$B[1]"
"$BIN/qrls" "$B[0]"
sleep 0.5
check "qrls of one task runs that task alone" test "$(jfield "$B[0]" job_state)" = F
check "  while the others stay held" test "$(jfield "$B[3]" job_state)" = H
check "qdel of one task ends it" test "$(jfield "$B[1]" end_reason)" = cancelled
check "the rest of the held array stays held" test "$(jfield "$B[2]" job_state)" = H
"$BIN/qrls" "$B[]"
wait_job "$B[]" 30
check "released array ran its other tasks" test "$(cat arr2.o$B.3)" = 3
check "the deleted task never ran" test ! -e "arr2.o$B.1"
check "an array with a deleted task did not complete" test "$(jfield "$B[]" end_reason)" = failed
wait_job "$dep2" 10
check "so afterok on it never runs" test "$(jfield "$dep2" end_reason)" = dependency-never-satisfied
out=$("$BIN/qstat" "$B[9]" 2>&1); rc=$?
check "an unknown task is an error naming it" has "$out" "Unknown Job Id $B\[9\]"
check "  with a non-zero exit" test "$rc" -ne 0
out=$(echo true | "$BIN/qsub" -J 1-200000 2>&1)
check "an array above max_array_size is refused" has "$out" "max_array_size"

# ---- deferred start (-a) ----
at=$(date -d '+3 seconds' +%Y%m%d%H%M.%S)
w=$(echo 'date +%s' | submit -N deferred -a "$at")
check "a deferred job waits in W" test "$(jfield "$w" job_state)" = W
check "  and says until when" has "$(jfield "$w" comment)" "deferred until"
wait_job "$w" 20
check "it ran no earlier than asked" test "$(cat deferred.o$w)" -ge "$(date -d "$(echo "$at" | sed -E 's/(....)(..)(..)(..)(..)\.(..)/\1-\2-\3 \4:\5:\6/')" +%s)"

# A held job released before its time waits for it; 'after' starts with it.
at=$(date -d '+3 seconds' +%Y%m%d%H%M.%S)
w2=$(echo true | submit -N deferred2 -h -a "$at")
aft=$(echo true | submit -N after_w2 -W depend=after:$w2)
"$BIN/qrls" "$w2"
check "released before its -a time it waits in W" test "$(jfield "$w2" job_state)" = W
check "a job 'after' it is held meanwhile" test "$(jfield "$aft" job_state)" = H
wait_job "$w2" 20
wait_job "$aft" 20
check "'after' ran once it had started" test "$(jfield "$aft" end_reason)" = completed

# ---- qalter ----
h=$(echo true | submit -N before -h -l ncpus=1)
"$BIN/qalter" -N after -l ncpus=2,mem=128mb -p 10 "$h"
check "qalter renames" test "$(jfield "$h" Job_Name)" = after
check "qalter changes resources" test "$(jfield "$h" Resource_List.ncpus)" = 2
check "qalter changes the priority" test "$(jfield "$h" Priority)" = 10
out=$("$BIN/qalter" -l walltime=5:00:00 "$h" 2>&1); rc=$?
check "qalter above the queue's maximum is refused" has "$out" "max_walltime"
check "  with a non-zero exit" test "$rc" -ne 0
check "  and changed nothing" test "$(jfield "$h" Resource_List.walltime)" = 00:10:00
g=$(echo true | submit -h -N dep_on_h)
"$BIN/qalter" -W depend=afterok:$h "$g"
"$BIN/qrls" "$g"
sleep 0.3
check "qalter can add a dependency" test "$(jfield "$g" Hold_Types)" = s
"$BIN/qrls" "$h"
wait_job "$g" 20
check "  which is then honoured" test "$(jfield "$g" end_reason)" = completed
r=$(echo 'sleep 2' | submit)
wait_state "$r" R 10
out=$("$BIN/qalter" -N x "$r" 2>&1)
check "qalter of a running job is refused" has "$out" "only jobs that have not started"

# ---- qselect ----
s1=$(echo true | submit -h -N sel_one -l ncpus=2 -p 5)
s2=$(echo true | submit -h -N sel_two -q fast)
check "qselect -N" test "$("$BIN/qselect" -N sel_one)" = "$s1.$(q -B -f | sed -n 's/^Server: //p')"
check "qselect -q" has "$("$BIN/qselect" -q fast)" "^$s2\."
check "qselect -l ncpus.gt.1 -s H" has "$("$BIN/qselect" -l ncpus.gt.1 -s H)" "^$s1\."
check "qselect -p .ge.5" test "$("$BIN/qselect" -p .ge.5 -s H | wc -l)" = 1
check "qselect -u and -h u" test "$("$BIN/qselect" -u root -h u | wc -l)" = 2
out=$("$BIN/qselect" -l bogus.gt.1 2>&1); rc=$?
check "qselect refuses an unknown resource" test "$rc" -ne 0
"$BIN/qdel" "$s1" "$s2"

# ---- qrerun ----
rr=$(echo 'echo run $(date +%N)' | submit -N rerun)
wait_job "$rr" 10
first=$(cat rerun.o$rr)
"$BIN/qrerun" "$rr"
wait_job "$rr" 10
check "qrerun ran the finished job again" test "$(cat rerun.o$rr)" != "$first"
check "  counting its runs" test "$(jfield "$rr" run_count)" = 2
check "  and kept the first run's record" test "$(sqlite3 "$STATE/boxq.db" "select count(*) from job_runs where job_id=$rr")" = 1
out=$("$BIN/qrerun" "$r" 2>&1)
wait_job "$r" 10
check "qrerun of a job that has not finished is refused" has "$out" "qrerun runs finished jobs again|Request invalid"

# ---- backfill: a short job starts in front of a blocked big one, a long one does not ----
long=$(echo 'sleep 30' | submit -N holder -l walltime=0:20)
wait_state "$long" R 10
big=$(echo true | submit -N big -l ncpus=2,walltime=1:00)
short=$(echo 'sleep 1' | submit -N short -l walltime=0:05)
longer=$(echo 'sleep 1' | submit -N longer -l walltime=0:40)
sleep 0.5
check "the big job waits, reserved" has "$(jfield "$big" comment)" "reserved for it; expected to start by"
check "a short job backfills at once" test "$(jfield "$short" job_state)" != Q
wait_job "$short" 10
sleep 0.3
check "a job that would delay the big one waits with a CPU free" has "$(jfield "$longer" comment)" "would delay"
check "  still queued" test "$(jfield "$longer" job_state)" = Q
wait_job "$big" 40
wait_job "$longer" 40
check "the big job started before the longer one" test "$(date -d "$(jfield "$big" stime)" +%s)" -le "$(date -d "$(jfield "$longer" stime)" +%s)"
check "the walltime ended the holder" test "$(jfield "$long" end_reason)" = timeout

# ---- a drain keeps priority order; a job submitted meanwhile is seen at once ----
# Passes between job ends plan over the head of the last full ranking;
# anything that changes the queue ranks it again.
: > order.log
ids=()
declare -A prio_of
for p in $(seq 0 39 | shuf); do
  ids+=("$(printf 'echo %s >> order.log\nsleep 0.1\n' $((p * 20)) | submit -h -N ord -p $((p * 20)))")
  prio_of[${ids[-1]}]=$((p * 20))
done
"$BIN/qrls" "${ids[@]}"
for _ in $(seq 1 50); do [ "$(wc -l < order.log)" -ge 8 ] && break; sleep 0.05; done
before=$(wc -l < order.log)
check "released jobs start at once ($before started)" test "$before" -ge 8
top=$(printf 'echo top >> order.log\n' | submit -N top -p 1000)
for i in "${ids[@]}" "$top"; do wait_job "$i" 30 > /dev/null; done
pos=$(grep -n '^top$' order.log | cut -d: -f1)
check "a job submitted during a drain starts next (at $pos, $before had started)" \
  test "${pos:-99}" -le $((before + 3))
# The order the worker started them in (its log, one line a launch): the
# jobs' own output is no measure of that, a loaded machine can delay a
# job's first line past the next job's. With two CPUs, two places free
# about together, so neighbours may swap. (Jobs handed to the worker ahead
# of time, lookahead, keep this order: the first place to free takes the
# best of them, whichever it was planned for.)
started=$(sed -n 's/.* job \([0-9]*\): shepherd [0-9]* runs it .*/\1/p' "$T/worker.log" |
  while read -r id; do [ -n "${prio_of[$id]:-}" ] && echo "${prio_of[$id]}"; done)
check "the worker started all 40 ($(echo "$started" | grep -c .))" test "$(echo "$started" | grep -c .)" -eq 40
inversions=$(echo "$started" | awk '{ v[NR] = $1 } END { n = 0; for (i = 1; i <= NR; i++) for (j = i + 2; j <= NR; j++) if (v[j] > v[i]) n++; print n }')
check "40 released jobs started by priority ($inversions inversions)" test "$inversions" -eq 0
[ "$inversions" -eq 0 ] || echo "# start order: $(echo "$started" | tr '\n' ' ') (their output: $(tr '\n' ' ' < order.log))"

# ---- jobs handed over ahead of time keep their order across places ----
# With both CPUs busy, the next jobs are planned to follow the running ones
# (lookahead): the best behind the job running longest. When the other
# place frees first, the best planned job takes it, not the one planned
# for it.
l1=$(echo 'sleep 4' | submit -N place1)
wait_state "$l1" R 10
sleep 1.1 # start times are in seconds: place1's is then the earlier
l2=$(echo 'sleep 0.6' | submit -N place2)
wait_state "$l2" R 10
: > ahead.log
for p in 400 300 200 100; do echo "echo $p >> ahead.log" | submit -N ahead -p $p > /dev/null; done
for _ in $(seq 1 100); do [ "$(wc -l < ahead.log)" -ge 4 ] && break; sleep 0.1; done
check "the place that frees first takes the best planned job ($(tr '\n' ' ' < ahead.log))" \
  test "$(head -2 ahead.log | tr '\n' ' ')" = "400 300 "
# Then that place has nothing planned behind it, nothing is queued, and
# the last two wait behind the 4-second job: they come back to the queue
# and run there, in order.
check "  planned jobs waiting behind a long job move to a free place" \
  test "$(tr '\n' ' ' < ahead.log)" = "400 300 200 100 "

# ---- the accounting summaries kept as jobs end equal a recount ----
# (after completions, failures, cancellations, a timeout and a qrerun of
# a finished job, all above)
for by in user queue day account project; do
  kept=$("$BIN/qacct" --by $by --json)
  check "qacct --by $by: the kept summaries equal a recount" test "$kept" = "$("$BIN/qacct" --by $by --json --recount)"
done
check "  and count every finished job" test "$("$BIN/qacct" --by user --csv | awk -F, 'NR > 1 { n += $2 } END { print n }')" = \
  "$(sqlite3 "$STATE/boxq.db" "select count(*) from jobs where state = 'F' and array_spec = ''")"
check "qacct --recount goes with --by" has "$("$BIN/qacct" --recount 2>&1)" "goes with --by"

finish
