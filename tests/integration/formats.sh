#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What people and programs read: every qstat and qacct form over a fixed
# set of jobs (tests/data/golden/jobs.sql) compared with golden outputs;
# JSON checked by a real parser; qstat -f read back by a PBS-style
# "key = value" reader; qacct's filters; retention of history.
# BOXQ_GOLDEN_UPDATE=1 rewrites the golden files instead of comparing.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || skip "sqlite3 (the CLI) is missing"
PY=$(command -v python3 || true)
JQ=$(command -v jq || true)
[ -n "$PY$JQ" ] || skip "neither python3 nor jq is installed to check JSON"
GOLDEN=$(cd "$(dirname "$0")/../data/golden" && pwd)
export TZ=UTC

T=$(mktemp -d /var/tmp/boxq-it.XXXXXX)
chmod 755 "$T"
STATE=$T/state
CG_PARENT=boxq-it-$$
export BOXQ_CONFIG=$T/boxq.ini
unset BOXQ_STATE_DIR
write_config() {
  printf '[boxq]\nstate_dir = %s\nserver_name = golden\n[scheduler]\nncpus = 4\nmem = 16gb\n' \
    "$STATE" > "$BOXQ_CONFIG"
  printf 'priority_weight_age = 0\n%s\n' "$@" >> "$BOXQ_CONFIG"
  # The fixed jobs' dates are in the past: they never expire here unless a
  # test asks for it (boxqd's first prune comes a second after its start,
  # and the jobs of 2026-11-01 passed the default 30 days on 2026-12-01).
  case "$*" in *keep_history*) ;; *) echo "keep_history = 0" >> "$BOXQ_CONFIG" ;; esac
  printf '[queue batch]\nmax_walltime = 24:00:00\ndefault_walltime = 1:00:00\nmax_user_ncpus = 2\n' >> "$BOXQ_CONFIG"
  printf '[queue fast]\npriority = 100\nmax_ncpus = 2\nmax_mem = 4gb\nacl_groups = staff\n' \
    >> "$BOXQ_CONFIG"
}
# Only boxqd: without a worker nothing starts, so the fixed jobs stay put.
sched_up() {
  "$BUILD/scheduler/boxqd" >> "$T/sched.log" 2>&1 &
  SCHED_PID=$!
  for _ in $(seq 1 100); do
    "$BIN/qstat" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "boxqd did not come up"
  cat "$T/sched.log"
  exit 1
}
sched_down() {
  kill "$SCHED_PID" 2> /dev/null
  wait "$SCHED_PID" 2> /dev/null
}
trap 'sched_down; rm -rf "$T"' EXIT

write_config
sched_up # creates the database with the current schema
sched_down
sqlite3 "$STATE/boxq.db" < "$GOLDEN/jobs.sql"
sched_up

# golden NAME COMMAND...: the command's output equals tests/data/golden/NAME.
golden() {
  local name=$1
  shift
  "$@" > "$T/out.$name" 2> "$T/err.$name"
  # Times of "now" are not part of the record.
  sed -i -E 's/^( *"timestamp":)[0-9]+/\1NOW/; /^    sched_priority = /d; /"sched_priority":/d' \
    "$T/out.$name"
  if [ "${BOXQ_GOLDEN_UPDATE:-}" = 1 ]; then
    cp "$T/out.$name" "$GOLDEN/$name"
    ok "golden $name rewritten"
  elif diff -u "$GOLDEN/$name" "$T/out.$name" > "$T/diff.$name"; then
    ok "golden: $name"
  else
    fail "golden: $name differs"
    cat "$T/diff.$name"
  fi
}

golden qstat.txt "$BIN/qstat"
golden qstat-a.txt "$BIN/qstat" -a
golden qstat-a-n1-s.txt "$BIN/qstat" -a -n -1 -s
golden qstat-x-t.txt "$BIN/qstat" -x -t
golden qstat-xf.txt "$BIN/qstat" -x -f
golden qstat-xf.json "$BIN/qstat" -x -f -F json
golden qstat-Q.txt "$BIN/qstat" -Q
golden qstat-Qf.txt "$BIN/qstat" -Q -f
golden qacct.txt "$BIN/qacct"
golden qacct-j.txt "$BIN/qacct" -j 1 2
golden qacct-by-user.txt "$BIN/qacct" --by user
golden qacct-by-day.csv "$BIN/qacct" --by day --csv
golden qacct.csv "$BIN/qacct" --csv
golden qacct.json "$BIN/qacct" --json
golden tracejob.txt "$BIN/tracejob" 1

