#!/usr/bin/env python3
"""Memory per dataset, ferrokv vs redis-server, side by side.

For each dataset, starts a fresh redis-server and a fresh ferrokv (no
persistence), loads the same data into both through pipelined RESP, and
compares the growth of resident memory (VmRSS from /proc) caused by the data.
Datasets (names for --only):

  strings      1,000,000 keys `key:0000001`... with 16-byte values
  strings-ttl  the same, each with a TTL
  strings-16   1,000,000 keys named as redis-benchmark's `key:000000123456`
               (16 bytes), 16-byte values
  strings-16-ttl  the same, each with a TTL
  hashes       10,000 hashes of 10 small fields
  zsets        10,000 sorted sets of 50 members
  hashes-big   1,000 hashes of 1,000 fields (hashtable encoding)
  zsets-big    100 sorted sets of 10,000 members (skiplist encoding)
  sets         10,000 sets of 100 ten-byte members (hashtable encoding)
  sets-big     one set of 1,000,000 ten-byte members
  lists        10,000 lists of 100 ten-byte elements
  lists-xxx    10,000 lists of 100 three-byte elements ("xxx", as redis-benchmark's LPUSH)
  lists-long   100 lists of 100,000 ten-byte elements
  lists-tiny   1,000,000 lists of 1 to 3 ten-byte elements
  lists-ints   10,000 lists of 100 integers (0..99999)
  lists-values 100 lists of 100,000 elements "value:000000".."value:099999"
               (compressible: for list-compress-depth)
  hlls         1,000 HyperLogLogs of 10, 100, 1,000 (sparse) and 5,000 (dense)
               elements

Usage: scripts/mem_vs_redis.py [--only NAME,...] [--write FILE] [--ferrokv PATH]
                               [--server-args "--list-compress-depth 1"] [--used-memory]

--server-args are given to both servers; --used-memory adds the growth of
INFO used_memory (each server's own count of its allocations) to the table.
"""

import argparse
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def load(port, commands, batch=5000):
    """Sends commands in pipelined batches and reads every reply line."""
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    pending = []
    for c in commands:
        pending.append(c)
        if len(pending) == batch:
            s.sendall(b"".join(pending))
            for _ in pending:
                line = f.readline()
                if line.startswith(b"-"):
                    sys.exit(f"error reply while loading: {line!r}")
            pending = []
    if pending:
        s.sendall(b"".join(pending))
        for _ in pending:
            f.readline()
    s.close()


def wait_ready(port):
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"server on {port} did not start")


def datasets():
    v16 = b"v" * 16
    return {
        "strings": lambda: (cmd("SET", b"key:%07d" % i, v16) for i in range(1_000_000)),
        "strings-ttl": lambda: (cmd("SET", b"key:%07d" % i, v16, "EX", 100000) for i in range(1_000_000)),
        "strings-16": lambda: (cmd("SET", b"key:%012d" % i, v16) for i in range(1_000_000)),
        "strings-16-ttl": lambda: (cmd("SET", b"key:%012d" % i, v16, "EX", 100000) for i in range(1_000_000)),
        "hashes": lambda: (
            cmd("HSET", b"hash:%05d" % i, *[x for j in range(10) for x in (b"field%d" % j, b"value%d" % j)])
            for i in range(10_000)
        ),
        "lists": lambda: (
            cmd("RPUSH", b"list:%05d" % i, *[b"element%03d" % j for j in range(100)]) for i in range(10_000)
        ),
        "lists-xxx": lambda: (cmd("RPUSH", b"list:%05d" % i, *[b"xxx"] * 100) for i in range(10_000)),
        "lists-long": lambda: (
            cmd("RPUSH", b"list:%03d" % i, *[b"element%03d" % (j % 1000) for j in range(b * 1000, b * 1000 + 1000)])
            for b in range(100)
            for i in range(100)
        ),
        "lists-tiny": lambda: (
            cmd("RPUSH", b"list:%07d" % i, *[b"element%03d" % j for j in range(i % 3 + 1)]) for i in range(1_000_000)
        ),
        "lists-values": lambda: (
            cmd("RPUSH", b"list:%03d" % i, *[b"value:%06d" % j for j in range(b * 1000, b * 1000 + 1000)])
            for b in range(100)
            for i in range(100)
        ),
        "lists-ints": lambda: (
            cmd("RPUSH", b"list:%05d" % i, *[b"%d" % ((i * 7919 + j * 104729) % 100000) for j in range(100)])
            for i in range(10_000)
        ),
        "hashes-big": lambda: (
            cmd("HSET", b"hash:%04d" % i, *[x for j in range(1000) for x in (b"field%04d" % j, b"value%04d" % j)])
            for i in range(1_000)
        ),
        "zsets-big": lambda: (
            cmd("ZADD", b"zset:%03d" % i, *[x for j in range(b * 1000, b * 1000 + 1000) for x in (j, b"member%05d" % j)])
            for i in range(100)
            for b in range(10)
        ),
        "sets": lambda: (
            cmd("SADD", b"set:%05d" % i, *[b"member%04d" % j for j in range(100)]) for i in range(10_000)
        ),
        "sets-big": lambda: (
            cmd("SADD", b"bigset", *[b"m%09d" % j for j in range(b * 1000, b * 1000 + 1000)]) for b in range(1000)
        ),
        "zsets": lambda: (
            cmd("ZADD", b"zset:%05d" % i, *[x for j in range(50) for x in (j * 1.5, b"member%02d" % j)])
            for i in range(10_000)
        ),
        # 1,000 HLLs of 10, 100, 1,000 (sparse) and 5,000 (dense) elements.
        "hlls": lambda: (
            cmd("PFADD", b"hll:%04d" % i, *[b"e%d:%d" % (i, j) for j in range(b, min(b + 250, HLL_SIZES[i % 4]))])
            for i in range(1_000)
            for b in range(0, HLL_SIZES[i % 4], 250)
        ),
    }


