/* SPDX-License-Identifier: MIT */
/* The terminal of an interactive job (qsub -I). The job's shepherd holds
 * the master side of a pseudo-terminal whose other side is the job's
 * controlling terminal, and listens on TTY_DIR/ID (cfg.tty_dir), a unix
 * SOCK_SEQPACKET socket only the job's owner may connect to. qsub connects
 * once boxqd says the job has started, and relays its own terminal.
 *
 * Each packet is one record: a type byte, then its payload.
 *   TTY_DATA     both ways: bytes typed (to the job) or written (to qsub)
 *   TTY_WINSIZE  to the job: struct tty_winsize, the terminal's new size
 *   TTY_NOTICE   to qsub: text from boxq (why the job is being ended)
 *   TTY_EXIT     to qsub: int32 status as a shell gives it (128+N: signal
 *                N), then text: how the job ended; the last record
 * The shepherd sends at most TTY_DATA_MAX bytes of data in one record. */
#pragma once

#include <stdint.h>

enum {
  TTY_DATA = 'D',
  TTY_WINSIZE = 'W',
  TTY_NOTICE = 'N',
  TTY_EXIT = 'X',
};

#define TTY_DATA_MAX   4096
#define TTY_RECORD_MAX (1 + TTY_DATA_MAX)

struct tty_winsize {
  uint16_t rows, cols, xpixel, ypixel;
};

/* How long the shepherd waits for qsub to attach once the job runs;
 * after that, as after a dropped connection, the job is hung up. */
#define TTY_ATTACH_SEC 60
