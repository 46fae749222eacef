#!/bin/bash
# MPI-style: tasks on one node, two CPUs each.
#SBATCH --nodes=1
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=2
#SBATCH --mem=3G
#SBATCH --partition=batch
# expect Resource_List.ncpus = 4
# expect Resource_List.mem = 3gb
# expect queue = batch
srun ./mpi_app
