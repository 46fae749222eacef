#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drives a command through a real pseudo-terminal, as a person at a
terminal would (expect's job, with nothing to install):

    ptydrive.py [--timeout SEC] [--pidfile FILE] STEP... -- COMMAND [ARGS...]

Steps, in order:
    expect:REGEX      wait until the output so far matches (re.S); later
                      expects look only after the end of this match
    send:TEXT         type TEXT (Python escapes: \\r, \\x03 for ^C, \\x1a ^Z)
    winsize:ROWS:COLS resize the terminal (the kernel sends SIGWINCH)
    sleep:SEC         pause
    kill:SIG          send signal SIG (a number) to the command itself
    exit:N            wait for the command to end; its status must be N

Exit status 0 when every step passed; otherwise 1, with the step that
failed and the whole transcript on stderr.
"""
import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time


def main():
    args = sys.argv[1:]
    timeout = 30.0
    pidfile = None
    while args and args[0].startswith("--") and args[0] != "--":
        if args[0] == "--timeout":
            timeout = float(args[1])
            args = args[2:]
        elif args[0] == "--pidfile":
            pidfile = args[1]
            args = args[2:]
        else:
            sys.exit("ptydrive: unknown option " + args[0])
    if "--" not in args:
        sys.exit("ptydrive: no command (steps -- command)")
    cut = args.index("--")
    steps, command = args[:cut], args[cut + 1:]

    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    if pidfile:
        with open(pidfile, "w") as f:
            f.write("%d\n" % pid)
    # A known size from the start, as a terminal emulator sets one.
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out = bytearray()
    seen = 0
    status = None

    def pump(wait):
        nonlocal status
        r, _, _ = select.select([master], [], [], wait)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if data:
                out.extend(data)
                return True
        if status is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = os.waitstatus_to_exitcode(st)
        return False

    def failed(why):
        sys.stderr.write("ptydrive: %s\n--- transcript ---\n%s\n--- end ---\n"
                         % (why, out.decode("utf-8", "replace")))
        if status is None:
            os.kill(pid, signal.SIGKILL)
        sys.exit(1)

    for step in steps:
        kind, _, arg = step.partition(":")
        deadline = time.monotonic() + timeout
        if kind == "expect":
            rx = re.compile(arg.encode(), re.S)
            while True:
                m = rx.search(out, seen)
                if m:
                    seen = m.end()
                    break
                if time.monotonic() > deadline:
                    failed("timed out waiting for /%s/" % arg)
                if not pump(0.05) and status is not None:
                    # Drain what is left, then one last look.
                    while pump(0.05):
                        pass
                    m = rx.search(out, seen)
                    if m:
                        seen = m.end()
                        break
                    failed("the command ended (status %s) before /%s/" % (status, arg))
        elif kind == "send":
            os.write(master, codecs.decode(arg, "unicode_escape").encode("latin-1"))
        elif kind == "winsize":
            rows, cols = (int(x) for x in arg.split(":"))
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif kind == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(0.05)
        elif kind == "kill":
            os.kill(pid, int(arg))
        elif kind == "exit":
            while status is None:
                if time.monotonic() > deadline:
                    failed("timed out waiting for the command to end")
                pump(0.05)
            while pump(0.05):
                pass
            if status != int(arg):
                failed("exit status %s, not %s" % (status, arg))
        else:
            failed("unknown step " + step)
    sys.stdout.write(out.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
