#!/bin/bash
# Warned two minutes before its time limit, to checkpoint.
#SBATCH --time=1:00:00
#SBATCH --signal=B:USR1@120
#SBATCH -J ckpt
# expect Resource_List.walltime = 01:00:00
# expect Job_Name = ckpt
trap 'checkpoint' USR1
./long_run & wait
