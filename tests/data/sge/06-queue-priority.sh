#!/bin/bash
# A queue instance as Grid Engine names them, a lowered priority.
#$ -q all.q@node01
#$ -p -100
#$ -cwd
#$ -N lowprio
# expect queue = batch
# expect Priority = -100
./analysis
