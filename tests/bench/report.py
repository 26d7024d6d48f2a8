#!/usr/bin/env python3
"""make bench-report: moshi against mosh 1.4 and ssh, side by side, in one
run on this machine, written to docs/benchmarks.md with SVG plots drawn by
gnuplot (docs/bench-*.svg) and the raw figures (docs/benchmarks.json).

What runs (each system in turn, the same way, in the same run):
  keystrokes  tests/bench/typing_bench.py's typist (six shell lines,
              twelve under loss, a key every 120 ms) in seven
              scenarios: 0, 50 and 100 ms one-way
              delay, each with no loss and with 29% loss each way, and
              50 ms with the client roaming to a new port every 5 s
  sessions    idle memory, `seq 1 2000000` to the final screen (server
              CPU, bytes each way), Ctrl-C in `yes` at 0 and 100 ms,
              15 s of typing (bytes each way), a 64 KiB paste at 10% loss,
              connect to the first prompt over ssh
  footprint   the files a server needs: moshi's one static binary, against
              mosh-server and sshd with the shared libraries they load
  emulator    tests/bench/term_bench against libvterm on the same corpora
  micro       the other `make bench` programs (renderer, crypto)

tests/bench/report.sh puts the servers in one network namespace and the
clients in another, joined by tests/bench/tunrelay.py: every IP packet of
every system crosses the same relay, with the same delay and loss (and
roaming, for the UDP systems). Without root there are no namespaces: moshi
and mosh then cross tests/tools/relay on loopback and ssh a TCP delay
relay without loss, and the report says so.

Environment: MOSHI, OUT (as for make bench), REPORT_DIR (default docs/),
BENCH_QUICK=1 (two scenarios and less of everything: a smoke test of this
script, not a report). `report.py --from-json FILE` writes the page again
from a run's benchmarks.json without measuring anything; `report.py --zlib
DIR` prints make bench's zlib lines for the diffs diff_bench wrote there.
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import session_bench as sb  # noqa: E402
import typing_bench as tb  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
DOCS = os.environ.get("REPORT_DIR") or os.path.join(ROOT, "docs")
SYSTEMS = ["moshi", "mosh", "ssh"]

# (key, title, one-way delay ms, loss each way, roam every s)
SCENARIOS = [
    ("d0", "0 ms one-way, no loss", 0, 0.0, 0),
    ("d50", "50 ms one-way (100 ms RTT), no loss", 50, 0.0, 0),
    ("d100", "100 ms one-way (200 ms RTT), no loss", 100, 0.0, 0),
    ("d0l29", "0 ms one-way, 29% loss each way", 0, 0.29, 0),
    ("d50l29", "50 ms one-way, 29% loss each way", 50, 0.29, 0),
    ("d100l29", "100 ms one-way, 29% loss each way", 100, 0.29, 0),
    ("roam5", "50 ms one-way, client roams to a new port every 5 s", 50, 0.0, 5),
]
if QUICK:
    SCENARIOS = [SCENARIOS[1], SCENARIOS[4]]
CDF_PLOTS = [("d100", "bench-keys-200ms-rtt.svg"), ("d50l29", "bench-keys-loss29.svg")]

figures = {}   # name -> value, every figure of the run
notes = []     # what could not be measured, and why


def log(msg):
    print("report: " + msg, file=sys.stderr, flush=True)


def sh(cmd):
    r = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.stdout.strip()


# ---- keystroke response ----------------------------------------------------

def keystrokes(sshd):
    raw = {}
    for key, title, delay, loss, roam in SCENARIOS:
        # Under loss a line's Enter → output is one RTT or several, so
        # the median of six lines swung by half an RTT between runs:
        # those scenarios type all twelve.
        corpus = tb.CORPUS[:2] if QUICK else tb.CORPUS if loss else tb.CORPUS[:6]
        for name in SYSTEMS:
            if name == "ssh" and sshd is None:
                continue
            if name == "mosh" and not have_mosh():
                continue
            log("keystrokes: %s, %s" % (name, title))
            try:
                raw[key + "/" + name] = tb.run(name, key, (delay, loss, roam), sshd, corpus)
            except RuntimeError as e:
                why = str(e) if len(str(e)) < 120 else str(e)[:117] + "..."
                notes.append("%s, %s: not measured: %s." % (name, title, why))
    if sshd is not None and not QUICK:
        # Through ssh, as when UDP is blocked, at 50 ms one-way.
        log("keystrokes: moshi over ssh (UDP blocked), 50 ms one-way")
        try:
            raw["d50/moshi_ssh"] = tb.run("moshi_ssh", "d50", (50, 0.0, 0), sshd,
                                          tb.CORPUS[:6])
        except RuntimeError as e:
            notes.append("moshi over ssh: not measured: %s." % e)
    return raw


# ---- sessions --------------------------------------------------------------

def flood(system):
    """seq 1 2000000 three times: median seconds to the final screen and
    server CPU seconds; bytes each way of all three."""
    n = system.name
    s = sb.Session(system)
    time.sleep(1)
    figures["%s_idle_server_rss" % n] = sum(sb.rss_mb(p) for p in s.server_pids)
    figures["%s_idle_client_rss" % n] = sb.rss_mb(s.client_pid)
    secs, cpus = [], []
    for _ in range(1 if QUICK else 3):
        cpu0 = sum(sb.cpu_seconds(p) for p in s.server_pids)
        s.keys("clear; seq 1 2000000", "Enter")
        done = sb.wait_for(lambda sc: re.search(r"^2000000\s*\n" + re.escape(sb.PS1.rstrip()),
                                                sc, re.M), 300)
        secs.append(done if done is not None else 300.0)
        # The last screen is there; the server may still be settling.
        time.sleep(0.5)
        cpus.append(sum(sb.cpu_seconds(p) for p in s.server_pids) - cpu0)
        s.keys("clear", "Enter")
        sb.wait_for(sb.prompt_last, 10)
        time.sleep(0.5)
    figures["%s_flood_seconds" % n] = statistics.median(secs)
    figures["%s_flood_server_cpu" % n] = statistics.median(cpus)
    c = wire(n, s.end())
    runs = len(secs)
    for d in ("up", "down"):
        figures["%s_flood_%s_packets" % (n, d)] = c[d][0] / runs
        figures["%s_flood_%s_bytes" % (n, d)] = c[d][1] / runs


def wire(name, counts):
    """A session's counts as IP packets and bytes, each way. tunrelay
    counts whole IP packets already (TCP's ACKs included); on loopback,
    tests/tools/relay counts UDP payloads, so each packet gets its IPv4
    and UDP headers, and for ssh only the TCP payload is known."""
    if sb.L3:
        return counts
    if name == "ssh":
        note = "ssh's bytes are TCP payload only (no namespaces, no packet counts)."
        if note not in notes:
            notes.append(note)
        return counts
    return {d: (p, b + p * sb.UDP_IP_HEADERS) for d, (p, b) in counts.items()}


def ctrl_c(system, delay):
    """Ctrl-C in `yes` until the prompt is back, median of three."""
    name = "%s_ctrl_c_%dms" % (system.name, delay)
    s = sb.Session(system, delay_ms=delay)
    sb.ctrl_c(s, name)
    figures[name] = sb.results[name]
    s.end()


def typing_bytes(system, seconds):
    """Bytes each way for a key every 100 ms, less an idle session's."""
    n = system.name
    base, c = sb.typed_counts(system, seconds)
    c, base = wire(n, c), wire(n, base)
    for d in ("up", "down"):
        figures["%s_typing_%s_packets" % (n, d)] = max(0, c[d][0] - base[d][0])
        figures["%s_typing_%s_bytes" % (n, d)] = max(0, c[d][1] - base[d][1])


def sessions(sshd):
    systems = [sb.System("moshi")]
    if have_mosh():
        systems.append(sb.System("mosh"))
    if sshd is not None:
        systems.append(sb.System("ssh", sshd))
    floor = min(sb.pty_drain_floor(["seq", "1", "2000000"]) for _ in range(3))
    figures["flood_pty_drain_floor"] = floor
    for system in systems:
        for what, fn in (("flood", lambda: flood(system)),
                         ("Ctrl-C at 0 ms", lambda: ctrl_c(system, 0)),
                         ("Ctrl-C at 100 ms", lambda: ctrl_c(system, 100)),
                         ("typing bytes", lambda: typing_bytes(system, 5 if QUICK else 15)),
                         ("paste", lambda: paste(system))):
            log("sessions: %s, %s" % (system.name, what))
            try:
                fn()
            except RuntimeError as e:
                notes.append("%s, %s: not measured: %s." % (system.name, what, e))
    # The same with moshi's history off, and the history after an outage.
    nohist = sb.System("moshi_nohist", env={"MOSHI_HISTORY_LINES": "0"})
    for what, fn in (("flood", lambda: flood(nohist)),
                     ("Ctrl-C at 0 ms", lambda: ctrl_c(nohist, 0)),
                     ("Ctrl-C at 100 ms", lambda: ctrl_c(nohist, 100)),
                     ("history after an outage", lambda: outage_history(systems[0]))):
        log("sessions: %s, %s" % (nohist.name if what != "history after an outage"
                                  else "moshi", what))
        try:
            fn()
        except RuntimeError as e:
            notes.append("%s: not measured: %s." % (what, e))
    sb.tmux("kill-server")
    log("sessions: connect over ssh")
    sb.results.clear()
    sb.connect_times([s for s in systems if s.name != "ssh"])
    log("sessions: attach over ssh")
    sb.attach_times()
    log("sessions: connect with UDP blocked")
    try:
        sb.connect_blocked_times()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        notes.append("connect with UDP blocked: not measured: %s." % e)
    for k, v in sb.results.items():
        figures[k] = v
    if "ssh_true" in figures:
        figures["ssh_attach_to_screen"] = figures["ssh_true"]


def outage_history(system):
    sb.results.clear()
    sb.outage_history(system)
    for k, v in sb.results.items():
        figures[k] = v


def paste(system):
    before = dict(sb.results)
    sb.paste(system)
    for k, v in sb.results.items():
        if k not in before:
            figures[k] = v


# ---- footprint -------------------------------------------------------------

def server_files(binary):
    """The binary and the shared libraries it loads: (bytes, files)."""
    path = shutil.which(binary) or binary
    if not os.path.exists(path):
        return None
    files = {os.path.realpath(path)}
    out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    for m in re.finditer(r"(/\S+) \(0x", out):
        files.add(os.path.realpath(m.group(1)))
    return sum(os.path.getsize(f) for f in files), len(files)


def footprint():
    figures["moshi_server_files_bytes"] = os.path.getsize(sb.MOSHI)
    figures["moshi_server_files"] = 1
    for name, binary in (("mosh", "mosh-server"), ("ssh", "/usr/sbin/sshd")):
        r = server_files(binary)
        if r:
            figures["%s_server_files_bytes" % name], figures["%s_server_files" % name] = r


# ---- emulator and micro-benchmarks ----------------------------------------

def bench_lines(text):
    """Figures from "bench NAME VALUE UNIT" lines; a throughput seen in an
    earlier round is kept if it was higher (the best round counts)."""
    for m in re.finditer(r"^bench (\S+) (\S+) (.+)$", text, re.M):
        name, value = m.group(1), float(m.group(2))
        if name.endswith("_throughput") and figures.get(name, 0) > value:
            continue
        figures[name] = value
        figures[name + "@unit"] = m.group(3)


def zlib_sizes(corpora):
    """What zlib (mosh compresses every instruction) would make of the
    diffs diff_bench wrote, each compressed on its own, as make bench
    reports them."""
    for name in ("typing", "flood", "top"):
        path = os.path.join(corpora, name + ".diffs")
        if not os.path.exists(path):
            continue
        data = open(path, "rb").read()
        raw = comp = i = 0
        while i < len(data):
            n = int.from_bytes(data[i:i + 4], "big")
            raw += n
            comp += len(zlib.compress(data[i + 4:i + 4 + n], 6))
            i += 4 + n
        figures["diff_%s_zlib_bytes" % name] = comp
        figures["diff_%s_zlib_bytes@unit" % name] = "bytes"
        figures["diff_%s_zlib_ratio" % name] = comp / raw if raw else 1.0
        figures["diff_%s_zlib_ratio@unit" % name] = "ratio"


def emulator():
    """The make bench programs, then moshi's emulator and libvterm in
    turn, three rounds each, best of the rounds: this machine's speed
    drifts by much more than the gap between rounds, and taking turns
    gives both the same chances."""
    corpora = tempfile.mkdtemp(prefix="moshi-corpora-")
    bench_dir = os.path.join(sb.OUT, "bench")
    try:
        for b in sorted(os.listdir(bench_dir)):
            args = [os.path.join(bench_dir, b)]
            if b == "term_bench":
                args += ["--corpora", corpora]
            elif b == "diff_bench":
                args += [corpora]
            log("micro: " + b)
            bench_lines(subprocess.run(args, stdout=subprocess.PIPE, text=True).stdout)
        zlib_sizes(corpora)
        vterm = os.path.join(sb.OUT, "vterm_bench")
        if not (os.path.exists("/usr/include/vterm.h") and subprocess.run(
                ["cc", "-O2", "-o", vterm, os.path.join(HERE, "glibc", "vterm_bench.c"),
                 "-lvterm"]).returncode == 0):
            notes.append("libvterm: not measured (apt-get install libvterm-dev).")
            return
        for r in range(1 if QUICK else 3):
            log("emulator: libvterm, round %d" % (r + 1))
            bench_lines(subprocess.run([vterm, corpora], stdout=subprocess.PIPE,
                                       text=True).stdout)
            if r < (0 if QUICK else 2):
                log("emulator: moshi, round %d" % (r + 2))
                bench_lines(subprocess.run([os.path.join(bench_dir, "term_bench")],
                                           stdout=subprocess.PIPE, text=True).stdout)
    finally:
        shutil.rmtree(corpora, ignore_errors=True)


# ---- the report ------------------------------------------------------------

def have_mosh():
    return bool(shutil.which("mosh-server") and shutil.which("mosh-client"))


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "%":
        return "%.1f %%" % v
    if unit == "ms":
        return ("%.2f ms" % v) if v < 10 else ("%.0f ms" % v)
    if unit == "s":
        return "%.2f s" % v
    if unit == "MB":
        return "%.2f MB" % v
    if unit == "bytes":
        if v >= 1e6:
            return "%.2f MB" % (v / 1e6)
        if v >= 1e4:
            return "%.1f KB" % (v / 1e3)
        return "%.0f B" % v
    if unit in ("files", "packets"):
        return "%.0f" % v
    if unit == "MB/s":
        return "%.0f MB/s" % v
    return "%.4g %s" % (v, unit)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return ("%.2f" % r) if r >= 0.01 else ("%.3f" % r)


def row(label, unit, values):
    m = values.get("moshi")
    return "| %s | %s | %s | %s | %s | %s |" % (
        label, fmt(m, unit), fmt(values.get("mosh"), unit), fmt(values.get("ssh"), unit),
        ratio(m, values.get("mosh")), ratio(m, values.get("ssh")))


# The Sessions table's rows: (figure, label, unit).
SESSION_ROWS = (
    ("idle_server_rss", "idle server memory (RSS)", "MB"),
    ("idle_client_rss", "idle client memory (RSS)", "MB"),
    ("flood_seconds", "flood: to the final screen", "s"),
    ("flood_server_cpu", "flood: server CPU", "s"),
    ("flood_down_bytes", "flood: bytes to the client", "bytes"),
    ("flood_down_packets", "flood: packets to the client", "packets"),
    ("flood_up_bytes", "flood: bytes to the server", "bytes"),
    ("flood_up_packets", "flood: packets to the server", "packets"),
    ("ctrl_c_0ms", "Ctrl-C in `yes` to the prompt, 0 ms", "ms"),
    ("ctrl_c_100ms", "Ctrl-C in `yes` to the prompt, 100 ms one-way", "ms"),
    ("typing_up_bytes", "typing 15 s, a key per 100 ms: bytes up", "bytes"),
    ("typing_up_packets", "typing 15 s: packets up", "packets"),
    ("typing_down_bytes", "typing 15 s: bytes down", "bytes"),
    ("typing_down_packets", "typing 15 s: packets down", "packets"),
    ("paste_64k_loss10", "paste 64 KiB at 10% loss, 10 ms", "s"),
    ("connect_to_prompt", "connect over ssh to the first prompt", "ms"),
    ("attach_to_screen", "attach over ssh to the full screen (ssh: `ssh host true`)", "ms"),
    ("attach_bytes", "attach: UDP payload bytes from the server", "bytes"),
    ("server_files_bytes", "server side: binary and shared libraries", "bytes"),
    ("server_files", "server side: files", "files"),
)


def blocked_section(L, raw):
    """moshi with UDP blocked, its datagrams through ssh and moshi relay,
    against moshi over UDP and plain ssh at 50 ms one-way."""
    per = {n: keystroke_figures(raw, "d50", n) for n in ("moshi", "moshi_ssh", "ssh")}
    if per["moshi_ssh"] is None:
        return
    L.append("### When UDP is blocked")
    L.append("")
    L.append("moshi's datagrams through ssh and `moshi relay` (`--carrier=ssh`, as "
             "when UDP is blocked) at 50 ms one-way, beside moshi over UDP and plain "
             "ssh in the same run (six shell lines each). The last row: `moshi "
             "connect` to the first prompt with nftables dropping UDP at the server, "
             "beside connect over UDP.")
    L.append("")
    L.append("| figure | moshi over ssh | moshi over UDP | ssh | ssh-carried/UDP | "
             "ssh-carried/ssh |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for f, label, unit in (("within30", "keys shown within 30 ms", "%"),
                           ("median", "key to screen, median", "ms"),
                           ("enter", "Enter → output, median", "ms"),
                           ("mispredicted", "mispredicted cells per key", "%")):
        v = {n: (per[n][f] if per[n] else None) for n in per}
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            label, fmt(v["moshi_ssh"], unit), fmt(v["moshi"], unit), fmt(v["ssh"], unit),
            ratio(v["moshi_ssh"], v["moshi"]), ratio(v["moshi_ssh"], v["ssh"])))
    b, u = figures.get("moshi_udp_blocked_connect_to_prompt"), figures.get(
        "moshi_connect_to_prompt")
    L.append("| connect to the first prompt | %s | %s | — | %s | — |" % (
        fmt(b, "ms"), fmt(u, "ms"), ratio(b, u)))
    L.append("")


