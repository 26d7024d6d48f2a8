#!/usr/bin/env python3
"""Whole sessions side by side: moshi against mosh 1.4 (Debian's mosh) and,
where it applies, ssh. Run by `make bench` (tests/bench.sh); prints one line
per figure, "bench NAME VALUE UNIT", and the moshi/mosh ratios.

Every session runs in a tmux pane of 80x24. The server is started by hand
(`moshi server new`, `mosh-server new`) and the client reaches it through
the test relay (tests/tools/relay), so both cross the same user-space
network with the same delay, and the relay counts their bytes each way.
The time to the first prompt goes through a real sshd on loopback
(`moshi connect`, `mosh`, `ssh`), started here with throwaway keys.

  flood     `seq 1 2000000` (16.9 MB): time until the last number and the
            prompt are on screen, the server's CPU seconds, the bytes on
            the wire; the floor is the time to drain the same output from
            a pty with nobody drawing it.
  ctrl-c    Ctrl-C while `yes` floods, until the prompt is back: at 0 and
            at 100 ms one-way delay.
  typing    one key every 100 ms for 30 s: bytes and packets each way.
  paste     64 KiB pasted into `head -c | md5sum` at 10% loss each way
            (10 ms delay): seconds until the program has read it all.
  idle      resident memory of server and client at the prompt.
  connect   from starting the command to the first prompt, over ssh.

Environment: MOSHI (binary), OUT (build directory), BENCH_QUICK=1 for a
short typing run.
"""
import base64
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MOSHI = os.environ["MOSHI"]
OUT = os.environ["OUT"]
RELAY = os.path.join(OUT, "tools", "relay")
TUNRELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tunrelay.py")
# Two network namespaces joined by tests/bench/tunrelay.py (as
# tests/bench/report.sh makes them): servers in one, clients in the other,
# every packet of every system through the same relay. Without them,
# everything runs on the machine's loopback: moshi and mosh through
# tests/tools/relay (UDP), ssh through TcpDelay.
L3 = os.environ.get("MOSHI_BENCH_L3") == "1"
CLIENT_NS = os.environ.get("MOSHI_BENCH_CLIENT_NS", "")
SERVER_NS = os.environ.get("MOSHI_BENCH_SERVER_NS", "")
SERVER_HOST = os.environ.get("MOSHI_BENCH_SERVER_HOST", "10.77.0.2") if L3 else "127.0.0.1"


def in_server(argv):
    return ["ip", "netns", "exec", SERVER_NS] + argv if L3 else argv


def in_client(argv):
    return ["ip", "netns", "exec", CLIENT_NS] + argv if L3 else argv


def in_client_sh(cmd):
    """A shell command line that runs cmd (no leading exec) as the client."""
    return "exec " + (("ip netns exec %s " % CLIENT_NS) if L3 else "") + cmd


