#!/usr/bin/env python3
"""Records which keys each write command signals as modified.

Usage: python3 scripts/signal_audit.py PORT > tests/data/signals.txt

For every case below, on a fresh data set: one client WATCHes each key
(one connection per key) and a RESP3 client with CLIENT TRACKING ON reads
each key; another client runs the command; then each watcher's EXEC shows
whether its key was signalled, and the tracking client's `invalidate`
pushes show which keys were invalidated. Output, one line per case:
`command<TAB>watch=k1,k2<TAB>inval=k1,k2` (`*` for a flush's null).

tests/signals.rs replays tests/data/signals.txt, recorded with this script
against redis-server 7.0.15, against ferrokv and compares every line.
"""
import socket
import sys

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
from resp_transcript import encode  # noqa: E402

KEYS = ["s", "n", "l", "h", "st", "z", "t", "nx", "dst", "s2", "c2", "l2", "st2", "nx2"]

SETUP = [
    ["FLUSHALL"],
    ["SET", "s", "hello"],
    ["SET", "n", "10"],
    ["RPUSH", "l", "a", "b", "c"],
    ["HSET", "h", "f1", "v1", "f2", "2"],
    ["SADD", "st", "a", "b", "c"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["SET", "t", "x", "EX", "1000"],
]

CASES = """
SET s x
SET s x NX
SET s x XX
SET nx x XX
SETNX s x
SETNX nx x
SETEX s 100 x
GETSET s x
GETDEL s
GETDEL nx
GETEX s
GETEX s EX 100
GETEX s PERSIST
GETEX t PERSIST
APPEND s x
SETRANGE s 0 x
INCR n
INCRBY n 0
DECR n
INCRBYFLOAT n 0
INCR s
MSET s 1 nx 2
MSETNX s 1 nx 2
MSETNX nx 1 nx2 2
SETBIT s 0 0
SETBIT nx 0 0
BITOP AND dst s nx
BITOP AND nx nx nx2
BITFIELD s SET u8 0 1
BITFIELD s GET u8 0
DEL nx
DEL s nx l
UNLINK s
EXPIRE s 100
EXPIRE nx 100
EXPIRE s 100 NX
EXPIRE t 100 NX
EXPIRE s 0
PEXPIREAT s 1
PERSIST s
PERSIST t
RENAME s s2
RENAME s s
RENAMENX s l
RENAMENX s nx
MOVE s 1
COPY s c2
COPY s l
LPUSH l x
LPUSHX nx x
RPUSH l x
LPOP l
LPOP nx
LPOP l 0
RPOP l 5
LSET l 0 x
LINSERT l BEFORE a x
LINSERT l BEFORE zz x
LREM l 0 zz
LREM l 0 a
LTRIM l 0 -1
LTRIM l 5 10
LMOVE l l LEFT RIGHT
LMOVE l l2 LEFT LEFT
LMOVE nx l2 LEFT LEFT
RPOPLPUSH l l2
LMPOP 1 l LEFT
BLPOP l 0
BLMOVE l l2 LEFT LEFT 0
HSET h f1 v1
HSETNX h f1 x
HSETNX h f3 x
HDEL h zz
HDEL h f1
HINCRBY h f2 0
HINCRBYFLOAT h f2 0
HMSET h f1 v1
SADD st a
SADD st d
SREM st zz
SREM st a
SPOP st
SPOP nx
SPOP st 0
SMOVE st st a
SMOVE st st2 a
SMOVE st st2 zz
SINTERSTORE dst st nx
SUNIONSTORE dst st
SDIFFSTORE dst st st
SINTERSTORE nx nx2
ZADD z 1 a
ZADD z 5 a
ZADD z XX 1 d
ZADD z NX 1 a
ZADD z INCR 0 a
ZINCRBY z 0 a
ZREM z zz
ZREM z a
ZREMRANGEBYSCORE z 10 20
ZREMRANGEBYRANK z 0 0
ZREMRANGEBYLEX z [a [a
ZPOPMIN z
ZPOPMIN nx
ZPOPMAX z 0
ZUNIONSTORE dst 1 z
ZINTERSTORE dst 2 z nx
ZRANGESTORE dst z 0 -1
ZRANGESTORE dst z 5 6
ZDIFFSTORE dst 2 z z
ZMPOP 1 z MIN
BZPOPMIN z 0
BZMPOP 0 1 z MAX
FLUSHDB
SWAPDB 0 1
SELECT 1
GET s
"""


def parse(b, i):
    """One RESP2/RESP3 frame at b[i:] as (value, next index), or None if
    incomplete. Pushes come back as ("push", [items])."""
    e = b.find(b"\r\n", i)
    if e < 0:
        return None
    t, line, j = b[i:i + 1], b[i + 1:e], e + 2
    if t in (b"+", b"-"):
        return (t.decode() + line.decode(), j)
    if t == b":":
        return (int(line), j)
    if t == b"_":
        return (None, j)
    if t == b"$":
        n = int(line)
        if n < 0:
            return (None, j)
        if len(b) < j + n + 2:
            return None
        return (b[j:j + n].decode(errors="replace"), j + n + 2)
    if t in (b"*", b">", b"~", b"%"):
        n = int(line)
        if n < 0:
            return (None, j)
        items = []
        for _ in range(n * 2 if t == b"%" else n):
            r = parse(b, j)
            if r is None:
                return None
            v, j = r
            items.append(v)
        return (("push", items) if t == b">" else items, j)
    raise ValueError("bad frame %r" % b[i:i + 20])


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(5)
        self.buf = b""

    def send(self, *args):
        self.s.sendall(encode(args))

    def read(self):
        while True:
            r = parse(self.buf, 0) if self.buf else None
            if r is not None:
                v, i = r
                self.buf = self.buf[i:]
                return v
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d

    def call(self, *args):
        self.send(*args)
        return self.read()


def run(port, case):
    b = Client(port)
    for c in SETUP:
        b.call(*c)
    watchers = {}
    for k in KEYS:
        w = Client(port)
        w.call("WATCH", k)
        watchers[k] = w
    tr = Client(port)
    tr.call("HELLO", "3")
    tr.call("CLIENT", "TRACKING", "on")
    for k in KEYS:
        tr.call("EXISTS", k)
    b.call(*case)
    touched = []
    for k, w in watchers.items():
        w.send("MULTI")
        w.send("PING")
        w.send("EXEC")
        w.read()
        w.read()
        if w.read() is None:
            touched.append(k)
        w.s.close()
    tr.send("PING")
    inval = []
    while True:
        f = tr.read()
        if f == "+PONG":
            break
        keys = f[1][1]
        inval.append("*" if keys is None else " ".join(keys))
    tr.s.close()
    b.s.close()
    return "%s\twatch=%s\tinval=%s" % (" ".join(case), ",".join(touched), ",".join(inval))


def main():
    port = int(sys.argv[1])
    for line in CASES.strip().splitlines():
        print(run(port, line.split()))


if __name__ == "__main__":
    main()
