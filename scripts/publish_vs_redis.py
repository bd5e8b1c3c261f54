#!/usr/bin/env python3
"""PUBLISH throughput and server CPU per message, ferrokv vs redis-server.

Usage: python3 scripts/publish_vs_redis.py [--rounds 3] [--subscribers 0,10,100]
       [--requests 1000000] [--no-build]

Both servers run pinned to core 0 with the same settings; redis-benchmark
(`-c 50 -P 16 publish ch <18-byte message>`) and the subscribers share core 1.
The subscribers are raw sockets in one process that discard what they read
in 1 MB gulps, so they cost little CPU and never make a server slow down by
filling its output buffers; each round checks that every subscriber received
every message. Servers alternate (order flipped each round); the ratios are
the medians of the per-round ratios. Prints a Markdown table.
"""
import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

MESSAGE = "hello-world-message"
CHANNEL = "ch"


class Subscribers:
    """`n` connections SUBSCRIBEd to CHANNEL, drained by one thread that
    counts the bytes each received."""

    def __init__(self, port, n):
        self.socks = []
        self.received = [0] * n
        self.sel = selectors.DefaultSelector()
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL.encode()))
            confirm = b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
            got = b""
            while len(got) < len(confirm):
                got += s.recv(len(confirm) - len(got))
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, i)
            self.socks.append(s)
        self.stop = False
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def drain(self):
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.1):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                self.received[key.data] += len(data)

    def wait_for(self, nbytes, timeout=30):
        end = time.time() + timeout
        while time.time() < end and min(self.received, default=nbytes) < nbytes:
            time.sleep(0.05)
        return min(self.received, default=nbytes) >= nbytes

    def close(self):
        self.stop = True
        self.thread.join()
        for s in self.socks:
            s.close()


def message_bytes():
    return len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(CHANNEL), CHANNEL.encode(), len(MESSAGE), MESSAGE.encode()))


def run(server, port, subs, requests):
    """One redis-benchmark run: (rps, server CPU µs per PUBLISH)."""
    proc = server
    sub = Subscribers(port, subs)
    try:
        cpu0 = benchlib.cpu_seconds(proc.pid)
        out = subprocess.run(
            benchlib.pinned(1, ["redis-benchmark", "-p", str(port), "-c", "50", "-P", "16", "-n", str(requests),
                                "--csv", "publish", CHANNEL, MESSAGE]),
            capture_output=True, text=True, timeout=600,
        ).stdout
        cpu = benchlib.cpu_seconds(proc.pid) - cpu0
        rps = float(out.strip().splitlines()[-1].split(",")[1].strip('"'))
        if subs and not sub.wait_for(requests * message_bytes()):
            sys.exit(f"a subscriber on port {port} missed messages: {min(sub.received)} bytes")
    finally:
        sub.close()
    return rps, cpu / requests * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--subscribers", default="0,10,100")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark")
    benchlib.build_ferrokv(args.no_build)
    servers = benchlib.start_servers(["--client-output-buffer-limit", "pubsub", "0", "0", "0"])
    rows = []
    try:
        for subs in [int(x) for x in args.subscribers.split(",")]:
            n = args.requests if subs <= 10 else max(args.requests // 10, 50_000)
            res = {"redis": [], "ferrokv": []}
            for r in range(args.rounds):
                order = ["redis", "ferrokv"] if r % 2 == 0 else ["ferrokv", "redis"]
                for name in order:
                    proc, port = servers[name]
                    res[name].append(run(proc, port, subs, n))
            rps_ratio = statistics.median(f[0] / r[0] for f, r in zip(res["ferrokv"], res["redis"]))
            cpu_ratio = statistics.median(f[1] / r[1] for f, r in zip(res["ferrokv"], res["redis"]))
            rows.append((subs, n, res, rps_ratio, cpu_ratio))
            print(f"{subs} subscribers: rps ratio {rps_ratio:.2f}, CPU/msg ratio {cpu_ratio:.2f}", file=sys.stderr)
    finally:
        benchlib.stop_servers(servers)
    print(f"Machine: {benchlib.machine_line()}\n")
    print("| subscribers | messages | redis-server rps | ferrokv rps | rps ratio | redis µs CPU/PUBLISH | "
          "ferrokv µs CPU/PUBLISH | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for subs, n, res, rr, cr in rows:
        med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in res.items()}
        print(f"| {subs} | {n:,} | {med['redis'][0]:,.0f} | {med['ferrokv'][0]:,.0f} | **{rr:.2f}** | "
              f"{med['redis'][1]:.2f} | {med['ferrokv'][1]:.2f} | **{cr:.2f}** |")


if __name__ == "__main__":
    main()
