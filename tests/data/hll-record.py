#!/usr/bin/env python3
"""Records HyperLogLog replies and bytes from a real redis-server for tests/hll.rs.

Usage: start redis-server 7.0.15 on a free port, then
`python3 tests/data/hll-record.py PORT > tests/data/hll-7.0.15.txt`.

The script below runs a fixed sequence of commands (PFADD in batches of
fixed elements, sparse and dense, with several hll-sparse-max-bytes; GET of
the HLL strings after each step; PFCOUNT with one and several keys; PFMERGE;
PFDEBUG; corrupted and foreign values written with SET; every error) and
prints one line per command: its arguments in hex, comma-separated, a TAB,
and the reply: `:int`, `+simple`, `-error`, `$hex` (bulk), `nil`, or
`*[a,b,...]`. tests/hll.rs replays every line against ferrokv and compares.
"""
import socket
import sys


class R:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t in b"+-:":
            return (t + rest).decode()
        if t == b"$":
            n = int(rest)
            if n < 0:
                return "nil"
            return "$" + self.f.read(n + 2)[:-2].hex()
        if t == b"*":
            n = int(rest)
            if n < 0:
                return "nil"
            return "*[" + ",".join(self.read() for _ in range(n)) + "]"
        raise ValueError(line)

    def call(self, *args):
        args = [a.encode() if isinstance(a, str) else a for a in args]
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        self.s.sendall(out)
        reply = self.read()
        print(",".join(a.hex() for a in args) + "\t" + reply)
        return reply


def xzero(n):
    n -= 1
    return bytes([0x40 | (n >> 8), n & 0xFF])


def val(v, n):
    return bytes([0x80 | ((v - 1) << 2) | (n - 1)])


SPARSE = b"HYLL\x01" + b"\0" * 11
STALE = b"HYLL\x01" + b"\0" * 10 + b"\x80"
DENSE_STALE = b"HYLL\x00" + b"\0" * 10 + b"\x80"