# JSON from every command that writes it, through a real parser.
json_ok() {
  if [ -n "$JQ" ]; then "$JQ" -e . > /dev/null; else "$PY" -m json.tool > /dev/null; fi
}
for args in "qstat -x -f -F json" "qstat --json" "qstat -x -t --json" "qstat -Q --json" \
  "qstat -B --json" "qacct --json" "qacct --by queue --json" "qacct -j 1 --json" \
  "tracejob --json 1 3" "qselect -x --json"; do
  check "valid JSON: $args" sh -c "'$BIN/'$args | $(if [ -n "$JQ" ]; then echo "'$JQ' -e ."; else echo "'$PY' -m json.tool"; fi) > /dev/null"
done
if [ -n "$PY" ]; then
  name=$("$BIN/qstat" -f -F json 3 | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["Jobs"]["3.golden"]["Job_Name"])')
  check "JSON keeps a name with a quote, a backslash and non-ASCII" test "$name" = 'q"uote\back-naïve'
  msg=$("$BIN/qstat" -f -F json 3 | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(repr(d["Jobs"]["3.golden"]["Variable_List"]["MSG"]))')
  check "JSON keeps a newline in a variable" test "$msg" = "'line1\\nline2'"
  ncpus=$("$BIN/qstat" -x -f -F json 1 | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["Jobs"]["1.golden"]["Resource_List"]["ncpus"] + 1)')
  check "JSON numbers are numbers, resources nested" test "$ncpus" = 2
fi
# Torque's dialect, over the same jobs: finished ones shown as C (the fixed
# jobs ended in 2026-11: keep_completed covers them), Torque's tables and
# XML, and pbsnodes in both dialects (the machine's load and memory
# normalized).
sched_down
write_config "keep_completed = 3650:00:00:00"
sched_up
export BOXQ_DIALECT=torque
golden torque-qstat.txt "$BIN/qstat"
golden torque-qstat-a.txt "$BIN/qstat" -a
golden torque-qstat-n1.txt "$BIN/qstat" -n -1
golden torque-qstat-aR.txt "$BIN/qstat" -a -R
golden torque-qstat-f.txt "$BIN/qstat" -f
golden torque-qstat-x.xml "$BIN/qstat" -x
golden torque-qstat-fx-1.xml "$BIN/qstat" -f -x 1
node_status() {
  "$@" | sed -E 's/(uname=)[^,<]*/\1UNAME/; s/(availmem|physmem|totmem)=[0-9]+kb/\1=Nkb/g;
    s/(loadave)=[0-9.]+/\1=L/; s/(rectime)=[0-9]+/\1=NOW/;
    s/(last_state_change_time = ).*/\1DATE/; s/("last_state_change_time":)[0-9]+/\1NOW/'
}
golden torque-pbsnodes.txt node_status "$BIN/pbsnodes" -a
golden torque-pbsnodes.xml node_status "$BIN/pbsnodes" -x
err=$("$BIN/qstat" -x 1 2>&1 > /dev/null)
check "torque: nothing on stderr for a known job's XML" test -z "$err"
if [ -n "$PY" ]; then
  "$BIN/qstat" -x > "$T/torque.xml"
  check "torque: qstat -x is well-formed XML" "$PY" -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$T/torque.xml"
  state=$("$BIN/qstat" -f -x 2 | "$PY" -c 'import sys, xml.etree.ElementTree as E; j = E.parse(sys.stdin).getroot().find("Job"); print(j.find("job_state").text, j.find("exit_status").text, j.find("Resource_List/mem").text)')
  check "torque: the XML read back: C, exit 137, its memory" test "$state" = "C 137 128mb"
  name=$("$BIN/qstat" -x 3 | "$PY" -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.stdin).getroot().find("Job/Job_Name").text)')
  check "torque: XML keeps a name with a quote, a backslash and non-ASCII" test "$name" = 'q"uote\back-naïve'
fi
check "torque: qstat -f shows exit_status of a C job" has "$("$BIN/qstat" -f 2)" '^    exit_status = 137$'
# Grid Engine's dialect, over the same jobs: qstat's table (pending
# tasks as one range), -s z, -j, -xml; qacct -j and its sums. The host's
# name is normalized.
export BOXQ_DIALECT=sge
sge_host() {
  local h
  h=$(hostname | sed 's/\..*//')
  "$@" | sed -E "s/@$h( |<)/@HOST\1/; s/^(hostname +).*/\1HOST/; s/(NodeList=| )$h\$/\1HOST/;
    s/(AllocNode:Sid=)[^:]*/\1HOST/"
}
golden sge-qstat.txt sge_host "$BIN/qstat"
golden sge-qstat-s-hz.txt sge_host "$BIN/qstat" -s hz
golden sge-qstat-u-bob.txt sge_host "$BIN/qstat" -u bob
golden sge-qstat-j.txt sge_host "$BIN/qstat" -j 3,4
golden sge-qstat.xml sge_host "$BIN/qstat" -xml
golden sge-qacct-j-1.txt sge_host "$BIN/qacct" -j 1
golden sge-qacct-j-2.txt sge_host "$BIN/qacct" -j 2
golden sge-qacct-j-5.txt sge_host "$BIN/qacct" -j 5
golden sge-qacct.txt "$BIN/qacct"
golden sge-qacct-o.txt "$BIN/qacct" -o
golden sge-qacct-q-d.txt "$BIN/qacct" -q -b 202611010000 -e 202611020000
if [ -n "$PY" ]; then
  "$BIN/qstat" -xml > "$T/sge.xml"
  check "sge: qstat -xml is well-formed XML" "$PY" -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$T/sge.xml"
