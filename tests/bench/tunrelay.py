#!/usr/bin/env python3
"""tunrelay — a user-space netem between two network namespaces, for
make bench-report (the kernel here has no netem).

    tunrelay.py --client-ns NS --server-ns NS [--delay MS] [--loss P]
                [--roam-every S] [--seed N] [--loss-on-signal]
                [--blackout-both]

Each namespace holds a persistent TUN device named `moshi-tun` (made by
tests/bench/report.sh), routed to the other side. This program attaches
to both and carries every IP packet across, delayed (--delay, one way)
and dropped at random (--loss, each way), so that whatever crosses it —
moshi's and mosh's UDP, ssh's TCP with its own retransmission — meets
the same link (with --loss-on-signal, the loss starts at SIGUSR1: a
session is set up first, and only then meets it; with --blackout-both,
each SIGUSR2 starts or ends an outage that drops every packet both
ways). --roam-every moves the client's UDP flows to a new source
port every S seconds, as a NAT that rebinds does: the server then sees
packets from a new address, and its replies to the old one are dropped.
TCP flows are left alone (a rebinding NAT breaks them; ssh is not run
with roaming).

It prints "tunrelay ready" once attached, and on SIGTERM one line per
direction, in the format of tests/tools/relay but counting whole IP
packets (headers included):
    relay up|down: received N packets B bytes, sent N packets B bytes,
    dropped N of M, stale N; roams N
(dropped: by the loss, of the M packets that met it; stale: to a binding
that roaming has ended, or that could not be written, or in an outage.)
"""
import argparse
import ctypes
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
TUN_NAME = "moshi-tun"


def open_tun(ns):
    """Attach to the TUN device of namespace ns (setns for this thread,
    then back)."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", TUN_NAME.encode(), IFF_TUN | IFF_NO_PI))
    finally:
        if libc.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(there)
        os.close(home)
    return fd


class Direction:
    def __init__(self, name):
        self.name = name
        self.rx = self.rx_bytes = self.tx = self.tx_bytes = self.dropped = 0
        self.exposed = 0  # received while the loss was on
        self.stale = 0    # to a binding that roaming has ended, or not written


class Rebinder:
    """The client's UDP source ports as a rebinding NAT shows them."""

    def __init__(self):
        self.epoch = 0
        self.out = {}    # client port -> port shown to the server, this epoch
        self.back = {}   # and back

    def roam(self):
        self.epoch += 1
        self.out, self.back = {}, {}

    def _port(self, sport):
        p = self.out.get(sport)
        if p is None:
            p = 20000 + (sport + 7919 * self.epoch) % 40000
            self.out[sport], self.back[p] = p, sport
        return p

    @staticmethod
    def _udp(pkt):
        if len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != 17:
            return None
        return (pkt[0] & 0x0F) * 4

    def up(self, pkt):
        ihl = self._udp(pkt)
        if ihl is None or self.epoch == 0:
            return pkt
        sport = struct.unpack_from("!H", pkt, ihl)[0]
        b = bytearray(pkt)
        # The new port, and no UDP checksum (allowed over IPv4) rather
        # than a recomputed one.
        struct.pack_into("!H", b, ihl, self._port(sport))
        struct.pack_into("!H", b, ihl + 6, 0)
        return bytes(b)

    def down(self, pkt):
        ihl = self._udp(pkt)
        if ihl is None or self.epoch == 0:
            return pkt
        dport = struct.unpack_from("!H", pkt, ihl + 2)[0]
        orig = self.back.get(dport)
        if orig is None:
            return None  # to a binding that is gone
        b = bytearray(pkt)
        struct.pack_into("!H", b, ihl + 2, orig)
        struct.pack_into("!H", b, ihl + 6, 0)
        return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client-ns", required=True)
    ap.add_argument("--server-ns", required=True)
    ap.add_argument("--delay", type=float, default=0.0, help="ms, one way")
    ap.add_argument("--loss", type=float, default=0.0, help="0..1, each way")
    ap.add_argument("--roam-every", type=float, default=0.0, help="s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--loss-on-signal", action="store_true",
                    help="no loss until SIGUSR1 (a session is set up first)")
    ap.add_argument("--blackout-both", action="store_true",
                    help="SIGUSR2 starts or ends an outage of both directions")
    a = ap.parse_args()
    if not 0 <= a.loss <= 1 or a.delay < 0 or a.roam_every < 0:
        sys.exit("tunrelay: bad --loss, --delay or --roam-every")
    rnd = random.Random(a.seed)
    cfd, sfd = open_tun(a.client_ns), open_tun(a.server_ns)
    up, down = Direction("up"), Direction("down")
    nat = Rebinder()
    roams = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    lossy = [not a.loss_on_signal]
    signal.signal(signal.SIGUSR1, lambda *_: lossy.__setitem__(0, True))
    dark = [False]
    if a.blackout_both:
        signal.signal(signal.SIGUSR2, lambda *_: dark.__setitem__(0, not dark[0]))
    print("tunrelay ready", flush=True)
    q, seq = [], 0
    delay = a.delay / 1000.0
    next_roam = time.monotonic() + a.roam_every if a.roam_every else None
    while not stop:
        now = time.monotonic()
        timeout = 0.2
        if q:
            timeout = min(timeout, max(0.0, q[0][0] - now))
        if next_roam is not None:
            timeout = min(timeout, max(0.0, next_roam - now))
        try:
            ready, _, _ = select.select([cfd, sfd], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in ready:
            d, out = (up, sfd) if fd == cfd else (down, cfd)
            for _ in range(256):
                try:
                    pkt = os.read(fd, 65536)
                except (BlockingIOError, InterruptedError):
                    break
                d.rx += 1
                d.rx_bytes += len(pkt)
                if dark[0]:
                    d.stale += 1
                    continue
                if a.loss and lossy[0]:
                    d.exposed += 1
                    if rnd.random() < a.loss:
                        d.dropped += 1
                        continue
                pkt = nat.up(pkt) if d is up else nat.down(pkt)
                if pkt is None:
                    d.stale += 1
                    continue
                seq += 1
                heapq.heappush(q, (now + delay, seq, out, d, pkt))
        if next_roam is not None and now >= next_roam:
            nat.roam()
            roams += 1
            next_roam += a.roam_every
        while q and q[0][0] <= now:
            _, _, out, d, pkt = heapq.heappop(q)
            try:
                os.write(out, pkt)
                d.tx += 1
                d.tx_bytes += len(pkt)
            except OSError:
                d.stale += 1
    for d in (up, down):
        print("relay %s: received %d packets %d bytes, sent %d packets %d bytes, "
              "dropped %d of %d, stale %d; roams %d" % (
                  d.name, d.rx, d.rx_bytes, d.tx, d.tx_bytes, d.dropped, d.exposed,
                  d.stale, roams),
              file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
