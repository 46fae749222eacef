/* SPDX-License-Identifier: MIT */
/* Devices as consumable resources: classes of device nodes (GPUs, render
 * nodes, accelerators), from [devices NAME] sections or found at start;
 * what a job asks of each class ("gpu=2"), which devices it holds
 * ("gpu:0,1"), and the choice of free devices, near one another and near
 * the CPUs a pinned job then gets. Shared by boxqd (capacity, choice) and
 * the worker (what a job may open). */
#pragma once

#include "cfg.h"
#include "cpuset.h"
#include "res.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DEV_CLASSES_MAX   CFG_DEVCLASSES_MAX
#define DEV_PER_CLASS_MAX 256

struct dev_node {
  char *path;
  dev_t rdev;      /* a character device */
  char *near_cpus; /* CPUs close to it ("0-15"), or NULL: not known */
};

struct dev_class {
  char *name;
  bool detected; /* found at start, not configured */
  struct dev_node *dev;
  size_t ndev;
  struct dev_node *common; /* every job of the class needs them too */
  size_t ncommon;
};

struct dev_table {
  struct dev_class cls[DEV_CLASSES_MAX];
  size_t ncls;
};

/* The configured classes (their globs expanded in natural order, every
 * node a character device), or without any and with detect_devices, the
 * devices found under root ("" for the machine itself: root/dev, /sys and
 * /proc). Errors name the section and the node. */
int dev_table_load(const struct boxq_config *cfg, const char *root, struct dev_table *t,
                   struct berr *err);
/* NVIDIA's /dev/nvidiaN (with nvidiactl, nvidia-uvm...), else DRM render
 * nodes /dev/dri/renderD* (with /dev/kfd), as class gpu. */
void dev_table_detect(const char *root, struct dev_table *t);
void dev_table_free(struct dev_table *t);
/* The class's index, or -1. */
int dev_class_find(const struct dev_table *t, const char *name);
size_t dev_table_total(const struct dev_table *t);

/* How many devices of each class of a table a job asks for. */
struct dev_counts {
  int16_t n[DEV_CLASSES_MAX];
};
bool dev_counts_any(const struct dev_counts *c);
/* "gpu=2,fpga=1"; -ENOENT for a class t does not have, -EINVAL. */
int dev_counts_parse(const struct dev_table *t, const char *text, struct dev_counts *ret);
/* "gpu=2,fpga=1", "" for none (allocated). */
char *dev_counts_format(const struct dev_table *t, const struct dev_counts *c);
/* What a job's resource list asks for: ngpus (PBS Pro), gpus (Slurm), gpu
 * (Grid Engine), gpus= of nodes= (Torque), ngpus of select= chunks, for
 * class gpu; NAME=N for class NAME. A count for a class the box lacks, or
 * more than it has, is refused, named. */
int dev_request_from_resources(const struct dev_table *t, const char *resources,
                               struct dev_counts *ret, struct berr *err);

/* The devices a job holds: per class, a set of indexes into its nodes. */
struct dev_set {
  uint64_t bits[DEV_CLASSES_MAX][DEV_PER_CLASS_MAX / 64];
};
bool dev_set_has(const struct dev_set *s, size_t cls, size_t i);
void dev_set_add(struct dev_set *s, size_t cls, size_t i);
size_t dev_set_count(const struct dev_set *s, size_t cls);
void dev_set_or(struct dev_set *into, const struct dev_set *s);
/* "gpu:0,1;fpga:3"; -EINVAL, -ENOENT (a class or device t lacks). */
int dev_set_parse(const struct dev_table *t, const char *text, struct dev_set *ret);
/* "gpu:0,1;fpga:3", "" for none (allocated). */
char *dev_set_format(const struct dev_table *t, const struct dev_set *s);
/* The first n devices of each class of a place's set (a job following
 * into the place), n from want; -ENOSPC when the place has too few. */
int dev_set_first(const struct dev_set *place, const struct dev_counts *want, struct dev_set *ret);

/* Chooses want's devices among those not busy. Per class: within one
 * neighbourhood (devices with the same near CPUs) when one has enough
 * free, the one with the fewest free (keeping the larger for larger
 * jobs), else the lowest free. near gets the CPUs near the chosen
 * devices (empty where unknown). -ENOSPC when too few are free. */
int dev_pick(const struct dev_table *t, const struct dev_set *busy, const struct dev_counts *want,
             struct dev_set *ret, struct cpuset *near);
