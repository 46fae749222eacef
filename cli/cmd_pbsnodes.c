/* SPDX-License-Identifier: MIT */
/* pbsnodes: the one node boxq runs jobs on, as Torque (dialect torque) or
 * PBS Pro prints its nodes: -a (and PBS Pro's -av), -x (Torque's XML),
 * -F json (PBS Pro's), -l (nodes down or offline); and, for root, managers
 * and operators, -o / -c (offline / back: no job starts while offline)
 * with -N / -A (the node's note). */
#include "cli.h"
#include "json.h"

#include <getopt.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char pbsnodes_usage[] =
    "Usage: pbsnodes [-a] [-v] [-x | -F json] [node]\n"
    "       pbsnodes -l [-n] [state] [node]\n"
    "       pbsnodes {-o | -c | -r} [-N note | -A note] [-q] node\n"
    "       pbsnodes -N note node\n"
    "       pbsnodes --version\n"
    "  -a  every attribute of the node (the default); -v: PBS Pro's -av\n"
    "  -x  Torque's XML;  -F json  PBS Pro's JSON\n"
    "  -l  the node if it is down or offline (or in the given state); -n: with its note\n"
    "  -o  offline: running jobs go on, no job starts (root, managers, operators)\n"
    "  -c, -r  clear offline: jobs start again\n"
    "  -N note  set the node's note (n clears it); -A note  append to it\n"
    "The node is this machine, named as in job ids (the server name).\n";

/* The node's status from boxqd: "key=value" lines and one "job=ID NCPUS
 * CPUS" line per running job. */
struct node {
  char *text;
  const char *name, *state, *note, *loadave, *uname_s;
  long long ncpus, mem, assigned_ncpus, assigned_mem, njobs, nusers, physmem, availmem, totmem,
      state_changed;
  char **jobs; /* "ID" */
  long long *job_ncpus;
  size_t n;
  /* Devices: "ngpus=4" (resources_available), "ngpus=2" (assigned), and
   * "CLASS INDEX PATH JOB NEAR" per device. */
  char **avail, **assigned, **devices;
  size_t navail, nassigned, ndevices;
};

static void
push_line(char ***v, size_t *n, char *line) {
  *v = xrealloc(*v, (*n + 1) * sizeof(**v));
  (*v)[(*n)++] = line;
}

static void
node_free(struct node *nd) {
  free(nd->text);
  free(nd->jobs);
  free(nd->job_ncpus);
  free(nd->avail);
  free(nd->assigned);
  free(nd->devices);
  *nd = (struct node){0};
}

static long long
num(const char *v) {
  long long n = 0;
  if (v)
    sscanf(v, "%lld", &n);
  return n;
}

/* Where each "key=value" of boxqd's answer goes. */
static const struct {
  const char *key;
  size_t off;
} node_texts[] =
    {
        {"name", offsetof(struct node, name)},     {"state", offsetof(struct node, state)},
        {"note", offsetof(struct node, note)},     {"loadave", offsetof(struct node, loadave)},
        {"uname", offsetof(struct node, uname_s)},
},
  node_numbers[] = {
      {"ncpus", offsetof(struct node, ncpus)},
      {"mem", offsetof(struct node, mem)},
      {"assigned_ncpus", offsetof(struct node, assigned_ncpus)},
      {"assigned_mem", offsetof(struct node, assigned_mem)},
      {"njobs", offsetof(struct node, njobs)},
      {"nusers", offsetof(struct node, nusers)},
      {"physmem", offsetof(struct node, physmem)},
      {"availmem", offsetof(struct node, availmem)},
      {"totmem", offsetof(struct node, totmem)},
      {"state_changed", offsetof(struct node, state_changed)},
};

