#!/usr/bin/env python3
"""Max PING latency while the active expiry cycle purges many keys.

Fills the server with N keys (default 1,000,000) that all expire at the same
moment (PXAT), then sends PINGs one at a time until DBSIZE reaches 0 and
reports the slowest PING and how long the purge took. Usage:
    expiry_latency.py PORT [N] [MAX_MS]
Exits 1 if the slowest PING exceeds MAX_MS or the keys are not gone in 60 s.
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
if worst > max_ms:
    sys.exit(f"slowest PING {worst:.2f} ms is above {max_ms} ms")
