#!/usr/bin/env python3
"""The -P 1 round trip, counted (issue #20, docs/benchmarks.md "-P 1 round trip: why").

Runs redis-benchmark against redis-server 7.0, ferrokv with its idle polling
off (FERROKV_POLL_SPIN_US=0, the loop blocks in epoll_wait as soon as it runs
out of work) and ferrokv as built (polls awake up to 50 us first, see
src/server/idle.rs), in alternating order each round, servers pinned to core
0 and the client to core 1. Besides rps and CPU per request it counts what
does not depend on the machine's noise as much as wall-clock numbers do:

- sleeps/req: the server's voluntary context switches per request (it blocks
  in epoll_wait and is woken by a client's request);
- IPIs/req: wake-up interrupts core 0 received (/proc/interrupts RES + CAL),
  the wake-ups the client's sendto had to send to the sleeping server;
- client µs/req: redis-benchmark's own CPU per request: with its core full
  it decides the rps, and each wake-up it sends costs it.

Usage: scripts/roundtrip_vs_redis.py [--rounds 3] [--requests N] [--tls]
                                     [--rt] [--no-build] [--only get-c50,...]
                                     [--spins 0,10,50]
--spins runs one ferrokv per polling budget given (FERROKV_POLL_SPIN_US, in
microseconds) beside redis-server instead of the two default ferrokv builds.
--rt runs the servers and the client at SCHED_FIFO priority 10 (chrt), so that
other work on a shared machine does not preempt them (it still runs when they
sleep); use it on a busy machine, not for the published comparisons.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import bench_vs_redis as bvr  # noqa: E402
import tls_vs_redis as tvr  # noqa: E402

WORKLOADS = {
    "get-c50": ("get", {"c": 50, "P": 1}),
    "set-c50": ("set", {"c": 50, "P": 1}),
    "get-c10": ("get", {"c": 10, "P": 1}),
    "set-c10": ("set", {"c": 10, "P": 1}),
    "get-c4": ("get", {"c": 4, "P": 1}),
    "get-c1": ("get", {"c": 1, "P": 1}),
    "set-P16": ("set", {"c": 50, "P": 16}),
}
SERVERS = ("redis", "ferrokv-nospin", "ferrokv")


def sleeps(pid):
    """Voluntary context switches of all of the process's threads."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def ipis(core=0):
    """Wake-up interrupts received by `core` so far: rescheduling (RES) and
    function-call (CAL) IPIs. A remote wake-up of a sleeping thread is sent
    as one or the other depending on the kernel (6.18 here queues it and
    sends CAL), so the two are counted together."""
    total = 0
    with open("/proc/interrupts") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in ("RES:", "CAL:"):
                total += int(parts[1 + core])
    return total


def start(kind, dirpath, certs):
    """A server on a free port (TLS only with `certs`). Returns (Popen, port)."""
    port = benchlib.free_port()
    env = dict(os.environ)
    if kind == "ferrokv-nospin":
        env["FERROKV_POLL_SPIN_US"] = "0"
    elif kind.startswith("ferrokv-spin"):
        env["FERROKV_POLL_SPIN_US"] = kind[len("ferrokv-spin"):]
    else:
        env.pop("FERROKV_POLL_SPIN_US", None)
    args = ["--bind", "127.0.0.1", "--save", "", "--dir", dirpath]
    if certs:
        c = lambda name: os.path.join(certs, name)  # noqa: E731
        args += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", c("server.crt"),
                 "--tls-key-file", c("server.key"), "--tls-ca-cert-file", c("ca.crt"), "--tls-auth-clients", "yes"]
    else:
        args += ["--port", str(port)]
    cmd = ["redis-server", *args] if kind == "redis" else [benchlib.FERROKV, *args, "--loglevel", "warning"]
    log = open(os.path.join(dirpath, "server.log"), "w")
    p = subprocess.Popen(benchlib.pinned(0, cmd), stdout=log, stderr=subprocess.STDOUT, env=env)
    for _ in range(100):
        up = tvr.tls_ping(port, certs, True) if certs else benchlib.ping(port)
        if up:
            return p, port
        if p.poll() is not None:
            break
        time.sleep(0.1)
    p.kill()
    sys.exit(f"{kind} did not start; see {dirpath}/server.log")