class Link:
    """What lies between a client and its server for one session, with
    delay (ms, one way), loss (each way) and roaming (every so many s):
    tests/bench/tunrelay.py between the namespaces, or tests/tools/relay
    on loopback (UDP only). The client reaches host:port. stop() returns
    {up|down: (packets, bytes)}: whole IP packets through tunrelay, UDP
    payloads through relay."""

    def __init__(self, server_port, delay_ms=0, loss=0.0, roam=0, seed=5, loss_later=False,
                 outages=False):
        """loss_later: the loss starts at start_loss(), not at once.
        outages: blackout() starts and ends outages of both directions
        (both relays; roaming with it on loopback only)."""
        self.loss = loss
        self.loss_later = loss_later and L3
        if L3:
            argv = ["python3", TUNRELAY, "--client-ns", CLIENT_NS, "--server-ns", SERVER_NS]
            if self.loss_later:
                argv.append("--loss-on-signal")
            self.host, self.port = SERVER_HOST, server_port
        else:
            argv = [RELAY, "--to", "127.0.0.1:%d" % server_port]
            self.host = "127.0.0.1"
        argv += ["--delay", str(delay_ms), "--loss", str(loss), "--seed", str(seed)]
        if outages:
            argv.append("--blackout-both")
        if roam:
            argv += ["--roam-every", str(roam)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if L3:
            if not line.startswith("tunrelay ready"):
                raise RuntimeError("tunrelay did not start: %s" % self.proc.stderr.read())
        else:
            self.port = int(line.split()[3])

    def blackout(self, roam=False):
        """Start an outage, or end it (from a new address when roam)."""
        if roam:
            self.proc.send_signal(signal.SIGUSR1)
        self.proc.send_signal(signal.SIGUSR2)

    def start_loss(self):
        """With loss_later (tunrelay only), the loss starts now."""
        if self.loss_later:
            self.proc.send_signal(signal.SIGUSR1)

    def stop(self):
        self.proc.terminate()
        err = self.proc.communicate(timeout=10)[1]
        counts = {}
        for d in ("up", "down"):
            m = re.search(r"relay %s: received (\d+) packets (\d+) bytes.*dropped (\d+)"
                          r"(?: of (\d+))?" % d, err)
            counts[d] = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
            if m and self.loss:
                # tunrelay says how many met the loss; relay, all met it.
                exposed = int(m.group(4) or m.group(1))
                link_drops.append((self.loss, exposed, int(m.group(3))))
        return counts


link_drops = []  # (loss asked, packets received, dropped) of each lossy Link, each way
SOCK = "moshi-bench-%d" % os.getpid()
PS1 = "bench$ "
SHELL = ["env", "PS1=" + PS1, "bash", "--norc", "--noprofile"]
TYPING_SECONDS = 5 if os.environ.get("BENCH_QUICK") else 30
# The panes keep 50,000 lines of history (tmux keeps 2,000 by default).
TMUX_CONF = os.path.join(tempfile.mkdtemp(prefix="moshi-bench-tmux-"), "tmux.conf")
with open(TMUX_CONF, "w") as _f:
    _f.write("set-option -g history-limit 50000\n")
results = {}


def bench(name, value, unit):
    results[name] = value
    fmt = "%.0f" if abs(value) >= 1000 else "%.4g"
    print(("bench %s " + fmt + " %s") % (name, value, unit), flush=True)


def ratio(name, a, b):
    if a in results and b in results and results[b]:
        bench(name, results[a] / results[b], "ratio")


def tmux(*args, capture=False):
    r = subprocess.run(["tmux", "-L", SOCK] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout if capture else r.returncode


def screen():
    return tmux("capture-pane", "-p", "-t", "b", capture=True)


def history():
    """The pane's history and screen, wrapped lines joined."""
    return tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "b", capture=True)


def wait_for(pred, timeout):
    """Poll the pane until pred(screen) holds; the time it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred(screen()):
            return time.monotonic() - t0
        time.sleep(0.003)
    return None


def prompt_last(s):
    lines = [l for l in s.split("\n") if l.strip()]
    return bool(lines) and lines[-1].rstrip() == PS1.rstrip()


def cpu_seconds(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return 0.0


def rss_mb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class System:
    """How to start one system's server and client. ssh has no server of
    its own to start: its sessions go to a throwaway sshd (Sshd). A moshi
    with another name is moshi with its server's environment changed by
    env (moshi_nohist: no history)."""

    def __init__(self, name, sshd=None, env=None):
        self.name = name
        self.sshd = sshd
        self.env = env or {}
        self.moshi = name.startswith("moshi")

    def start_server(self):
        if self.moshi:
            cmd = [MOSHI, "server", "new", "-i", SERVER_HOST, "--"] + SHELL
            env = dict(os.environ, **self.env)
        else:
            cmd = ["mosh-server", "new", "-i", SERVER_HOST, "-c", "256",
                   "-l", "LANG=C.UTF-8", "--"] + SHELL
            env = dict(os.environ, LANG="C.UTF-8")
        r = subprocess.run(in_server(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env, timeout=20)
        m = re.search(r"MOSHI? CONNECT (\d+) (\S+)", r.stdout)
        p = re.search(r"pid = (\d+)", r.stderr)
        sid = re.search(r"MOSHI SESSION ([0-9a-f]{8})", r.stdout)
        self.sid = sid.group(1) if sid else None
        if not m or not p:
            raise RuntimeError("%s server did not start: %s %s" % (self.name, r.stdout, r.stderr))
        return int(m.group(1)), m.group(2), int(p.group(1))

    def client_cmd(self, host, port, key):
        if self.moshi:
            return in_client_sh("env MOSHI_KEY=%s %s client %s %d" % (key, MOSHI, host, port))
        return in_client_sh("env LANG=C.UTF-8 MOSH_KEY=%s mosh-client %s %d" % (key, host, port))


def descendants(pid):
    """pid and every process below it."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return ""


class Session:
    """A server, the link in front of it (Link), and a client in a tmux
    pane. ssh goes to the throwaway sshd: across the same Link between the
    namespaces, else through TcpDelay on loopback (no loss there).
    server_pids: the processes that make the server's cost (moshi-server
    or mosh-server; for ssh, the sshd processes of this session, not the
    listener)."""

    def __init__(self, system, delay_ms=0, loss=0.0, roam=0, outages=False):
        self.system = system
        self.link = None
        if system.name == "ssh":
            sshd = system.sshd
            before = set(descendants(sshd.pid()))
            if L3:
                self.link = Link(sshd.port, delay_ms, loss)
                target = sshd.ssh()
            else:
                if loss or roam:
                    raise RuntimeError("ssh gets loss only between the benchmark's namespaces")
                self.tcp = TcpDelay(sshd.port, delay_ms / 1000.0)
                target = sshd.ssh(self.tcp.port)
            cmd = in_client_sh("%s -tt %s env PS1='%s' bash --norc --noprofile" % (
                target, sshd.user, PS1))
        else:
            port, key, pid = system.start_server()
            self.server_pids = [pid]
            self.link = Link(port, delay_ms, loss, roam, outages=outages)
            cmd = system.client_cmd(self.link.host, self.link.port, key)
        tmux("kill-server")
        time.sleep(0.2)
        tmux("-f", TMUX_CONF, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", cmd)
        self.client_pid = int(tmux("display", "-p", "-t", "b", "#{pane_pid}", capture=True))
        if wait_for(prompt_last, 30) is None:
            raise RuntimeError("%s: no prompt: %s" % (system.name, screen()))
        if system.name == "ssh":
            self.server_pids = [p for p in descendants(system.sshd.pid())
                                if p not in before and comm(p) == "sshd"]

    def keys(self, *k):
        tmux("send-keys", "-t", "b", *k)

    def end(self):
        """Exit the shell; what crossed the link: {up|down: (packets, bytes)}
        (see Link; for ssh on loopback, TcpDelay's payload bytes and no
        packet count)."""
        self.keys("exit", "Enter")
        for _ in range(100):
            if tmux("has-session", "-t", "b") != 0:
                break
            time.sleep(0.05)
        tmux("kill-server")
        if self.link is None:
            self.tcp.close()
            return {"up": (0, self.tcp.bytes["up"]), "down": (0, self.tcp.bytes["down"])}
        counts = self.link.stop()
        if self.system.name != "ssh":
            for pid in self.server_pids:
                try:
                    os.kill(pid, 15)
                except OSError:
                    pass
        return counts


class TcpDelay:
    """A TCP relay on loopback that holds each chunk `delay` seconds, in
    each direction, keeping order; bytes counts what it carried ("up":
    client to server)."""

    def __init__(self, to_port, delay):
        self.delay = delay
        self.to_port = to_port
        self.bytes = {"up": 0, "down": 0}
        self.socks = []
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.to_port))
            self.socks += [c, u]
            for a, b, d in ((c, u, "up"), (u, c, "down")):
                a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                q = []
                cv = threading.Condition()
                threading.Thread(target=self._pump_in, args=(a, q, cv, d), daemon=True).start()
                threading.Thread(target=self._pump_out, args=(b, q, cv), daemon=True).start()

    def _pump_in(self, a, q, cv, d):
        while True:
            try:
                data = a.recv(65536)
            except OSError:
                data = b""
            self.bytes[d] += len(data)
            with cv:
                q.append((time.monotonic() + self.delay, data))
                cv.notify()
            if not data:
                return

    def _pump_out(self, b, q, cv):
        while True:
            with cv:
                while not q:
                    cv.wait()
                due, data = q.pop(0)
            time.sleep(max(0.0, due - time.monotonic()))
            if not data:
                try:
                    b.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                b.sendall(data)
            except OSError:
                return

    def close(self):
        self.lsock.close()
        for k in self.socks:
            try:
                k.close()
            except OSError:
                pass