def main():
    r = R(int(sys.argv[1]))
    r.call("FLUSHALL")
    r.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    # Growing HLLs: sparse, through the sparse limit, dense.
    for n in [0, 1, 3, 10, 100, 500, 1500, 4000]:
        key = "h%d" % n
        if n == 0:
            r.call("PFADD", key)
        i = 0
        while i < n:
            batch = ["e%d" % j for j in range(i, min(n, i + 7 + i // 50))]
            r.call("PFADD", key, *batch)
            i += len(batch)
            if i % 5 == 0 and n <= 500:
                r.call("GET", key)
        r.call("PFADD", key, "e0")
        r.call("GET", key)
        r.call("PFCOUNT", key)
        r.call("GET", key)
        r.call("PFCOUNT", key)
        r.call("PFDEBUG", "ENCODING", key)
        r.call("PFDEBUG", "DECODE", key)
        r.call("OBJECT", "ENCODING", key)
    # Several keys: the union, not cached.
    r.call("PFCOUNT", "h1", "h10", "nokey")
    r.call("PFCOUNT", "h100", "h500", "h4000")
    r.call("PFCOUNT", "h4000", "h4000")
    # PFMERGE: new destination, existing sparse and dense, the destination
    # as a source, no source at all.
    r.call("PFMERGE", "m1", "h3", "h10")
    r.call("GET", "m1")
    r.call("PFMERGE", "m2", "h100", "h4000")
    r.call("GET", "m2")
    r.call("PFMERGE", "h10", "h100", "h500")
    r.call("GET", "h10")
    r.call("PFMERGE", "h1500", "h1")
    r.call("GET", "h1500")
    r.call("PFMERGE", "m3")
    r.call("GET", "m3")
    r.call("PFMERGE", "h3")
    r.call("GET", "h3")
    # PFDEBUG.
    r.call("PFDEBUG", "TODENSE", "h3")
    r.call("GET", "h3")
    r.call("PFDEBUG", "TODENSE", "h3")
    r.call("PFDEBUG", "DECODE", "h3")
    r.call("PFDEBUG", "getreg", "h1")
    r.call("GET", "h1")
    r.call("PFDEBUG", "Encoding", "h1")
    r.call("PFDEBUG", "nope", "h1")
    r.call("PFDEBUG", "nope", "nokey")
    r.call("PFDEBUG", "GETREG", "nokey")
    # Other sparse limits.
    for limit in ["0", "40", "200"]:
        r.call("CONFIG", "SET", "hll-sparse-max-bytes", limit)
        key = "lim" + limit
        for i in range(0, 60, 6):
            r.call("PFADD", key, *["x%d" % j for j in range(i, i + 6)])
            if limit == "200" or i in (0, 6, 54):
                r.call("GET", key)
    r.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    # Wrong types and values that are not HLLs.
    r.call("RPUSH", "list", "a")
    r.call("SET", "str", "hello world, not an HLL")
    r.call("SET", "int", "1234567890123456789")
    r.call("SET", "short", "HYLL")
    r.call("SET", "badenc", b"HYLL\x02" + b"\0" * 11 + xzero(16384))
    r.call("SET", "shortdense", b"HYLL\x00" + b"\0" * 11 + b"\0" * 100)
    for key in ["list", "str", "int", "short", "badenc", "shortdense"]:
        r.call("PFADD", key, "a")
        r.call("PFCOUNT", key)
        r.call("PFCOUNT", "h1", key)
        r.call("PFMERGE", "m4", key)
        r.call("PFMERGE", key, "h1")
        r.call("PFDEBUG", "ENCODING", key)
    r.call("EXISTS", "m4")
    # Corrupted sparse HLLs: too few registers, too many, a VAL run past
    # the end, nothing after the header.
    cases = {
        "c_short": xzero(16383),
        "c_long": xzero(16384) + b"\x00",
        "c_val_past": xzero(16384) + val(3, 1),
        "c_val_straddle": xzero(16383) + val(3, 2),
        "c_empty": b"",
        "c_ok": xzero(1000) + val(5, 1) + xzero(15383),
    }
    for key, body in cases.items():
        for hdr in [SPARSE, STALE]:
            r.call("SET", key, hdr + body)
            r.call("PFCOUNT", key)
            r.call("GET", key)
            r.call("SET", key, hdr + body)
            r.call("PFCOUNT", key, "h1")
            r.call("PFMERGE", "mc", key)
            r.call("PFDEBUG", "TODENSE", key)
            r.call("SET", key, hdr + body)
            r.call("PFADD", key, "a", "b", "c", "d")
            r.call("GET", key)
            r.call("SET", key, hdr + body)
            r.call("PFDEBUG", "DECODE", key)
            r.call("PFDEBUG", "GETREG", key)
    # Dense HLLs with every register at 63 and at 51: the estimate is
    # infinite or huge, as Redis computes it.
    r.call("SET", "d63", DENSE_STALE + b"\xff" * 12288)
    r.call("PFCOUNT", "d63")
    r.call("GET", "d63")
    r.call("PFCOUNT", "d63", "h1")
    r.call("SET", "d51", DENSE_STALE + bytes([0x33 | 0xC0, 0x0C | 0x30, 0x33 >> 2 | 0xC0]) * 4096)
    r.call("PFCOUNT", "d51")
    r.call("PFADD", "d51", "a")
    # A cached cardinality is trusted as it is.
    r.call("SET", "cached", b"HYLL\x01\0\0\0" + (12345).to_bytes(8, "little") + xzero(16384))
    r.call("PFCOUNT", "cached")
    r.call("PFADD", "cached", "a")
    r.call("PFCOUNT", "cached")
    # Arity.
    r.call("PFADD")
    r.call("PFCOUNT")
    r.call("PFMERGE")
    r.call("PFDEBUG", "GETREG")
    r.call("PFDEBUG", "GETREG", "h1", "extra")
    r.call("PFSELFTEST", "x")


main()
