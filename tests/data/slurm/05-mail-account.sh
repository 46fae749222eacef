#!/bin/bash
# Mail on the end and on failure, charged to an account.
#SBATCH --mail-type=END,FAIL
#SBATCH --mail-user=someone@example.com
#SBATCH --account=lab42
#SBATCH -J mailed
# expect Mail_Points = ea
# expect Mail_Users = someone@example.com
# expect Account_Name = lab42
./work