static int
node_fetch(struct cli_ctx *ctx, struct node *nd) {
  *nd = (struct node){0};
  struct pbuf b = {0};
  pb_begin(&b, MSG_NODE_INFO);
  pb_end(&b);
  struct pmsg reply;
  int r = cli_call(ctx, &b, &reply, false);
  if (r < 0)
    return r;
  const char *info = pmsg_str(&reply, T_INFO);
  if (!info) {
    cli_error(ctx, "no node status from boxqd");
    return -EPROTO;
  }
  nd->text = xstrdup(info);
  char *save = NULL;
  for (char *line = strtok_r(nd->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (!eq)
      continue;
    *eq = '\0';
    const char *k = line, *v = eq + 1;
    if (!strncmp(k, "resources_available.", 20)) {
      *eq = '=';
      push_line(&nd->avail, &nd->navail, line + 20);
    } else if (!strncmp(k, "resources_assigned.", 19)) {
      *eq = '=';
      push_line(&nd->assigned, &nd->nassigned, line + 19);
    } else if (streq(k, "device"))
      push_line(&nd->devices, &nd->ndevices, (char *)v);
    else if (streq(k, "job")) {
      char *sp = strchr(v, ' ');
      if (sp)
        *sp = '\0';
      nd->jobs = xrealloc(nd->jobs, (nd->n + 1) * sizeof(*nd->jobs));
      nd->job_ncpus = xrealloc(nd->job_ncpus, (nd->n + 1) * sizeof(*nd->job_ncpus));
      nd->jobs[nd->n] = (char *)v;
      nd->job_ncpus[nd->n++] = sp ? num(sp + 1) : 1;
    } else {
      for (size_t i = 0; i < ARRAY_SIZE(node_texts); i++)
        if (streq(k, node_texts[i].key))
          *(const char **)((char *)nd + node_texts[i].off) = v;
      for (size_t i = 0; i < ARRAY_SIZE(node_numbers); i++)
        if (streq(k, node_numbers[i].key))
          *(long long *)((char *)nd + node_numbers[i].off) = num(v);
    }
  }
  if (!nd->name || !nd->state) {
    cli_error(ctx, "no node status from boxqd");
    node_free(nd);
    return -EPROTO;
  }
  return 0;
}

/* The node's state in the dialect's words: a node whose CPUs are all held
 * is Torque's job-exclusive, PBS Pro's job-busy. */
static const char *
state_word(const struct cli_ctx *ctx, const struct node *nd) {
  if (streq(nd->state, "busy"))
    return ctx->dialect == DIALECT_TORQUE ? "job-exclusive" : "job-busy";
  return nd->state;
}

/* Torque's "0-1/12.vm,2/13.vm": each job's execution slots. */
static char *
torque_jobs(const struct node *nd) {
  char *out = xstrdup("");
  long long slot = 0;
  for (size_t i = 0; i < nd->n; i++) {
    long long k = nd->job_ncpus[i] > 0 ? nd->job_ncpus[i] : 1;
    char *more =
        k > 1 ? xasprintf("%s%s%lld-%lld/%s", out, i ? "," : "", slot, slot + k - 1, nd->jobs[i])
              : xasprintf("%s%s%lld/%s", out, i ? "," : "", slot, nd->jobs[i]);
    free(out);
    out = more;
    slot += k;
  }
  return out;
}

/* PBS Pro's "12.vm/0, 12.vm/1": one entry per CPU a job holds. */
static void
pbspro_job_slots(const struct node *nd, void (*fn)(const char *slot, void *ud), void *ud) {
  long long slot = 0;
  for (size_t i = 0; i < nd->n; i++)
    for (long long k = 0; k < (nd->job_ncpus[i] > 0 ? nd->job_ncpus[i] : 1); k++) {
      _cleanup_free_ char *s = xasprintf("%s/%lld", nd->jobs[i], slot++);
      fn(s, ud);
    }
}

static void
append_slot(const char *slot, void *ud) {
  char **out = ud;
  char *more = xasprintf("%s%s%s", *out, **out ? ", " : "", slot);
  free(*out);
  *out = more;
}

static char *
torque_status(const struct node *nd) {
  return xasprintf("opsys=linux,uname=%s,nsessions=%lld,nusers=%lld,idletime=0,totmem=%lldkb,"
                   "availmem=%lldkb,physmem=%lldkb,ncpus=%lld,loadave=%s,gres=,netload=0,"
                   "state=%s,rectime=%lld",
                   nd->uname_s ? nd->uname_s : "", nd->njobs, nd->nusers, nd->totmem / 1024,
                   nd->availmem / 1024, nd->physmem / 1024, nd->ncpus,
                   nd->loadave ? nd->loadave : "0.00", streq(nd->state, "busy") ? "busy" : "free",
                   (long long)time(NULL));
}

/* Torque's gpu_status: gpu[N]=gpu_id=PATH;gpu_mode=Exclusive_Process;
 * gpu_state=Exclusive (held by a job) or Unallocated, highest first. */
static char *
torque_gpu_status(const struct node *nd) {
  char *out = xstrdup("");
  for (size_t i = nd->ndevices; i-- > 0;) {
    char cls[64], path[512], job[128];
    unsigned idx;
    if (sscanf(nd->devices[i], "%63s %u %511s %127s", cls, &idx, path, job) != 4 ||
        !streq(cls, "gpu"))
      continue;
    char *more =
        xasprintf("%s%sgpu[%u]=gpu_id=%s;gpu_mode=Exclusive_Process;gpu_state=%s", out,
                  *out ? "," : "", idx, path, streq(job, "-") ? "Unallocated" : "Exclusive");
    free(out);
    out = more;
  }
  return out;
}

/* Torque's attributes, in pbs_server's order: printed as "     key =
 * value" or as XML elements. */
static void
torque_attrs(const struct cli_ctx *ctx, const struct node *nd,
             void (*fn)(const char *k, const char *v, void *ud), void *ud) {
  _cleanup_free_ char *np = xasprintf("%lld", nd->ncpus);
  _cleanup_free_ char *jobs = torque_jobs(nd), *status = torque_status(nd);
  fn("state", state_word(ctx, nd), ud);
  fn("power_state", "Running", ud);
  fn("np", np, ud);
  fn("ntype", "cluster", ud);
  if (*jobs)
    fn("jobs", jobs, ud);
  fn("status", status, ud);
  for (size_t i = 0; i < nd->navail; i++)
    if (!strncmp(nd->avail[i], "ngpus=", 6))
      fn("gpus", nd->avail[i] + 6, ud);
  _cleanup_free_ char *gpus = torque_gpu_status(nd);
  if (*gpus)
    fn("gpu_status", gpus, ud);
  if (nd->note && *nd->note)
    fn("note", nd->note, ud);
}

static void
print_attr(const char *k, const char *v, void *ud) {
  (void)ud;
  printf("     %s = %s\n", k, v);
}

static void
xml_attr(const char *k, const char *v, void *ud) {
  (void)ud;
  printf("<%s>", k);
  xml_write_text(stdout, v);
  printf("</%s>", k);
}

/* "ngpus=4" lines as "     PREFIX.ngpus = 4". */
static void
print_device_counts(const char *prefix, char *const *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t k = strcspn(v[i], "=");
    printf("     %s.%.*s = %s\n", prefix, (int)k, v[i], v[i] + k + (v[i][k] == '='));
  }
}

