#!/usr/bin/env python3
"""Records DUMP payloads from a real redis-server for tests/dump.rs.

Usage: start redis-server 7.0.15 with --enable-debug-command yes on a free
port, then `python3 tests/data/dump-record.py PORT > tests/data/dump-7.0.15.txt`.

Each case runs one command (after FLUSHALL) that builds a key, then records
one line: name, whether ferrokv's DUMP of the same command must equal Redis's
bytes (1; 0 where a hash table's order decides them, or where a list spans
several quicklist nodes, whose boundaries each server sets by its own node
sizes), the
command's arguments (hex, comma-separated), the DUMP reply (hex), the key's
OBJECT ENCODING and its DEBUG DIGEST-VALUE, tab-separated.
"""
import socket
import sys


class R:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        t = line[:1]
        if t == b"+":
            return line[1:]
        if t == b"-":
            raise RuntimeError(line[1:].decode())
        if t == b":":
            return int(line[1:])
        if t == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            return [self._read() for _ in range(int(line[1:]))]
        raise RuntimeError(line)

    def __call__(self, *args):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return self._read()


def lcg_bytes(n, seed, alphabet=None):
    """A 31-bit LCG, one byte per step (tests/dump.rs has the same)."""
    x, out = seed, bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) % (1 << 31)
        v = (x >> 16) & 0xFF
        out.append(alphabet[v % len(alphabet)] if alphabet else v)
    return bytes(out)


def cases():
    yield "str_short", 1, ["SET", "k", "hello"]
    yield "str_int", 1, ["SET", "k", "12345"]
    yield "str_int32", 1, ["SET", "k", "-2147483648"]
    yield "str_i64", 1, ["SET", "k", "9223372036854775807"]
    yield "str_empty", 1, ["SET", "k", ""]
    yield "str_lzf", 1, ["SET", "k", "x" * 40]
    yield "str_lcg3000", 1, ["SET", "k", lcg_bytes(3000, 2, b"abcdefgh")]
    yield "str_noise", 1, ["SET", "k", lcg_bytes(300, 3)]
    yield "str_big", 1, ["SET", "k", lcg_bytes(20000, 4, b"0123456789 ")]
    yield "list_small", 1, ["RPUSH", "k", "a", "b", "c", "1", "2", "-3", "1000000", "hello", ""]
    yield "list_ints", 1, ["RPUSH", "k"] + [str(v) for v in (0, 127, 128, -4096, 4095, 40000, -9000000, 2**31, -2**63, 2**63 - 1)]
    yield "list_1000", 0, ["RPUSH", "k"] + ["value:%06d" % i for i in range(1000)]
    yield "list_big_elems", 1, ["RPUSH", "k"] + [lcg_bytes(5000, i, b"ab") for i in range(5)]
    yield "set_intset", 1, ["SADD", "k", "3", "1", "2", "-7"]
    yield "set_intset64", 1, ["SADD", "k", "5000000000", "-1", "7"]
    yield "set_table", 0, ["SADD", "k", "a", "b", "c", "1"]
    yield "set_big_intset", 0, ["SADD", "k"] + [str(i) for i in range(600)]
    yield "zset_listpack", 1, ["ZADD", "k", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "1e20", "e", "-0", "f", "4e18", "g", "0.1", "h"]
    yield "zset_skiplist", 1, ["ZADD", "k"] + sum([[repr(i * 1.5), "member:%d" % i] for i in range(200)], [])
    yield "zset_long_member", 1, ["ZADD", "k", "1", "m" * 65, "2", "short"]
    yield "hash_listpack", 1, ["HSET", "k", "f1", "v1", "f2", "v2", "num", "123", "neg", "-77", "long", "y" * 30]
    yield "hash_table", 0, ["HSET", "k"] + sum([["field:%d" % i, "value:%d" % i] for i in range(600)], [])
    yield "hash_long_value", 0, ["HSET", "k", "f", "v" * 65, "g", "1"]
    yield "stream", 1, ["XADD", "k", "1-1", "f", "v"]


def main():
    r = R(int(sys.argv[1]))
    for name, deterministic, args in cases():
        r("FLUSHALL")
        r(*args)
        payload = r("DUMP", "k")
        enc = r("OBJECT", "ENCODING", "k").decode()
        digest = r("DEBUG", "DIGEST-VALUE", "k")[0].decode()
        hexargs = ",".join((a if isinstance(a, bytes) else a.encode()).hex() for a in args)
        print("\t".join([name, str(deterministic), hexargs, payload.hex(), enc, digest]))


main()
