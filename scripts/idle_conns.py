#!/usr/bin/env python3
"""Many idle connections: memory per connection and throughput with them held.

Starts redis-server and ferrokv side by side (no persistence, --maxclients
20000, same start code as bench_vs_redis.py), then for each server in turn:

  1. a short redis-benchmark SET/GET (-c 50, -P 1) as the baseline;
  2. opens N idle TCP connections (default 10,000) and waits until the server
     reports them in INFO clients; RSS growth / N is the memory per idle
     connection (VmRSS from /proc/<pid>/status);
  3. sends one PING on every connection (so per-connection buffers get
     touched), lets the server settle 2 s, and measures RSS again;
  4. checks that a new connection still gets +PONG, measures the server's CPU
     use over 2 s with all connections idle, and reruns the SET/GET benchmark
     while the N connections are held;
  5. closes them (with RST, so that no TIME_WAIT ports pile up).

With --port (and optionally --pid) it measures one already running server
instead; without --pid its RSS comes from INFO memory used_memory_rss.

Usage: scripts/idle_conns.py [--conns 10000] [-n 100000] [--write FILE] [--docs]
"""

import argparse
import csv
import io
import os
import socket
import struct
import subprocess
import sys
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

DOCS = os.path.join(benchlib.ROOT, "docs", "benchmarks.md")
BEGIN, END = "<!-- idle:begin -->", "<!-- idle:end -->"


def command(port, *args, timeout=5.0):
    """Sends one command, returns the reply's payload (bulk string or simple
    line) as text; raises OSError on failure."""
    payload = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        f = s.makefile("rb")
        line = f.readline()
        if line.startswith(b"$"):
            n = int(line[1:])
            return f.read(n + 2)[:-2].decode(errors="replace") if n >= 0 else ""
        if line.startswith(b"-"):
            raise OSError(f"error reply: {line.decode().strip()}")
        return line[1:].decode().strip()


def info_field(port, section, field):
    for line in command(port, "INFO", section).splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


class Server:
    def __init__(self, name, port, pid=None):
        self.name, self.port, self.pid = name, port, pid

    def rss(self):
        if self.pid:
            return benchlib.rss_bytes(self.pid)
        v = info_field(self.port, "memory", "used_memory_rss")
        return int(v) if v else 0

    def clients(self):
        v = info_field(self.port, "clients", "connected_clients")
        return int(v) if v else -1

    def cpu(self):
        return benchlib.cpu_seconds(self.pid) if self.pid else None


def bench(port, n, clients=50):
    """redis-benchmark SET/GET; returns {"SET": row, "GET": row} or raises."""
    cmd = ["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", str(n), "-c", str(clients), "--csv"]
    try:
        r = subprocess.run(benchlib.pinned(1, cmd), capture_output=True, text=True, timeout=60 + n / 1000)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out: {' '.join(cmd)}")
    rows = {row["test"]: row for row in csv.DictReader(io.StringIO(r.stdout)) if row.get("test")}
    if r.returncode != 0 or "SET" not in rows or "GET" not in rows:
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {r.returncode}): {(r.stdout + r.stderr).strip()[-300:]}")
    return {k: {"rps": float(rows[k]["rps"]), "p50": float(rows[k]["p50_latency_ms"]),
                "p99": float(rows[k]["p99_latency_ms"])} for k in ("SET", "GET")}


def open_idle(port, n):
    socks = []
    t0 = time.monotonic()
    for i in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError as e:
            print(f"  connection {i + 1} of {n} failed: {e}", file=sys.stderr)
            break
        socks.append(s)
    return socks, time.monotonic() - t0


def close_all(socks):
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass


def ping_all(socks):
    """One PING on every connection, replies collected after all are sent."""
    ok = 0
    for s in socks:
        try:
            s.sendall(b"PING\r\n")
        except OSError:
            pass
    for s in socks:
        try:
            s.settimeout(5)
            if s.recv(64).startswith(b"+PONG"):
                ok += 1
        except OSError:
            pass
    return ok


