#!/bin/bash
# Hard requests bind; soft ones are wishes (boxq grants none of them).
#$ -hard -l h_vmem=512M
#$ -soft -l h_rt=1:00:00 -q fast.q
#$ -hard
#$ -cwd
#$ -N hardsoft
# expect Resource_List.mem = 512mb
# expect queue = batch
./run
