#!/bin/bash
# Runs in another directory with one variable exported.
#SBATCH --chdir=@WORK@/sub
#SBATCH --export=NONE,STAGE=2
#SBATCH --job-name=staged
# expect Output_Path = HOST:@WORK@/sub/slurm-@ID@.out
# expect Job_Name = staged
./stage "$STAGE"