def wait_clients(srv, want, timeout=15):
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        try:
            seen = srv.clients() - 1  # INFO's own connection
        except OSError:
            pass
        if seen >= want:
            break
        time.sleep(0.1)
    return seen


def measure(srv, n, bench_n):
    print(f"{srv.name}: baseline SET/GET", file=sys.stderr)
    res = {"name": srv.name, "errors": []}
    try:
        res["base"] = bench(srv.port, bench_n)
    except RuntimeError as e:
        res["errors"].append(f"baseline benchmark: {e}")
    time.sleep(0.5)
    res["rss0"] = srv.rss()
    print(f"{srv.name}: opening {n} idle connections", file=sys.stderr)
    socks, took = open_idle(srv.port, n)
    try:
        res["opened"], res["open_s"] = len(socks), took
        res["accepted"] = wait_clients(srv, len(socks))
        if res["accepted"] < n:
            res["errors"].append(f"server reports {res['accepted']} of {n} connections")
        time.sleep(1)
        res["rss1"] = srv.rss()
        t0 = time.monotonic()
        res["pinged"] = ping_all(socks)
        res["ping_all_s"] = time.monotonic() - t0
        if res["pinged"] < len(socks):
            res["errors"].append(f"only {res['pinged']} of {len(socks)} held connections answered PING")
        time.sleep(2)
        res["rss2"] = srv.rss()
        t0 = time.monotonic()
        res["ping_ok"] = benchlib.ping(srv.port, timeout=5)
        res["ping_ms"] = (time.monotonic() - t0) * 1000
        if not res["ping_ok"]:
            res["errors"].append("a new connection got no +PONG with the idle connections held")
        c0 = srv.cpu()
        time.sleep(2)
        res["idle_cpu_pct"] = (srv.cpu() - c0) / 2 * 100 if c0 is not None else None
        print(f"{srv.name}: SET/GET with {len(socks)} idle connections held", file=sys.stderr)
        try:
            res["held"] = bench(srv.port, bench_n)
        except RuntimeError as e:
            res["errors"].append(f"benchmark with idle connections held: {e}")
        res["still_open"] = wait_clients(srv, len(socks), timeout=1)
    finally:
        close_all(socks)
    wait_clients_below(srv, 10)
    return res