HLL_SIZES = [10, 100, 1000, 5000]


def used_memory(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(cmd("INFO", "memory"))
        f = s.makefile("rb")
        n = int(f.readline()[1:])
        info = f.read(n + 2).decode()
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("used_memory:")))


def measure(server_cmd, port, gen):
    """Growth of (RSS, INFO used_memory) from loading the dataset."""
    proc = subprocess.Popen(server_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        before, used = rss(proc.pid), used_memory(port)
        load(port, gen())
        time.sleep(0.5)
        return rss(proc.pid) - before, used_memory(port) - used
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="strings,strings-ttl,hashes,zsets")
    ap.add_argument("--write", metavar="FILE")
    ap.add_argument("--ferrokv", metavar="PATH", help="ferrokv binary (default: target/release/ferrokv)")
    ap.add_argument("--server-args", default="", help="extra options for both servers, e.g. \"--list-compress-depth 1\"")
    ap.add_argument("--used-memory", action="store_true", help="also report INFO used_memory growth")
    args = ap.parse_args()
    extra = args.server_args.split()
    ferrokv = args.ferrokv or os.path.join(ROOT, "target", "release", "ferrokv")
    if not os.path.exists(ferrokv) and not args.ferrokv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    rows = ["| dataset | redis-server RSS growth | ferrokv RSS growth | ratio ferrokv/redis |", "|---|---|---|---|"]
    if args.used_memory:
        rows = [rows[0] + " redis-server used_memory | ferrokv used_memory | ratio |", rows[1] + "---|---|---|"]
    for name in args.only.split(","):
        gen = datasets()[name]
        rp, fp = free_port(), free_port()
        redis, redis_used = measure(["redis-server", "--port", str(rp), "--save", "", "--appendonly", "no", *extra], rp, gen)
        # No save points: a save on exit would leave a dump.rdb that the next run loads.
        fkv, fkv_used = measure([ferrokv, "--port", str(fp), "--save", "", "--loglevel", "warning", *extra], fp, gen)
        row = f"| {name} | {redis / 1e6:.1f} MB | {fkv / 1e6:.1f} MB | **{fkv / redis:.2f}** |"
        if args.used_memory:
            row += f" {redis_used / 1e6:.1f} MB | {fkv_used / 1e6:.1f} MB | **{fkv_used / redis_used:.2f}** |"
        rows.append(row)
        print(rows[-1], flush=True)
    shown = f"scripts/mem_vs_redis.py --only {args.only}"
    shown += f" --server-args '{args.server_args}'" if args.server_args else ""
    shown += " --used-memory" if args.used_memory else ""
    report = "\n".join([f"`{shown}`", ""] + rows) + "\n"
    print(report)
    if args.write:
        with open(args.write, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
