/* SPDX-License-Identifier: MIT */
/* boxq-init: PID 1 of every job (the launch sequence is in launch.h).
 *
 * It reaps every process of the job that ends (orphans come to PID 1),
 * passes the forwarded signals on to all of them, and when the job's main
 * process ends writes that process's wait status to JOBINIT_STATUS_FD and
 * exits; the kernel then kills whatever is left in the PID namespace.
 *
 * A program of its own, and freestanding (no C library, no loader): the
 * launch makes the job's namespaces with a child that borrows the
 * shepherd's memory, and that child execs this once the job's process has
 * exec'd. PID 1 then owns an address space of a few pages, where a forked
 * init owned a copy of the shepherd's page tables, to copy at every launch
 * and tear down at every end, with a copy-on-write fault on both sides for
 * every page either wrote. A C library's start-up alone (glibc probes the
 * CPU's features with cpuid, a trap each on a virtual machine) would cost
 * more than everything init does. */
#include "jobinit.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Headers for their constants only: nothing of the C library is linked. */

#if defined(__x86_64__)
static inline long
sys4(long nr, long a, long b, long c, long d) {
  register long r10 __asm__("r10") = d;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call init_main\n"
        "  hlt\n");
#elif defined(__aarch64__)
static inline long
sys4(long nr, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  bl init_main\n"
        "  brk #0\n");
#else
#error "boxq-init: this architecture's system call convention is not written (x86_64, aarch64)"
#endif

#define SIGBIT(s) (UINT64_C(1) << ((s)-1))

static __attribute__((noreturn)) void
exit_now(int code) {
  for (;;)
    sys4(SYS_exit_group, code, 0, 0, 0);
}

static long
parse_pid(const char *s) {
  long v = 0;
  if (!s || !*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 100000000)
      return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

/* The kernel's initial stack: argc, then argv. */
__attribute__((noreturn, used)) void init_main(long *sp);

void
init_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  long main_pid = argc > 1 ? parse_pid(argv[1]) : -1;
  if (main_pid <= 0)
    exit_now(127);
  /* exec named us after the descriptor we were run from on older kernels. */
  sys4(SYS_prctl, PR_SET_NAME, (long)"boxq-init", 0, 0);

  static const int forwarded[] = {JOBINIT_FORWARDED_SIGNALS};
  uint64_t set = SIGBIT(SIGCHLD);
  for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
    set |= SIGBIT(forwarded[i]);
  sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, sizeof(set));
  for (;;) {
    uint64_t info[16]; /* a siginfo_t: 128 bytes */
    long sig = sys4(SYS_rt_sigtimedwait, (long)&set, (long)info, 0, sizeof(set));
    if (sig < 0)
      continue; /* EINTR */
    if (sig != SIGCHLD) {
      sys4(SYS_kill, -1, sig, 0, 0); /* every process of the job but us */
      continue;
    }
    for (;;) {
      int status;
      long pid = sys4(SYS_wait4, -1, (long)&status, WNOHANG, 0);
      if (pid <= 0)
        break;
      if (pid == main_pid) {
        sys4(SYS_write, JOBINIT_STATUS_FD, (long)&status, sizeof(status), 0);
        exit_now(0);
      }
    }
  }
}
