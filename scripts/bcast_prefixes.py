#!/usr/bin/env python3
"""Client-side caching with many BCAST prefixes, ferrokv vs redis-server.

Usage: python3 scripts/bcast_prefixes.py [--prefixes 10000] [--requests 100000] [--no-build]

Starts both servers (pinned to core 0, no persistence). For each, one RESP3
connection turns on `CLIENT TRACKING ON BCAST` with N non-overlapping
prefixes (`p:000000:` ...), timing that call; then redis-benchmark (core 1,
`-c 50 -P 16`) runs SET and GET, whose keys match no prefix, while the
tracking connection stays open. Every written key must still be checked
against the prefixes: this shows what that costs. Prints a Markdown table.
"""
import argparse
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def command(args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def read_reply_line(sock):
    """Reads until the reply's first line ends (enough for +OK / -ERR)."""
    buf = b""
    while b"\r\n" not in buf:
        chunk = sock.recv(1 << 16)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    return buf


def hello3(sock):
    sock.sendall(command([b"HELLO", b"3"]))
    buf = b""
    while not buf.endswith(b"modules\r\n*0\r\n"):
        buf += sock.recv(1 << 16)


def rps(port, test, requests):
    out = subprocess.run(
        benchlib.pinned(1, ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(requests),
                            "-c", "50", "-P", "16", "--csv"]),
        capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1].replace('"', "").split(",")[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prefixes", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark")
    benchlib.build_ferrokv(a.no_build)
    servers = benchlib.start_servers()
    rows = {}
    try:
        for name in ("redis", "ferrokv"):
            port = servers[name][1]
            base = {t: rps(port, t, a.requests) for t in ("set", "get")}
            sock = socket.create_connection(("127.0.0.1", port))
            hello3(sock)
            args = [b"CLIENT", b"TRACKING", b"ON", b"BCAST"]
            for i in range(a.prefixes):
                args += [b"PREFIX", b"p:%06d:" % i]
            start = time.perf_counter()
            sock.sendall(command(args))
            reply = read_reply_line(sock)
            took = time.perf_counter() - start
            if not reply.startswith(b"+OK"):
                sys.exit(f"{name}: CLIENT TRACKING failed: {reply[:200]!r}")
            with_prefixes = {t: rps(port, t, a.requests) for t in ("set", "get")}
            sock.close()
            rows[name] = (took, base, with_prefixes)
    finally:
        benchlib.stop_servers(servers)
    print(f"{benchlib.machine_line()}\n")
    print(f"| | redis-server | ferrokv |\n|---|---|---|")
    print(f"| CLIENT TRACKING ON BCAST with {a.prefixes:,} prefixes | "
          + " | ".join(f"{rows[n][0] * 1000:,.0f} ms" for n in ("redis", "ferrokv")) + " |")
    for t in ("set", "get"):
        print(f"| {t.upper()} rps without / with the prefixes | "
              + " | ".join(f"{rows[n][1][t]:,.0f} / {rows[n][2][t]:,.0f}" for n in ("redis", "ferrokv")) + " |")


if __name__ == "__main__":
    main()
