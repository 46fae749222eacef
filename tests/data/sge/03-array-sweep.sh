#!/bin/sh
# A parameter sweep: 100 tasks, 10 at a time, logs named by task.
#$ -N sweep
#$ -t 1-100
#$ -tc 10
#$ -cwd
#$ -o $JOB_NAME.$JOB_ID.$TASK_ID.out
#$ -e $JOB_NAME.$JOB_ID.$TASK_ID.err
# expect Job_Name = sweep
# expect array_indices_submitted = 1-100
# expect max_run_subjobs = 10
# expect Output_Path = HOST:@WORK@/sweep.@ID@.$TASK_ID.out
python3 run.py --index "$SGE_TASK_ID"
