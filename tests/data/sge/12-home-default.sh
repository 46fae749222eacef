#!/bin/bash
# No -cwd: Grid Engine runs the job in the home directory, and its
# output goes there.
#$ -N athome
#$ -l h_rt=600
# expect Output_Path = HOST:@HOME@/athome.o@ID@
# expect Resource_List.walltime = 00:10:00
pwd
