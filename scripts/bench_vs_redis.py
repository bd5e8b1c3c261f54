#!/usr/bin/env python3
"""Side-by-side redis-benchmark of ferrokv and redis-server, as ratios.

Both servers run at once on two loopback ports with the same settings (no
persistence). Each round runs every workload against both, alternating which
goes first (A B, then B A, ...) so that drift of a shared, noisy machine hits
both equally. For each workload the report gives the median rps of each
server, the median of the per-round rps ratios (ferrokv / redis), p50 and p99
latency, and server CPU time per request (utime + stime of the server process
from /proc, read before and after each run).

When the machine has 2+ cores, servers are pinned to core 0 and
redis-benchmark to core 1 (taskset), which makes runs far more repeatable.

Run through scripts/bench-vs-redis.sh; --help lists the options.
"""

import argparse
import csv
import io
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 (1-based) of the whole line.
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_ready(port):
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"server on port {port} did not start")


def pin(core, cmd):
    if shutil.which("taskset") and os.cpu_count() >= 2:
        return ["taskset", "-c", str(core)] + cmd
    return cmd


def start_servers(args):
    ferrokv = os.path.join(ROOT, "target", "release", "ferrokv")
    if not os.path.exists(ferrokv) or not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    rport, fport = free_port(), free_port()
    redis = subprocess.Popen(
        pin(0, ["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]),
        stdout=subprocess.DEVNULL,
    )
    fkv = subprocess.Popen(pin(0, [ferrokv, "--port", str(fport), "--loglevel", "warning"]), stdout=subprocess.DEVNULL)
    wait_ready(rport)
    wait_ready(fport)
    return {"redis": (redis, rport), "ferrokv": (fkv, fport)}


def run_bench(pid, port, test, opts):
    cmd = ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(opts["n"]), "-c", str(opts["c"]),
           "-P", str(opts["P"]), "--csv"]
    if opts.get("d"):
        cmd += ["-d", str(opts["d"])]
    if opts.get("r"):
        cmd += ["-r", str(opts["r"])]
    before = cpu_seconds(pid)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(pin(1, cmd), capture_output=True, text=True, check=True).stdout
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - before
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (kids_after.ru_utime - kids.ru_utime) + (kids_after.ru_stime - kids.ru_stime)
    rows = list(csv.DictReader(io.StringIO(out)))
    if not rows:
        sys.exit(f"no result from {' '.join(cmd)}: {out}")
    # redis-benchmark runs helper steps first for some tests (LRANGE_* is
    # preceded by "LPUSH (needed to benchmark LRANGE)"): report the test's
    # own row, and spread the CPU over every request that was sent.
    own = [r for r in rows if r["test"].split(" ")[0].lower() == test.lower()]
    row = own[0] if own else rows[-1]
    return {
        "rps": float(row["rps"]),
        "p50": float(row["p50_latency_ms"]),
        "p99": float(row["p99_latency_ms"]),
        "cpu_us": cpu * 1e6 / (opts["n"] * len(rows)),
        # Share of one core redis-benchmark used: near 100% means the client,
        # not the server, bounds the rps.
        "client_pct": 100 * client_cpu / wall,
    }


def workloads(args):
    out = []
    for p in args.pipelines:
        for t in args.tests:
            out.append((t, {"n": args.requests * (4 if p > 1 else 1), "c": args.clients, "P": p}))
    return out


def label(test, opts):
    extra = "".join(f" -{k} {v}" for k, v in opts.items() if k in ("d", "r") and v)
    return f"{test} -P {opts['P']} -c {opts['c']}{extra}"


def machine_line():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    redis_v = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    version = next((w[2:] for w in redis_v if w.startswith("v=")), "?")
    return f"{os.cpu_count()} cores, {model}, Linux {platform.release()}, redis-server {version}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", "-n", type=int, default=200000, help="requests per run at -P 1 (x4 pipelined)")
    ap.add_argument("--clients", "-c", type=int, default=50)
    ap.add_argument("--tests", default="set,get,incr,mset")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--quick", action="store_true", help="3 rounds, fewer requests (about a minute)")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--write", metavar="FILE", help="write the markdown report to FILE")
    args = ap.parse_args()
    args.tests = args.tests.split(",")
    args.pipelines = [int(p) for p in args.pipelines.split(",")]
    if args.quick:
        args.rounds, args.requests = 3, 50000
    for tool in ("redis-server", "redis-benchmark"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install redis-server redis-tools")

    servers = start_servers(args)
    results = {}  # (label) -> {"redis": [..], "ferrokv": [..]}
    try:
        for r in range(args.rounds):
            order = ["redis", "ferrokv"] if r % 2 == 0 else ["ferrokv", "redis"]
            for test, opts in workloads(args):
                key = label(test, opts)
                for name in order:
                    proc, port = servers[name]
                    res = run_bench(proc.pid, port, test, opts)
                    results.setdefault(key, {"redis": [], "ferrokv": []})[name].append(res)
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()

    med = statistics.median
    lines = [
        "| workload | redis rps | ferrokv rps | rps ratio | redis p50/p99 ms | ferrokv p50/p99 ms | redis CPU µs/req | ferrokv CPU µs/req | CPU ratio | client CPU % (redis/ferrokv) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, runs in results.items():
        rr, ff = runs["redis"], runs["ferrokv"]
        ratio = med([f["rps"] / r["rps"] for r, f in zip(rr, ff)])
        cpu_r, cpu_f = med([x["cpu_us"] for x in rr]), med([x["cpu_us"] for x in ff])
        cpu_ratio = cpu_f / cpu_r if cpu_r > 0 else float("nan")
        lines.append(
            f"| {key} | {med([x['rps'] for x in rr]):,.0f} | {med([x['rps'] for x in ff]):,.0f} | **{ratio:.2f}** | "
            f"{med([x['p50'] for x in rr]):.3f} / {med([x['p99'] for x in rr]):.3f} | "
            f"{med([x['p50'] for x in ff]):.3f} / {med([x['p99'] for x in ff]):.3f} | "
            f"{cpu_r:.2f} | {cpu_f:.2f} | **{cpu_ratio:.2f}** | "
            f"{med([x['client_pct'] for x in rr]):.0f} / {med([x['client_pct'] for x in ff]):.0f} |"
        )
    argv = " ".join(sys.argv[1:])
    report = "\n".join(
        [
            f"Run on {date.today()}: `scripts/bench-vs-redis.sh {argv}`".rstrip(),
            "",
            f"Machine: {machine_line()}. Servers pinned to core 0, redis-benchmark to core 1; "
            f"{args.rounds} alternating rounds, medians; ratio = ferrokv / redis (rps: higher is better, CPU: lower is better).",
            "",
            *lines,
            "",
        ]
    )
    print(report)
    if args.write:
        with open(args.write, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
