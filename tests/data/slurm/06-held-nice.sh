#!/bin/bash
# Submitted on hold, niced down, requeue allowed.
#SBATCH --hold
#SBATCH --nice=50
#SBATCH --requeue
#SBATCH -J later
# expect job_state = H
# expect Priority = -50
# expect Rerunable = True
./later
