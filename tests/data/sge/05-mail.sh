#!/bin/bash
# Mail at the beginning, end and abort of the job.
#$ -N mailer
#$ -m bea
#$ -M someone@example.com
#$ -cwd
# expect Mail_Points = bea
# expect Mail_Users = someone@example.com
echo done