def history_section(L):
    """moshi with its history (the default) against moshi without it
    (MOSHI_HISTORY_LINES=0), and the history after an outage."""
    if "moshi_nohist_flood_seconds" not in figures:
        return
    L.append("### History")
    L.append("")
    L.append("moshi sends what scrolls off the screen into the local terminal's "
             "history (docs/ssp.md); the rows above are with it, as moshi runs by "
             "default, and here beside moshi without it (`MOSHI_HISTORY_LINES=0`). "
             "The bytes to the client with the history include the last 10,000 "
             "lines of each flood. The last row: `seq 1 10000` printed during a 20 s "
             "outage of both directions at 100 ms RTT, and the time from the path's "
             "return until all 10,000 lines are in the pane's history, in order.")
    L.append("")
    L.append("| figure | history on | history off | on/off |")
    L.append("|---|---:|---:|---:|")
    for f, label, unit in SESSION_ROWS:
        if not f.startswith(("flood_seconds", "flood_server", "flood_down", "ctrl_c")):
            continue
        on, off = figures.get("moshi_" + f), figures.get("moshi_nohist_" + f)
        L.append("| %s | %s | %s | %s |" % (label, fmt(on, unit), fmt(off, unit), ratio(on, off)))
    h = figures.get("moshi_outage_history_10000_lines")
    L.append("| 10,000 lines printed in an outage: in the history after it | %s | — | — |"
             % fmt(h, "s"))
    L.append("")


