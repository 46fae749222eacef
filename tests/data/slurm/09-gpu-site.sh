#!/bin/bash
# A GPU request and a site's placement options, recorded.
#SBATCH --gres=gpu:1
#SBATCH --constraint=avx2
#SBATCH --qos=normal
#SBATCH --exclusive
#SBATCH -J gpujob
# expect Job_Name = gpujob
# expect Resource_List.gpus = 1
nvidia-smi
