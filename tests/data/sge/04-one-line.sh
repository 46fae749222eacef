#!/bin/bash
# Several options on one directive line, as many scripts have them.
#$ -cwd -V -j y -N packed -l h_rt=3600,h_vmem=1G
# expect Job_Name = packed
# expect Join_Path = oe
# expect Resource_List.walltime = 01:00:00
# expect Resource_List.mem = 1gb
make -j1