/* The same in JSON, as numbers. */
static void
json_device_counts(struct json *js, char *const *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t k = strcspn(v[i], "=");
    _cleanup_free_ char *name = xstrndup(v[i], k);
    json_int(js, name, num(v[i] + k + (v[i][k] == '=')));
  }
}

static void
pbspro_print(const struct cli_ctx *ctx, const struct node *nd) {
  char changed[64];
  fmt_time(nd->state_changed ? nd->state_changed : time(NULL), changed, sizeof(changed));
  _cleanup_free_ char *slots = xstrdup("");
  pbspro_job_slots(nd, append_slot, &slots);
  printf("%s\n", nd->name);
  printf("     Mom = %s\n", nd->name);
  printf("     ntype = PBS\n");
  printf("     state = %s\n", state_word(ctx, nd));
  printf("     pcpus = %lld\n", nd->ncpus);
  if (*slots)
    printf("     jobs = %s\n", slots);
  printf("     resources_available.arch = linux\n");
  printf("     resources_available.host = %s\n", nd->name);
  printf("     resources_available.mem = %lldkb\n", nd->mem / 1024);
  printf("     resources_available.ncpus = %lld\n", nd->ncpus);
  print_device_counts("resources_available", nd->avail, nd->navail);
  printf("     resources_available.vnode = %s\n", nd->name);
  printf("     resources_assigned.mem = %lldkb\n", nd->assigned_mem / 1024);
  printf("     resources_assigned.ncpus = %lld\n", nd->assigned_ncpus);
  print_device_counts("resources_assigned", nd->assigned, nd->nassigned);
  for (size_t i = 0; i < nd->ndevices; i++) {
    char cls[64], path[512], job[128], near[256];
    unsigned idx;
    if (sscanf(nd->devices[i], "%63s %u %511s %127s %255s", cls, &idx, path, job, near) == 5)
      printf("     device.%s%u = %s job=%s near_cpus=%s\n", cls, idx, path, job, near);
  }
  printf("     resv_enable = True\n");
  printf("     sharing = default_shared\n");
  if (nd->note && *nd->note)
    printf("     comment = %s\n", nd->note);
  printf("     last_state_change_time = %s\n", changed);
  printf("\n");
}

