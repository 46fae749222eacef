#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Schedules (boxq cron, qsub --cron): a crontab with #PBS lines installed,
# listed, edited and removed; bad lines named with file:line; each due
# time submits a normal job as its owner (its limits, its queue, in
# tracejob "by cron"), or records why not: a skip while the last job runs
# (cron_overlap = skip), a job queued after it (= queue), a time that
# came while boxqd was down run once late (cron_missed = once) or recorded
# as missed (= skip). Due times are made to pass by editing next_run while
# boxqd is stopped (its restart handles them); one real minute is waited
# for, to see the timer fire. DST is covered by test_cronexpr.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v sqlite3 > /dev/null || skip "sqlite3 missing (moves due times into the past)"
start_boxq "[scheduler]" "ncpus = 2"
cd "$WORK"
DB=$STATE/boxq.db
# Installed from $WORK as home: cron runs commands in the home directory.
cron() { HOME=$WORK "$BIN/boxq" cron "$@"; }
# restart_sched [ini line]: boxqd stopped, the due times of every entry
# moved AGO seconds into the past, boxqd started again.
due_ago() {
  kill "$SCHED_PID"
  wait "$SCHED_PID" 2> /dev/null
  sqlite3 "$DB" "UPDATE cron_entries SET next_run = strftime('%s','now') - $1"
  [ -n "${2:-}" ] && echo "$2" >> "$BOXQ_CONFIG"
  start_sched
}
outcome() { sqlite3 "$DB" "SELECT last_outcome FROM cron_entries WHERE uid = 0 AND line = $1"; }
last_job() { sqlite3 "$DB" "SELECT last_job FROM cron_entries WHERE uid = 0 AND line = $1"; }

cat > "$WORK/tab" << EOF
# nightly things
LANG=C
GREETING="hello from cron"
#PBS -N nightly -l ncpus=1,mem=64mb,walltime=600
30 2 * * * echo "\$GREETING"; $TSLEEP 300
@daily /bin/true
EOF
check "boxq cron FILE installs a crontab" cron "$WORK/tab"
out=$(cron -l)
check "  -l prints it as written" has "$out" '^30 2 \* \* \* echo "\$GREETING"'
check "  and when each schedule runs next" has "$out" '^#\| line 5  30 2 \* \* \*  next [0-9-]+ 02:30  last -'
check "  @daily too" has "$out" '^#\| line 6  @daily  next [0-9-]+ 00:00'
cron -l > "$WORK/roundtrip"
check "  its output installs again unchanged" cron "$WORK/roundtrip"
check "  (the status lines dropped)" test "$(cron -l | grep -vc '^#|')" = 6

printf '0 25 * * * true\n' > "$WORK/bad1"
out=$(cron "$WORK/bad1" 2>&1)
check "a bad hour is refused, naming file:line and the field" \
  has "$out" "bad1:1: hour field '25': out of range 0-23"
printf '#PBS -l ncpus=1\n#PBS -l walltime=banana\n* * * * * true\n' > "$WORK/bad2"
out=$(cron "$WORK/bad2" 2>&1)
check "a bad #PBS line names its line" has "$out" "bad2:2: #PBS: "
printf '* * * * * true\nthis is not cron\n' > "$WORK/bad3"
out=$(cron "$WORK/bad3" 2>&1)
check "a line that is nothing names its line" has "$out" "bad3:2: not a schedule"
printf '#PBS -q nosuchqueue\n* * * * * true\n' > "$WORK/bad4"
out=$(cron "$WORK/bad4" 2>&1)
check "boxqd refuses what it would refuse of qsub, naming the line" has "$out" "crontab:2: .*nosuchqueue"
check "  and the installed crontab is unchanged" test "$(cron -l | grep -vc '^#|')" = 6

# A due time: the job, as its owner, with the crontab's options and
# environment; then a due time while it runs is skipped, and recorded.
due_ago 30
j1=$(last_job 5)
check "a due time submits the job ($(outcome 5))" has "$(outcome 5)" "^submitted job $j1$"
wait_state "$j1" R
check "  named and limited by its #PBS line" \
  test "$(jfield "$j1" Job_Name) $(jfield "$j1" Resource_List.walltime)" = "nightly 00:10:00"
check "  tracejob says cron submitted it" has "$("$BIN/tracejob" "$j1")" "by cron: '30 2 "
check "  in the home directory, with the crontab's variables" \
  eventually grep -q "hello from cron" "$WORK/nightly.o$j1"
