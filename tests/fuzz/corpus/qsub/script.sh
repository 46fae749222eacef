#!/bin/sh
#PBS -N job
#PBS -l ncpus=2,mem=1.5gb,walltime=1:00:00:00
#PBS -j oe -o /tmp/x -v "A=1,B=2"
echo hi
