#!/usr/bin/env python3
"""Keystroke response: moshi against mosh 1.4 and ssh, same corpus, same
relay, same run. Run by `make bench` (tests/bench.sh); prints one line per
figure, "bench NAME VALUE UNIT".

Each client runs on a pty of 80x24 made here. Everything it prints is
recorded with the time it was read and replayed through moshi's own
emulator (tests/tools/term_replay), so every figure is read off the screen
a user would have seen:

  visible      from sending a key to the first screen that shows it at
               its place on the command line
  enter        from sending Enter to the first screen that shows the
               command's first line of output
  mispredict   a cell of the command line that showed a character other
               than the one typed there (counted once per cell), and how
               long the longest such cell stayed wrong

The typist sends one key every 120 ms, waits for each command's output
and the prompt, pauses 300 ms and types the next line.

Scenarios: `delay100` (100 ms each way through the relay, no loss),
`loss29` (50 ms each way, 29% of datagrams dropped each way) and
`delay50` (50 ms each way: moshi over UDP, moshi_ssh, whose datagrams go
through ssh and moshi relay as when UDP is blocked, and ssh). moshi and
mosh reach their servers through tests/tools/relay (UDP); ssh reaches a
throwaway sshd on loopback through a TCP relay here that delays each
direction the same way. TCP's loss cannot be made in user space, so ssh
has no `loss29` figures.

Environment: MOSHI, OUT, as for session_bench.py; BENCH_QUICK=1 types
only the first three lines; TYPING_ONLY=moshi|mosh|ssh and
TYPING_SCENARIO=delay100|loss29 run one system or one scenario;
TYPING_DEBUG=1 prints every key's time on stderr.
"""
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import session_bench as sb  # noqa: E402  (System, Sshd, relay path, PS1)

REPLAY = os.path.join(sb.OUT, "tools", "term_replay")
COLS, ROWS = 80, 24
KEY_INTERVAL = 0.120
PS1 = sb.PS1

# Command lines and the first line each prints.
CORPUS = [
    ("echo hello world", "hello world"),
    ("expr 6 \\* 7", "42"),
    ("printf '%s\\n' moshi", "moshi"),
    ("echo $((12 + 30)) apples", "42 apples"),
    ("true && echo yes", "yes"),
    ("cd /tmp && pwd", "/tmp"),
    ("echo the quick brown fox jumps", "the quick brown fox jumps"),
    ("seq 3 | tail -n 1", "3"),
    ("x=5; echo \"x is $x\"", "x is 5"),
    ("uname -s", "Linux"),
    ("ls -d /usr", "/usr"),
    ("echo done", "done"),
]
if os.environ.get("BENCH_QUICK"):
    CORPUS = CORPUS[:3]


class Screens:
    """The client's output: recorded with read times, replayed live. A
    shot is (seconds, cursor row, [row text], cursor column)."""

    def __init__(self, fd):
        self.fd = fd
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.shots = []  # (seconds, cursor_row, [row text])
        self.replay = subprocess.Popen([REPLAY, str(COLS), str(ROWS)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE)
        self.done = False
        threading.Thread(target=self._read_pty, daemon=True).start()
        threading.Thread(target=self._read_screens, daemon=True).start()

    def now(self):
        return time.monotonic() - self.t0

    def _read_pty(self):
        while True:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.5)
                if not r:
                    if self.done:
                        break
                    continue
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            t = self.now()
            try:
                self.replay.stdin.write(b"%.6f %d\n" % (t, len(data)) + data)
                self.replay.stdin.flush()
            except BrokenPipeError:
                break
        try:
            self.replay.stdin.close()
        except BrokenPipeError:
            pass

    def _read_screens(self):
        out = self.replay.stdout
        while True:
            head = out.readline()
            if not head:
                break
            _, t, cy, cx = head.split()
            rows = [out.readline().decode("utf-8", "replace").rstrip("\n") for _ in range(ROWS)]
            with self.lock:
                self.shots.append((float(t), int(cy), rows, int(cx)))

    def latest(self):
        with self.lock:
            return self.shots[-1] if self.shots else (0.0, 0, [""] * ROWS, 0)

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shot = self.latest()
            if pred(shot):
                return shot
            time.sleep(0.002)
        return None

    def since(self, t):
        with self.lock:
            return [s for s in self.shots if s[0] >= t]

    def before(self, t):
        with self.lock:
            older = [s for s in self.shots if s[0] < t]
        return older[-1] if older else None


def shows(shot, row, text):
    """Whether the row shows text from its start; trailing blanks, which
    the replay drops, count once the cursor has passed them."""
    have = shot[2][row]
    if have.startswith(text):
        return True
    return (have == text.rstrip(" ") and shot[1] == row and shot[3] >= len(text))


def prompt_ready(shot):
    _, cy, rows, _ = shot
    return rows[cy] == PS1.rstrip() or rows[cy] == PS1