def keystroke_figures(raw, key, name):
    d = raw.get(key + "/" + name)
    if not d:
        return None
    v, e = d["visible"], d["enter"]
    return {
        "within30": 100.0 * sum(1 for x in v if x <= 0.030) / len(v),
        "median": statistics.median(v) * 1000,
        "p90": tb.pct(v, 0.9) * 1000,
        "enter": statistics.median(e) * 1000,
        "mispredicted": 100.0 * d["mispredicted"] / len(v),
    }


def write_cdf(raw, key, svg, title, workdir):
    """A gnuplot CDF of the keystroke-visible times of each system."""
    plots = []
    for name in SYSTEMS:
        d = raw.get(key + "/" + name)
        if not d:
            continue
        path = os.path.join(workdir, "%s-%s.dat" % (key, name))
        xs = sorted(max(x * 1000, 0.05) for x in d["visible"])
        with open(path, "w") as f:
            for i, x in enumerate(xs):
                f.write("%.4f %.4f\n" % (x, (i + 1) / len(xs)))
        plots.append("'%s' using 1:2 with steps lw 2 title '%s'" % (path, name))
    if not plots:
        return False
    script = """set terminal svg size 720,420 dynamic font 'sans,12'
set output '%s'
set title '%s'
set xlabel 'time from key press to the key on screen (ms, log scale)'
set ylabel 'share of keys'
set logscale x
set xrange [0.05:3000]
set yrange [0:1]
set key bottom right
set grid
plot %s
""" % (os.path.join(DOCS, svg), title, ", ".join(plots))
    return gnuplot(script)


