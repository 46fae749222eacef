/* SPDX-License-Identifier: MIT */
/* qsub's options, from the command line and from #PBS directives, parsed by
 * one parser so both accept exactly the same things. Pure: no I/O. */
#pragma once

#include "res.h"
#include "util.h"

/* The most of a script qsub and sbatch read; boxqd applies its own,
 * usually smaller, limit. */
#define QSUB_MAX_SCRIPT (8u << 20)

struct qsub_opts {
  char *name;               /* -N */
  char *out_path;           /* -o */
  char *err_path;           /* -e */
  int join;                 /* -j: -1 unset, else enum job_join */
  struct res_request res;   /* -l (0 = unset) */
  struct res_policy respol; /* what -l does with forms the server decides on */
  char **vars;              /* -v, "NAME" or "NAME=value", in order */
  size_t nvars;
  bool export_all; /* -V */
  bool hold;       /* -h */
  bool has_priority;
  int64_t priority;  /* -p */
  char *queue;       /* -q */
  int rerunnable;    /* -r: -1 unset, 0 n, 1 y */
  char *array_spec;  /* -J "1-100:2%5" */
  char *depend;      /* -W depend=... */
  int64_t exec_time; /* -a, unix seconds; 0 unset */
  int64_t now;       /* the time -a is relative to (set by the caller) */
  char *workdir;     /* -d or -w (Torque): the job's working directory */
  char *shell;       /* -S: the interpreter of the script */
  char *umask;       /* -W umask=: octal, for the job's files */
  char *user_list;   /* -u: must name the submitter (checked by the caller) */
  bool quiet;        /* -z: no job id printed */
  char *prefix;      /* -C: the directive prefix, instead of #PBS */
  char *account;     /* -A */
  char *project;     /* -P */
  char *group_list;  /* -W group_list= */
  char *mail_points; /* -m: a, b, e (any of them) or n */
  char *mail_users;  /* -M: user[@host],... */
  bool block;        /* -W block=true: wait for the job's end */
  bool interactive;  /* -I: the job runs on this terminal */
  bool dashdash;     /* the words stopped at "--": a command follows */
  /* Grid Engine's (qsub_sge.c) */
  bool sge;              /* parsed as Grid Engine's: the job gets its variables */
  bool cwd;              /* -cwd: run where qsub runs (else in $HOME) */
  int binary;            /* -b y|n: -1 unset; 1: the words after are a command */
  char *pe_name;         /* -pe NAME SLOTS */
  int64_t pe_slots;      /* 0 unset */
  int64_t slot_mem;      /* -l h_vmem and kin: bytes per slot; 0 unset */
  int64_t soft_walltime; /* -l s_rt: SIGUSR1 after this many seconds */
  bool notify;           /* -notify */
  int sync;              /* -sync y|n: -1 unset */
  bool terse;            /* -terse */
  bool soft;             /* after -soft: requests are wishes (-hard ends it) */
  char *hold_jid;        /* -hold_jid: ids and names, comma-separated */
  char *hold_jid_ad;     /* -hold_jid_ad: arrays, task by task */
  int64_t task_limit;    /* -tc */
  /* Slurm's (slurm_opts.c) */
  bool slurm;            /* parsed as sbatch's: the job gets Slurm's variables */
  int64_t ntasks;        /* -n; 0 unset */
  int64_t cpus_per_task; /* -c; 0 unset */
  int64_t mem_per_cpu;   /* --mem-per-cpu, bytes; 0 unset */
  char *wrap;            /* --wrap: the command the job runs */
  bool parsable;         /* --parsable: the id alone */
  bool singleton;        /* -d singleton: after the caller's jobs of the same name */
  bool export_none;      /* --export=NONE */
  int64_t signal_before; /* --signal=SIG@TIME: TIME seconds before the walltime ends */
  int signal_number;
};

/* PBS's -a: [[[[CC]YY]MM]DD]hhmm[.SS], local time. Parts left out are the
 * next such time after now (hhmm already past today means tomorrow). */
int qsub_parse_datetime(const char *s, int64_t now, int64_t *ret, struct berr *err);

void qsub_opts_init(struct qsub_opts *o);
void qsub_opts_free(struct qsub_opts *o);

/* Parses option words (argv without argv[0]). Stops at the first word that
 * is not an option, or after "--"; *ret_index is that word's index.
 * allow_operands: false for directives, where anything else is an error. */
int qsub_parse_args(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                    int *ret_index, struct berr *err);

/* One option word, argv[0], with the words after it it may take: how
 * many of those it took, or -errno (err says why). */
typedef int (*qsub_word_parser)(struct qsub_opts *o, int argc, char *const *argv, struct berr *err);
/* The loop of every language's option parser: words up to the first
 * operand (or after "--": o->dashdash), each option word to parse_word;
 * *ret_index the first operand's index. allow_operands false
 * (directives): an operand is an error. */
int qsub_parse_words(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                     int *ret_index, struct berr *err, qsub_word_parser parse_word);

/* One PBS option letter with its argument (the options Grid Engine's
 * qsub shares with PBS's go through here too). */
int qsub_parse_option(struct qsub_opts *o, char opt, const char *arg, struct berr *err);

/* Splits a directive's text into words: blanks separate, '' and "" quote. */
int qsub_split_words(const char *text, char ***ret_words, int *ret_count, struct berr *err);

/* A parser of option words: qsub_parse_args, or Grid Engine's. */
typedef int (*qsub_args_parser)(struct qsub_opts *o, int argc, char *const *argv,
                                bool allow_operands, int *ret_index, struct berr *err);
/* One directive's text (after its prefix), split and parsed. */
int qsub_parse_directive_text(struct qsub_opts *o, const char *text, qsub_args_parser parse,
                              struct berr *err);

/* Reads the directives (lines starting with prefix, "#PBS" by default)
 * at the head of a script (up to the first executable line) into o.
 * Errors are "NAME:LINE: ...". */
int qsub_parse_directives(struct qsub_opts *o, const char *script, size_t len, const char *name,
                          const char *prefix, struct berr *err);
/* Whether a script has #PBS directive lines (a #PBS and a blank). */
bool qsub_has_pbs_directives(const char *script, size_t len);
/* The directive prefix: -C, else PBS_DPREFIX, else "#PBS"; "" turns
 * directives off. */
const char *qsub_directive_prefix(const struct qsub_opts *cmdline);

/* Command-line options win over directives: copies every option set in
 * over into base (resources one by one; -v lists are joined). */
void qsub_opts_merge(struct qsub_opts *base, const struct qsub_opts *over);
