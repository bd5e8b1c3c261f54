#!/usr/bin/env python3
"""AOF crash test (issue #16): kill ferrokv with SIGKILL under write load and
check that no acknowledged write is lost.

A writer pipelines SET / INCR / LPUSH / HSET / EXPIRE over a fixed set of
keys (batches of --batch commands), recording every command it sent and
which ones were acknowledged. At a random moment the server is killed with
SIGKILL; it is restarted on the same directory and its whole keyspace is
read back. The check: the keyspace must equal the writer's model after some
prefix of the commands sent, and that prefix must hold

  appendfsync always    every acknowledged command;
  appendfsync everysec  every command acknowledged more than 2 seconds
                        before the kill (Redis's promise: at most two
                        seconds of writes lost);

so nothing is reordered, half-applied or invented either. With --rewrite,
a second connection sends BGREWRITEAOF every --rewrite-every seconds, so
some kills land during a rewrite.

Usage: scripts/aof_crash.py [--kills 20] [--fsync always|everysec]
                            [--rewrite] [--server PATH] [--keep]
Exit status 0 when every round passed. Stdlib only.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

TTL = 100_000  # EXPIRE's seconds: never reached during a run


def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+" or t == b":":
            return rest.decode()
        if t == b"-":
            return RuntimeError(rest.decode())
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            return self.f.read(n + 2)[:-2].decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ConnectionError(f"bad reply {line!r}")

    def call(self, *args):
        self.s.sendall(resp(args))
        r = self.reply()
        if isinstance(r, Exception):
            raise r
        return r

    def close(self):
        self.s.close()


def random_command(rng, seq):
    """One write, its value unique to its position `seq` in the run."""
    kind = rng.random()
    if kind < 0.35:
        return ("SET", f"s:{rng.randrange(200)}", f"v{seq}")
    if kind < 0.55:
        return ("INCR", f"c:{rng.randrange(100)}")
    if kind < 0.75:
        return ("LPUSH", f"l:{rng.randrange(50)}", f"e{seq}")
    if kind < 0.92:
        return ("HSET", f"h:{rng.randrange(50)}", f"f{rng.randrange(20)}", f"v{seq}")
    return ("EXPIRE", f"s:{rng.randrange(200)}", str(TTL))


class Model:
    """The keyspace the commands build: key -> (type, value, has_ttl)."""

    def __init__(self):
        self.keys = {}

    def apply(self, cmd):
        op, key = cmd[0], cmd[1]
        cur = self.keys.get(key)
        if op == "SET":
            self.keys[key] = ("string", cmd[2], False)
        elif op == "INCR":
            n = int(cur[1]) + 1 if cur else 1
            self.keys[key] = ("string", str(n), cur[2] if cur else False)
        elif op == "LPUSH":
            items = cur[1] if cur else ()
            self.keys[key] = ("list", (cmd[2],) + items, False)
        elif op == "HSET":
            fields = dict(cur[1]) if cur else {}
            fields[cmd[2]] = cmd[3]
            self.keys[key] = ("hash", tuple(sorted(fields.items())), False)
        elif op == "EXPIRE":
            if cur:
                self.keys[key] = (cur[0], cur[1], True)

    def get(self, key):
        return self.keys.get(key)


def read_keyspace(port):
    c = Conn(port, timeout=60)
    keys = c.call("KEYS", "*")
    out = {}
    for k in keys:
        t = c.call("TYPE", k)
        ttl = int(c.call("TTL", k)) > 0
        if t == "string":
            out[k] = ("string", c.call("GET", k), ttl)
        elif t == "list":
            out[k] = ("list", tuple(c.call("LRANGE", k, 0, -1)), ttl)
        elif t == "hash":
            flat = c.call("HGETALL", k)
            out[k] = ("hash", tuple(sorted(zip(flat[::2], flat[1::2]))), ttl)
        else:
            out[k] = (t, None, ttl)
    c.close()
    return out


def matching_prefix(sent, lo, actual):
    """The smallest p >= lo such that the model after sent[:p] equals
    `actual`, or None. Walks the commands once, keeping the set of keys
    where the model and `actual` differ."""
    m = Model()
    for cmd in sent[:lo]:
        m.apply(cmd)
    differ = {k for k in set(m.keys) | set(actual) if m.get(k) != actual.get(k)}
    if not differ:
        return lo
    for p in range(lo, len(sent)):
        m.apply(sent[p])
        k = sent[p][1]
        if m.get(k) == actual.get(k):
            differ.discard(k)
        else:
            differ.add(k)
        if not differ:
            return p + 1
    return None


def start(server, port, d, fsync, log):
    cmd = [server, "--port", str(port), "--dir", d, "--save", "", "--appendonly", "yes", "--appendfsync", fsync,
           "--bind", "127.0.0.1", "--logfile", log]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        try:
            c = Conn(port, timeout=2)
            if c.call("PING") == "PONG":
                c.close()
                return p
        except (OSError, RuntimeError):
            pass
        if p.poll() is not None:
            raise RuntimeError(f"server exited with {p.returncode}; see {log}")
        time.sleep(0.01)
    raise RuntimeError("server never answered PING")


def writer(port, rng, batch, sent, acked, ack_times, stop):
    """Pipelines batches until the connection breaks or `stop` is set."""
    try:
        c = Conn(port)
        while not stop.is_set():
            cmds = [random_command(rng, len(sent) + i) for i in range(batch)]
            sent.extend(cmds)
            c.s.sendall(b"".join(resp(x) for x in cmds))
            for _ in cmds:
                r = c.reply()
                if isinstance(r, Exception):
                    raise RuntimeError(f"write refused: {r}")
                acked[0] += 1
                ack_times.append(time.monotonic())
    except (OSError, ConnectionError, ValueError):
        pass


def rewriter(port, every, stop, counts):
    while not stop.wait(every):
        try:
            c = Conn(port, timeout=2)
            c.call("BGREWRITEAOF")
            counts[0] += 1
            c.close()
        except (OSError, ConnectionError, RuntimeError):
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--fsync", choices=["always", "everysec"], default="always")
    ap.add_argument("--batch", type=int, default=50, help="commands per pipelined batch")
    ap.add_argument("--min-run", type=float, default=0.3, help="shortest run before a kill (s)")
    ap.add_argument("--max-run", type=float, default=2.0, help="longest run before a kill (s)")
    ap.add_argument("--rewrite", action="store_true", help="send BGREWRITEAOF during the runs")
    ap.add_argument("--rewrite-every", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--server", default=benchlib.FERROKV)
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    d = tempfile.mkdtemp(prefix="aof-crash-")
    log = os.path.join(d, "server.log")
    port = benchlib.free_port()
    print(f"aof_crash: {args.kills} kills, appendfsync {args.fsync}, seed {seed}, dir {d}")
    sent = []  # every command of the whole test, in order
    failures = 0
    p = start(args.server, port, d, args.fsync, log)
    rewrites = [0]
    for round_no in range(1, args.kills + 1):
        before = len(sent)
        acked = [0]
        ack_times = []
        stop = threading.Event()
        w = threading.Thread(target=writer, args=(port, rng, args.batch, sent, acked, ack_times, stop))
        rw = threading.Thread(target=rewriter, args=(port, args.rewrite_every, stop, rewrites)) if args.rewrite else None
        w.start()
        if rw:
            rw.start()
        time.sleep(rng.uniform(args.min_run, args.max_run))
        p.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        p.wait()
        stop.set()
        w.join()
        if rw:
            rw.join()
        must = before + acked[0]
        if args.fsync == "everysec":
            must = before + sum(1 for t in ack_times if t < killed_at - 2.0)
        p = start(args.server, port, d, args.fsync, log)
        actual = read_keyspace(port)
        got = matching_prefix(sent, must, actual)
        line = (f"round {round_no:2}: sent {len(sent) - before:6}, acked {acked[0]:6}, "
                f"must keep {must - before:6}: ")
        if got is None:
            print(line + "FAIL: the keyspace matches no allowed prefix of the commands sent")
            failures += 1
            break
        print(line + f"keyspace = the first {got - before} commands"
              + (f"; BGREWRITEAOF sent so far: {rewrites[0]}" if args.rewrite else ""))
        # Commands past the prefix never happened: drop them from the log.
        del sent[got:]
    p.send_signal(signal.SIGKILL)
    p.wait()
    if args.keep or failures:
        print(f"data kept in {d}")
    else:
        shutil.rmtree(d, ignore_errors=True)
    print("PASS" if not failures else "FAIL")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
