#!/usr/bin/env python3
"""Oracle tests: moshi's emulator against a real terminal (tmux).

Every stream of bytes is fed to a fresh tmux pane of the stream's size and
to moshi's emulator (through term_dump). The pane is read back with
`tmux capture-pane -e -p -N`, replayed through the same SGR and charset
parser, and the two screens are compared cell by cell: characters,
attributes and colours. The cursor, the title and mode flags are compared
with tmux's format variables.

Streams come from three places:
  script:NAME   the bytes pushed by each TEST of tests/term/*.test
  gen:NAME      feature and random streams made here from fixed seeds
  app:NAME      real programs (ls, less, man, top, bash, vi, nano, ...)
                run in tmux while pipe-pane records what they print; the
                recording is what both sides then replay

Where tmux itself is wrong or lacks a feature, the stream is listed in
TMUX_DIFFERS with the reason, and the script test checks moshi against the
standard instead. Such a stream is still run: it is reported as skipped
while tmux really differs, and fails once tmux agrees (a stale entry).

Usage: oracle.py TERM_DUMP OUTDIR    prints PASS/FAIL/SKIP lines
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SOCK = "moshi-oracle-%d" % os.getpid()

# Streams where tmux 3.3a is not the standard. Each says why; moshi's
# behaviour for them is checked by its script test instead.
TMUX_DIFFERS = {
    # Where the cursor is while a wrap is pending. xterm and the DEC
    # terminals keep it on the last column (EL, ECH, BS act there); tmux
    # keeps it one past the margin.
    "script:backspace_from_pending_wrap":
        "BS with a wrap pending: xterm moves to the second-last column, "
        "tmux to the last",
    "app:top_interactive":
        "top ends an 80-column inverse line with EL while the wrap is "
        "pending: xterm erases the last column, tmux erases nothing",
    "script:decrc_restores_pending_wrap":
        "xterm's DECRC restores the pending-wrap flag; tmux's does not",
    # Features tmux 3.3a does not implement, or implements otherwise.
    "script:cha_hpa_vpa_hpr_vpr": "tmux has no HPR (CSI a) or VPR (CSI e), "
        "ECMA-48 8.3.59 and 8.3.160",
    "script:lnm_newline_mode": "tmux ignores LNM (mode 20) on output",
    "gen:deccolm": "tmux's DECCOLM clears and homes but keeps the top and "
        "bottom margins; the VT510 manual and xterm reset them",
    "script:other_designations_are_ascii": "tmux ignores designations "
        "other than '0' and 'B' (G0 stays DEC graphics); xterm switches set",
    "script:il_inserts_lines": "IL and DL return the cursor to the first "
        "column (VT510 manual); tmux leaves the column",
    "script:il_dl_inside_region_only": "IL and DL are ignored outside the "
        "scroll margins (VT510 manual); tmux applies them to the screen",
    "script:alt_screen_47_keeps_content": "mode 47 keeps the alternate "
        "screen's text between switches (xterm); tmux clears it",
    "script:soft_reset": "DECSTR resets IRM, DECOM and the margins (VT510, "
        "xterm); tmux's leaves them",
    "gen:tabs": "CHT with no tab stop left moves to the right margin "
        "(xterm; tmux's own HT does too), tmux's CHT stays put",
    "script:ich_pushes_off_the_margin": "tmux 3.3a shows 'a  dbc' for ICH 3 "
        "at column 2 of 'abcdef' (one blank lost, also through an "
        "attached client); ECMA-48 8.3.64 and xterm give 'a   bc'",
    "gen:bce_autowrap_scroll": "a scroll caused by autowrap fills the new "
        "line with the current background like any other scroll (xterm, "
        "and tmux's own LF); tmux's autowrap uses the default background",
    "script:sd_with_many_params_is_ignored": "CSI T with five parameters "
        "is xterm's highlight mouse tracking, not SD; tmux scrolls",
    "script:bad_extended_colours_ignored": "an out-of-range 38;5;N leaves "
        "the colour as it was (xterm); tmux resets it",
    "script:truecolour_component_past_255_ignored": "an out-of-range "
        "38;2;R;G;B leaves the colour as it was (xterm); tmux resets it",
    "script:combining_at_pending_wrap_joins_last_cell": "with a wrap pending "
        "a combining mark joins the last column's character (xterm); tmux "
        "attaches it to the one before",
    "script:zero_width_space_and_format_chars": "moshi keeps zero-width "
        "format characters (ZWSP, ZWJ) with the preceding character; tmux "
        "drops them",
    # Wide characters: writing over or deleting either half of one erases
    # both halves in xterm; tmux keeps it whole and, when it redraws, the
    # new character lands a column to the right.
    "script:overwrite_right_half_erases_left": "tmux keeps a wide character "
        "whole when its right half is overwritten",
    "script:dch_through_wide_char": "tmux keeps a wide character whole when "
        "DCH deletes one of its halves",
    "gen:wide_edges": "tmux keeps wide characters whole when half of one "
        "is overwritten or deleted",
    "gen:wide_ich": "tmux keeps a wide character whole when ICH pushes half "
        "of it off the margin",
    # Robustness policies the issue sets for moshi.
    "script:utf8_invalid_bytes_become_fffd": "moshi shows U+FFFD for "
        "malformed UTF-8 (required); tmux drops the bytes",
    "script:utf8_overlong_rejected": "overlong UTF-8 becomes U+FFFD in "
        "moshi (required); tmux drops it",
    "script:utf8_surrogates_and_too_large": "surrogates and code points "
        "past U+10FFFF become U+FFFD in moshi (required); tmux drops them",
    "script:utf8_truncated_by_ascii_and_escape": "a truncated UTF-8 "
        "sequence becomes U+FFFD in moshi (required); tmux drops it",
    "script:many_params_dropped_not_overflowed": "moshi keeps the first 32 "
        "parameters and drops the rest; tmux drops the whole sequence",
    "script:parameters_saturate": "moshi saturates numbers at 65535; tmux "
        "drops the sequence",
    "script:million_digit_csi": "moshi reads leading zeros without growing "
        "any buffer; tmux drops the over-long sequence",
    "script:dcs_consumed": "CAN aborts a DCS string (Williams, xterm); tmux "
        "keeps swallowing text",
    "script:osc_cancelled_by_can": "CAN aborts an OSC string (Williams, "
        "xterm); tmux applies it",
    "script:title_invalid_utf8_dropped": "moshi keeps a title's valid "
        "characters; tmux drops a title with malformed UTF-8 whole",
    "script:title_capped": "moshi caps titles at 1 KiB; tmux does not",
    "script:huge_osc_dropped_whole": "moshi drops OSC strings over 64 KiB "
        "whole; tmux accepts them",
}

# Streams with nothing for tmux to show.
NOT_COMPARABLE = {
    "script:replies_bounded": "replies only; nothing on screen to compare",
}


def tmux(*args, check=True, capture=False):
    r = subprocess.run(["tmux", "-L", SOCK] + list(args),
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=capture)
    if check and r.returncode != 0:
        raise RuntimeError("tmux %s: %s" % (" ".join(args), r.stderr))
    return r.stdout if capture else r.returncode


# ---- streams ---------------------------------------------------------------

def unescape(s):
    """The string syntax of tests/term/*.test."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = s[i + 1]
        i += 2
        simple = {"e": 0x1b, "a": 7, "b": 8, "t": 9, "n": 10, "r": 13,
                  "\\": 0x5c, '"': 0x22}
        if e in simple:
            out.append(simple[e])
        elif e == "x":
            out.append(int(s[i:i + 2], 16))
            i += 2
        elif e == "u":
            j = s.index("}", i)
            out += chr(int(s[i + 1:j], 16)).encode("utf-8", "surrogatepass")
            i = j + 1
        else:
            raise ValueError("bad escape \\" + e)
    return bytes(out)


def script_streams():
    streams = []
    for name in sorted(os.listdir(os.path.join(TESTS, "term"))):
        if not name.endswith(".test"):
            continue
        cur = None
        for line in open(os.path.join(TESTS, "term", name), encoding="utf-8"):
            line = line.strip()
            word, _, args = line.partition(" ")
            if word == "TEST":
                cur = {"name": "script:" + args, "cols": 20, "rows": 5,
                       "data": b"", "usable": True}
                streams.append(cur)
            elif cur is None:
                continue
            elif word == "SIZE":
                c, r = args.split()
                cur["cols"], cur["rows"], cur["data"] = int(c), int(r), b""
            elif word == "RESIZE":
                cur["usable"] = False
            elif word == "PUSH":
                cur["data"] += unescape(re.match(r'\s*"(.*)"\s*$', args).group(1))
            elif word == "REPEAT":
                m = re.match(r'\s*(\d+)\s+"(.*)"\s*$', args)
                cur["data"] += unescape(m.group(2)) * int(m.group(1))
    return [s for s in streams if s["usable"] and s["data"]]


def gen_streams():
    streams = []

    def add(name, data, cols=40, rows=10):
        streams.append({"name": "gen:" + name, "cols": cols, "rows": rows,
                        "data": data})

    # Every SGR attribute, colour form and reset.
    for code in ["1", "2", "3", "4", "5", "7", "8", "9", "1;2", "21", "22",
                 "23", "24", "25", "27", "28", "29"]:
        # The resets (2x) start from everything switched on.
        on = b"\x1b[1;2;3;4;5;7;8;9m" if len(code) == 2 and code[0] == "2" else b""
        add("sgr_" + code.replace(";", "_"),
            on + ("a\x1b[%smb c\x1b[0md" % code).encode())
    for i in list(range(8)):
        add("fg_%d" % i, ("\x1b[3%dmx\x1b[9%dmy\x1b[4%dmz\x1b[10%dmw\x1b[m" % (i, i, i, i)).encode())
    for i in range(0, 256, 17):
        add("c256_%d" % i, ("\x1b[38;5;%dmA\x1b[48;5;%dmB\x1b[38:5:%dmC\x1b[m" % (i, 255 - i, i)).encode())
    add("truecolour", b"".join(("\x1b[38;2;%d;%d;%dm#" % (i * 9, 255 - i * 9, i) ).encode() for i in range(28)) + b"\x1b[m")
    add("truecolour_bg", b"".join(("\x1b[48;2;%d;%d;%dm " % (i, i * 9, 255 - i * 9)).encode() for i in range(28)) + b"\x1b[m")
    # Editing in colour: erases must use the background colour.
    add("bce_el", b"text text\x1b[44m\x1b[1;3H\x1b[K\x1b[2;1H\x1b[1K\x1b[0m")
    add("bce_ed", b"line1\r\nline2\x1b[42m\x1b[2J\x1b[0mafter")
    add("bce_ech_ich_dch", b"abcdefghij\x1b[45m\x1b[1;3H\x1b[2X\x1b[2@\x1b[3P\x1b[m")
    add("bce_scroll", b"\x1b[43m" + b"x\r\n" * 12 + b"\x1b[m")
    add("bce_region_autowrap_scroll", b"\x1b[2;5r\x1b[5;1H\x1b[42m" + b"y" * 60 + b"\x1b[m\x1b[r")
    add("bce_autowrap_scroll", b"\x1b[42m\x1b[5;1H12345678901\x1b[5C=\x1b[m", cols=10, rows=5)
    # Wide characters around edits and margins.
    add("wide_edges", "\u4e2d\u6587\u5b57\x1b[1;2Hx\x1b[1;5H\x1b[P\x1b[2;39H\u4e2d\u6587".encode())
    add("wide_ich", "ab\u4e2dcd\x1b[1;3H\x1b[1@".encode(), cols=8, rows=2)
    add("combining_mix", "e\u0301 a\u0308\u0323 \u4e2d\u0302 x\u200by".encode())
    add("emoji", "\U0001f600\U0001f680 ok \u2764\ufe0f".encode())
    # Scroll regions and insert/delete lines with content everywhere.
    body = b"".join(b"row%02d\r\n" % i for i in range(9)) + b"row09"
    add("region_scroll_up", body + b"\x1b[3;7r\x1b[7;1H\n\nnew\x1b[r", rows=10)
    add("region_scroll_down", body + b"\x1b[3;7r\x1b[3;1H\x1bM\x1bMtop\x1b[r", rows=10)
    add("region_il_dl", body + b"\x1b[2;8r\x1b[4;1H\x1b[2L\x1b[6;1H\x1b[3M\x1b[r", rows=10)
    add("region_su_sd", body + b"\x1b[2;9r\x1b[2S\x1b[1T\x1b[r", rows=10)
    add("origin_mode", body + b"\x1b[4;8r\x1b[?6h\x1b[1;1HO\x1b[99;99HP\x1b[?6l\x1b[r", rows=10)
    # Tabs and autowrap.
    add("tabs", b"\tA\tB\x1b[1;5H\x1bH\r\tC\x1b[3g\r\tD\x1b[2;1H\x1b[3I*\x1b[2Z#")
    add("autowrap", b"0123456789" * 9 + b"\x1b[?7l" + b"abcdefghij" * 5 + b"\x1b[?7h")
    add("alt_screen", b"main screen\x1b[?1049h\x1b[Halt screen\x1b[?1049lback")
    add("decaln", b"\x1b#8\x1b[3;3Hx", rows=4)
    add("charset_so_si", b"\x1b)0a\x0elqqk\x0fb\x1b(0x\x1b(By")
    add("title", b"\x1b]2;oracle title\x07visible")
    add("cursor_hidden_keys", b"\x1b[?25l\x1b[?1h\x1b=x")
    add("mouse_modes", b"\x1b[?1002h\x1b[?1006hm")
    add("rep", b"ab\x1b[5b\r\n-\x1b[38b")
    add("rep_after_rep", b"ab\x1b[2b\x1b[3bc\x1b[b\x1b[b")
    add("deccolm", b"text\r\nmore\x1b[2;3r\x1b[4;4H\x1b[?3hx\x1b[9;1Hy\n\n", rows=10)
    # Underline styles and colours (SGR 4:x, 21, 58, 59).
    add("underline_styles", b"\x1b[4mA\x1b[4:1mB\x1b[4:2mC\x1b[4:3mD\x1b[4:4mE"
        b"\x1b[4:5mF\x1b[21mG\x1b[4:0mH\x1b[4:3mI\x1b[24mJ\x1b[m")
    add("underline_colours", b"\x1b[4;58;5;196mA\x1b[58:5:21mB\x1b[58;2;1;2;3mC"
        b"\x1b[58:2::4:5:6mD\x1b[58:2:7:8:9mE\x1b[59mF\x1b[4:3;58;5;3mG\x1b[0mH"
        b"\x1b[58;5;9mI\x1b[4mJ\x1b[m")
    # Random streams. Edits are made at an explicit position, so that the
    # pending-wrap difference listed in TMUX_DIFFERS does not decide them,
    # and features tmux lacks are left out.
    rnd = random.Random(20261121)
    def cup():
        return b"\x1b[%d;%dH" % (rnd.randint(1, 12), rnd.randint(1, 40))
    pieces = [lambda: b"\r\n", lambda: b"\x1b[1m", lambda: b"\x1b[0m",
              lambda: b"\x1b[31;42mbg\x1b[49m", lambda: b"\x1b[7m", lambda: b"\x1b[4m",
              lambda: b"\x1b[38;5;99m", lambda: b"\x1b[48;2;10;20;30mrgb\x1b[49m",
              lambda: cup() + b"\x1b[K", lambda: cup() + b"\x1b[1K",
              lambda: cup() + b"\x1b[J", lambda: b"\x1b[2J", cup,
              lambda: cup() + b"\x1b[2@", lambda: cup() + b"\x1b[2P",
              lambda: cup() + b"\x1b[3X", lambda: "e\u0301".encode(),
              lambda: b"\r\t", lambda: b"\r\x1bM", lambda: b"\x1b[2;5r",
              lambda: b"\x1b[r", lambda: b"\r\x1b[5C", lambda: b"\r\x1b[2A"]
    for n in range(30):
        data = b""
        for _ in range(rnd.randint(20, 120)):
            if rnd.random() < 0.5:
                data += bytes(rnd.randint(0x21, 0x7e) for _ in range(rnd.randint(1, 12)))
            else:
                data += rnd.choice(pieces)()
        add("random_%02d" % n, data, cols=rnd.choice([10, 23, 40, 80]),
            rows=rnd.choice([3, 5, 10, 24]))
    return streams


# ---- recordings of real programs --------------------------------------------

def record(name, command, keys, outdir, cols=80, rows=24, settle=0.4):
    """Run command in a tmux pane, type keys (a list of send-keys argument
    lists, or numbers: seconds to wait), and return what it printed."""
    path = os.path.join(outdir, "app-%s.raw" % name)
    open(path, "wb").close()
    sess = "rec"
    env = "TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME=%s" % outdir
    tmux("new-session", "-d", "-s", sess, "-x", str(cols), "-y", str(rows),
         "sh -c 'tmux -L %s wait-for go; exec env %s %s'" % (SOCK, env, command))
    tmux("pipe-pane", "-t", sess, "-o", "cat >> %s" % path)
    tmux("wait-for", "-S", "go")
    time.sleep(settle)
    for k in keys:
        if isinstance(k, (int, float)):
            time.sleep(k)
        else:
            tmux("send-keys", "-t", sess, *k)
            time.sleep(0.1)
    time.sleep(settle)
    tmux("kill-session", "-t", sess, check=False)
    time.sleep(0.1)
    with open(path, "rb") as f:
        return f.read()


def app_streams(outdir):
    streams = []
    home = outdir
    long_file = os.path.join(outdir, "long.txt")
    with open(long_file, "w") as f:
        for i in range(400):
            f.write("%04d The quick brown fox jumps over the lazy dog; \u00e9t\u00e9 \u4e2d\u6587 %s\n"
                    % (i, "=" * (i % 50)))
    colours = os.path.join(outdir, "colours.sh")
    with open(colours, "w") as f:
        f.write("for i in $(seq 0 255); do printf '\\033[38;5;%dm%3d\\033[48;5;%dm \\033[m' $i $i $i; done; echo;"
                "for a in 1 2 3 4 5 7 9; do printf '\\033[%dmattr%d\\033[m ' $a $a; done; echo;"
                "printf '\\033[38;2;255;100;0mtrue\\033[48;2;0;0;128mcolour\\033[m\\n'\n")
    plan = [
        ("ls_color", "ls --color=always -l /usr/bin /etc | head -60", [1]),
        ("ls_color_narrow", "ls --color=always -C /usr/share", [1], 50, 20),
        ("colour_script", "sh %s" % colours, [1]),
        ("top_batch", "top -b -n 1 -w 80", [1]),
        ("less_long_file", "less -R %s" % long_file,
         [["Space"], ["Space"], ["b"], ["/", "fox", "Enter"], ["G"], ["g"], ["q"]]),
        ("less_wrapped", "less %s" % long_file, [["Space"], ["q"]], 30, 10),
        ("man_page", "man ls", [1.5, ["Space"], ["/", "color", "Enter"], ["q"]]),
        ("top_interactive", "top -d 0.5", [1.2, ["q"]]),
        ("bash_line_editing", "bash --norc --noprofile -i",
         [["echo the quick brown fox jumps over the lazy dog and then some more words to wrap the line twice over"],
          ["C-a"], ["Right"] * 5, ["X", "Y"], ["C-e"], ["BSpace"] * 7, ["Left"] * 3, ["C-k"],
          ["Enter"], ["printf '\\033[1;32mgreen\\033[m\\n'", "Enter"], ["C-l"], ["ls /", "Enter"],
          ["exit", "Enter"]]),
        ("bash_history", "bash --norc --noprofile -i",
         [["echo one", "Enter"], ["echo two two", "Enter"], ["Up"], ["Up"], ["Down"], ["C-u"],
          ["exit", "Enter"]], 40, 8),
        ("vi_edit", "vi -u NONE -N %s" % long_file,
         [0.5, ["G"], ["o"], ["new line typed in vi"], ["Escape"], ["gg"], ["x"], ["dd"],
          [":", "set number", "Enter"], ["C-f"], [":", "q!", "Enter"]]),
        ("vi_split", "vi -u NONE -N %s" % long_file,
         [0.5, [":", "split", "Enter"], ["C-w", "j"], ["50G"], [":", "q!", "Enter"], [":", "q!", "Enter"]]),
        ("nano_edit", "nano -I %s" % long_file,
         [0.5, ["typed text"], ["C-k"], ["C-v"], ["M-/"], ["C-x"], ["n"]]),
    ]
    for entry in plan:
        name, cmd, keys = entry[0], entry[1], entry[2]
        cols = entry[3] if len(entry) > 3 else 80
        rows = entry[4] if len(entry) > 4 else 24
        prog = cmd.split()[0]
        if shutil.which(prog) is None:
            streams.append({"name": "app:" + name, "skip": "%s is not installed" % prog})
            continue
        data = record(name, cmd, keys, outdir, cols, rows)
        streams.append({"name": "app:" + name, "cols": cols, "rows": rows, "data": data})
    return streams


# ---- comparison -------------------------------------------------------------

def parse_dump(text):
    out = {"rows": []}
    row = None
    for line in text.split("\n"):
        if line.startswith("cursor "):
            out["cursor"] = tuple(int(x) for x in line.split()[1:3])
        elif line.startswith("modes "):
            out["modes"] = int(line.split()[1], 16)
        elif line.startswith("title "):
            out["title"] = line[6:]
        elif line == "title":
            out["title"] = ""
        elif line.startswith("row "):
            row = []
            out["rows"].append(row)
        elif row is not None and line:
            ch, fg, bg, attr, ul = line.rsplit("|", 4)
            row.append((ch, int(fg, 16), int(bg, 16), int(attr, 16), int(ul, 16)))
    return out


ATTR_NAMES = ["bold", "dim", "italic", "underline", "blink", "inverse",
              "invisible", "strike"]


UNKNOWN_BG = 0x2010203  # term_dump --capture: past the captured text


def cell_diff(a, b):
    """Why two cells differ as seen on a screen, or None. b is tmux's."""
    ca, fa, ba, xa, ua = a
    cb, fb, bb, xb, ub = b
    if (ca or " ") != (cb or " ") and not (ca in ("", " ") and cb in ("", " ")):
        return "char %r vs %r" % (ca, cb)
    if bb == UNKNOWN_BG:
        return None  # tmux did not say; the character (blank) matched
    if ba != bb:
        return "bg %x vs %x" % (ba, bb)
    blank = ca in ("", " ") and not (xa & 0x28 or xb & 0x28 or xa & 0x88 or xb & 0x88)
    if blank:
        return None  # a blank's foreground and most attributes are invisible
    if fa != fb:
        return "fg %x vs %x" % (fa, fb)
    if xa != xb:
        return "attr %s vs %s" % (attr_text(xa), attr_text(xb))
    if ua != ub and xa & 0x8:
        return "underline colour %x vs %x" % (ua, ub)
    return None


def attr_text(x):
    names = [n for i, n in enumerate(ATTR_NAMES) if x >> i & 1]
    if x & 0x8:
        names.append("style %d" % (x >> 10 & 7))
    return "+".join(names) or "none"


MODE_FLAGS = [  # (tmux format variable, TERM_MODE bit, name)
    ("cursor_flag", 1 << 3, "cursor visible"),
    ("keypad_cursor_flag", 1 << 0, "cursor keys"),
    ("keypad_flag", 1 << 1, "keypad"),
    ("alternate_on", 1 << 13, "alternate screen"),
]


def run_tmux(stream, outdir):
    path = os.path.join(outdir, "stream.vt")
    with open(path, "wb") as f:
        f.write(stream["data"])
    cols, rows = stream["cols"], stream["rows"]
    tmux("new-session", "-d", "-s", "o", "-x", str(cols), "-y", str(rows),
         # raw: no onlcr on the way out, no echo of tmux's replies.
         "stty raw -echo; tmux -L %s wait-for go; cat %s; "
         "tmux -L %s wait-for -S done; exec sleep 1000" % (SOCK, path, SOCK))
    tmux("select-pane", "-t", "o", "-T", "")
    tmux("wait-for", "-S", "go")
    tmux("wait-for", "done")
    cap = tmux("capture-pane", "-t", "o", "-e", "-p", "-N", capture=True)
    fmt = "#{pane_width} #{pane_height} #{cursor_x} #{cursor_y} " + \
          " ".join("#{%s}" % m[0] for m in MODE_FLAGS) + " #{pane_title}"
    info = tmux("display", "-p", "-t", "o", fmt, capture=True).rstrip("\n").split(" ", 8)
    tmux("kill-session", "-t", "o", check=False)
    return path, cap, info


def compare(stream, dump, outdir):
    path, cap, info = run_tmux(stream, outdir)
    cols, rows = stream["cols"], stream["rows"]
    if int(info[0]) != cols or int(info[1]) != rows:
        return "skip", "tmux made the pane %sx%s, not %dx%d" % (info[0], info[1], cols, rows)
    capfile = os.path.join(outdir, "capture.txt")
    with open(capfile, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(cap)
    mine = parse_dump(subprocess.run([dump, str(cols), str(rows), path],
                                     stdout=subprocess.PIPE, check=True,
                                     text=True, errors="surrogateescape").stdout)
    theirs = parse_dump(subprocess.run([dump, "--capture", str(cols), str(rows), capfile],
                                       stdout=subprocess.PIPE, check=True,
                                       text=True, errors="surrogateescape").stdout)
    for y in range(rows):
        for x in range(cols):
            why = cell_diff(mine["rows"][y][x], theirs["rows"][y][x])
            if why:
                return "fail", "cell %d,%d: %s (moshi vs tmux)" % (y, x, why)
    tx, ty = int(info[2]), int(info[3])
    if (ty, min(tx, cols - 1)) != mine["cursor"]:
        return "fail", "cursor %s vs tmux %d,%d" % (mine["cursor"], ty, tx)
    for i, (var, bit, name) in enumerate(MODE_FLAGS):
        theirs_on = info[4 + i] == "1"
        mine_on = bool(mine["modes"] & bit)
        if bit == 1 << 3:
            mine_on = not mine_on  # moshi records hidden, tmux visible
        if mine_on != theirs_on:
            return "fail", "%s: moshi %d, tmux %d" % (name, mine_on, theirs_on)
    title = info[8] if len(info) > 8 else ""
    if b"\x1b]" in stream["data"] and title != mine.get("title", ""):
        return "fail", "title %r vs tmux %r" % (mine.get("title"), title)
    return "pass", None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    dump, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    conf = os.path.join(outdir, "tmux.conf")
    with open(conf, "w") as f:
        f.write("set -g status off\nset -g default-terminal xterm-256color\n"
                "set -g remain-on-exit off\nset -g history-limit 0\n"
                "set -g allow-rename off\nset -g escape-time 0\n")
    tmux("-f", conf, "start-server", ";", "new-session", "-d", "-s", "keep",
         "exec sleep 100000")
    counts = {"pass": 0, "fail": 0, "skip": 0}
    try:
        streams = script_streams() + gen_streams() + app_streams(outdir)
        for s in streams:
            name = s["name"]
            if "skip" in s:
                print("SKIP oracle/%s: %s" % (name, s["skip"]))
                counts["skip"] += 1
                continue
            if name in NOT_COMPARABLE:
                print("SKIP oracle/%s: %s" % (name, NOT_COMPARABLE[name]))
                counts["skip"] += 1
                continue
            try:
                verdict, why = compare(s, dump, outdir)
            except Exception as e:  # a tmux hiccup must not hide the rest
                verdict, why = "fail", "error: %s" % e
            if name in TMUX_DIFFERS:
                if verdict == "fail" and not why.startswith("error"):
                    verdict, why = "skip", "tmux differs from the standard: %s (%s)" % (
                        TMUX_DIFFERS[name], why)
                elif verdict == "pass":
                    verdict, why = "fail", ("listed in TMUX_DIFFERS but tmux agrees: "
                                            "remove the entry")
            counts[verdict] += 1
            if verdict == "pass":
                print("PASS oracle/%s" % name)
            else:
                if len(why) > 300:
                    why = why[:300] + "..."
                print("%s oracle/%s: %s" % (verdict.upper(), name, why))
            sys.stdout.flush()
    finally:
        tmux("kill-server", check=False)
    sys.stderr.write("oracle: %d streams compared with tmux (%d pass, %d fail, %d skipped)\n"
                     % (sum(counts.values()), counts["pass"], counts["fail"], counts["skip"]))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
