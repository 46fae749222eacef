#!/bin/bash
# A GPU request and a site's placement options: on a box without GPUs,
# refused as real Slurm refuses it.
#SBATCH --gres=gpu:1
#SBATCH --constraint=avx2
#SBATCH --qos=normal
#SBATCH --exclusive
#SBATCH -J gpujob
# expect refused: asks for 1 gpu device; this box has none
nvidia-smi