UDP_IP_HEADERS = 28  # IPv4 and UDP headers, for relay's payload counts


def pty_drain_floor(cmd):
    """Seconds to run cmd on a pty and read all it writes (nobody draws)."""
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    os.waitpid(pid, 0)
    return time.monotonic() - t0


def flood_and_ctrl_c(system):
    n = system.name
    s = Session(system)
    time.sleep(1)
    bench("%s_idle_server_rss" % n, sum(rss_mb(p) for p in s.server_pids), "MB")
    bench("%s_idle_client_rss" % n, rss_mb(s.client_pid), "MB")
    cpu0 = sum(cpu_seconds(p) for p in s.server_pids)
    s.keys("clear; seq 1 2000000", "Enter")
    done = wait_for(lambda sc: re.search(r"^2000000\s*\n" + re.escape(PS1.rstrip()), sc, re.M), 300)
    took = done if done is not None else 300.0
    bench("%s_flood_seconds" % n, took, "s")
    cpu = sum(cpu_seconds(p) for p in s.server_pids) - cpu0
    bench("%s_flood_server_cpu" % n, cpu, "s")
    bench("%s_cpu_per_mb" % n, cpu / 16.89, "s/MB")
    time.sleep(0.5)
    s.keys("clear", "Enter")
    wait_for(prompt_last, 10)
    ctrl_c(s, "%s_ctrl_c_0ms" % n)
    counts = s.end()
    bench("%s_flood_wire_down" % n, counts["down"][1] / 1e6, "MB")
    bench("%s_flood_packets_down" % n, counts["down"][0], "packets")
    bench("%s_flood_wire_up" % n, counts["up"][1] / 1e3, "KB")
    bench("%s_flood_packets_up" % n, counts["up"][0], "packets")
    s = Session(system, delay_ms=100)
    ctrl_c(s, "%s_ctrl_c_100ms" % n)
    s.end()


