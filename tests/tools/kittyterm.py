#!/usr/bin/env python3
"""A scripted user's terminal that speaks the kitty keyboard protocol,
for tests/e2e/modern.sh: runs COMMAND (a moshi client) on a pty, answers
its questions (OSC 11 with #203040, CSI ? u with flags 0, DA1 last), and once
the screen shows "ready" and the client has passed on the application's
request for kitty keys (CSI = 1 u), types Ctrl-Enter, Ctrl-i and Tab in
the protocol's form. Prints what it saw, one fact a line:

  asked-kitty     the client passed the request on
  screen TEXT     the screen's text at the end, escape sequences left out

Usage: kittyterm.py SECONDS COMMAND...
"""
import os
import pty
import re
import select
import sys
import time


def main():
    secs = float(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(sys.argv[2], sys.argv[2:])
    out = b""
    answered = False
    typed = False
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        # Answered as a terminal does, in the order asked, all at once
        # when the last question (DA1) is in: an answer after DA1's
        # would reach the client after it stopped listening.
        if not answered and b"\033[c" in out:
            answered = True
            os.write(fd, b"\033]11;rgb:2020/3030/4040\033\\\033[?0u\033[?62;22c")
        if not typed and b"\033[=1u" in out and b"ready" in out:
            time.sleep(0.3)
            os.write(fd, b"\033[13;5u\033[105;5u\t")
            typed = True
    if b"\033[=1u" in out:
        print("asked-kitty")
    text = re.sub(rb"\033\[[0-9;?>=<]*[ -/]*[@-~]|\033\][^\007\033]*(\007|\033\\\\)|\033.", b"", out)
    print("screen " + text.decode("utf-8", "replace").replace("\r", " ").replace("\n", " "))
    try:
        os.kill(pid, 15)
    except OSError:
        pass


main()
