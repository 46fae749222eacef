#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# boxqd is SIGKILLed during a burst of 5,000 submissions and restarted:
# every job whose id qsub printed is there with its script and options,
# none is duplicated, and the database passes PRAGMA integrity_check.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v sqlite3 > /dev/null || skip "sqlite3 (the CLI) is needed to inspect the database"
start_boxq
cd "$WORK"

LOOPS=4
PER=1250
burst() { # burst N: submits PER held jobs, logging "id token" per printed id
  local n=$1 i out
  for i in $(seq 1 "$PER"); do
    if out=$(printf '#PBS -N t%s_%s\necho token-%s-%s\n' "$n" "$i" "$n" "$i" |
      "$BIN/qsub" -h -l mem=16mb 2> /dev/null); then
      echo "${out%%.*} $n-$i" >> "$T/printed.$n"
    else
      echo "$n-$i" >> "$T/refused.$n"
    fi
  done
}
pids=()
for n in $(seq 1 "$LOOPS"); do
  burst "$n" &
  pids+=($!)
done
sleep 3
kill -9 "$SCHED_PID"
echo "# boxqd killed after $(cat "$T"/printed.* 2> /dev/null | wc -l) acknowledged submissions"
sleep 1
start_sched
wait "${pids[@]}"

printed=$(cat "$T"/printed.* | wc -l)
refused=$(cat "$T"/refused.* 2> /dev/null | wc -l)
echo "# $printed ids printed, $refused submissions refused while boxqd was down"
check "all 5000 submissions answered one way or the other" test $((printed + refused)) -eq $((LOOPS * PER))
check "some submissions were refused while boxqd was down" test "$refused" -gt 0

kill "$SCHED_PID"
wait "$SCHED_PID" 2> /dev/null
DB=$STATE/boxq.db
check "the database passes PRAGMA integrity_check" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
sqlite3 -separator ' ' "$DB" "SELECT id, substr(name, 2),
  rtrim(substr(CAST(script AS TEXT), instr(CAST(script AS TEXT), 'token-') + 6), char(10))
  FROM jobs" > "$T/stored"
# each line now: ID N_I N-I (name and script both name the same submission)
missing=$(cat "$T"/printed.* | while read -r id tok; do
  grep -q "^$id ${tok/-/_} $tok\$" "$T/stored" || echo "$id $tok"
done | wc -l)
check "every printed id is stored with its own script and name ($missing missing)" test "$missing" -eq 0
dups=$(awk '{print $3}' "$T/stored" | sort | uniq -d | wc -l)
check "no submission is stored twice ($dups)" test "$dups" -eq 0
held=$(sqlite3 "$DB" "SELECT count(*) FROM jobs WHERE state = 'H' AND mem = 16777216")
check "every stored job kept its options (held, mem=16mb): $held" test "$held" -eq "$(wc -l < "$T/stored")"
start_sched
check "boxqd serves the restored queue" test "$("$BIN/qstat" | tail -n +3 | wc -l)" -ge "$printed"

finish