def write_flood_plot(workdir):
    have = [n for n in SYSTEMS if ("%s_flood_server_cpu" % n) in figures]
    if not have:
        return False
    path = os.path.join(workdir, "flood.dat")
    with open(path, "w") as f:
        for n in have:
            f.write("%s %.4f %.4f\n" % (n, figures["%s_flood_server_cpu" % n],
                                        figures["%s_flood_down_bytes" % n] / 1e6))
    script = """set terminal svg size 760,380 dynamic font 'sans,12'
set output '%s'
set multiplot layout 1,2 title 'seq 1 2000000 (16.9 MB of output) in an 80x24 session'
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set xrange [-0.6:%g]
set title 'server CPU (s)'
set yrange [0:*]
plot '%s' using 0:2:xtic(1) with boxes lc rgb '#6a3d9a' notitle, \\
     '' using 0:2:(sprintf('%%.2f', $2)) with labels offset 0,0.8 notitle
set title 'bytes to the client (KB, log scale)'
set logscale y
set yrange [1:100000]
plot '%s' using 0:($3*1000):xtic(1) with boxes lc rgb '#1f78b4' notitle, \\
     '' using 0:($3*1000):(sprintf('%%.1f', $3*1000)) with labels offset 0,0.8 notitle
unset multiplot
""" % (os.path.join(DOCS, "bench-flood.svg"), len(have) - 0.4, path, path)
    return gnuplot(script)


