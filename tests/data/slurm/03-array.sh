#!/bin/bash
# A parameter sweep, ten at a time, a log per task.
#SBATCH --array=0-99%10
#SBATCH --output=logs/sweep_%A_%a.out
#SBATCH --error=logs/sweep_%A_%a.err
#SBATCH --time=30
# expect array_indices_submitted = 0-99
# expect max_run_subjobs = 10
# expect Resource_List.walltime = 00:30:00
# expect Output_Path = HOST:@WORK@/logs/sweep_@ID@_4294967294.out
# expect Join_Path = n
python3 sweep.py "$SLURM_ARRAY_TASK_ID"