def run(server, test, opts):
    pid = server[0].pid
    s0, i0 = sleeps(pid), ipis(0)
    out = bvr.run_bench(server, test, opts, timeout=600)
    if "error" in out:
        raise RuntimeError(out["error"])
    n = opts["n"]
    out["sleeps"] = (sleeps(pid) - s0) / n
    out["ipis"] = (ipis(0) - i0) / n
    out["client_us"] = out["client_s"] * 1e6 / n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", "-n", type=int, default=200_000, help="requests per run (-c 1: a quarter; -P 16: x4)")
    ap.add_argument("--tls", action="store_true", help="TLS ports (mTLS, certificates made with openssl)")
    ap.add_argument("--rt", action="store_true", help="SCHED_FIFO 10 for servers and client (busy machines)")
    ap.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--spins", help="comma-separated polling budgets (µs), one ferrokv each")
    args = ap.parse_args()
    kinds = ("redis", *(f"ferrokv-spin{int(v)}" for v in args.spins.split(","))) if args.spins else SERVERS
    benchlib.check_tools("redis-server", "redis-benchmark", *(["openssl"] if args.tls else []),
                         *(["chrt"] if args.rt else []))
    benchlib.build_ferrokv(args.no_build)
    if args.rt:
        # Servers and client alike (bench_vs_redis pins through benchlib).
        plain = benchlib.pinned
        benchlib.pinned = lambda core, cmd: plain(core, ["chrt", "-f", "10", *cmd])
    names = args.only.split(",") if args.only else list(WORKLOADS)
    for name in names:
        if name not in WORKLOADS:
            sys.exit(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    made = []

    def fresh():
        made.append(tempfile.mkdtemp(prefix="roundtrip-"))
        return made[-1]

    certs = None
    extra = []
    if args.tls:
        certs = fresh()
        tvr.make_certs(certs)
        c = lambda name: os.path.join(certs, name)  # noqa: E731
        extra = ["--tls", "--cacert", c("ca.crt"), "--cert", c("client.crt"), "--key", c("client.key")]
    res = {}
    servers = {}
    try:
        servers = {kind: start(kind, fresh(), certs) for kind in kinds}
        for r in range(args.rounds):
            for name in names:
                test, base = WORKLOADS[name]
                n = args.requests // 4 if base["c"] == 1 else args.requests * (4 if base["P"] > 1 else 1)
                opts = dict(base, n=n, args=extra)
                k = r % len(kinds)
                order = kinds[k:] + kinds[:k]
                for kind in order:
                    res.setdefault(name, {}).setdefault(kind, []).append(run(servers[kind], test, opts))
    finally:
        for s in servers.values():
            tvr.stop(s)
        for d in made:
            shutil.rmtree(d, ignore_errors=True)
    med = statistics.median
    print(f"{args.rounds} rounds, medians; {'TLS (mTLS)' if args.tls else 'plain TCP'}"
          f"{', SCHED_FIFO' if args.rt else ''}; {benchlib.machine_line()}\n")
    print("| workload | server | rps | rps / redis | sleeps/req | IPIs/req | server µs/req | client µs/req | p50 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        by = res[name]
        redis_rps = med(o["rps"] for o in by["redis"])
        for kind in kinds:
            runs = by[kind]
            rps = med(o["rps"] for o in runs)
            print(f"| {name} | {kind} | {rps:,.0f} | {rps / redis_rps:.2f} | {med(o['sleeps'] for o in runs):.3f} "
                  f"| {med(o['ipis'] for o in runs):.3f} | {med(o['cpu_us'] for o in runs):.2f} "
                  f"| {med(o['client_us'] for o in runs):.2f} | {med(o['p50'] for o in runs):.3f} |")


if __name__ == "__main__":
    main()
