#!/bin/bash
# An MPI job in a site's parallel environment, memory as mem_free and
# virtual_free per slot (the larger bounds it).
#$ -pe openmpi 4
#$ -l mem_free=500M,virtual_free=1G
#$ -cwd
#$ -N mpi_run
# expect Resource_List.ncpus = 4
# expect Resource_List.mem = 4gb
mpirun -np $NSLOTS ./solver
