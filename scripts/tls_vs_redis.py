#!/usr/bin/env python3
"""TLS, ferrokv vs redis-server 7.0 side by side (issue #17's TLS target).

Makes a CA, a server certificate (localhost, 127.0.0.1) and a client
certificate with the openssl CLI, starts both servers with only a TLS port
(`--port 0 --tls-port P`) and the same certificates (`tls-auth-clients yes`:
redis-benchmark shows its client certificate), servers pinned to core 0 and
redis-benchmark to core 1, and runs `redis-benchmark --tls` SET and GET at
-P 1 and at -P 16, -c 50, in alternating order each round.

Targets: rps >= redis-server's; server CPU per request <= 0.9x
redis-server's. Debian's redis-server is built with TLS (a build without it
refuses `--tls-port`: the script says so and stops).

Usage: scripts/tls_vs_redis.py [--rounds 3] [--requests N] [--no-build]
                               [--no-client-cert] [--write docs/benchmarks.md]
Try it quickly with: scripts/tls_vs_redis.py --rounds 1 --requests 2000
"""

import argparse
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import bench_vs_redis as bvr  # noqa: E402

BEGIN, END = "<!-- tls:begin -->", "<!-- tls:end -->"
med = statistics.median


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    """CA, server and client certificates (X.509 v3, RSA 2048) in `d`."""
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=ferrokv bench CA", cwd=d)
    for who in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{who}.key", "-out", f"{who}.csr",
                "-subj", f"/CN={'localhost' if who == 'server' else 'bench client'}", cwd=d)
        openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{who}.crt", "-days", "2", "-extfile", f"{who}.ext", cwd=d)


def tls_ping(port, certs, client_cert, timeout=0.5):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.crt"))
    if client_cert:
        ctx.load_cert_chain(os.path.join(certs, "client.crt"), os.path.join(certs, "client.key"))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
    except (OSError, ssl.SSLError):
        return False


def start(kind, dirpath, certs, client_cert):
    """A server with only a TLS port, in `dirpath`. Returns (Popen, port)."""
    port = benchlib.free_port()
    c = lambda name: os.path.join(certs, name)  # noqa: E731
    args = ["--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", dirpath,
            "--tls-cert-file", c("server.crt"), "--tls-key-file", c("server.key"),
            "--tls-ca-cert-file", c("ca.crt"), "--tls-auth-clients", "yes" if client_cert else "no"]
    if kind == "redis":
        cmd = ["redis-server", *args]
    else:
        cmd = [benchlib.FERROKV, *args, "--loglevel", "warning"]
    log = open(os.path.join(dirpath, "server.log"), "w")
    p = subprocess.Popen(benchlib.pinned(0, cmd), stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if tls_ping(port, certs, client_cert):
            return p, port
        if p.poll() is not None:
            break
        time.sleep(0.1)
    p.kill()
    with open(os.path.join(dirpath, "server.log")) as f:
        text = f.read()
    hint = " (is this redis-server built without TLS?)" if kind == "redis" else ""
    sys.exit(f"{kind} with --tls-port {port} did not start{hint}:\n{text[-2000:]}")


def stop(server):
    p, _ = server
    p.terminate()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", "-n", type=int, default=100_000, help="requests per run at -P 1 (x4 at -P 16)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-client-cert", action="store_true",
                    help="tls-auth-clients no (no client certificate) instead of mTLS")
    ap.add_argument("--write", metavar="FILE", help="record the table in FILE (between tls markers)")
    args = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark", "openssl")
    help_text = subprocess.run(["redis-benchmark", "--help"], capture_output=True, text=True)
    if "--tls" not in help_text.stdout + help_text.stderr:
        sys.exit("this redis-benchmark is built without TLS")
    benchlib.build_ferrokv(args.no_build)
    client_cert = not args.no_client_cert
    made = []

    def fresh():
        made.append(tempfile.mkdtemp(prefix="tls-bench-"))
        return made[-1]

    certs = fresh()
    make_certs(certs)
    c = lambda name: os.path.join(certs, name)  # noqa: E731
    tls_args = ["--tls", "--cacert", c("ca.crt")]
    if client_cert:
        tls_args += ["--cert", c("client.crt"), "--key", c("client.key")]
    names = ("ferrokv", "redis")
    res = {}
    servers = {}
    try:
        servers = {name: start(name, fresh(), certs, client_cert) for name in names}
        for r in range(args.rounds):
            for test in ("set", "get"):
                for p in (1, 16):
                    opts = {"n": args.requests * (4 if p > 1 else 1), "c": 50, "P": p, "args": tls_args}
                    order = names[r % 2:] + names[:r % 2]
                    for name in order:
                        out = bvr.run_bench(servers[name], test, opts, timeout=600)
                        if "error" in out:
                            raise RuntimeError(f"{name}: {out['error']}")
                        res.setdefault((test, p), {}).setdefault(name, []).append(out)
    finally:
        for s in servers.values():
            stop(s)
        for d in made:
            shutil.rmtree(d, ignore_errors=True)
    rows = ["| workload | ferrokv rps | redis rps | rps ferrokv / redis (target >= 1.0) "
            "| CPU µs/req ferrokv / redis (target <= 0.9) |",
            "|---|---|---|---|---|"]
    ok = True
    for (test, p), by in res.items():
        f, rd = by["ferrokv"], by["redis"]
        vs = med(a["rps"] / b["rps"] for a, b in zip(f, rd))
        cpu = med(a["cpu_us"] / b["cpu_us"] for a, b in zip(f, rd))
        ok &= vs >= 1.0 and cpu <= 0.9
        rows.append(f"| {test} -P {p} -c 50 --tls | {med(x['rps'] for x in f):,.0f} "
                    f"| {med(x['rps'] for x in rd):,.0f} | {vs:.3f} "
                    f"| {med(x['cpu_us'] for x in f):.2f} / {med(x['cpu_us'] for x in rd):.2f} = {cpu:.3f} |")
    mode = "mTLS (client certificates)" if client_cert else "TLS without client certificates"
    cmd = " ".join(["scripts/tls_vs_redis.py", *[a for a in sys.argv[1:] if not a.startswith("--write")
                                                 and not a.endswith(".md")]])
    lines = [f"{args.rounds} rounds, -n {args.requests:,} at -P 1 (x4 at -P 16), {mode}, "
             f"{benchlib.machine_line()}, {time.strftime('%Y-%m-%d')}; "
             f"{'targets met' if ok else 'targets NOT all met'}.", "", *rows, "", f"Command: `{cmd}`"]
    block = "\n".join(lines)
    print(block)
    if args.write:
        benchlib.replace_section(args.write, BEGIN, END, block, "TLS vs redis-server")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
