#!/bin/bash
# A sequencing core's alignment step: 4 slots, memory per slot.
#$ -S /bin/bash
#$ -cwd
#$ -N bwa_align
#$ -pe smp 4
#$ -l h_vmem=512M
#$ -l h_rt=12:00:00
#$ -j y
# expect Job_Name = bwa_align
# expect Resource_List.ncpus = 4
# expect Resource_List.mem = 2gb
# expect Resource_List.walltime = 12:00:00
# expect Join_Path = oe
# expect Output_Path = HOST:@WORK@/bwa_align.o@ID@
bwa mem -t "$NSLOTS" ref.fa reads.fq > out.sam