fi
out=$("$BIN/qstat" -j 1 2>&1)
check "sge: qstat -j of a finished job: 'Following jobs do not exist'" has "$out" "Following jobs do not exist"
unset BOXQ_DIALECT
# Slurm's commands over the same jobs (no dialect: they are always Slurm's).
golden slurm-squeue.txt sge_host "$BIN/squeue"
golden slurm-squeue-r-o.txt sge_host "$BIN/squeue" -r -o "%.10i %.8T %.4C %.6m %.10l %r %j"
golden slurm-squeue.json "$BIN/squeue" --json
golden slurm-sacct.txt sge_host "$BIN/sacct" -a -S 2026-11-01 -E 2026-11-03
golden slurm-sacct-P.txt sge_host "$BIN/sacct" -a -P -j 1,2,5 \
  --format JobID,JobIDRaw,JobName%15,State,ExitCode,Elapsed,TotalCPU,MaxRSS,ReqMem,AllocCPUS,Start,End
golden slurm-sacct-X-n.txt "$BIN/sacct" -X -n -p -j 2,3,4 --format JobID,State,ExitCode,Reason
golden slurm-scontrol-job.txt sge_host "$BIN/scontrol" show job 2
golden slurm-sinfo.txt sge_host "$BIN/sinfo"
check "slurm: squeue --json is JSON" sh -c "'$BIN/squeue' --json | $(if [ -n "$JQ" ]; then echo "'$JQ' -e ."; else echo "'$PY' -m json.tool"; fi) > /dev/null"
check "slurm: sacct --json is JSON" sh -c "'$BIN/sacct' -a -j 1,2 --json | $(if [ -n "$JQ" ]; then echo "'$JQ' -e ."; else echo "'$PY' -m json.tool"; fi) > /dev/null"
golden pbsnodes.txt node_status "$BIN/pbsnodes" -a
golden pbsnodes.json node_status "$BIN/pbsnodes" -F json
check "valid JSON: pbsnodes -F json" sh -c "'$BIN/pbsnodes' -F json | $(if [ -n "$JQ" ]; then echo "'$JQ' -e ."; else echo "'$PY' -m json.tool"; fi) > /dev/null"
check "pbspro: a finished job is not in qstat" test -z "$("$BIN/qstat" 1 2> /dev/null)"
sched_down
write_config
sched_up

# Invalid UTF-8 in a name still gives valid JSON.
sched_down
sqlite3 "$STATE/boxq.db" "UPDATE jobs SET name = CAST(X'6261642DFF' AS TEXT) WHERE id = 8"
sched_up
check "invalid UTF-8 in a name: JSON still valid" sh -c "'$BIN/qstat' -f -F json 8 | $(if [ -n "$JQ" ]; then echo "'$JQ' -e ."; else echo "'$PY' -m json.tool"; fi) > /dev/null"
has "$("$BIN/qstat" -f -F json 8)" '"Job_Name":"bad-\\ufffd"' && ok "  the bad byte became U+FFFD" || fail "  the bad byte became U+FFFD"
if [ -n "$PY" ]; then
  name=$(BOXQ_DIALECT=torque "$BIN/qstat" -x 8 | "$PY" -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.stdin).getroot().find("Job/Job_Name").text)')
  check "  and Torque's XML too" test "$name" = "bad-�"
fi

