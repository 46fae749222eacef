#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every job qsub accepts starts, at the limits of each size it accepts:
# an environment of nearly 4,096 variables and 1 MiB, a script of exactly
# max_script_size, both at once, many in a row on kept shepherds. Beyond
# the limits, the same clear message whatever the count. And a kept
# shepherd's memory does not grow with the jobs it has served.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
start_boxq "[worker]" "shepherd_idle = 60"
cd "$WORK"

# big_env_args: -v options for 4,000 variables BIG1..BIG4000 of 248 bytes
# each (about 1,000,000 bytes with the names), in arguments below the
# kernel's 128 KiB a piece.
big_env_args() {
  awk 'BEGIN {
    v = sprintf("%248s", ""); gsub(/ /, "v", v)
    for (i = 1; i <= 4000; i++) {
      line = line (line == "" ? "" : ",") "BIG" i "=" v
      if (i % 400 == 0) { print "-v"; print line; line = "" }
    }
  }'
}
mapfile -t envargs < <(big_env_args)

# A script of exactly max_script_size (1 MiB by default): comment lines,
# then what it does.
big_script=$T/big.sh
{
  printf '#!/bin/sh\n'
  awk 'BEGIN { l = sprintf("%99s", ""); gsub(/ /, "#", l); for (i = 0; i < 10400; i++) print l }'
} > "$big_script"
tail_cmd='echo "script-ran vars=$(env | grep -c "^BIG[0-9]*=") last=${#BIG4000}"'
pad=$((1048576 - $(stat -c %s "$big_script") - ${#tail_cmd} - 2))
{ head -c "$pad" < /dev/zero | tr '\0' '#'; printf '\n%s\n' "$tail_cmd"; } >> "$big_script"
check "the big script is exactly 1 MiB" test "$(stat -c %s "$big_script")" = 1048576
small_script=$(job_script "$tail_cmd")

# Kept shepherds' resident memory (the largest), after small jobs only,
# then after the big ones below: it must not grow with them.
rss_of_idle() {
  local p kb max=0
  for p in $(pgrep -f "boxq-shepherd idle $SPOOL"); do
    kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status")
    [ "${kb:-0}" -gt "$max" ] && max=$kb
  done
  echo "$max"
}
for i in 1 2 3 4; do s=$(submit -N small$i "$small_script"); done
wait_job "$s" 30
sleep 0.3
before_big=$(rss_of_idle)

# 6 rounds of: big environment, big script, both; on 2 CPUs they queue and
# run one after another on the same kept shepherds.
ids=()
for round in 1 2 3 4 5 6; do
  ids+=("$(submit -N env$round "${envargs[@]}" "$small_script")")
  ids+=("$(submit -N script$round "$big_script")")
  ids+=("$(submit -N both$round "${envargs[@]}" "$big_script")")
done
check "all 18 were accepted" test "${#ids[@]}" = 18 -a -n "${ids[17]}"
bad=0
for id in "${ids[@]}"; do
  [ -n "$id" ] || continue
  wait_job "$id" 60 > /dev/null || true
  if [ "$(jfield "$id" end_reason)" != completed ]; then
    bad=$((bad + 1))
    echo "# job $id: $(jfield "$id" end_reason): $(jfield "$id" comment)"
  fi
done
check "every one of them ran to completion ($bad did not)" test "$bad" = 0
env_out=$(cat "$WORK"/env*.o* | sort -u)
check "a big environment reaches the job whole ($env_out)" test "$env_out" = "script-ran vars=4000 last=248"
both_out=$(cat "$WORK"/both*.o* | sort -u)
check "with a 1 MiB script too ($both_out)" test "$both_out" = "script-ran vars=4000 last=248"
script_out=$(cat "$WORK"/script*.o* | sort -u)
check "a 1 MiB script runs to its last line ($script_out)" test "$script_out" = "script-ran vars=0 last=0"
check "no shepherd was retired for a failed hand-over" \
  sh -c "! grep -q 'cannot hand it job' '$T/worker.log'"
sleep 0.3
after_big=$(rss_of_idle)
# AddressSanitizer's allocator keeps freed memory in quarantine (and
# malloc_trim is glibc's): the plain build checks this.
if ldd "$BUILD/worker/boxq-worker" 2> /dev/null | grep -q libasan; then
  echo "# not checked under AddressSanitizer: kept shepherds' memory (${before_big} -> ${after_big} KiB)"
else
  check "kept shepherds give a big job's memory back (${before_big} KiB before, ${after_big} KiB after)" \
    test "$before_big" -gt 0 -a "$after_big" -le $((before_big + 1024))
fi

# Past the limits, the same message whatever the count: more than 4,096
# variables, more than 65,536 (which the decoder refuses on its own), and
# more than 1 MiB.
many=$(awk 'BEGIN { for (i = 1; i <= 5000; i++) printf "%sM%d=1", (i > 1 ? "," : ""), i }')
out=$("$BIN/qsub" -v "$many" "$small_script" 2>&1)
check "5,000 variables: refused, saying the environment is too large" \
  has "$out" "environment is too large \(50[0-9][0-9] variables"
mapfile -t lots < <(awk 'BEGIN { for (i = 1; i <= 70000; i++) { line = line (line == "" ? "" : ",") "L" i "=1"; if (i % 10000 == 0) { print "-v"; print line; line = "" } } }')
out=$("$BIN/qsub" "${lots[@]}" "$small_script" 2>&1)
rc=$?
check "70,000 variables: refused ($rc), saying the environment is too large, not 'malformed' ($out)" \
  sh -c "[ $rc -ne 0 ] && echo '$out' | grep -q 'environment is too large (700[0-9][0-9] variables'"
mapfile -t huge < <(awk 'BEGIN { v = sprintf("%1000s", ""); gsub(/ /, "h", v); for (i = 1; i <= 1100; i++) { line = line (line == "" ? "" : ",") "H" i "=" v; if (i % 100 == 0) { print "-v"; print line; line = "" } } }')
out=$("$BIN/qsub" "${huge[@]}" "$small_script" 2>&1)
check "1.1 MB of environment: refused, saying so" has "$out" "environment is too large \([0-9]+ variables, 11[0-9]{5} bytes"
{ cat "$big_script"; echo '# one byte more'; } > "$T/toobig.sh"
out=$("$BIN/qsub" "$T/toobig.sh" 2>&1)
check "a script over max_script_size: refused, saying so" has "$out" "the limit is 1048576"
check "boxqd is still up" "$BIN/qstat" -B
finish
