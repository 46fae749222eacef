# SPDX-License-Identifier: MIT
# The Toil workflow check shared by toil.sh and toil_sge.sh (sourced after
# lib.sh and start_boxq): toil_flow.py run through one of Toil's batch
# systems, once to succeed and once with a failing job.

# toil_workflow DIALECT BATCH_SYSTEM HOW_CPUS CHECK_JOB: HOW_CPUS says how
# the 2-core job asked (for the check's words); CHECK_JOB ID is run for
# each part's job id (from the variable ID_VAR names).
toil_workflow() {
  local dialect=$1 system=$2 how=$3 check_job=$4 rc id
  export PATH=$BIN:/usr/bin:$PATH
  cd "$WORK" || return 1
  # Jobs get a private /tmp: the workflow runs from the test's own directory.
  cp "$(dirname "${BASH_SOURCE[0]}")/toil_flow.py" "$WORK/flow.py"
  run_toil() {
    local name=$1
    shift
    BOXQ_DIALECT=$dialect timeout 300 "$PY" "$WORK/flow.py" "file:$WORK/$name.store" \
      --batchSystem "$system" --workDir "$WORK" --logFile "$T/$name.log" --statePollingWait 1 \
      --retryCount 0 --disableCaching "$@" > "$T/$name.out" 2>&1
  }
  run_toil ok --out "$WORK/ok.txt"
  rc=$?
  check "a Toil workflow on boxq's $system batch system succeeds" test "$rc" = 0
  [ "$rc" = 0 ] && cat "$WORK/ok.txt" || tail -n 40 "$T/ok.out"
  check "  both parts ran" test "$(grep -c '^part' "$WORK/ok.txt" 2> /dev/null)" = 2
  check "  the 2-core job got 2 CPUs ($how)" grep -q '^part 1 cpus=2 ' "$WORK/ok.txt"
  check "  the follow-on merged them" grep -q '^sum 3$' "$WORK/ok.txt"
  for id in $(sed -n 's/^part [0-9] cpus=[0-9]* job=//p' "$WORK/ok.txt"); do
    "$check_job" "$id"
  done
  run_toil bad --out "$WORK/bad.txt" --failing
  rc=$?
  check "a workflow with a failing job fails" test "$rc" -ne 0
  check "  Toil saw the job fail, with its error" grep -q "this job fails on purpose" "$T/bad.out" "$T/bad.log"
  check "  boxq recorded a non-zero exit" test "$("$BIN/qacct" --state failed --csv | tail -n +2 | wc -l)" -ge 1
}