def gnuplot(script):
    if not shutil.which("gnuplot"):
        notes.append("gnuplot is missing (apt-get install gnuplot-nox): no plots.")
        return False
    r = subprocess.run(["gnuplot"], input=script, text=True, stderr=subprocess.PIPE)
    if r.returncode != 0:
        notes.append("gnuplot failed: %s" % r.stderr.strip()[:200])
        return False
    return True


def machine():
    model = sh("lscpu | sed -n 's/^Model name: *//p'")
    debian = sh("cat /etc/debian_version")
    mosh = sh("mosh-server --version 2>&1 | head -n 1") if have_mosh() else "not installed"
    ssh = sh("ssh -V 2>&1")
    vterm = sh("dpkg-query -W -f '${Version}' libvterm-dev 2>/dev/null") or "not installed"
    commit = sh("git -C '%s' rev-parse --short HEAD 2>/dev/null" % ROOT) or "unknown"
    # The report's own pages (docs/) do not make the code measured dirty.
    dirty = sh("git -C '%s' status --porcelain --untracked-files=no -- . ':!docs' 2>/dev/null"
               % ROOT)
    return [
        "- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- Machine: %s, %d cores, %s GiB, Debian %s, Linux %s" % (
            model, os.cpu_count(), sh("free -g | awk '/^Mem:/ {print $2}'"), debian,
            platform.release()),
        "- moshi: commit %s%s, `%s` (%d bytes)" % (
            commit, " with uncommitted changes" if dirty else "", os.path.basename(sb.MOSHI),
            os.path.getsize(sb.MOSHI)),
        "- mosh: %s; ssh: %s; libvterm: %s" % (mosh, ssh, vterm),
        "- Network: %s" % (
            "servers and clients in two network namespaces made for the run, every "
            "packet between them through tests/bench/tunrelay.py (a user-space netem)"
            if sb.L3 else "the machine's loopback (no namespaces: ssh has no loss figures)"),
    ]