due_ago 30
check "due while its job runs: skipped (cron_overlap = skip)" \
  has "$(outcome 5)" "^skipped: job $j1 of the last run has not finished"
check "  no new job" test "$(last_job 5)" = "$j1"
due_ago 30 "cron_overlap = queue"
j2=$(last_job 5)
check "cron_overlap = queue: a job to run after it" \
  has "$(outcome 5)" "^submitted job $j2, to run after the last one"
check "  depending on it" has "$(jfield "$j2" depend)" "afterany:$j1"
"$BIN/qdel" "$j1" "$j2" > /dev/null
wait_job "$j2" 20 > /dev/null

# Due while boxqd was down: once, late (cron_missed = once), or missed.
due_ago 7200
check "missed while boxqd was down: run once, late" has "$(outcome 6)" "^submitted job [0-9]+ \(late"
due_ago 7200 "cron_missed = skip"
check "cron_missed = skip: recorded as missed" has "$(outcome 6)" "^missed: due at "
out=$(cron -L)
check "boxq cron -L lists each due time and what it did: skipped" has "$out" "skipped: job $j1"
check "  and missed" has "$out" "missed: due"
check "  the next run moved on, to the future" \
  test "$(sqlite3 "$DB" "SELECT next_run > strftime('%s','now') FROM cron_entries WHERE line = 6")" = 1

# qsub --cron adds a schedule for a script, with qsub's options.
mkdir -p "$WORK/proj"
printf '#!/bin/sh\n#PBS -N fromscript\necho ran in $(pwd)\n' > "$WORK/proj/job.sh"
chmod 755 "$WORK/proj/job.sh"
out=$(cd "$WORK/proj" && "$BIN/qsub" --cron '15 4 * * 1-5' -l walltime=120 job.sh 2>&1)
check "qsub --cron schedules a script" has "$out" "scheduled '15 4 \* \* 1-5' $WORK/proj/job.sh"
out=$(cron -l)
check "  as a #PBS line and a schedule line in the crontab" \
  has "$out" "#PBS -d $WORK/proj -l walltime=120"
check "  runs on weekdays at 04:15" has "$out" "line [0-9]+  15 4 \* \* 1-5  next [0-9-]+ 04:15"
printf '#!/bin/sh\necho x\n' > "$WORK/proj/noexec.sh"
out=$("$BIN/qsub" --cron '0 1 * * *' "$WORK/proj/noexec.sh" 2>&1)
check "  a script that cannot be run by its path is refused" has "$out" "must be an executable"

# -e through an editor, and -r.
printf '#!/bin/sh\nprintf "@hourly /bin/true\\n" > "$1"\n' > "$T/bin/editor"
chmod 755 "$T/bin/editor"
check "boxq cron -e edits it" env EDITOR="$T/bin/editor" "$BIN/boxq" cron -e
check "  to what the editor wrote" test "$(cron -l | grep -v '^#|')" = "@hourly /bin/true"

# Another user's crontab is theirs alone, and its jobs are theirs.
if id nobody > /dev/null 2>&1 && command -v setpriv > /dev/null; then
  AS_NOBODY="setpriv --reuid=nobody --regid=$(id -g nobody) --init-groups env HOME=$WORK BOXQ_CONFIG=$BOXQ_CONFIG"
  out=$($AS_NOBODY "$BIN/boxq" cron -l 2>&1)
  check "another user sees no crontab of root's" has "$out" "no crontab for"
  printf '* * * * * /usr/bin/id -u\n' | $AS_NOBODY "$BIN/boxq" cron -
  due_ago 30
  jn=$(sqlite3 "$DB" "SELECT last_job FROM cron_entries WHERE uid = $(id -u nobody)")
  check "  their schedule's job runs as them" test "$(jfield "$jn" euser)" = nobody
  wait_job "$jn" 20 > /dev/null
fi

# The timer itself: a schedule due at the next real minute.
printf '* * * * * /bin/true\n' | cron -
start=$(date +%s)
for _ in $(seq 1 80); do
  [ "$(last_job 1)" != 0 ] && break
  sleep 1
done
j=$(last_job 1)
check "a schedule fires at its minute, from the timer ($(($(date +%s) - start)) s)" test "$j" != 0
check "  at the minute's start ($(jfield "$j" ctime))" has "$(jfield "$j" ctime)" ':0[0-2] '
wait_job "$j" 20 > /dev/null
check "boxq cron -r removes it" cron -r
out=$(cron -l 2>&1)
check "  after which -l says there is none" has "$out" "no crontab for"
finish
