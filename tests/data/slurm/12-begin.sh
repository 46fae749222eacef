#!/bin/bash
# Not before a time, on a partition of the site (mapped to this box's).
#SBATCH --begin=now+1hour
#SBATCH -p compute
#SBATCH -J deferred
# expect job_state = W
# expect queue = batch
./nightly
