#!/bin/bash
# A multithreaded program: one task, its CPUs per task, memory per CPU.
#SBATCH -J omp
#SBATCH -c 4
#SBATCH --mem-per-cpu=500M
#SBATCH -t 1-00:00:00
# expect Job_Name = omp
# expect Resource_List.ncpus = 4
# expect Resource_List.mem = 2000mb
# expect Resource_List.walltime = 24:00:00
# expect Output_Path = HOST:@WORK@/slurm-@ID@.out
export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK
./omp_program
