#!/bin/sh
# Short options with attached values, as some scripts write them.
#SBATCH -Jshort
#SBATCH -n2
#SBATCH -t10:00
#SBATCH --mem 256M
# expect Job_Name = short
# expect Resource_List.ncpus = 2
# expect Resource_List.walltime = 00:10:00
# expect Resource_List.mem = 256mb
true
