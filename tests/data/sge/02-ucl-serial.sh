#!/bin/bash -l
# A university cluster's serial job template (names and sizes as its
# documentation writes them).
#$ -l h_rt=0:10:0
#$ -l mem=1G
#$ -l tmpfs=15G
#$ -N Serial_Job
#$ -wd @WORK@/sub
# expect Job_Name = Serial_Job
# expect Resource_List.walltime = 00:10:00
# expect Resource_List.mem = 1gb
# expect Resource_List.ncpus = 1
# expect Output_Path = HOST:@WORK@/sub/Serial_Job.o@ID@
cd "$TMPDIR" && ./myprogram
