#!/usr/bin/env python3
"""Stream commands side by side: redis-benchmark with custom commands against
ferrokv (release build) and redis-server, alternating, reporting rps and
server CPU time per request (utime + stime of the server process, from
/proc/<pid>/stat, before and after each run) and their ratios.

Workloads (-P 16, -c 50 by default):
  xadd        XADD bench * f v (one field)
  xrange10    XRANGE r - + COUNT 10 over a 1000-entry stream
  xreadgroup  XREADGROUP GROUP g c COUNT 1 STREAMS q >, then XACK q g <id>
              over a prefilled stream (the CPU of both runs, per pair)

Usage: scripts/stream_bench_vs_redis.py [--requests N] [--rounds R] [--pipeline P]
Ports 7146/7147 by default (--ports A,B).
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def enc(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def pipeline(port, cmds):
    """Sends commands in batches and reads the replies (counted by CRLF-terminated lines is
    not enough for arrays, so only simple replies are expected here)."""
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    for i in range(0, len(cmds), 1000):
        batch = cmds[i:i + 1000]
        s.sendall(b"".join(enc(c) for c in batch))
        for _ in batch:
            line = f.readline()
            if line[:1] == b"$":
                f.readline()
            elif line[:1] == b"-":
                raise SystemExit(f"error from {port}: {line!r}")
    s.close()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as fh:
        parts = fh.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def bench(port, pid, args, n, clients, p, extra=()):
    before = cpu_ticks(pid)
    t0 = time.time()
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(n), "-c", str(clients), "-P", str(p), "-q", *extra, *args]
    if os.cpu_count() and os.cpu_count() >= 2:
        cmd = ["taskset", "-c", "1", *cmd]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    elapsed = time.time() - t0
    ticks = cpu_ticks(pid) - before
    return ticks / os.sysconf("SC_CLK_TCK"), elapsed


def workload(name, port, pid, n, clients, p):
    """Returns (cpu seconds, wall seconds, requests) of one run of `name`."""
    if name == "xadd":
        pipeline(port, [["DEL", "bench"]])
        cpu, wall = bench(port, pid, ["XADD", "bench", "*", "f", "v"], n, clients, p)
        return cpu, wall, n
    if name == "xrange10":
        pipeline(port, [["DEL", "r"]] + [["XADD", "r", f"{i}-0", "f", "v", "n", str(i)] for i in range(1, 1001)])
        cpu, wall = bench(port, pid, ["XRANGE", "r", "-", "+", "COUNT", "10"], n, clients, p)
        return cpu, wall, n
    if name == "xreadgroup":
        cmds = [["DEL", "q"]] + [["XADD", "q", f"{i}-0", "f", "v"] for i in range(1, n + 1)]
        cmds.append(["XGROUP", "CREATE", "q", "g", "0"])
        pipeline(port, cmds)
        cpu1, wall1 = bench(port, pid, ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "q", ">"],
                            n, clients, p)
        # __rand_int__ is 12 zero-padded digits: "000000000042-0" reads as 42-0.
        cpu2, wall2 = bench(port, pid, ["XACK", "q", "g", "__rand_int__-0"], n, clients, p, ["-r", str(n)])
        return cpu1 + cpu2, wall1 + wall2, n
    raise SystemExit(f"unknown workload {name}")


def start(kind, port):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--logfile", ""]
    else:
        cmd = [os.path.join(ROOT, "target", "release", "ferrokv"), "--port", str(port), "--save", ""]
    if os.cpu_count() and os.cpu_count() >= 2:
        cmd = ["taskset", "-c", "0", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{kind} did not start on {port}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--ports", default="7146,7147")
    ap.add_argument("--tests", default="xadd,xrange10,xreadgroup")
    a = ap.parse_args()
    rport, fport = (int(x) for x in a.ports.split(","))
    servers = {"redis": (start("redis", rport), rport), "ferrokv": (start("ferrokv", fport), fport)}
    try:
        print(f"{'workload':<12} {'redis rps':>11} {'ferrokv rps':>12} {'rps ratio':>9} "
              f"{'redis us/req':>12} {'ferrokv us/req':>14} {'cpu ratio':>9}")
        for name in a.tests.split(","):
            res = {"redis": [], "ferrokv": []}
            ratios = []
            for r in range(a.rounds):
                order = ["redis", "ferrokv"] if r % 2 == 0 else ["ferrokv", "redis"]
                got = {}
                for kind in order:
                    proc, port = servers[kind]
                    got[kind] = workload(name, port, proc.pid, a.requests, a.clients, a.pipeline)
                    res[kind].append(got[kind])
                ratios.append((got["ferrokv"][0] / got["ferrokv"][2]) / (got["redis"][0] / got["redis"][2]))
            def med(kind, f):
                return statistics.median(f(x) for x in res[kind])
            rps = {k: med(k, lambda x: x[2] / x[1]) for k in res}
            us = {k: med(k, lambda x: x[0] / x[2] * 1e6) for k in res}
            print(f"{name:<12} {rps['redis']:>11.0f} {rps['ferrokv']:>12.0f} {rps['ferrokv'] / rps['redis']:>9.2f} "
                  f"{us['redis']:>12.3f} {us['ferrokv']:>14.3f} {statistics.median(ratios):>9.2f}")
            sys.stdout.flush()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
