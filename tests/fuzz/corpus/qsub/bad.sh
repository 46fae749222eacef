#PBS -l mem=-5mb
#PBS -q "
