"""Shared helpers for the eviction / lazy-free scripts (stdlib only).

- Servers: start ferrokv and redis-server with the same options on free
  loopback ports, pinned to one core (taskset) when the machine has 2+ cores,
  with a clear error if one does not come up, and always stopped at the end
  (use `with Servers(...) as servers:`).
- Client: a minimal RESP2 client with pipelining.
- Probes: a PING-latency process and an INFO-sampling process, run as
  separate processes so that the GIL of the driving process never delays a
  timed PING.
- Report: the machine line and replacing one section of docs/eviction.md.
"""

import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone

import benchlib
from benchlib import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERROKV = os.path.join(ROOT, "target", "release", "ferrokv")
DOC = os.path.join(ROOT, "docs", "eviction.md")
SERVER_CORE, CLIENT_CORE = 0, 1


def now_ns():
    """CLOCK_MONOTONIC in ns: comparable between the processes of this run."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def can_pin():
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pin(core, cmd):
    return ["taskset", "-c", str(core)] + cmd if can_pin() else cmd


def pin_self(core=CLIENT_CORE):
    """Pins the calling process (and the processes it forks later)."""
    if can_pin():
        os.sched_setaffinity(0, {core})


# ---------------------------------------------------------------- RESP client


class RespError(Exception):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Client:
    """Blocking RESP2 client. `call` sends one command and returns its reply;
    `pipeline` sends many encoded commands in one write and returns the
    replies in order. Error replies come back as RespError instances (not
    raised) from `pipeline`, and are raised by `call`."""

    def __init__(self, port, host="127.0.0.1", timeout=None):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.settimeout(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb", buffering=1 << 16)

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass

    def read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b":":
            return int(rest)
        if t == b"-":
            return RespError(rest.decode(errors="replace"))
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ConnectionError(f"bad reply line {line!r}")

    def call(self, *args):
        self.sock.sendall(encode(*args))
        r = self.read()
        if isinstance(r, RespError):
            raise r
        return r

    def pipeline(self, encoded):
        self.sock.sendall(b"".join(encoded))
        return [self.read() for _ in encoded]

    def info(self, section=None):
        raw = self.call("INFO", section) if section else self.call("INFO")
        return parse_info(raw)


def parse_info(raw):
    out = {}
    for line in raw.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            try:
                out[k] = int(v)
            except ValueError:
                try:
                    out[k] = float(v)
                except ValueError:
                    out[k] = v
    return out


# -------------------------------------------------------------------- servers


def add_report_args(ap, quick_help):
    """The options every side-by-side script shares: --quick, --no-build,
    --write FILE, --no-write."""
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--no-build", action="store_true", help="use the existing target/release/ferrokv")
    ap.add_argument("--write", metavar="FILE", help=f"report file (default {DOC} unless --quick)")
    ap.add_argument("--no-write", action="store_true", help="only print the report")


def resolve_write(args):
    """Where the report goes: --write, else the docs unless --quick; none with --no-write."""
    if not args.write and not args.quick:
        args.write = DOC
    if args.no_write:
        args.write = None


def build_ferrokv(no_build=False):
    if not (no_build and os.path.exists(FERROKV)):
        print("building ferrokv (cargo build --release)...", file=sys.stderr, flush=True)
    benchlib.build_ferrokv(no_build)


class Server:
    def __init__(self, name, argv, port, log):
        self.name, self.argv, self.port, self.log = name, argv, port, log
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.log.flush()
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace")[-2000:]
        self.stop()
        raise SystemExit(
            f"{self.name} failed to start on port {self.port} "
            f"(exit code {self.proc.returncode})\ncommand: {' '.join(self.argv)}\noutput:\n{tail}"
        )

    def alive(self):
        return self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            self.log.flush()
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{self.name} died (exit code {self.proc.returncode})\noutput:\n{tail}")

    def rss(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def client(self, timeout=None):
        return Client(self.port, timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Servers:
    """Context manager: starts redis-server and ferrokv with the same extra
    options (a list like ["--maxmemory", "64mb"]) and stops both on exit,
    whatever happens in between (exceptions, Ctrl-C, sys.exit)."""

    def __init__(self, options, names=("redis", "ferrokv")):
        self.options = [str(o) for o in options]
        self.names = names
        self.servers = {}

    def __enter__(self):
        import tempfile

        try:
            for name in self.names:
                port = free_port()
                if name == "redis":
                    exe = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--loglevel", "warning"]
                else:
                    exe = [FERROKV, "--port", str(port), "--loglevel", "warning"]
                argv = pin(SERVER_CORE, exe + self.options)
                log = tempfile.TemporaryFile()
                self.servers[name] = Server(name, argv, port, log)
            for s in self.servers.values():
                s.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self.servers

    def __exit__(self, *exc):
        for s in self.servers.values():
            try:
                s.stop()
            except Exception:
                pass
        return False


def require_tools(*tools):
    for t in tools:
        if not shutil.which(t):
            sys.exit(f"{t} not found (apt-get install redis-server redis-tools)")


# --------------------------------------------------------------------- probes


def _pinger(port, interval_s, stop_evt, conn):
    """Child process: timed PINGs one at a time (PING, wait for +PONG), sleep
    interval_s between them; sends back [(t_send_ns, rtt_ns), ...]."""
    c = Client(port)
    samples = []
    ping = encode("PING")
    sock, f = c.sock, c.f
    while not stop_evt.is_set():
        t0 = now_ns()
        sock.sendall(ping)
        f.readline()
        t1 = now_ns()
        samples.append((t0, t1 - t0))
        if interval_s:
            time.sleep(interval_s)
    c.close()
    conn.send(samples)
    conn.close()


def _sampler(port, interval_s, sections, fields, stop_evt, conn):
    """Child process: INFO <section> for each section every interval_s
    (pipelined); sends back
    [(t_ns, {field: value}), ...]."""
    c = Client(port)
    samples = []
    cmds = [encode("INFO", sec) for sec in sections]
    while not stop_evt.is_set():
        t = now_ns()
        try:
            replies = c.pipeline(cmds)
        except (OSError, ConnectionError):
            break
        info = {}
        for r in replies:
            info.update(parse_info(r))
        samples.append((t, {k: info.get(k) for k in fields}))
        time.sleep(interval_s)
    c.close()
    conn.send(samples)
    conn.close()


class Probe:
    """Runs _pinger or _sampler in a forked child process until stop()."""

    def __init__(self, target, *args):
        ctx = multiprocessing.get_context("fork")
        self.stop_evt = ctx.Event()
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=target, args=args + (self.stop_evt, send), daemon=True)
        self.proc.start()
        send.close()

    def stop(self):
        self.stop_evt.set()
        data = self.recv.recv() if self.recv.poll(30) else []
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
        return data


def pinger(port, interval_s=0.0):
    return Probe(_pinger, port, interval_s)


def sampler(port, interval_s, fields, sections=("memory",)):
    return Probe(_sampler, port, interval_s, tuple(sections), tuple(fields))


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a list of numbers."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))
    return v[k]


# --------------------------------------------------------------------- report


def machine_line():
    pinned = (f"servers pinned to CPU {SERVER_CORE}, client to CPU {CLIENT_CORE}" if can_pin() else "not pinned")
    return f"{benchlib.machine_line()} ({pinned})"


def command_line():
    return "python3 " + " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])


def stamp():
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


DOC_HEADER = """# Eviction and lazy free: ferrokv vs redis-server

Each section below is written by a script in `scripts/` that runs ferrokv and
redis-server side by side with identical settings (same maxmemory, policy,
samples; no persistence). Re-running a script replaces only its own section.
The scripts use only the Python 3.11 standard library (their own RESP client).

"""

SECTIONS = ("hit_ratio", "evict_bound", "lazyfree_latency")


def write_section(name, markdown, path=DOC):
    """Replaces the section between <!-- name:begin --> and <!-- name:end -->
    of the report (created if missing), keeping the sections in a fixed
    order."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = open(path).read() if os.path.exists(path) else DOC_HEADER
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        # Insert before the first later section that exists, else append.
        later = [s for s in SECTIONS[SECTIONS.index(name) + 1:] if f"<!-- {s}:begin -->" in text] \
            if name in SECTIONS else []
        if later:
            marker = f"<!-- {later[0]}:begin -->"
            head, tail = text.split(marker, 1)
            text = head + block + "\n\n" + marker + tail
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote section '{name}' of {os.path.relpath(path)}", file=sys.stderr)


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def mb(n):
    return f"{n / 1e6:.1f} MB" if n is not None else "n/a"
