#!/usr/bin/env python3
"""DEBUG DIGEST / DIGEST-VALUE on ferrokv against real Redis, same data set.

Usage:
    redis-server --port 7100 --save '' --daemonize yes --enable-debug-command yes
    target/debug/ferrokv --port 7101 --enable-debug-command yes > /tmp/fk.log &
    python3 scripts/digest_vs_redis.py --redis-port 7100 --ferrokv-port 7101 [--verbose]

Both servers are FLUSHALLed, then the same data set is written to each:
every type in each of its encodings (int/embstr/raw and binary strings,
small and many-node lists, intset and hashtable sets, listpack and
hashtable hashes, listpack and skiplist sorted sets with awkward scores),
keys with and without a TTL, in several databases, plus DEBUG POPULATE
keys (default and custom prefix, with and without a size). Then, per key,
TYPE, OBJECT ENCODING and DEBUG DIGEST-VALUE are read from both, and DEBUG
DIGEST of the whole data set (and of an empty one, before loading).

Digests must be equal; encodings are printed where they differ (ferrokv
may choose differently, which the digest must not see). Exit status 1 on a
digest mismatch. Python standard library only (raw sockets, RESP2).
"""

import argparse
import socket
import sys


class Conn:
    """A RESP2 connection over a raw socket."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return Error(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ValueError("unexpected reply %r" % line)

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def call(self, *args):
        self.send(*args)
        return self._reply()

    def pipeline(self, commands):
        """Sends every command, then reads every reply."""
        for c in commands:
            self.send(*c)
        return [self._reply() for _ in commands]


class Error(str):
    pass


# Databases the data set uses (ferrokv and Redis both have 16 by default).
DBS = [0, 1, 7]
TTL_MS = 10_000_000  # far in the future: keys keep their TTL for the run


def dataset():
    """(db, command) pairs writing the data set, same on both servers."""
    cmds = []

    def db(n, *c):
        cmds.append((n, c))

    # Strings: int, embstr, raw, binary, edge texts, grown in place.
    for k, v in [
        ("s:int", b"12345"), ("s:neg", b"-7"), ("s:zero", b"0"),
        ("s:max", b"9223372036854775807"), ("s:min", b"-9223372036854775808"),
        ("s:big", b"9223372036854775808"), ("s:lead0", b"007"), ("s:minus0", b"-0"),
        ("s:space", b" 1"), ("s:embstr", b"hello world"), ("s:empty", b""),
        ("s:44", b"x" * 44), ("s:45", b"y" * 45), ("s:raw", b"raw" * 100),
        ("s:bin", bytes(range(256))), ("s:crlf", b"a\r\nb\x00c"),
    ]:
        db(0, "SET", k, v)
    db(0, "SET", "s:appended", "abc")
    db(0, "APPEND", "s:appended", "def")
    db(0, "SETRANGE", "s:range", 5, "zz")
    db(0, "SET", "s:float", "1.5")
    db(0, "INCRBYFLOAT", "s:float", "0.25")
    db(0, "INCR", "s:counter")
    db(0, "INCRBY", "s:counter", 41)
    db(0, "SET", "s:ttl", "with a ttl", "PX", TTL_MS)
    db(1, "SET", "s:int", "12345")  # same key and value, other db
    db(7, "SET", "s:other", "in db 7", "PX", TTL_MS)

    # Lists: small, with integers, many nodes, a huge element, a TTL.
    db(0, "RPUSH", "l:small", "a", "b", "c", "1", "2", "-3", "1000", "100000", "c")
    db(0, "LPUSH", "l:order", "x", "y", "z")
    db(0, "RPUSH", "l:order2", "z", "y", "x")
    db(0, "RPUSH", "l:big", *["item:%d" % i for i in range(2000)])
    db(0, "RPUSH", "l:ints", *[str(i * 37 - 500) for i in range(600)])
    db(0, "RPUSH", "l:huge", "h" * 20000, "tail", "e" * 9000)
    db(0, "RPUSH", "l:ttl", "one", "two")
    db(0, "PEXPIRE", "l:ttl", TTL_MS)
    db(0, "RPUSH", "l:edited", *["e%d" % i for i in range(300)])
    db(0, "LSET", "l:edited", 150, "changed")
    db(0, "LINSERT", "l:edited", "BEFORE", "e10", "inserted")
    db(0, "LREM", "l:edited", 0, "e20")
    db(0, "LTRIM", "l:edited", 5, -5)
    db(1, "RPUSH", "l:small", "a", "b", "c")

    # Sets: intset, hashtable, big intset turned hashtable, a TTL.
    db(0, "SADD", "set:ints", "1", "2", "3", "-5", "9223372036854775807", "-9223372036854775808")
    db(0, "SADD", "set:strs", "a", "b", "c", "", "\x00bin")
    db(0, "SADD", "set:mixed", "1", "2", "x")
    db(0, "SADD", "set:bigint", *[str(i) for i in range(600)])
    db(0, "SADD", "set:big", *["m%d" % i for i in range(1000)])
    db(0, "SADD", "set:ttl", "5", "6")
    db(0, "PEXPIRE", "set:ttl", TTL_MS)
    db(0, "SADD", "set:popped", *[str(i) for i in range(20)])
    db(0, "SREM", "set:popped", "3", "4", "5")
    db(7, "SADD", "set:strs", "a", "b", "c")

    # Hashes: listpack, hashtable by size and by value length, integers.
    db(0, "HSET", "h:small", "a", "1", "b", "two", "num", "12", "neg", "-5", "f", "1.5")
    db(0, "HSET", "h:long", "f", "v" * 65)
    db(0, "HSET", "h:big", *[x for i in range(600) for x in ("field%d" % i, "value%d" % i)])
    db(0, "HSET", "h:ttl", "a", "b")
    db(0, "PEXPIRE", "h:ttl", TTL_MS)
    db(0, "HSET", "h:edited", "a", "1", "b", "2", "c", "3")
    db(0, "HDEL", "h:edited", "b")
    db(0, "HINCRBY", "h:edited", "a", 10)
    db(0, "HINCRBYFLOAT", "h:edited", "f", "0.1")
    db(1, "HSET", "h:small", "a", "1")

    # Sorted sets: listpack and skiplist, integral and awkward scores.
    scores = ["1.1", "0.1", "2", "-0", "0", "inf", "-inf", "1e20", "2.5e-5", "-3",
              "123456789012345678", "4503599627370496", "0.30000000000000004"]
    zadd = ["ZADD", "z:small"]
    for i, s in enumerate(scores):
        zadd += [s, "m%d" % i]
    db(0, *zadd)
    db(0, "ZADD", "z:ints", "1", "1", "2", "2", "3", "300000")
    db(0, "ZADD", "z:big", *[x for i in range(300) for x in (str(i / 7), "member%d" % i)])
    db(0, "ZADD", "z:longmember", "1", "x" * 65, "2", "short")
    db(0, "ZADD", "z:negzero", "-0", "a")
    db(0, "ZADD", "z:incr", "1", "a")
    db(0, "ZINCRBY", "z:incr", "0.1", "a")
    db(0, "ZADD", "z:ttl", "1", "a")
    db(0, "PEXPIRE", "z:ttl", TTL_MS)
    db(7, "ZADD", "z:big", *[x for i in range(200) for x in (str(i * 1.5), "member%d" % i)])

    # DEBUG POPULATE: default names, a prefix, a size that pads and one
    # that cuts; an existing key is skipped.
    db(1, "SET", "key:3", "already here")
    db(1, "DEBUG", "POPULATE", "50")
    db(7, "DEBUG", "POPULATE", "20", "pfx", "30")
    db(7, "DEBUG", "POPULATE", "5", "cut", "3")
    return cmds


def load(conn, cmds):
    current = None
    for n, c in cmds:
        if n != current:
            r = conn.call("SELECT", n)
            assert r == "OK", r
            current = n
        r = conn.call(*c)
        if isinstance(r, Error):
            raise SystemExit("%s failed: %s" % (" ".join(map(str, c)), r))


def keys_of(conn, n):
    conn.call("SELECT", n)
    return sorted(conn.call("KEYS", "*"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--ferrokv-port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--verbose", action="store_true", help="print every key's digest")
    a = ap.parse_args()

    servers = {"redis": Conn(a.redis_port, a.host), "ferrokv": Conn(a.ferrokv_port, a.host)}
    mismatches = 0

    def compare(what, values):
        nonlocal mismatches
        r, f = values["redis"], values["ferrokv"]
        if r != f:
            mismatches += 1
            print("MISMATCH %s: redis %r, ferrokv %r" % (what, r, f))
        elif a.verbose:
            print("ok %s: %s" % (what, r))

    for c in servers.values():
        assert c.call("FLUSHALL") == "OK"
    compare("DEBUG DIGEST (empty)", {n: c.call("DEBUG", "DIGEST") for n, c in servers.items()})
    compare("DEBUG DIGEST-VALUE (no key)", {n: c.call("DEBUG", "DIGEST-VALUE", "nokey") for n, c in servers.items()})

    cmds = dataset()
    for c in servers.values():
        load(c, cmds)

    checked = 0
    encodings_differ = []
    encodings = {name: set() for name in servers}
    for n in sorted({n for n, _ in cmds}):
        keys = {name: keys_of(c, n) for name, c in servers.items()}
        compare("db %d keys" % n, keys)
        for key in keys["redis"]:
            per = {}
            for name, c in servers.items():
                c.call("SELECT", n)
                typ, enc, digest = c.pipeline([
                    ("TYPE", key), ("OBJECT", "ENCODING", key), ("DEBUG", "DIGEST-VALUE", key)])
                per[name] = (typ, enc, digest)
                encodings[name].add("%s/%s" % (typ, enc.decode()))
            label = "db %d key %r" % (n, key.decode(errors="replace")[:40])
            compare(label + " type", {k: v[0] for k, v in per.items()})
            compare(label + " DIGEST-VALUE", {k: v[2] for k, v in per.items()})
            if per["redis"][1] != per["ferrokv"][1]:
                encodings_differ.append((label, per["redis"][1].decode(), per["ferrokv"][1].decode()))
            checked += 1
        # Several keys at once, one missing.
        multi = keys["redis"][:3] + [b"no-such-key"]
        vals = {}
        for name, c in servers.items():
            c.call("SELECT", n)
            vals[name] = c.call("DEBUG", "DIGEST-VALUE", *multi)
        compare("db %d DIGEST-VALUE of %d keys" % (n, len(multi)), vals)

    compare("DEBUG DIGEST (data set)", {n: c.call("DEBUG", "DIGEST") for n, c in servers.items()})
    # The same data moved to other databases changes the digest on both.
    for c in servers.values():
        c.call("SWAPDB", 0, 3)
    compare("DEBUG DIGEST (after SWAPDB 0 3)", {n: c.call("DEBUG", "DIGEST") for n, c in servers.items()})

    for name in servers:
        print("encodings covered by %s: %s" % (name, ", ".join(sorted(encodings[name]))))
    for label, r, f in encodings_differ:
        print("note: %s encoding redis %s, ferrokv %s (digest must not depend on it)" % (label, r, f))
    for c in servers.values():
        c.call("FLUSHALL")
    print("%d keys in %d databases compared; %d mismatches" % (checked, len(DBS), mismatches))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