def ctrl_c(s, name):
    times = []
    for _ in range(3):
        s.keys("yes", "Enter")
        time.sleep(1.0)
        s.keys("C-c")
        t = wait_for(prompt_last, 20)
        times.append(t if t is not None else 20.0)
        s.keys("clear", "Enter")
        wait_for(prompt_last, 10)
        time.sleep(0.3)
    times.sort()
    bench(name, times[1] * 1000, "ms")


def typed_counts(system, seconds):
    """A key every 100 ms for `seconds`: the link's counts of a session
    that only started and ended, then of the typing session."""
    s = Session(system)
    time.sleep(0.5)
    base = s.end()
    s = Session(system)
    time.sleep(0.5)
    text = "the quick brown fox jumps over the lazy dog "
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < seconds:
        s.keys("-l", text[i % len(text)])
        i += 1
        time.sleep(max(0.0, t0 + i * 0.1 - time.monotonic()))
    s.keys("C-u")
    time.sleep(0.5)
    return base, s.end()


def typing(system):
    n = system.name
    base, c = typed_counts(system, TYPING_SECONDS)
    # Less a session that only started and ended.
    for d in ("up", "down"):
        bench("%s_typing_%s_bytes" % (n, d), max(0, c[d][1] - base[d][1]), "bytes")
        bench("%s_typing_%s_packets" % (n, d), max(0, c[d][0] - base[d][0]), "packets")


