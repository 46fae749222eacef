#!/bin/bash
# A university cluster's serial job template.
#SBATCH --job-name=serial_test
#SBATCH --ntasks=1
#SBATCH --mem=1G
#SBATCH --time=00:05:00
#SBATCH --output=serial_test_%j.log
# expect Job_Name = serial_test
# expect Resource_List.ncpus = 1
# expect Resource_List.mem = 1gb
# expect Resource_List.walltime = 00:05:00
# expect Output_Path = HOST:@WORK@/serial_test_@ID@.log
# expect Join_Path = oe
pwd; hostname; date