def report(raw, minutes, machine_lines):
    """Write benchmarks.md, its plots and benchmarks.json from the run's
    figures, notes and raw keystroke times (raw: "scenario/system" ->
    {"visible": [s], "enter": [s], "mispredicted": cells})."""
    os.makedirs(DOCS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="moshi-report-")
    plots = {}
    for key, svg in CDF_PLOTS:
        title = next((t for k, t, *_ in SCENARIOS if k == key), None)
        if title and write_cdf(raw, key, svg, "Keystroke to screen: " + title, work):
            plots[key] = svg
    flood_plot = write_flood_plot(work)
    shutil.rmtree(work, ignore_errors=True)

    L = []
    L.append("# moshi against mosh and ssh")
    L.append("")
    L.append("Written by `make bench-report` (tests/bench/report.py), which ran every "
             "figure below in one run on one machine, moshi, mosh and ssh in turn, "
             "in %.1f minutes. Rerun it to replace this page; the raw figures are in "
             "[benchmarks.json](benchmarks.json)." % minutes)
    L.append("")
    L.extend(machine_lines)
    L.append("")
    L.append("Ratios are moshi's figure divided by the other system's: below 1 is better "
             "for moshi for times, bytes and memory, above 1 for the share of keys shown "
             "within 30 ms. Single runs on a shared machine are noisy; the medians "
             "are of one run's samples, not of repeated runs.")
    L.append("")

    # Headline.
    L.append("## Headline")
    L.append("")
    for line in headline(raw):
        L.append("- " + line)
    L.append("")

    L.append("## Keystroke response")
    L.append("")
    L.append("tests/bench/typing_bench.py's typist: each client runs on a pty of 80x24 "
             "and types six shell lines into `bash --norc` (twelve in the scenarios "
             "with loss, whose medians vary more), one key every 120 ms; "
             "everything the client prints is replayed through moshi's emulator with "
             "the time it was read, so each figure is read off the screen the user saw. "
             "*Shown* is the time from sending a key to the first screen with that key "
             "in its place; *Enter → output* from sending Enter to the first screen "
             "with the command's first line of output; a *mispredicted* cell showed a "
             "character other than the one typed there. %s" % (
                 "The clients run in one network namespace and the servers (and a "
                 "throwaway sshd) in another; every IP packet between them crosses "
                 "tests/bench/tunrelay.py, which delays it and drops it at random, the "
                 "same for moshi's and mosh's UDP and for ssh's TCP (which then "
                 "retransmits as it would on a lossy link). The loss starts once the "
                 "prompt is on screen: typing is measured here, setting up is not (at "
                 "29%% loss and 200 ms RTT ssh's handshake alone can take longer than "
                 "the typist waits). Dropped: %s." % (drops() or "none")
                 if sb.L3 else
                 "moshi and mosh cross tests/tools/relay (UDP), ssh a TCP relay with "
                 "the same delay to a throwaway sshd on loopback (no loss)."))
    L.append("")
    for key, title, *_ in SCENARIOS:
        per = {n: keystroke_figures(raw, key, n) for n in SYSTEMS}
        if not any(per.values()):
            continue
        L.append("### " + title[0].upper() + title[1:])
        L.append("")
        L.append("| figure | moshi | mosh | ssh | moshi/mosh | moshi/ssh |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for f, label, unit in (("within30", "keys shown within 30 ms", "%"),
                               ("median", "key to screen, median", "ms"),
                               ("p90", "key to screen, 90th percentile", "ms"),
                               ("enter", "Enter → output, median", "ms"),
                               ("mispredicted", "mispredicted cells per key", "%")):
            vals = {n: (per[n][f] if per[n] else None) for n in SYSTEMS}
            L.append(row(label, unit, vals))
        L.append("")
        if key in plots:
            L.append("![keystroke CDF, %s](%s)" % (title, plots[key]))
            L.append("")

    L.append("## Sessions")
    L.append("")
    L.append("Each session runs in an 80x24 tmux pane at 0 ms unless the row says "
             "otherwise. The flood is `seq 1 2000000` (16.9 MB), three times: the "
             "median time until the last number and the prompt are on screen and the "
             "median server CPU (for ssh, the session's sshd processes). Bytes and "
             "packets are per flood and count whole IP packets through the relay: "
             "UDP datagrams for moshi and mosh, TCP segments and their ACKs for ssh. "
             "Nobody drawing, a pty drains the "
             "same output in %s." % fmt(figures.get("flood_pty_drain_floor"), "s"))
    L.append("")
    L.append("| figure | moshi | mosh | ssh | moshi/mosh | moshi/ssh |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for f, label, unit in SESSION_ROWS:
        vals = {n: figures.get("%s_%s" % (n, f)) for n in SYSTEMS}
        if any(v is not None for v in vals.values()):
            L.append(row(label, unit, vals))
    L.append("")
    if flood_plot:
        L.append("![flood: server CPU and bytes](bench-flood.svg)")
        L.append("")
    history_section(L)
    blocked_section(L, raw)

    L.append("## Emulator throughput")
    L.append("")
    L.append("tests/bench/term_bench feeds each corpus to an 80x24 emulator in 64 KiB "
             "writes, best of three passes; libvterm (Debian's libvterm-dev, with its "
             "screen layer) gets the same bytes the same way. The two take turns, "
             "three rounds each, and the best round of each counts: this machine's "
             "speed drifts by more than the gap between rounds.")
    L.append("")
    L.append("The last two columns are moshi with lines kept as bytes turned off "
             "(term_NAME_eager_throughput): every line is emulated cell by cell as it "
             "arrives. As moshi runs, a line of text and SGRs that scrolls off within "
             "one write is kept as its bytes and made into cells only if the scrollback "
             "is read (lazy_lines in term/emu.c); the screen and the scrollback are the "
             "same either way (tests/term_lazy_test.c). The server hands the emulator "
             "all the pty holds, up to 64 KiB, in one write.")
    L.append("")
    L.append("| corpus | moshi | libvterm | moshi/libvterm | moshi, every line emulated | its ratio |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for c, label in (("scroll", "`seq 1 2000000`, CRLF (scroll-heavy)"),
                     ("colour", "SGR colour on every word"),
                     ("cursor", "full-screen cursor-addressed redraws")):
        m, v = figures.get("term_%s_throughput" % c), figures.get("vterm_%s_throughput" % c)
        e = figures.get("term_%s_eager_throughput" % c)
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            label, fmt(m, "MB/s"), fmt(v, "MB/s"), ratio(m, v) if m and v else "—",
            fmt(e, "MB/s"), ratio(e, v) if e and v else "—"))
    L.append("")

    L.append("## Other figures of `make bench`, same run")
    L.append("")
    L.append("| figure | value |")
    L.append("|---|---:|")
    for k in sorted(figures):
        if k.endswith("@unit") or not re.match(r"(render|gcm|openssl|diff)_", k):
            continue
        L.append("| %s | %.4g %s |" % (k, figures[k], figures.get(k + "@unit", "")))
    L.append("")

    if notes:
        L.append("## Not measured")
        L.append("")
        for n in notes:
            L.append("- " + n)
        L.append("")
    with open(os.path.join(DOCS, "benchmarks.md"), "w") as f:
        f.write("\n".join(L))
    raw_out = {"figures": figures,
               "keystrokes": {k: {"visible_ms": [round(x * 1000, 3) for x in d["visible"]],
                                  "enter_ms": [round(x * 1000, 3) for x in d["enter"]],
                                  "mispredicted_cells": d["mispredicted"]}
                              for k, d in raw.items()},
               "notes": notes, "link_drops": sb.link_drops, "minutes": minutes,
               "machine": machine_lines}
    with open(os.path.join(DOCS, "benchmarks.json"), "w") as f:
        json.dump(raw_out, f, indent=1, sort_keys=True)
        f.write("\n")