def paste(system, nbytes=65536, loss=0.1):
    """A paste of nbytes at loss each way (10 ms delay): seconds until the
    program has read it all."""
    n = system.name
    s = Session(system, delay_ms=10, loss=loss)
    s.keys("stty -echo -icanon; head -c %d | md5sum | sed 's/^/got /'; stty sane" % nbytes,
           "Enter")
    wait_for(lambda sc: "md5sum" in sc, 20)
    time.sleep(1)
    data = os.urandom(nbytes * 3 // 4 + 3)
    text = base64.encodebytes(data)[:nbytes]
    path = os.path.join(OUT, "bench-paste.txt")
    with open(path, "wb") as f:
        f.write(text)
    tmux("load-buffer", path)
    tmux("paste-buffer", "-t", "b")
    t = wait_for(lambda sc: re.search(r"^got [0-9a-f]{32}", sc, re.M), 180)
    bench("%s_paste_%dk_loss%d" % (n, nbytes // 1024, int(loss * 100)),
          t if t is not None else 180.0, "s")
    s.end()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Sshd:
    """A throwaway sshd on a loopback port (root only), with its own host
    and user keys; `ssh` is the client command line that reaches it."""
    made = 0

    def __init__(self):
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if os.getuid() != 0 or not os.path.exists(sshd) or not shutil.which("ssh"):
            raise RuntimeError("needs root, sshd and ssh")
        d = self.dir = tempfile.mkdtemp(prefix="moshi-bench-")
        for k in ("hostkey", "userkey"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            os.path.join(d, k)], check=True)
        shutil.copy(os.path.join(d, "userkey.pub"), os.path.join(d, "authorized_keys"))
        # In the server's namespace any port is free but another Sshd's.
        Sshd.made += 1
        self.port = 2221 + Sshd.made if L3 else free_port()
        with open(os.path.join(d, "sshd_config"), "w") as f:
            f.write("Port %d\nListenAddress %s\nHostKey %s/hostkey\nPidFile %s/sshd.pid\n"
                    "AuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                    "StrictModes no\nSetEnv PS1=\"%s\"\n" % (self.port, SERVER_HOST, d, d, d, PS1))
        os.makedirs("/run/sshd", exist_ok=True)
        subprocess.run(in_server([sshd, "-f", os.path.join(d, "sshd_config")]), check=True)
        for _ in range(100):
            if os.path.exists(os.path.join(d, "sshd.pid")):
                break
            time.sleep(0.02)
        self.user = "%s@%s" % (os.environ.get("USER", "root"), SERVER_HOST)

    def pid(self):
        """The listener's pid."""
        return int(open(os.path.join(self.dir, "sshd.pid")).read())

    def ssh(self, port=None):
        return ("ssh -p %d -i %s/userkey -o StrictHostKeyChecking=no "
                "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
                % (port or self.port, self.dir))

    def stop(self):
        try:
            os.kill(int(open(os.path.join(self.dir, "sshd.pid")).read()), 15)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def sshd_or_skip(what):
    """A throwaway Sshd, or None after saying why `what` is skipped."""
    try:
        return Sshd()
    except RuntimeError as e:
        print("bench: %s %s; skipped" % (what, e), file=sys.stderr)
        return None


def median_to_prompt(cmd, runs):
    """Seconds from starting cmd in a fresh pane to its first prompt:
    the median of runs; each session is ended with exit."""
    times = []
    for _ in range(runs):
        tmux("kill-server")
        time.sleep(0.2)
        tmux("-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", cmd)
        t = wait_for(prompt_last, 30)
        times.append(t if t is not None else 30.0)
        tmux("send-keys", "-t", "b", "exit", "Enter")
        time.sleep(0.5)
        tmux("kill-server")
    return sorted(times)[runs // 2]


def connect_times(systems):
    sshd = sshd_or_skip("connect times")
    if sshd is None:
        return
    ssh, user = sshd.ssh(), sshd.user
    shell = "env PS1='%s' bash --norc --noprofile" % PS1
    cmds = {
        "moshi": in_client_sh("%s connect --ssh='%s' --server='%s server' %s -- %s" % (
            MOSHI, ssh, MOSHI, user, shell)),
        "mosh": in_client_sh("env LANG=C.UTF-8 mosh --ssh='%s' %s -- %s" % (ssh, user, shell)),
        "ssh": in_client_sh("%s -t %s %s" % (ssh, user, shell)),
    }
    # Between the namespaces, everything crosses the relay (no delay).
    link = Link(sshd.port) if L3 else None
    try:
        for name in [s.name for s in systems] + ["ssh"]:
            bench("%s_connect_to_prompt" % name, median_to_prompt(cmds[name], 5) * 1000, "ms")
    finally:
        if link:
            link.stop()
        sshd.stop()


def connect_blocked_times():
    """moshi connect to the first prompt with UDP to and from the server
    dropped (nftables in the server's namespace): the client falls back
    to ssh by itself. Median of three; only between the namespaces."""
    if not L3:
        print("bench: connect with UDP blocked needs make bench-report's namespaces; skipped",
              file=sys.stderr)
        return
    sshd = sshd_or_skip("connect with UDP blocked")
    if sshd is None:
        return
    ssh, user = sshd.ssh(), sshd.user
    table = ("table inet moshibench { chain in { type filter hook input priority 0; "
             "udp dport 60000-61000 drop; }; chain out { type filter hook output priority 0; "
             "udp sport 60000-61000 drop; }; }")
    link = Link(sshd.port)
    try:
        subprocess.run(in_server(["nft", "-f", "-"]), input=table, text=True, check=True)
        cmd = in_client_sh("%s connect --ssh='%s' --server='%s server' %s -- env PS1='%s' "
                           "bash --norc --noprofile" % (MOSHI, ssh, MOSHI, user, PS1))
        bench("moshi_udp_blocked_connect_to_prompt", median_to_prompt(cmd, 3) * 1000, "ms")
    finally:
        subprocess.run(in_server(["nft", "delete", "table", "inet", "moshibench"]))
        link.stop()
        sshd.stop()


def session_info(path):
    """What a session's server says of itself (docs/sessions.md)."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"info\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    return dict(l.split(" ", 1) for l in data.decode().splitlines() if " " in l)


def attach_times():
    """moshi attach over ssh to a session whose client was killed (a
    laptop that died), to the full screen: median of five, beside `ssh
    host true` (moshi_connect_to_prompt is connect_times'); and the UDP
    payload bytes the server sent for it, within 0.3 s of the screen."""
    sshd = sshd_or_skip("attach times")
    if sshd is None:
        return
    ssh, user = sshd.ssh(), sshd.user
    link = Link(sshd.port) if L3 else None
    sdir = "/tmp/moshi-%d" % os.getuid()
    sid = None
    try:
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            subprocess.run(in_client(["sh", "-c", "%s %s true" % (ssh, user)]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            times.append(time.monotonic() - t0)
        times.sort()
        bench("ssh_true", times[2] * 1000, "ms")
        full = lambda sc: re.search(r"^30\s*\n" + re.escape(PS1.rstrip()), sc, re.M)
        before = set(os.listdir(sdir)) if os.path.isdir(sdir) else set()
        tmux("kill-server")
        time.sleep(0.2)
        tmux("-f", TMUX_CONF, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24",
             in_client_sh("%s connect --ssh='%s' --server='%s server' %s -- env PS1='%s' "
                          "bash --norc --noprofile" % (MOSHI, ssh, MOSHI, user, PS1)))
        if wait_for(prompt_last, 30) is None:
            raise RuntimeError("no session to attach to")
        tmux("send-keys", "-t", "b", "seq 1 30", "Enter")
        wait_for(full, 10)
        new = sorted(set(os.listdir(sdir)) - before)
        sid = new[0] if new else None
        times, sent = [], []
        for _ in range(5):
            pid = int(tmux("display", "-p", "-t", "b", "#{pane_pid}", capture=True))
            sent0 = int(session_info(os.path.join(sdir, sid))["sent"])
            os.kill(pid, signal.SIGKILL)
            tmux("kill-server")
            time.sleep(0.2)
            tmux("-f", TMUX_CONF, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24",
                 in_client_sh("%s attach --ssh='%s' --server='%s server' %s %s" % (
                     MOSHI, ssh, MOSHI, user, sid)))
            t = wait_for(full, 30)
            times.append(t if t is not None else 30.0)
            time.sleep(0.3)
            sent.append(int(session_info(os.path.join(sdir, sid))["sent"]) - sent0)
        times.sort()
        sent.sort()
        bench("moshi_attach_to_screen", times[2] * 1000, "ms")
        bench("moshi_attach_bytes", sent[2], "bytes")
    finally:
        tmux("kill-server")
        if sid:
            subprocess.run([MOSHI, "kill", sid], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if link:
            link.stop()
        sshd.stop()


def wakeups(pid):
    """Times the process has gone to sleep and woken so far."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def idle(system, seconds=30):
    """An idle session: wakeups a second of the client and of the server,
    and datagrams a minute each way, over `seconds` after it settled (3 s
    after the prompt). Datagrams are counted from the test relay's log
    (on loopback; between the namespaces, tunrelay has no log: skipped)."""
    n = system.name
    log = os.path.join(tempfile.mkdtemp(), "relay.log")
    os.environ["RELAY_LOG"] = log
    t_start = time.time()
    try:
        s = Session(system)
    finally:
        del os.environ["RELAY_LOG"]
    time.sleep(3)
    pids = {"client": s.client_pid, "server": s.server_pids[0]}
    before = {k: wakeups(p) for k, p in pids.items()}
    t0 = time.time()
    time.sleep(seconds)
    took = time.time() - t0
    after = {k: wakeups(p) for k, p in pids.items()}
    s.end()
    for k in pids:
        bench("%s_idle_%s_wakeups" % (n, k), (after[k] - before[k]) / took, "per_s")
    if L3 or not os.path.exists(log):
        return
    lo, hi = t0 - t_start - 0.5, t0 - t_start - 0.5 + took
    sent = {"up": 0, "down": 0}
    with open(log) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[2] == "send" and lo <= float(w[0]) < hi:
                sent[w[1]] += 1
    shutil.rmtree(os.path.dirname(log), ignore_errors=True)
    for d in ("up", "down"):
        bench("%s_idle_datagrams_%s" % (n, d), sent[d] * 60.0 / took, "per_min")


def outage(system, seconds=20, delay_ms=50):
    """Recovery after a 20 s outage at 100 ms RTT (the test relay on
    loopback): from the path's return until the screen shows the output
    of a command typed during the outage, with the client back at the
    same address and at a new one (a roam), and of one typed right after
    an idle outage."""
    n = system.name
    if L3:
        print("bench: outages need the loopback relay; skipped", file=sys.stderr)
        return
    for case in ("same_address", "new_address", "idle"):
        s = Session(system, delay_ms=delay_ms, outages=True)
        mark = "back-" + case
        s.link.blackout()
        time.sleep(seconds - 2)
        if case != "idle":
            s.keys("echo %s" % mark, "Enter")
        time.sleep(2)
        s.link.blackout(roam=case == "new_address")
        if case == "idle":
            s.keys("echo %s" % mark, "Enter")
        took = wait_for(lambda sc: any(l.strip() == mark for l in sc.splitlines()), 20)
        s.end()
        if took is None:
            print("bench: %s %s: the output never came" % (n, case), file=sys.stderr)
            continue
        bench("%s_outage_%s_recovery" % (n, case), took, "s")


def outage_history(system, lines=10000, seconds=20, delay_ms=50):
    """The history after an outage at 100 ms RTT: `lines` lines printed
    while the path is down, and the time from its return until all of
    them are in the pane's own history, in order."""
    n = system.name
    s = Session(system, delay_ms=delay_ms, outages=True)
    s.keys("clear; sleep 1; seq 1 %d; echo END-HIST" % lines, "Enter")
    time.sleep(0.3)
    s.link.blackout()
    time.sleep(seconds)
    want = [str(i) for i in range(1, lines + 1)]
    s.link.blackout()
    t0 = time.monotonic()
    took = None
    while time.monotonic() - t0 < 120:
        if [l for l in history().split("\n") if l.isdigit()] == want:
            took = time.monotonic() - t0
            break
        time.sleep(0.05)
    s.end()
    if took is None:
        print("bench: %s: the outage's history never came whole" % n, file=sys.stderr)
        return
    bench("%s_outage_history_%d_lines" % (n, lines), took, "s")


def main():
    if not shutil.which("tmux"):
        print("bench: session benchmarks need tmux; skipped", file=sys.stderr)
        return
    systems = [System("moshi")]
    if shutil.which("mosh-server") and shutil.which("mosh-client"):
        systems.append(System("mosh"))
    else:
        print("bench: mosh is not installed (apt-get install mosh): no comparison",
              file=sys.stderr)
    # The flood also with moshi's history off, and through ssh.
    flooders = systems[:1] + [System("moshi_nohist", env={"MOSHI_HISTORY_LINES": "0"})] + \
        systems[1:]
    sshd = None
    try:
        sshd = Sshd()
        flooders.append(System("ssh", sshd))
    except RuntimeError as e:
        print("bench: no ssh flood: %s" % e, file=sys.stderr)
    floor = min(pty_drain_floor(["seq", "1", "2000000"]) for _ in range(3))
    bench("flood_pty_drain_floor", floor, "s")
    try:
        for s in flooders:
            flood_and_ctrl_c(s)
        outage_history(systems[0])
        for s in systems:
            typing(s)
        for s in systems:
            paste(s)
        connect_times(systems)
        attach_times()
        connect_blocked_times()
        for s in systems:
            idle(s)
        for s in systems:
            outage(s)
    finally:
        tmux("kill-server")
        if sshd:
            sshd.stop()
        shutil.rmtree(os.path.dirname(TMUX_CONF), ignore_errors=True)
    bench("moshi_flood_vs_floor", results["moshi_flood_seconds"] / floor, "ratio")
    bench("moshi_nohist_flood_vs_floor", results["moshi_nohist_flood_seconds"] / floor, "ratio")
    for m in ("flood_seconds", "flood_server_cpu", "flood_wire_down", "ctrl_c_0ms",
              "ctrl_c_100ms"):
        ratio("moshi_vs_moshi_nohist_" + m, "moshi_" + m, "moshi_nohist_" + m)
        ratio("moshi_vs_ssh_" + m, "moshi_" + m, "ssh_" + m)
    for m in ("idle_server_rss", "idle_client_rss", "flood_seconds", "flood_server_cpu",
              "flood_wire_down", "ctrl_c_0ms", "ctrl_c_100ms", "typing_up_bytes",
              "typing_down_bytes", "connect_to_prompt", "paste_64k_loss10",
              "idle_client_wakeups", "idle_server_wakeups", "idle_datagrams_up",
              "idle_datagrams_down", "outage_same_address_recovery",
              "outage_new_address_recovery", "outage_idle_recovery"):
        ratio("moshi_vs_mosh_" + m, "moshi_" + m, "mosh_" + m)
    ratio("moshi_vs_ssh_connect_to_prompt", "moshi_connect_to_prompt", "ssh_connect_to_prompt")
    ratio("moshi_attach_vs_ssh_true", "moshi_attach_to_screen", "ssh_true")
    ratio("moshi_attach_vs_connect", "moshi_attach_to_screen", "moshi_connect_to_prompt")


if __name__ == "__main__":
    main()
