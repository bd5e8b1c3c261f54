#!/usr/bin/env python3
"""Hostile and broken clients against ferrokv and redis-server (issue #17).

Runs each case below against redis-server 7.0.15 and against ferrokv (a
fresh server for each case, one server at a time, ports 7181/7182 unless
--ports says otherwise) and writes the outcome table to
docs/hostile-clients.md with the command line that made it:

  flood     N connection attempts at once (default 20,000) against
            maxclients M (default 10,000): is the client already there
            served throughout, how many got Redis's
            "-ERR max number of clients reached", does RSS come back.
  slow      N slow clients (default 1,000) each sending one byte per second
            of a command that never ends, plus N/4 that stall after the
            header: with timeout 0 (bounded by client-query-buffer-limit,
            one fast client pushed past a 1 MB limit), and with timeout 2;
            p99 of a PING loop before and during.
  pipeline  a client that pipelines GETs of a 1 MB value and never reads:
            client-output-buffer-limit normal 16mb 8mb 10; no output limit
            but maxmemory-clients 32mb; the same under CLIENT NO-EVICT.
  broken    reset (SO_LINGER 0) connections mid-command, half-closed ones
            after a command, garbage after a valid frame (exact bytes of
            each reply), and 512 MB bulk headers whose bytes never arrive.

The script raises its open-files limit (it runs as root on the dev machines)
and the servers inherit it. --scale shrinks every count (0.25: a quarter)
so it can run while others use the machine; the doc records the scale.

Usage: scripts/hostile_clients.py [--scale 1.0] [--cases flood,slow,...]
                                  [--no-build] [--no-docs]
"""

import argparse
import os
import resource
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

DOC = os.path.join(benchlib.ROOT, "docs", "hostile-clients.md")
MAXCLIENTS_ERR = b"-ERR max number of clients reached\r\n"


# ---------------------------------------------------------------- servers

