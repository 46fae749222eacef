#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# On a machine with a real NVIDIA GPU (else skipped, saying so): the
# devices found at start, and a job asking for one GPU that sees exactly
# one with nvidia-smi -L, while the host sees them all.
. "$(dirname "$0")/lib.sh"
require_root_cgroups
command -v nvidia-smi > /dev/null || skip "no nvidia-smi: no NVIDIA GPU on this machine"
[ -c /dev/nvidia0 ] || skip "no /dev/nvidia0: no NVIDIA GPU on this machine"
host=$(nvidia-smi -L 2> /dev/null | grep -c '^GPU ') || skip "nvidia-smi -L fails here"
[ "$host" -ge 1 ] || skip "nvidia-smi lists no GPU"
start_boxq
cd "$WORK"
check "pbsnodes lists the GPUs found at start ($host)" \
  has "$("$BIN/pbsnodes" -a)" "resources_available.ngpus = $host"
id=$(echo 'nvidia-smi -L; echo "cuda=$CUDA_VISIBLE_DEVICES"' | submit -N smi -l ngpus=1)
wait_job "$id" 60
out=$(cat "$WORK"/smi.o"$id")
check "the job sees exactly its one GPU" test "$(grep -c '^GPU ' <<< "$out")" = 1
check "numbered 0" has "$out" "^cuda=0$"
finish
