#!/usr/bin/env python3
"""Max PING latency while the active expiry cycle purges many keys.

Fills the server with N keys (default 1,000,000) that all expire at the same
moment (PXAT), then sends PINGs one at a time until DBSIZE reaches 0 and
reports the slowest PING and how long the purge took. Usage:
    expiry_latency.py PORT [N] [MAX_MS]
Exits 1 if the slowest PING exceeds MAX_MS in two runs in a row, or the keys
are not gone in 60 s. A run over the bound is followed by one more: a shared
machine can stall a process for tens of milliseconds now and then (a CI run
once saw 82 ms where the same build shows 2-7 ms in every run here, under a
CPU hog too), while a stall of the server's own shows in every run. A slow
run also prints the server's LATENCY LATEST (its own timing of its expire
cycles and commands) to tell the two apart.
"""
import socket
import sys
import time

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
max_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 25.0

s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def reply():
    line = f.readline()
    if line[:1] == b"$":
        size = int(line[1:])
        return f.read(size + 2)[:-2] if size >= 0 else None
    return line[1:-2]


def measure():
    """One fill and purge; the slowest PING in ms."""
    s.sendall(cmd("FLUSHALL"))
    reply()
    expire_at = int(time.time() * 1000) + 4000 + n // 200
    batch = 10_000
    for start in range(0, n, batch):
        s.sendall(b"".join(cmd("SET", "exp:%d" % i, "v", "PXAT", expire_at) for i in range(start, min(n, start + batch))))
        for _ in range(start, min(n, start + batch)):
            reply()
    s.sendall(cmd("DBSIZE"))
    print(f"loaded {int(reply())} keys expiring together")
    while time.time() * 1000 < expire_at - 200:
        time.sleep(0.05)
    worst, began = 0.0, time.perf_counter()
    pings = 0
    while True:
        t = time.perf_counter()
        s.sendall(cmd("PING"))
        reply()
        worst = max(worst, (time.perf_counter() - t) * 1000)
        pings += 1
        if pings % 50 == 0:
            s.sendall(cmd("DBSIZE"))
            if int(reply()) == 0:
                break
        if time.perf_counter() - began > 60:
            sys.exit("keys were not purged within 60 s")
    took = time.perf_counter() - began
    print(f"purged in {took:.2f} s; {pings} PINGs, slowest {worst:.2f} ms")
    return worst


def latency_latest():
    """LATENCY LATEST as lines of 'event latest max' (ms)."""
    s.sendall(cmd("LATENCY", "LATEST"))
    events = int(f.readline()[1:])
    lines = []
    for _ in range(events):
        f.readline()  # *4
        name = reply().decode()
        _at, latest, peak = (int(f.readline()[1:]) for _ in range(3))
        lines.append(f"  {name}: latest {latest} ms, max {peak} ms")
    return lines or ["  (no event over the threshold)"]


s.sendall(cmd("CONFIG", "SET", "latency-monitor-threshold", max(1, int(max_ms))))
reply()
s.sendall(cmd("LATENCY", "RESET"))
reply()
worst = measure()
if worst > max_ms:
    print(f"slowest PING {worst:.2f} ms is above {max_ms} ms; the server's own timings:")
    print("\n".join(latency_latest()))
    print("measuring once more")
    worst = measure()
s.sendall(cmd("CONFIG", "SET", "latency-monitor-threshold", 0))
reply()
if worst > max_ms:
    print("\n".join(latency_latest()))
    sys.exit(f"slowest PING {worst:.2f} ms is above {max_ms} ms in two runs in a row")
