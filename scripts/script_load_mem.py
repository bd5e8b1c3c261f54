#!/usr/bin/env python3
"""Memory of the script cache, ferrokv vs redis-server, side by side.

Starts a fresh redis-server and a fresh ferrokv (no persistence), sends the
same N distinct small scripts to both with SCRIPT LOAD (pipelined), and
compares what the cache costs each: the growth of resident memory (VmRSS
from /proc) and of the INFO memory fields (used_memory, used_memory_vm_eval
— the Lua state —, used_memory_scripts_eval — the cache's own bookkeeping —
and number_of_cached_scripts). A script is one of a few shapes a real
application loads (an INCR with a limit, a GET-or-SET, a compare-and-delete)
with a distinct constant in it, 60 to 130 bytes each.

Usage: scripts/script_load_mem.py [--scripts 10000] [--ferrokv PATH]
                                  [--ports 7261,7262] [--write FILE]
"""

import argparse
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SHAPES = [
    "local v = redis.call('incr', KEYS[1]) if v > {n} then return redis.error_reply('limit') end return v",
    "local v = redis.call('get', KEYS[1]) if not v then redis.call('set', KEYS[1], '{n}') v = '{n}' end return v",
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return {n}",
    "return redis.call('hincrby', KEYS[1], 'field:{n}', ARGV[1])",
]


def script(i):
    return SHAPES[i % len(SHAPES)].format(n=i).encode()


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def info_memory(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(cmd("INFO", "memory"))
        f = s.makefile("rb")
        n = int(f.readline()[1:])
        text = f.read(n + 2).decode()
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if v.isdigit():
            out[k] = int(v)
    return out


def load(port, n, batch=1000):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    for start in range(0, n, batch):
        todo = range(start, min(n, start + batch))
        s.sendall(b"".join(cmd("SCRIPT", "LOAD", script(i)) for i in todo))
        for _ in todo:
            line = f.readline()
            if line.startswith(b"-"):
                sys.exit(f"error reply while loading: {line!r}")
            f.readline()  # the 40-byte SHA1
    s.close()


FIELDS = ["used_memory", "used_memory_vm_eval", "used_memory_scripts_eval"]


def measure(server_cmd, port, n):
    proc = subprocess.Popen(server_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        benchlib.wait_ready(port, proc)
        before_rss, before = benchlib.rss_bytes(proc.pid), info_memory(port)
        load(port, n)
        time.sleep(0.5)
        after_rss, after = benchlib.rss_bytes(proc.pid), info_memory(port)
        out = {"rss": after_rss - before_rss, "cached": after.get("number_of_cached_scripts", 0)}
        for k in FIELDS:
            out[k] = after.get(k, 0) - before.get(k, 0)
        return out
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scripts", type=int, default=10000)
    ap.add_argument("--ferrokv", metavar="PATH", help="ferrokv binary (default: target/release/ferrokv)")
    ap.add_argument("--ports", default="7261,7262", help="redis-server,ferrokv ports")
    ap.add_argument("--write", metavar="FILE")
    args = ap.parse_args()
    rp, fp = (int(p) for p in args.ports.split(","))
    ferrokv = args.ferrokv or os.path.join(ROOT, "target", "release", "ferrokv")
    if not os.path.exists(ferrokv) and not args.ferrokv:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    n = args.scripts
    body = sum(len(script(i)) for i in range(n))
    redis = measure(["redis-server", "--port", str(rp), "--save", "", "--appendonly", "no"], rp, n)
    fkv = measure([ferrokv, "--port", str(fp), "--save", "", "--loglevel", "warning"], fp, n)
    for name, m in (("redis-server", redis), ("ferrokv", fkv)):
        if m["cached"] != n:
            sys.exit(f"{name}: number_of_cached_scripts is {m['cached']}, expected {n}")
    rows = [
        f"{n:,} scripts, {body:,} bytes of script text ({body / n:.0f} B each)",
        "",
        "| growth after SCRIPT LOAD | redis-server | ferrokv | ratio ferrokv/redis | per script (redis / ferrokv) |",
        "|---|---|---|---|---|",
    ]
    for key, label in [
        ("rss", "RSS"),
        ("used_memory", "INFO used_memory"),
        ("used_memory_vm_eval", "INFO used_memory_vm_eval (Lua state)"),
        ("used_memory_scripts_eval", "INFO used_memory_scripts_eval (cache)"),
    ]:
        r, f = redis[key], fkv[key]
        ratio = f"**{f / r:.2f}**" if r else "-"
        rows.append(f"| {label} | {r / 1e6:.2f} MB | {f / 1e6:.2f} MB | {ratio} | {r / n:.0f} B / {f / n:.0f} B |")
    report = "\n".join([f"`scripts/script_load_mem.py --scripts {n}`", ""] + rows) + "\n"
    print(report)
    if args.write:
        with open(args.write, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