class Server:
    """One server process on `port`, started with `args`."""

    def __init__(self, kind, port, args):
        self.kind, self.port = kind, port
        common = ["--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
        if kind == "redis":
            cmd = ["redis-server", *common, "--logfile", f"/tmp/hostile-redis-{port}.log"]
        else:
            cmd = [benchlib.FERROKV, *common, "--loglevel", "warning"]
        self.proc = subprocess.Popen(cmd + [str(a) for a in args], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        benchlib.wait_ready(port, self.proc, kind)

    def rss(self):
        return benchlib.rss_bytes(self.proc.pid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Client:
    """A blocking client that reads one reply per command."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def call(self, *args):
        self.s.sendall(encode(*args))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            return RuntimeError(rest.decode())
        return rest.decode()

    def info(self):
        text = self.call("INFO", "everything").decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def close(self):
        self.s.close()


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def until_close(s, wait):
    """What `s` receives until the peer closes; None if still open after `wait`."""
    got, closed = read_for(s, wait)
    return got if closed else None


def read_for(s, wait):
    """(what `s` received within `wait` or until closed, whether it closed)."""
    end = time.time() + wait
    out = b""
    try:
        while True:
            left = end - time.time()
            if left <= 0:
                return out, False
            s.settimeout(left)
            d = s.recv(1 << 20)
            if not d:
                return out, True
            out += d
    except ConnectionResetError:
        return out, True
    except (socket.timeout, BlockingIOError):
        return out, False


class PingLoop(threading.Thread):
    """PINGs one connection back to back, recording each round trip (ms)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.c = Client(port)
        self.samples, self.errors = [], 0
        self.running, self.mark = True, 0

    def run(self):
        while self.running:
            t = time.perf_counter()
            try:
                self.c.call("PING")
                self.samples.append((time.perf_counter() - t) * 1000)
            except OSError:
                self.errors += 1
                return
            time.sleep(0.002)

    def p99(self, since=0):
        return p99(self.samples[since:])

    def stop(self):
        self.running = False
        self.join()
        self.c.close()


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else float("nan")


def mb(n):
    return f"{n / 1048576:.1f} MB"


def kb(n):
    return f"{int(n) / 1024:.0f} KB"


# ---------------------------------------------------------------- cases

# One process holds at most this many of the flood's sockets: the open-files
# hard limit of the dev machines is 20,000 and cannot be raised there, so
# 20,000 attempts are spread over several processes.
FLOOD_PER_PROCESS = 8000


def flood_worker(port, n, conn):
    """A child process of the flood: on "go" opens `n` connections at once,
    reports (refused, other, still open, seconds); on "ping" PINGs the ones
    still open and reports how many answered; on "close" resets them all."""
    assert conn.recv() == "go"
    sel = selectors.DefaultSelector()
    socks = []
    t0 = time.time()
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    refused = other = 0
    pending = set(socks)
    last_event = time.time()
    # The refused ones hear the error and a close; the rest stay quiet.
    while pending and time.time() - t0 < 30:
        events = sel.select(timeout=1)
        for key, _ in events:
            s = key.fileobj
            try:
                data = s.recv(64)
            except OSError:
                data = None
            if data == MAXCLIENTS_ERR or (data and MAXCLIENTS_ERR.startswith(data)):
                refused += 1
            elif data != b"":
                other += 1
            sel.unregister(s)
            pending.discard(s)
        if events:
            last_event = time.time()
        elif time.time() - t0 > 8 and time.time() - last_event >= 2:
            break
    conn.send((refused, other, len(pending), last_event - t0))
    assert conn.recv() == "ping"
    accepted = 0
    for s in pending:
        try:
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(b"PING\r\n")
            if s.recv(16) == b"+PONG\r\n":
                accepted += 1
        except OSError:
            pass
    conn.send(accepted)
    assert conn.recv() == "close"
    for s in socks:
        linger0(s)
        s.close()
    conn.send("closed")


def case_flood(kind, port, n, maxclients):
    import multiprocessing as mp

    srv = Server(kind, port, ["--maxclients", maxclients])
    workers = []
    try:
        old = Client(port)
        old.call("SET", "k", "v")
        time.sleep(0.5)
        rss0 = srv.rss()
        pings = PingLoop(port)
        pings.start()
        time.sleep(1)
        before = len(pings.samples)
        ctx = mp.get_context("fork")
        k = max(1, -(-n // FLOOD_PER_PROCESS))
        for i in range(k):
            share = n // k + (1 if i < n % k else 0)
            parent, child = ctx.Pipe()
            w = ctx.Process(target=flood_worker, args=(port, share, child), daemon=True)
            w.start()
            workers.append((w, parent))
        for _, c in workers:
            c.send("go")
        reports = [c.recv() for _, c in workers]
        refused = sum(r[0] for r in reports)
        t_flood = max(r[3] for r in reports)
        for _, c in workers:
            c.send("ping")
        accepted = sum(c.recv() for _, c in workers)
        during = pings.p99(before)
        rss_flood = srv.rss()
        still = old.call("GET", "k") == b"v"
        info = old.info()
        for _, c in workers:
            c.send("close")
        for w, c in workers:
            c.recv()
            w.join(10)
        # ferrokv hands freed buffers back from its cron at most every 10 s.
        time.sleep(12)
        rss1 = srv.rss()
        pings.stop()
        return {
            "accepted (answer PING)": accepted,
            "refused with Redis's error": refused,
            "other outcome (reset, no answer)": n - accepted - refused,
            "existing client served": "yes" if still and pings.errors == 0 else "NO",
            "PING p99 before / during": f"{p99(pings.samples[:before]):.2f} / {during:.2f} ms",
            "rejected_connections": info.get("rejected_connections", "?"),
            "RSS before / with the flood / 12 s after close": f"{mb(rss0)} / {mb(rss_flood)} / {mb(rss1)}",
            "time to resolve the flood": f"{t_flood:.1f} s",
        }
    finally:
        for w, _ in workers:
            if w.is_alive():
                w.kill()
        srv.stop()


def case_slow(kind, port, n, secs):
    out = {}
    header = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n"  # a bulk that never ends
    body = b"x" * 10000
    for timeout in (0, 2):
        srv = Server(kind, port, ["--timeout", timeout, "--client-query-buffer-limit", "1mb", "--maxclients", n * 2 + 100])
        try:
            c = Client(port)
            rss0 = srv.rss()
            pings = PingLoop(port)
            pings.start()
            time.sleep(2)
            before = len(pings.samples)
            trickle = []
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(header)
                trickle.append(s)
            stalled = []
            for _ in range(n // 4):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(header)
                stalled.append(s)
            closed_t = set()
            for sec in range(secs):
                t = time.time()
                for i, s in enumerate(trickle):
                    if i in closed_t:
                        continue
                    try:
                        s.send(body[sec:sec + 1])
                    except OSError:
                        closed_t.add(i)
                time.sleep(max(0, 1 - (time.time() - t)))
            c = Client(port)  # the first one was idle for longer than the timeout
            info = c.info()
            rss1 = srv.rss()
            # Which are still open: a closed one reads EOF at once.
            def open_count(socks):
                n_open = 0
                for s in socks:
                    s.setblocking(False)
                    try:
                        n_open += s.recv(1) is None
                    except BlockingIOError:
                        n_open += 1
                    except OSError:
                        pass
                return n_open
            t_open, s_open = open_count(trickle), open_count(stalled)
            # One fast client past client-query-buffer-limit (1 MB).
            big = socket.create_connection(("127.0.0.1", port))
            big.sendall(header)
            try:
                for _ in range(40):
                    big.sendall(b"y" * 65536)
            except OSError:
                pass
            big_out = until_close(big, 5)
            p_during = pings.p99(before)
            p_before = p99(pings.samples[:before])
            pings.stop()
            out[f"timeout {timeout}: trickling clients still open"] = f"{t_open} of {n}"
            out[f"timeout {timeout}: stalled clients still open"] = f"{s_open} of {n // 4}"
            out[f"timeout {timeout}: PING p99 before / during"] = f"{p_before:.2f} / {p_during:.2f} ms"
            out[f"timeout {timeout}: RSS growth with them, per client"] = f"{mb(rss1 - rss0)}, {(rss1 - rss0) / (n + n // 4) / 1024:.1f} KB"
            out[f"timeout {timeout}: mem_clients_normal"] = kb(info.get("mem_clients_normal", 0))
            out[f"timeout {timeout}: client past 1 MB query buffer"] = (
                "closed, no reply" if big_out == b"" else f"still open" if big_out is None else f"closed: {big_out[:60]!r}")
            for s in trickle + stalled + [big]:
                linger0(s)
                s.close()
        finally:
            srv.stop()
    return out


def case_pipeline(kind, port, gets):
    out = {}
    value = b"v" * (1 << 20)
    setups = [
        ("output limit normal 16mb 8mb 10", ["--client-output-buffer-limit", "normal 16mb 8mb 10"], False),
        ("no output limit, maxmemory-clients 32mb", ["--maxmemory-clients", "32mb"], False),
        ("maxmemory-clients 32mb, CLIENT NO-EVICT on", ["--maxmemory-clients", "32mb"], True),
    ]
    for label, args, no_evict in setups:
        srv = Server(kind, port, args)
        try:
            c = Client(port)
            c.call("CLIENT", "NO-EVICT", "on")
            c.call("SET", "big", value)
            rss0 = srv.rss()
            hog = socket.create_connection(("127.0.0.1", port))
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            if no_evict:
                hog.sendall(b"CLIENT NO-EVICT on\r\n")
                assert hog.recv(5) == b"+OK\r\n"
            hog.settimeout(10)
            sent = 0
            try:
                for _ in range(gets):
                    hog.sendall(b"GET big\r\n")
                    sent += 1
            except OSError:
                pass
            peak = rss0
            t0 = time.time()
            while time.time() - t0 < 5:
                peak = max(peak, srv.rss())
                time.sleep(0.1)
            info = c.info()
            served = c.call("STRLEN", "big") == (1 << 20)
            got, closed = read_for(hog, 3)
            hog_state = f"closed after {mb(len(got))} of replies" if closed else f"open ({mb(len(got))} read in 3 s)"
            out[f"{label}: the hog"] = hog_state
            out[f"{label}: peak RSS growth"] = f"{mb(peak - rss0)} ({gets} MB of replies asked)"
            out[f"{label}: mem_clients_normal while it waits"] = kb(info.get("mem_clients_normal", 0))
            out[f"{label}: evicted_clients"] = info.get("evicted_clients", "?")
            out[f"{label}: other client served"] = "yes" if served else "NO"
            linger0(hog)
            hog.close()
        finally:
            srv.stop()
    return out


GARBAGE = [
    b"*1\r\n$4\r\nPING\r\n*abc\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\nfoo\r\n",
    b"PING\r\n*1\r\n$-5\r\n",
    b"PING\r\nset \"a\r\n",
    b"PING\r\n\x00\xffgarbage\r\n",
    b"*1\r\n$4\r\nPING\r\n$abc\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870913\r\n",
]


def case_broken(kind, port, n):
    out = {}
    srv = Server(kind, port, ["--maxclients", n * 2 + 100])
    try:
        c = Client(port)
        rss0 = srv.rss()
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"*2\r\n$3\r\nGET\r\n$10\r\nabc")
            socks.append(s)
        time.sleep(0.5)
        for s in socks:
            linger0(s)
            s.close()
        time.sleep(2)
        info = c.info()
        out["reset mid-command: connected_clients after"] = f"{info['connected_clients']} (of {n + 1})"
        half_ok = 0
        for _ in range(min(n, 200)):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"SET k v\r\nGET k\r\n")
            s.shutdown(socket.SHUT_WR)
            half_ok += until_close(s, 5) == b"+OK\r\n$1\r\nv\r\n"
            s.close()
        out["half-closed after SET+GET: replies then close"] = f"{half_ok} of {min(n, 200)}"
        for g in GARBAGE:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(g)
            got, closed = read_for(s, 1.5)
            s.close()
            out[f"garbage `{g!r}`"] = f"`{got!r}`, " + ("closed" if closed else "left open")
        # 512 MB bulk headers whose bytes never come.
        rss1 = srv.rss()
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(encode("SET", "k2", "x")[:-6] + b"$536870912\r\n" + b"x" * 1024)
            socks.append(s)
        time.sleep(2)
        info = c.info()
        rss2 = srv.rss()
        pong = c.call("PING") == "PONG"
        for s in socks:
            linger0(s)
            s.close()
        time.sleep(3)
        rss3 = srv.rss()
        out["512 MB headers: RSS before / with them / after"] = f"{mb(rss1)} / {mb(rss2)} / {mb(rss3)}"
        out["512 MB headers: mem_clients_normal"] = kb(info.get("mem_clients_normal", 0))
        out["512 MB headers: others served, server up"] = "yes" if pong and srv.alive() else "NO"
        out["RSS at start of case"] = mb(rss0)
    finally:
        srv.stop()
    return out


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cases", default="flood,slow,pipeline,broken")
    ap.add_argument("--ports", default="7181,7182", help="ferrokv,redis")
    ap.add_argument("--slow-seconds", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-docs", action="store_true")
    a = ap.parse_args()
    benchlib.check_tools("redis-server")
    benchlib.build_ferrokv(a.no_build)
    fport, rport = (int(p) for p in a.ports.split(","))
    n_flood = int(20000 * a.scale)
    maxclients = int(10000 * a.scale)
    n_slow = int(1000 * a.scale)
    n_broken = int(1000 * a.scale)
    gets = 200
    # The flood's sockets are spread over processes of FLOOD_PER_PROCESS
    # each; a server needs maxclients + 32, the slow case n_slow * 1.25.
    need = max(FLOOD_PER_PROCESS, maxclients, n_slow * 2) + 1000
    limit = benchlib.raise_nofile(max(65536, need))
    if limit < need:
        # As root the hard limit can go up too.
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
        except (ValueError, OSError) as e:
            sys.exit(f"open-files limit {limit} too low ({need} needed): {e}")
    cases = {
        "flood": (f"{n_flood:,} connection attempts at once, maxclients {maxclients:,}",
                  lambda k, p: case_flood(k, p, n_flood, maxclients)),
        "slow": (f"{n_slow:,} slow clients (1 byte/s, {a.slow_seconds} s) + {n_slow // 4:,} stalled ones",
                 lambda k, p: case_slow(k, p, n_slow, a.slow_seconds)),
        "pipeline": (f"pipelined GETs of a 1 MB value, never read ({gets} GETs)",
                     lambda k, p: case_pipeline(k, p, gets)),
        "broken": (f"{n_broken:,} reset / half-closed / garbage / 512 MB-header connections",
                   lambda k, p: case_broken(k, p, n_broken)),
    }
    sections = []
    for name in a.cases.split(","):
        title, run = cases[name]
        print(f"== {name}: {title}", flush=True)
        results = {}
        for kind, port in (("redis", rport), ("ferrokv", fport)):
            results[kind] = run(kind, port)
            print(f"   {kind}: {results[kind]}", flush=True)
        rows = [f"### {title}", "", "| | ferrokv | redis-server |", "|---|---|---|"]
        for key in results["ferrokv"]:
            cell = lambda v: str(v).replace("|", "\\|")  # noqa: E731
            rows.append(f"| {cell(key)} | {cell(results['ferrokv'][key])} | {cell(results['redis'].get(key, ''))} |")
        sections.append("\n".join(rows))
    if a.no_docs:
        return
    cmd = "scripts/hostile_clients.py " + " ".join(sys.argv[1:])
    with open(DOC) as f:
        text = f.read()
    begin, end = "<!-- hostile:begin -->", "<!-- hostile:end -->"
    block = (f"Made by `{cmd.strip()}` on {date.today()} (scale {a.scale}: the brief's counts times it), "
             f"{benchlib.machine_line()}, load average {benchlib.loadavg():.1f} at the end "
             "(other people's builds shared the 2 cores).\n\n" + "\n\n".join(sections))
    a_, b_ = text.index(begin) + len(begin), text.index(end)
    with open(DOC, "w") as f:
        f.write(text[:a_] + "\n" + block + "\n" + text[b_:])
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
