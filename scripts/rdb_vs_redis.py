#!/usr/bin/env python3
"""RDB snapshots, ferrokv vs redis-server 7.0, side by side (issue #15's
targets).

Dataset: N keys (default 1,000,000): 70% SET of 16-byte values, 10% each
a 3-field hash, a 5-element list and a 5-member sorted set.

Measured for both servers, each pinned to core 0 (the client tools on
core 1), medians of --rounds:

  size      the dump.rdb BGSAVE writes
  bgsave    BGSAVE wall time (BGSAVE sent -> rdb_bgsave_in_progress:0)
  load      start-up on that file until PING answers PONG
  under load, while redis-benchmark overwrites random string keys of the
  dataset (`SET -r <string keys> -P 16 -c 50`, the dataset's strings being
  named as redis-benchmark names its keys):
    peak memory during the BGSAVE / memory before it. ferrokv: its RSS.
      Redis: the parent's RSS plus the child's private pages (what the
      fork's copy-on-write costs), sampled every 5 ms
    max and p99.9 of a PING probe sent every 1 ms during the BGSAVE
    correctness: DEBUG DIGEST taken in the same packet as BGSAVE equals
      the digest of a fresh server loaded from the file it wrote

Usage: scripts/rdb_vs_redis.py [--keys N] [--rounds R] [--write docs/benchmarks.md]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

BEGIN, END = "<!-- rdb:begin -->", "<!-- rdb:end -->"


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t in (b"+", b"-", b":"):
            return rest.decode()
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"bad reply {line!r}")

    def call(self, *args):
        self.s.sendall(resp(*args))
        return self.reply()

    def close(self):
        self.s.close()


def info(c, field):
    for line in c.call("INFO", "persistence").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return None


def string_keys(n):
    """How many string keys the dataset has: they are named as
    redis-benchmark names its keys (`key:%012d`), so that `SET -r` on that
    range overwrites existing keys rather than adding new ones."""
    return sum(1 for i in range(n) if i % 10 < 7)


def load_dataset(port, n):
    c = Conn(port)
    batch = []
    strings = 0
    for i in range(n):
        kind = i % 10
        if kind < 7:
            batch.append(resp("SET", f"key:{strings:012d}", f"v{i:015d}"))
            strings += 1
        elif kind == 7:
            batch.append(resp("HSET", f"hash:{i}", "f1", "v1", "f2", str(i), "f3", "value3"))
        elif kind == 8:
            batch.append(resp("RPUSH", f"list:{i}", "a", "b", str(i), "d", "e"))
        else:
            batch.append(resp("ZADD", f"zset:{i}", "1", "a", "2", "b", "3", str(i), "4.5", "d", "5", "e"))
        if len(batch) == 10000 or i == n - 1:
            c.s.sendall(b"".join(batch))
            for _ in batch:
                c.reply()
            batch = []
    c.close()


def start(kind, port, dirpath):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", dirpath,
               "--enable-debug-command", "yes", "--bind", "127.0.0.1"]
    else:
        cmd = [benchlib.FERROKV, "--port", str(port), "--save", "", "--dir", dirpath, "--enable-debug-command", "yes",
               "--bind", "127.0.0.1", "--loglevel", "warning"]
    return subprocess.Popen(benchlib.pinned(0, cmd), stdout=subprocess.DEVNULL)


def wait_pong(port, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            c = Conn(port)
            r = c.call("PING")
            c.close()
            if r == "PONG":
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"server on {port} never answered PONG")


def bgsave(port):
    c = Conn(port)
    t0 = time.monotonic()
    r = c.call("BGSAVE")
    assert r.startswith("Background saving started"), r
    while info(c, "rdb_bgsave_in_progress") != "0":
        time.sleep(0.005)
    dt = time.monotonic() - t0
    status = info(c, "rdb_last_bgsave_status")
    c.close()
    assert status == "ok", status
    return dt


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def private_bytes(pid):
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except OSError:
        pass
    return total


def under_load(kind, proc, port, n, job=("BGSAVE", "Background saving started", "rdb_bgsave_in_progress")):
    """BGSAVE (or `job`: command, reply prefix, INFO field that is 1 while
    it runs) while redis-benchmark overwrites keys: memory, PING latency,
    and the DEBUG DIGEST of the dataset when the job started."""
    command, reply, busy = job
    bench = subprocess.Popen(benchlib.pinned(1, ["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(string_keys(n)),
                                                   "-P", "16", "-c", "50", "-n", "100000000", "-q"]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    before = benchlib.rss_bytes(proc.pid)
    lat, stop = [], threading.Event()
    # Pings sent before the BGSAVE reply are not counted: DEBUG DIGEST,
    # sent with BGSAVE to know the dataset at that moment, blocks each
    # server for seconds on a million keys.
    since = [float("inf")]

    def probe():
        c = Conn(port)
        while not stop.is_set():
            t = time.perf_counter()
            c.call("PING")
            if t >= since[0]:
                lat.append(time.perf_counter() - t)
            time.sleep(0.001)
        c.close()

    th = threading.Thread(target=probe)
    th.start()
    c = Conn(port)
    c.s.sendall(resp("DEBUG", "DIGEST") + resp(command))
    digest, started = c.reply(), c.reply()
    since[0] = time.perf_counter()
    assert started.startswith(reply), started
    peak = before
    while info(c, busy) != "0":
        m = benchlib.rss_bytes(proc.pid) + sum(private_bytes(ch) for ch in children(proc.pid))
        peak = max(peak, m)
        time.sleep(0.005)
    stop.set()
    th.join()
    bench.kill()
    bench.wait()
    c.close()
    lat.sort()
    p999 = lat[min(len(lat) - 1, int(len(lat) * 0.999))] if lat else float("nan")
    return {"mem": peak / before, "before": before, "max": lat[-1] if lat else float("nan"), "p999": p999,
            "digest": digest}


def check_file(kind, dirpath, digest):
    port = benchlib.free_port()
    p = start(kind, port, dirpath)
    try:
        wait_pong(port)
        c = Conn(port)
        got = c.call("DEBUG", "DIGEST")
        c.close()
        return got == digest
    finally:
        p.terminate()
        p.wait()


def measure(kind, args):
    d = tempfile.mkdtemp(prefix=f"rdb-{kind}-")
    res = {"bgsave": [], "load": [], "size": 0}
    try:
        port = benchlib.free_port()
        p = start(kind, port, d)
        wait_pong(port)
        load_dataset(port, args.keys)
        for _ in range(args.rounds):
            res["bgsave"].append(bgsave(port))
        res["size"] = os.path.getsize(os.path.join(d, "dump.rdb"))
        p.terminate()
        p.wait()
        for _ in range(args.rounds):
            port = benchlib.free_port()
            t0 = time.monotonic()
            p = start(kind, port, d)
            wait_pong(port)
            res["load"].append(time.monotonic() - t0)
            p.terminate()
            p.wait()
        port = benchlib.free_port()
        p = start(kind, port, d)
        wait_pong(port)
        loaded = under_load(kind, p, port, args.keys)
        p.terminate()
        p.wait()
        loaded["correct"] = check_file(kind, d, loaded["digest"])
        res.update(loaded)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--write", metavar="FILE", help="record the table in FILE (between rdb markers)")
    args = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark")
    benchlib.build_ferrokv(args.no_build)
    r = {k: measure(k, args) for k in ("redis", "ferrokv")}
    med = statistics.median
    rows = [
        ("dump.rdb size (bytes)", r["redis"]["size"], r["ferrokv"]["size"], "within 2%"),
        ("BGSAVE wall time (s)", med(r["redis"]["bgsave"]), med(r["ferrokv"]["bgsave"]), "<= 0.8"),
        ("load at start (s)", med(r["redis"]["load"]), med(r["ferrokv"]["load"]), "<= 0.8"),
        ("peak memory during BGSAVE under load / before", r["redis"]["mem"], r["ferrokv"]["mem"], "ferrokv <= 1.15"),
        ("PING max during BGSAVE under load (ms)", r["redis"]["max"] * 1000, r["ferrokv"]["max"] * 1000, "<= 1.0"),
        ("PING p99.9 during BGSAVE under load (ms)", r["redis"]["p999"] * 1000, r["ferrokv"]["p999"] * 1000, "<= 1.0"),
    ]
    lines = [f"{args.keys:,} keys (70% 16-byte strings, 10% each small hash/list/zset), {args.rounds} rounds, "
             f"{benchlib.machine_line()}, {time.strftime('%Y-%m-%d')}.", "",
             "| | redis-server | ferrokv | ferrokv / redis | target |", "|---|---|---|---|---|"]
    for name, a, b, target in rows:
        ratio = b / a if a else float("nan")
        fmt = (lambda v: f"{v:,}") if isinstance(a, int) else (lambda v: f"{v:.3f}")
        lines.append(f"| {name} | {fmt(a)} | {fmt(b)} | {ratio:.3f} | {target} |")
    lines.append("")
    lines.append(f"File equal to the dataset at BGSAVE under load (DEBUG DIGEST of a fresh server loaded from it): "
                 f"redis-server {'yes' if r['redis']['correct'] else 'NO'}, "
                 f"ferrokv {'yes' if r['ferrokv']['correct'] else 'NO'}.")
    lines.append("")
    lines.append(f"Command: `scripts/rdb_vs_redis.py --keys {args.keys} --rounds {args.rounds}`")
    block = "\n".join(lines)
    print(block)
    if args.write:
        benchlib.replace_section(args.write, BEGIN, END, block, "RDB snapshots (BGSAVE, load) vs redis-server")
    if not (r["redis"]["correct"] and r["ferrokv"]["correct"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
