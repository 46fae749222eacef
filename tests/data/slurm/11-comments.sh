#!/bin/bash
# A trailing comment on a directive; #SBATCH after the first command is
# not read (Slurm stops there too).
#SBATCH -J commented # the name
#SBATCH -c 2

echo start
#SBATCH -c 3
# expect Job_Name = commented
# expect Resource_List.ncpus = 2
echo end