def drops():
    """What the relay dropped, for each loss rate asked, all systems."""
    parts = []
    for loss in sorted({x[0] for x in sb.link_drops}):
        seen = sum(b for a, b, _ in sb.link_drops if a == loss)
        dropped = sum(c for a, _, c in sb.link_drops if a == loss)
        parts.append("%d of %d packets (%.1f%%) where %d%% was asked" % (
            dropped, seen, 100.0 * dropped / seen if seen else 0, round(loss * 100)))
    return "; ".join(parts)


def headline(raw):
    out = []
    k200 = {n: keystroke_figures(raw, "d100", n) for n in SYSTEMS}
    kl = {n: keystroke_figures(raw, "d50l29", n) for n in SYSTEMS}
    if k200["moshi"]:
        s = "At 200 ms RTT, %s of moshi's keys are on screen within 30 ms" % fmt(
            k200["moshi"]["within30"], "%")
        others = ["%s %s" % (n, fmt(k200[n]["within30"], "%")) for n in ("mosh", "ssh") if k200[n]]
        out.append(s + (" (%s)." % ", ".join(others) if others else "."))
    if kl["moshi"]:
        s = "At 29%% loss each way (100 ms RTT), %s within 30 ms" % fmt(kl["moshi"]["within30"], "%")
        others = ["%s %s" % (n, fmt(kl[n]["within30"], "%")) for n in ("mosh", "ssh") if kl[n]]
        out.append(s + (" (%s)" % ", ".join(others) if others else "") +
                   "; Enter → output median %s (%s)." % (
                       fmt(kl["moshi"]["enter"], "ms"),
                       ", ".join("%s %s" % (n, fmt(kl[n]["enter"], "ms"))
                                 for n in ("mosh", "ssh") if kl[n]) or "alone"))
    for f, what in (("flood_server_cpu", "Server CPU for a 16.9 MB flood"),
                    ("flood_down_bytes", "Bytes to the client for it"),
                    ("idle_server_rss", "Idle server memory"),
                    ("server_files_bytes", "Server-side bytes to install")):
        m = figures.get("moshi_" + f)
        if m is None:
            continue
        parts = ["%s× mosh's" % ratio(m, figures.get("mosh_" + f))
                 if figures.get("mosh_" + f) else None,
                 "%s× ssh's" % ratio(m, figures.get("ssh_" + f))
                 if figures.get("ssh_" + f) else None]
        parts = [p for p in parts if p]
        if parts:
            out.append("%s: %s." % (what, ", ".join(parts)))
    for c in ("scroll", "colour", "cursor"):
        m, v = figures.get("term_%s_throughput" % c), figures.get("vterm_%s_throughput" % c)
        e = figures.get("term_%s_eager_throughput" % c)
        if m and v:
            out.append("Emulator, %s corpus: %.0f MB/s, %s× libvterm%s." % (
                c, m, ratio(m, v), " (every line emulated: %.0f MB/s, %s×)" % (e, ratio(e, v))
                if e else ""))
    return out