static void
json_slot(const char *slot, void *ud) {
  json_str(ud, NULL, slot);
}

static void
pbspro_json(const struct cli_ctx *ctx, const struct node *nd) {
  struct json js;
  json_init(&js, stdout);
  json_pbs_header(&js, ctx->server);
  json_open(&js, "nodes", '{');
  json_open(&js, nd->name, '{');
  json_str(&js, "Mom", nd->name);
  json_str(&js, "ntype", "PBS");
  json_str(&js, "state", state_word(ctx, nd));
  json_int(&js, "pcpus", nd->ncpus);
  if (nd->n) {
    json_open(&js, "jobs", '[');
    pbspro_job_slots(nd, json_slot, &js);
    json_close(&js, ']');
  }
  char kb[32];
  json_open(&js, "resources_available", '{');
  json_str(&js, "arch", "linux");
  json_str(&js, "host", nd->name);
  snprintf(kb, sizeof(kb), "%lldkb", nd->mem / 1024);
  json_str(&js, "mem", kb);
  json_int(&js, "ncpus", nd->ncpus);
  json_device_counts(&js, nd->avail, nd->navail);
  json_str(&js, "vnode", nd->name);
  json_close(&js, '}');
  json_open(&js, "resources_assigned", '{');
  snprintf(kb, sizeof(kb), "%lldkb", nd->assigned_mem / 1024);
  json_str(&js, "mem", kb);
  json_int(&js, "ncpus", nd->assigned_ncpus);
  json_device_counts(&js, nd->assigned, nd->nassigned);
  json_close(&js, '}');
  json_str(&js, "resv_enable", "True");
  json_str(&js, "sharing", "default_shared");
  if (nd->note && *nd->note)
    json_str(&js, "comment", nd->note);
  json_int(&js, "last_state_change_time", nd->state_changed ? nd->state_changed : time(NULL));
  json_close(&js, '}');
  json_close(&js, '}');
  json_close(&js, '}');
  json_end(&js);
}

/* The node's names: the server name, and this host's name with or
 * without its domain. */
static bool
is_this_node(const struct node *nd, const char *name) {
  if (streq(name, nd->name))
    return true;
  char host[256] = "";
  if (gethostname(host, sizeof(host) - 1) < 0)
    return false;
  size_t short_len = strcspn(host, ".");
  return streq(name, host) || (strlen(name) == short_len && !strncmp(name, host, short_len));
}

static int
set_node(struct cli_ctx *ctx, int64_t flags, const char *note, bool quiet) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_NODE_SET);
  pb_i64(&b, T_FLAGS, flags);
  if (note)
    pb_str(&b, T_MESSAGE, note);
  pb_end(&b);
  struct pmsg reply;
  return cli_call(ctx, &b, &reply, quiet) < 0 ? 1 : 0;
}

enum pbsnodes_action { ACT_SHOW, ACT_LIST, ACT_OFFLINE, ACT_CLEAR, ACT_NOTE };

