#!/bin/bash
# A directive with a comment after it, and one after the first command:
# Grid Engine reads every #$ line of the script.
#$ -N commented # the name boxq must take
#$ -cwd
echo start
#$ -l h_cpu=1:00:00
# expect Job_Name = commented
# expect Resource_List.cput = 01:00:00
echo end