def from_json(path):
    """Render the report again from a run's benchmarks.json (the figures
    are not measured again): for changing the page, and for the test."""
    d = json.load(open(path))
    figures.update(d["figures"])
    notes.extend(d["notes"])
    sb.link_drops.extend(tuple(x) for x in d["link_drops"])
    raw = {k: {"visible": [x / 1000 for x in v["visible_ms"]],
               "enter": [x / 1000 for x in v["enter_ms"]],
               "mispredicted": v["mispredicted_cells"]} for k, v in d["keystrokes"].items()}
    report(raw, d["minutes"], d["machine"])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--from-json":
        from_json(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--zlib":
        # For make bench: the zlib lines alone, from diff_bench's files.
        zlib_sizes(sys.argv[2])
        for k in sorted(figures):
            if not k.endswith("@unit"):
                print("bench %s %.6g %s" % (k, figures[k], figures[k + "@unit"]))
        return
    started = time.monotonic()
    # Stopped (make's Ctrl-C, a kill): leave through the finally below,
    # which stops sshd and tmux.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench-report: stopped"))
    if not shutil.which("tmux"):
        sys.exit("bench-report: needs tmux")
    try:
        sshd = sb.Sshd()
    except RuntimeError as e:
        notes.append("ssh: not measured: %s." % e)
        sshd = None
    try:
        footprint()
        emulator()
        raw = keystrokes(sshd)
        sessions(sshd)
    finally:
        sb.tmux("kill-server")
        if sshd:
            sshd.stop()
    minutes = (time.monotonic() - started) / 60
    report(raw, minutes, machine())
    log("wrote %s/benchmarks.md in %.1f minutes" % (DOCS, minutes))


if __name__ == "__main__":
    main()