def wait_clients_below(srv, k, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if srv.clients() <= k:
                return
        except OSError:
            return
        time.sleep(0.1)


def report(results, n, args, machine):
    def get(r, *path):
        for p in path:
            if not isinstance(r, dict) or p not in r:
                return None
            r = r[p]
        return r

    def per_conn(r, key):
        if r.get(key) is None or r.get("rss0") is None or not r.get("opened"):
            return None
        return (r[key] - r["rss0"]) / r["opened"]

    def kb(v):
        return "–" if v is None else f"{v / 1024:.1f} KB"

    def mb(v):
        return "–" if v is None else f"{v / 1e6:.1f} MB"

    def num(v, spec):
        return "–" if v is None else format(v, spec)

    names = [r["name"] for r in results]
    rows = [("", names)]
    rows.append(("RSS before", [mb(r.get("rss0")) for r in results]))
    rows.append((f"RSS with {n:,} idle connections", [mb(r.get("rss1")) for r in results]))
    rows.append(("**RSS per idle connection** (never used)", [f"**{kb(per_conn(r, 'rss1'))}**" for r in results]))
    rows.append(("RSS per connection after one PING each (+2 s)", [kb(per_conn(r, "rss2")) for r in results]))
    rows.append(("connections the server reported", [num(r.get("accepted"), ",") for r in results]))
    rows.append(("new connection answers PING (ms)",
                 [("yes " if r.get("ping_ok") else "**no** ") + num(r.get("ping_ms"), ".2f") for r in results]))
    rows.append(("server CPU while all idle (% of a core)", [num(r.get("idle_cpu_pct"), ".1f") for r in results]))
    for t in ("SET", "GET"):
        rows.append((f"{t} rps without / **with** idle connections",
                     [f"{num(get(r, 'base', t, 'rps'), ',.0f')} / **{num(get(r, 'held', t, 'rps'), ',.0f')}**"
                      for r in results]))
        rows.append((f"{t} p99 ms without / with",
                     [f"{num(get(r, 'base', t, 'p99'), '.3f')} / {num(get(r, 'held', t, 'p99'), '.3f')}"
                      for r in results]))
    out = [
        f"Run on {date.today()}: `{' '.join(['scripts/idle_conns.py', *sys.argv[1:]])}`",
        "",
        f"Machine: {machine}. Servers pinned to core 0, redis-benchmark to core 1 "
        f"(`-t set,get -n {args.requests} -c 50 -P 1`); both servers with `--maxclients {args.maxclients}`.",
        "",
    ]
    out.append("| " + " | ".join([rows[0][0], *rows[0][1]]) + " |")
    out.append("|---" * (len(names) + 1) + "|")
    for k, vals in rows[1:]:
        out.append("| " + " | ".join([k, *vals]) + " |")
    if names == ["redis", "ferrokv"]:
        def ratio(what, a, b):
            return f"- {what}, ferrokv / redis: **{b / a:.2f}**" if a and b else f"- {what}: –"

        r, f = results
        out += ["",
                ratio("RSS per idle connection", per_conn(r, "rss1"), per_conn(f, "rss1")),
                ratio("RSS per connection after one PING each", per_conn(r, "rss2"), per_conn(f, "rss2"))]
        for t in ("SET", "GET"):
            out.append(ratio(f"{t} rps with the idle connections held", get(r, "held", t, "rps"),
                             get(f, "held", t, "rps")))
    errors = [f"{r['name']}: {e}" for r in results for e in r["errors"]]
    if errors:
        out += ["", "Problems:", ""] + [f"- {e}" for e in errors]
    return "\n".join(out) + "\n"


def update_docs(block):
    benchlib.replace_section(DOCS, BEGIN, END, block, "Idle connections")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", type=int, default=10000, help="idle connections to open (default 10000)")
    ap.add_argument("--requests", "-n", type=int, default=100000, help="SET/GET benchmark requests (default 100000)")
    ap.add_argument("--maxclients", type=int, default=20000, help="passed to both servers (default 20000)")
    ap.add_argument("--port", type=int, help="measure an already running server on this port instead")
    ap.add_argument("--pid", type=int, help="with --port: its pid, for VmRSS and CPU (else INFO memory)")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--write", metavar="FILE", help="also write the markdown report to FILE")
    ap.add_argument("--docs", action="store_true",
                    help=f"write the report into docs/benchmarks.md between {BEGIN} and {END}")
    args = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark")
    limit = benchlib.raise_nofile(args.conns + 1024)
    if limit < args.conns + 64:
        sys.exit(f"the open-files limit is {limit}, too low for {args.conns} connections (raise `ulimit -Hn`)")
    machine = benchlib.machine_line()
    servers = {}
    try:
        if args.port:
            targets = [Server(f"server on port {args.port}", args.port, args.pid)]
        else:
            benchlib.build_ferrokv(args.no_build)
            servers = benchlib.start_servers(["--maxclients", str(args.maxclients)])
            targets = [Server(name, port, proc.pid) for name, (proc, port) in servers.items()]
        results = []
        for srv in targets:
            try:
                results.append(measure(srv, args.conns, args.requests))
            except OSError as e:
                results.append({"name": srv.name, "errors": [f"measurement failed: {e}"]})
    except KeyboardInterrupt:
        sys.exit("interrupted")
    finally:
        benchlib.stop_servers(servers)
    text = report(results, args.conns, args, machine)
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
    if args.docs:
        update_docs(text)
        print(f"updated {os.path.relpath(DOCS)}", file=sys.stderr)
    if any(r["errors"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