def spawn(argv, env):
    """Run argv on a new pty of COLS x ROWS; (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.execvpe(argv[0], argv, env)
    return pid, fd


def ssh_path(sshd, delay_ms, loss):
    """The way to the throwaway sshd for a scenario: (the ssh command that
    reaches it, stop, start_loss). Between the namespaces it crosses a
    Link; on loopback a TcpDelay, with no loss."""
    if sb.L3:
        link = sb.Link(sshd.port, delay_ms, loss, 0, seed=7, loss_later=True)
        return sshd.ssh(), link.stop, link.start_loss
    if loss:
        raise RuntimeError("ssh gets loss only between the benchmark's namespaces")
    relay = sb.TcpDelay(sshd.port, delay_ms / 1000.0)
    return sshd.ssh(relay.port), relay.close, lambda: None


def start_client(name, scenario, sshd):
    """Start one system's session for a scenario (delay ms each way, loss
    each way, roam every so many seconds or 0): (pid, fd, cleanup,
    start_loss)."""
    delay_ms, loss = scenario[0], scenario[1]
    roam = scenario[2] if len(scenario) > 2 else 0
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8")
    env.pop("TMUX", None)
    if name == "ssh":
        if roam:
            raise RuntimeError("a TCP connection does not survive a change of address")
        target, stop, start_loss = ssh_path(sshd, delay_ms, loss)
        argv = sb.in_client(target.split() + [
            "-tt", sshd.user, "env", "PS1='%s'" % PS1, "bash", "--norc", "--noprofile"])
        pid, fd = spawn(argv, env)
        return pid, fd, stop, start_loss
    system = sb.System(name)
    port, key, server_pid = system.start_server()
    link = sb.Link(port, delay_ms, loss, roam, seed=7, loss_later=True)
    stream_stop = None
    if name == "moshi_ssh":
        # The datagrams go through ssh and moshi relay (--carrier=ssh),
        # delayed as ssh's own connection is: between the namespaces the
        # link carries every packet, ssh's too.
        if sb.L3:
            target = sshd.ssh()
        else:
            try:
                target, stream_stop, _ = ssh_path(sshd, delay_ms, loss)
            except RuntimeError:
                link.stop()
                raise
        env["MOSHI_CARRIER"] = "ssh"
        env["MOSHI_RELAY"] = "exec %s -T %s -- %s relay %s" % (target, sshd.user, sb.MOSHI,
                                                               system.sid)
    if system.moshi:
        argv = [sb.MOSHI, "client", link.host, str(link.port)]
        env["MOSHI_KEY"] = key
    else:
        argv = ["mosh-client", link.host, str(link.port)]
        env["MOSH_KEY"] = key

    def cleanup():
        link.stop()
        if stream_stop:
            stream_stop()
        try:
            os.kill(server_pid, signal.SIGTERM)
        except OSError:
            pass
    pid, fd = spawn(sb.in_client(argv), env)
    return pid, fd, cleanup, link.start_loss


def type_corpus(scr, fd, corpus):
    """Type every line; per line: (prompt row, [key send times], enter time)."""
    typed = []
    for line, want in corpus:
        shot = scr.wait(prompt_ready, 20)
        if shot is None:
            raise RuntimeError("no prompt: %r" % scr.latest()[2])
        row = shot[1]
        time.sleep(0.3)
        sends = []
        t = time.monotonic()
        for ch in line + "\r":
            time.sleep(max(0.0, t - time.monotonic()))
            sends.append(scr.now())
            os.write(fd, ch.encode())
            t += KEY_INTERVAL
        typed.append((line, want, row, sends[:-1], sends[-1]))
        cmd_row = PS1 + line

        def output_then_prompt(s, cmd_row=cmd_row, want=want):
            rows = s[2]
            for i in range(len(rows) - 2, -1, -1):
                if rows[i] == cmd_row:
                    return rows[i + 1] == want and prompt_ready(s)
            return False
        if scr.wait(output_then_prompt, 20) is None:
            raise RuntimeError("no output for %r: %r" % (line, scr.latest()[2]))
    return typed


def measure(scr, typed):
    visible, enters, bad_cells, bad_longest = [], [], 0, 0.0
    for line, want, row, sends, enter in typed:
        target = PS1 + line
        for k, s in enumerate(sends):
            need = PS1 + line[:k + 1]
            hit = next((sh[0] for sh in scr.since(s) if shows(sh, row, need)), None)
            visible.append((hit - s) if hit is not None else 10.0)
            if os.environ.get("TYPING_DEBUG"):
                print("key %r at %.3f visible after %.1f ms"
                      % (line[k], s, visible[-1] * 1000), file=sys.stderr)
        cmd = None
        for sh in scr.since(enter):
            rows = sh[2]
            ix = [i for i in range(ROWS - 1) if rows[i] == target]
            if ix and rows[ix[-1] + 1] == want:
                cmd = sh[0]
                break
        enters.append((cmd - enter) if cmd is not None else 10.0)
        if os.environ.get("TYPING_DEBUG"):
            print("enter after %r at %.3f: output after %.1f ms"
                  % (line, enter, enters[-1] * 1000), file=sys.stderr)
        # Cells of the command line that showed a character not typed
        # there, from the first key until the output: when each went wrong
        # and when it was put right.
        end = cmd if cmd is not None else enter + 10.0
        shots = [scr.before(sends[0])] + [sh for sh in scr.since(sends[0]) if sh[0] < end]
        wrong = {}
        for sh in shots:
            if sh is None or not sh[2][row].startswith(PS1):
                continue
            text = sh[2][row][len(PS1):]
            for j in set(list(range(len(text))) + list(wrong)):
                ok = j >= len(text) or (j < len(line) and text[j] == line[j])
                if not ok and j not in wrong:
                    wrong[j] = [sh[0], None]
                    bad_cells += 1
                elif ok and j in wrong and wrong[j][1] is None:
                    wrong[j][1] = sh[0]
        for j, (a, b) in wrong.items():
            bad_longest = max(bad_longest, (b if b is not None else end) - a)
    return visible, enters, bad_cells, bad_longest


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def run(name, scenario_name, scenario, sshd, corpus=None):
    """One system in one scenario: prints its bench lines and returns
    {"visible": [s per key], "enter": [s per line], "mispredicted": cells,
    "longest": s}."""
    pid, fd, cleanup, start_loss = start_client(name, scenario, sshd)
    scr = Screens(fd)
    try:
        if scr.wait(prompt_ready, 30) is None:
            raise RuntimeError("%s: no prompt: %r" % (name, scr.latest()[2]))
        # Between the namespaces the loss starts once the session is up:
        # what is measured is typing, not setting up (at 29% loss and
        # 200 ms RTT ssh's own handshake can take longer than the wait).
        start_loss()
        typed = type_corpus(scr, fd, corpus or CORPUS)
        time.sleep(0.5)
        visible, enters, bad, longest = measure(scr, typed)
    finally:
        try:
            os.write(fd, b"exit\r")
        except OSError:
            pass
        for _ in range(100):
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        scr.done = True
        cleanup()
    p = "%s_%s" % (name, scenario_name)
    n = len(visible)
    sb.bench(p + "_keys_within_30ms", 100.0 * sum(1 for v in visible if v <= 0.030) / n, "%")
    sb.bench(p + "_echo_median", statistics.median(visible) * 1000, "ms")
    sb.bench(p + "_echo_p90", pct(visible, 0.9) * 1000, "ms")
    sb.bench(p + "_enter_to_output_median", statistics.median(enters) * 1000, "ms")
    sb.bench(p + "_mispredicted", 100.0 * bad / n, "%")
    sb.bench(p + "_mispredicted_longest", longest * 1000, "ms")
    return {"visible": visible, "enter": enters, "mispredicted": bad, "longest": longest}


def main():
    if not os.path.exists(REPLAY):
        print("bench: %s is missing (make builds it); typing skipped" % REPLAY, file=sys.stderr)
        return
    names = ["moshi"]
    if shutil.which("mosh-server") and shutil.which("mosh-client"):
        names.append("mosh")
    else:
        print("bench: mosh is not installed (apt-get install mosh): no comparison",
              file=sys.stderr)
    try:
        sshd = sb.Sshd()
    except RuntimeError as e:
        print("bench: ssh typing %s; skipped" % e, file=sys.stderr)
        sshd = None
    scenarios = [("delay100", (100, 0.0)), ("loss29", (50, 0.29)), ("delay50", (50, 0.0))]
    only = os.environ.get("TYPING_ONLY")
    if os.environ.get("TYPING_SCENARIO"):
        scenarios = [sc for sc in scenarios if sc[0] == os.environ["TYPING_SCENARIO"]]
    try:
        for sname, scenario in scenarios:
            # Through ssh when UDP is blocked, beside UDP and plain ssh.
            extra = ["moshi_ssh", "ssh"] if sname == "delay50" else ["ssh"]
            for name in (["moshi"] if sname == "delay50" else names) + \
                    (extra if sshd and scenario[1] == 0 else []):
                if only and only != name:
                    continue
                try:
                    run(name, sname, scenario, sshd)
                except RuntimeError as e:
                    print("bench: %s %s failed: %s" % (name, sname, e), file=sys.stderr)
    finally:
        if sshd:
            sshd.stop()
    for sname, _ in scenarios:
        for m in ("keys_within_30ms", "echo_median", "echo_p90", "enter_to_output_median",
                  "mispredicted"):
            for other in ("mosh", "ssh"):
                sb.ratio("moshi_vs_%s_%s_%s" % (other, sname, m),
                         "moshi_%s_%s" % (sname, m), "%s_%s_%s" % (other, sname, m))
                sb.ratio("moshi_ssh_vs_%s_%s_%s" % ("moshi" if other == "mosh" else other,
                                                   sname, m),
                         "moshi_ssh_%s_%s" % (sname, m),
                         "%s_%s_%s" % ("moshi" if other == "mosh" else other, sname, m))


if __name__ == "__main__":
    main()
