#!/bin/bash
# Charged to an account and a project, started no earlier than a date.
#$ -A lab42
#$ -P genomics
#$ -a 12312359
#$ -cwd
# expect Account_Name = lab42
# expect project = genomics
./yearly_report