int
cmd_pbsnodes(struct cli_ctx *ctx, int argc, char **argv) {
  enum { OPT_VERSION = 1000 };
  static const struct option opts[] = {
      {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, OPT_VERSION}, {0}};
  enum pbsnodes_action act = ACT_SHOW;
  bool xml = false, json = false, quiet = false, list_notes = false, version = false;
  const char *note = NULL, *append = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "acdlnoqrvxs:F:N:A:h", opts, NULL)) != -1) {
    switch (o) {
      case 'a':
      case 'v':
      case 'd':
        break;
      case 'l':
        act = ACT_LIST;
        break;
      case 'n':
        list_notes = true;
        break;
      case 'o':
        act = ACT_OFFLINE;
        break;
      case 'c':
      case 'r':
        act = ACT_CLEAR;
        break;
      case 'q':
        quiet = true;
        break;
      case 'x':
        xml = true;
        break;
      case 's':
        break; /* one server: the one the configuration names */
      case 'F':
        if (!streq(optarg, "json")) {
          cli_error(ctx, "-F '%s': boxq writes json (-F json)", optarg);
          return 2;
        }
        json = true;
        break;
      case 'N':
        note = streq(optarg, "n") ? "" : optarg;
        break;
      case 'A':
        append = streq(optarg, "n") ? "" : optarg;
        break;
      case OPT_VERSION:
        version = true;
        break;
      case 'h':
        fputs(pbsnodes_usage, stdout);
        return 0;
      default:
        fputs(pbsnodes_usage, stderr);
        return 1;
    }
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  if (version) {
    /* Torque prints its version on stderr, PBS Pro on stdout: tools (Toil)
     * tell them apart by that. */
    if (ctx->dialect == DIALECT_TORQUE)
      fprintf(stderr, "Version: boxq %s\nCommit: boxq\n", BOXQ_VERSION);
    else
      printf("pbs_version = PBSPro-compatible boxq %s\n", BOXQ_VERSION);
    return 0;
  }
  if (list_notes && act != ACT_LIST) {
    cli_error(ctx, "-n goes with -l");
    return 1;
  }
  if (act == ACT_SHOW && (note || append))
    act = ACT_NOTE;
  struct node nd;
  if (node_fetch(ctx, &nd) < 0)
    return 1;
  const char *filter_state = NULL;
  int first = optind;
  if (act == ACT_LIST && first < argc &&
      (streq(argv[first], "free") || streq(argv[first], "offline") || streq(argv[first], "down") ||
       streq(argv[first], "job-exclusive") || streq(argv[first], "job-busy") ||
       streq(argv[first], "active") || streq(argv[first], "all") || streq(argv[first], "up")))
    filter_state = argv[first++];
  for (int i = first; i < argc; i++)
    if (!is_this_node(&nd, argv[i])) {
      if (!quiet)
        cli_error(ctx, "Unknown node: %s (this server's one node is %s)", argv[i], nd.name);
      node_free(&nd);
      return 1;
    }
  if ((act == ACT_OFFLINE || act == ACT_CLEAR || act == ACT_NOTE) && first >= argc) {
    cli_error(ctx, "name the node (%s)", nd.name);
    node_free(&nd);
    return 1;
  }
  int rc = 0;
  _cleanup_free_ char *joined = NULL;
  if (append)
    note = joined = xasprintf("%s%s", nd.note ? nd.note : "", append);
  switch (act) {
    case ACT_OFFLINE:
      rc = set_node(ctx, NODE_OFFLINE, note, quiet);
      break;
    case ACT_CLEAR:
      rc = set_node(ctx, NODE_CLEAR, note, quiet);
      break;
    case ACT_NOTE:
      rc = set_node(ctx, 0, note, quiet);
      break;
    case ACT_LIST: {
      const char *st = state_word(ctx, &nd);
      bool up = !streq(nd.state, "offline");
      bool shown = filter_state ? streq(filter_state, "all") || streq(filter_state, st) ||
                                      (streq(filter_state, "up") && up) ||
                                      (streq(filter_state, "active") && nd.n > 0)
                                : !up;
      if (shown && list_notes && nd.note && *nd.note)
        printf("%-20.20s %-26.26s %s\n", nd.name, st, nd.note);
      else if (shown)
        printf("%-20.20s %s\n", nd.name, st);
      break;
    }
    case ACT_SHOW:
      if (xml) {
        printf("<Data><Node><name>");
        xml_write_text(stdout, nd.name);
        printf("</name>");
        torque_attrs(ctx, &nd, xml_attr, NULL);
        printf("</Node></Data>\n");
      } else if (json)
        pbspro_json(ctx, &nd);
      else if (ctx->dialect == DIALECT_TORQUE) {
        printf("%s\n", nd.name);
        torque_attrs(ctx, &nd, print_attr, NULL);
        printf("\n");
      } else
        pbspro_print(ctx, &nd);
      break;
  }
  node_free(&nd);
  return rc || fflush(stdout) != 0 ? 1 : 0;
}
