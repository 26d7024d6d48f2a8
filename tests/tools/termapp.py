#!/usr/bin/env python3
"""An application for tests/e2e/modern.sh, run inside a moshi session.

  termapp.py query           asks the terminal (colours, DECRQM 2026,
                             XTVERSION, kitty flags, DA1 last) and prints
                             what came back, hex-escaped, as "GOT ..."
  termapp.py sync GENS       draws the whole screen GENS times, each time
                             in two halves 0.1 s apart inside DEC mode
                             2026: rows "top G" then rows "bottom G"
  termapp.py keys MODE SECS  asks for extended keys (MODE: mok2, kitty,
                             none), then prints what it reads for SECS
                             seconds, hex-escaped, as "KEYS ..."
  termapp.py clip            OSC 52 for c, p and c again (a repeat), one
                             of them large, and an OSC 8 link
  termapp.py underline       styled and coloured underlines
"""
import os
import select
import sys
import termios
import time
import tty


def show(b):
    return "".join(chr(c) if 0x20 < c < 0x7f and c != 0x5c else "\\x%02x" % c for c in b)


def read_for(secs, stop=None):
    got = b""
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([0], [], [], 0.05)
        if r:
            got += os.read(0, 4096)
            if stop is not None and got.endswith(stop):
                break
    return got


def raw(fn):
    old = termios.tcgetattr(0)
    tty.setraw(0)
    try:
        return fn()
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, old)


def query():
    def ask():
        os.write(1, b"\033]11;?\033\\\033]10;?\007\033[?2026$p\033[>q\033[?u\033[c")
        return read_for(3, stop=b"c")
    print("GOT " + show(raw(ask)))


def sync(gens):
    rows = 20
    half = rows // 2
    os.write(1, b"\033[2J")
    for g in range(1, gens + 1):
        os.write(1, b"\033[?2026h")
        os.write(1, b"".join(b"\033[%d;1Htop %d\033[K" % (r + 1, g) for r in range(half)))
        time.sleep(0.1)
        os.write(1, b"".join(b"\033[%d;1Hbottom %d\033[K" % (r + 1, g)
                             for r in range(half, rows)))
        os.write(1, b"\033[?2026l")
        time.sleep(0.3)
    os.write(1, b"\033[%d;1Hdone\r\n" % (rows + 1))


def keys(mode, secs):
    on, off = {"mok2": (b"\033[>4;2m", b"\033[>4m"),
               "kitty": (b"\033[>1u", b"\033[<u"),
               "none": (b"", b"")}[mode]

    def run():
        os.write(1, on + b"ready\r\n")
        got = read_for(secs)
        os.write(1, off)
        return got
    print("KEYS " + show(raw(run)))


def clip():
    import base64
    big = base64.b64encode(bytes(range(256)) * 80).decode()  # 27,308 bytes
    small = base64.b64encode(b"moshi clip").decode()
    out = "\033]52;c;%s\a" % small
    out += "\033]52;p;%s\a" % big
    out += "x\033]52;c;%s\a" % small  # the same again: a second copy
    out += "\033]8;;http://example.invalid/moshi\033\\link\033]8;;\033\\\r\n"
    os.write(1, out.encode())
    print("clip done %d" % len(big))


def underline():
    os.write(1, b"\033[4:3;58:2::255:0:0mcurly\033[0m \033[21;58;5;33mdouble\033[0m"
                b" \033[4:4mdotted\033[59m\033[0m\r\nunderline done\r\n")


def main():
    what = sys.argv[1]
    if what == "query":
        query()
    elif what == "sync":
        sync(int(sys.argv[2]))
    elif what == "keys":
        keys(sys.argv[2], float(sys.argv[3]))
    elif what == "clip":
        clip()
    elif what == "underline":
        underline()


main()