# qstat -f read back as PBS-style tools (Snakemake, Toil) read it.
"$BIN/qstat" -x -f > "$T/full.txt"
bad=$(awk '
  /^Job Id: / { job = $3; next }
  /^$/ { next }
  /^    [A-Za-z_][A-Za-z0-9_.]* = / { n++; next }
  { print "line " NR ": " $0 }
  END { if (n < 50) print "only " n " attributes" }' "$T/full.txt")
check "every line of qstat -f is 'Job Id:' or '    key = value'" test -z "$bad"
[ -n "$bad" ] && echo "$bad"
val=$(awk '/^Job Id: 3\./ { in3 = 1; next } /^Job Id:/ { in3 = 0 } in3 && /^    Job_Name = / { sub(/^    Job_Name = /, ""); print }' "$T/full.txt")
check "  a key = value reader gets the odd name back" test "$val" = 'q"uote\back-naïve'
val=$(awk '/^Job Id: 1\./ { in1 = 1; next } /^Job Id:/ { in1 = 0 } in1 && /^    Exit_status = / { print $3 }' "$T/full.txt")
check "  and the exit status" test "$val" = 0

# Job ids in every form; unknown ids are errors that name them, and the
# known ones are still answered.
out=$("$BIN/qstat" -x 1 1.golden '5[]' '5[2]' 99 '5[9]' 2> "$T/err")
rc=$?
check "ids 1, 1.golden, 5[], 5[2] answered" test "$(echo "$out" | grep -c '^[0-9]')" = 4
check "unknown 99 named on stderr" grep -q "Unknown Job Id 99.golden" "$T/err"
check "unknown task 5[9] named on stderr" grep -q 'Unknown Job Id 5\[9\]' "$T/err"
check "non-zero exit with unknown ids" test "$rc" -ne 0

# qacct filters.
check "qacct --by day: two days" test "$("$BIN/qacct" --by day --csv | grep -c '^2026-11-0')" = 2
check "qacct --since a day" test "$("$BIN/qacct" --since 2026-11-02 --csv | tail -n +2 | cut -d, -f1)" = "5[1].golden"
check "qacct --until a day" test "$("$BIN/qacct" --until 2026-11-02 --csv | tail -n +2 | wc -l)" = 2
check "qacct -u bob" test "$("$BIN/qacct" -u bob --csv | tail -n +2 | cut -d, -f1)" = 2.golden
check "qacct -q fast,batch" test "$("$BIN/qacct" -q fast,batch --csv | tail -n +2 | wc -l)" = 3
check "qacct --state out-of-memory" test "$("$BIN/qacct" --state out-of-memory --csv | tail -n +2 | cut -d, -f1)" = 2.golden
check "qacct --by user sums CPU hours" has "$("$BIN/qacct" --by user --csv)" '^alice,2,2,0,0,0,0,0.012917,'
out=$("$BIN/qacct" --since tomorrowish 2>&1)
check "qacct names a bad date" has "$out" "--since 'tomorrowish': not a date"
out=$("$BIN/qacct" --state sleepy 2>&1)
check "qacct names a bad end reason" has "$out" "unknown end reason 'sleepy'"

# Retention: history first (qstat -x forgets, qacct keeps), then all.
sched_down
write_config "keep_history = 1:00:00:00" "prune_interval = 1"
sched_up
for _ in $(seq 1 50); do
  [ -z "$("$BIN/qstat" -x 1 2> /dev/null)" ] && break
  sleep 0.1
done
out=$("$BIN/qstat" -x 1 2>&1)
check "expired history leaves qstat -x" has "$out" "Job history has expired"
check "  and its events" test "$(sqlite3 "$STATE/boxq.db" 'select count(*) from job_events where job_id = 1')" = 0
check "  but qacct -j keeps its accounting" test "$(afield 1 cpu)" = 45.000s
check "  and qacct lists it" has "$("$BIN/qacct")" '^1\.golden'
check "active jobs are untouched" test "$("$BIN/qstat" | grep -c golden)" -ge 3
sched_down
write_config "keep_history = 1:00:00:00" "keep_accounting = 2:00:00:00" "prune_interval = 1"
sched_up
for _ in $(seq 1 50); do
  [ "$(sqlite3 "$STATE/boxq.db" 'select count(*) from jobs where id = 1')" = 0 ] && break
  sleep 0.1
done
check "expired accounting is deleted" test "$(sqlite3 "$STATE/boxq.db" 'select count(*) from jobs where id in (1, 2)')" = 0
check "  with its usage rows" test "$(sqlite3 "$STATE/boxq.db" 'select count(*) from job_usage where job_id in (1, 2)')" = 0
check "  and the queue is intact" test "$(sqlite3 "$STATE/boxq.db" "select count(*) from jobs where state <> 'F'")" = 5
sched_down
printf '[scheduler]\nkeep_history = 2:00:00:00\nkeep_accounting = 1:00:00:00\n' >> "$BOXQ_CONFIG"
out=$("$BUILD/scheduler/boxqd" 2>&1)
check "keep_accounting shorter than keep_history is refused" has "$out" "keep_accounting .* must not be shorter than keep_history"

finish
