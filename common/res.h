/* SPDX-License-Identifier: MIT */
/* Resource values as PBS writes them: sizes ("256mb", "1.5gb"), durations
 * ("01:30:00", "90", "1:00:00:00") and resource lists ("ncpus=2,mem=1gb"). */
#pragma once

#include "util.h"

#include <stdint.h>

/* Largest size boxq accepts: 1 EiB keeps every product below INT64_MAX. */
#define RES_SIZE_MAX (INT64_C(1) << 60)
/* Largest duration: 100 years in seconds. */
#define RES_DURATION_MAX (INT64_C(100) * 366 * 24 * 3600)
#define RES_NCPUS_MAX    4096

/* PBS size: integer or decimal, optional unit b kb mb gb tb pb (powers of
 * 1024, case-insensitive, trailing "w" for words of 8 bytes). */
int res_parse_size(const char *s, int64_t *ret_bytes, struct berr *err);
/* [[[DD:]HH:]MM:]SS, each part a whole number; or plain seconds. */
int res_parse_duration(const char *s, int64_t *ret_seconds, struct berr *err);
int res_parse_ncpus(const char *s, int64_t *ret, struct berr *err);

/* "256mb", "1gb", "1536kb": the largest unit that divides exactly. */
void res_format_size(int64_t bytes, char *buf, size_t len);
/* "HH:MM:SS" (hours grow beyond 99 as needed). */
void res_format_duration(int64_t seconds, char *buf, size_t len);

/* The resources a job asks for; 0 means "not given". */
#define RES_PIDS_MAX 4194304

struct res_request {
  int64_t ncpus;
  int64_t mem;
  int64_t walltime;
  int64_t cput; /* CPU seconds the whole job may use; 0: no limit */
  int64_t pids; /* pids.max */
  int net;      /* 0 unset, 1 host network, 2 none (loopback only) */
  /* The forms of other batch systems (res_finish turns them into ncpus
   * and mem): the last nodes=, select=, procs= or mppwidth= given. */
  int64_t nodes;     /* nodes or chunks asked; 0: none of those forms */
  int64_t node_cpus; /* the CPUs they add up to */
  int64_t node_mem;  /* select's mem times its chunks; 0: none given */
  int64_t node_gpus; /* nodes' gpus= or select's ngpus, summed; 0: none */
  int64_t vmem;      /* vmem */
  int64_t pmem;      /* pmem or pvmem: memory per process */
  /* Every resource but the five above, "name=value" as written, for
   * qstat's Resource_List (allocated; a later one of a name replaces). */
  char **site;
  size_t nsite;
  /* Names this server gives no meaning (unknown_resource = warn: the
   * caller says so once each). */
  char **unknown;
  size_t nunknown;
};

/* What to do with forms that need a decision of the site's. */
enum res_unknown { RES_UNKNOWN_WARN, RES_UNKNOWN_IGNORE, RES_UNKNOWN_REFUSE };
struct res_policy {
  enum res_unknown unknown;
  bool refuse_multinode; /* more than one node or chunk is an error, not summed */
  /* The site's device classes ([devices NAME]): counts, recorded. */
  bool (*is_device_class)(const void *ctx, const char *name);
  const void *ctx;
};

/* Parses "ncpus=2,mem=1gb,walltime=1:00:00" into req, keeping fields not
 * named. Besides boxq's own five: Torque's nodes=N[:ppn=P][:gpus=G]
 * [:FEATURE][+...] (or a host name for N), PBS Pro's select=N:ncpus=P:
 * mem=M[:...][+...], procs, Cray's mppwidth/mppnppn/mppdepth, vmem,
 * pmem/pvmem, device counts (ngpus, gpus, gpu and the site's device
 * classes: whole numbers, recorded), and, recorded only, place, feature,
 * arch, host, naccesspolicy, file. Others are unknown: kept (and listed in
 * req->unknown) or refused, as pol says (NULL: refused). Bad values are
 * errors naming the resource. */
int res_parse_list(const char *list, struct res_request *req, const struct res_policy *pol,
                   struct berr *err);
/* over's resources replace base's (the command line over directives). */
void res_merge(struct res_request *base, const struct res_request *over);
/* Turns the other forms into ncpus and mem where those were not given:
 * the CPUs of every node or chunk summed, select's memory summed, else
 * vmem, else pmem times the CPUs. */
void res_finish(struct res_request *req);
/* The site forms as one "name=value,name=value" string (allocated). */
char *res_site_string(const struct res_request *req);
void res_request_free(struct res_request *req);
