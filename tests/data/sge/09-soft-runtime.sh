#!/bin/bash
# A job that checkpoints when warned: SIGUSR1 at s_rt, ended at h_rt;
# -notify, rerunnable, a script, not a binary.
#$ -b n
#$ -r y
#$ -notify
#$ -l s_rt=0:50:0,h_rt=1:00:00
#$ -cwd
# expect Rerunable = True
# expect Resource_List.walltime = 01:00:00
# expect Job_Name = 09-soft-runtime.sh
trap 'save_state' USR1
./long_run
