#!/usr/bin/env python3
"""Records how each write command moves Redis's change counter.

Usage: python3 scripts/dirty_audit.py PORT > tests/data/dirty_transcript.txt

Runs every write command ferrokv has (with its no-op variants: nothing to
delete, NX on an existing key, a value set to what it was, an error, ...)
against the server on PORT, reading INFO persistence's
`rdb_changes_since_last_save` (Redis's `server.dirty`) before and after
each, and prints `command  =>  reply  =>  +delta`. The reply is rendered
as scripts/resp_transcript.py renders it, or `?` for a command marked `~`
(its reply is random: SPOP). `!sleep MS` lines pause (for keys to
expire), `#` lines are copied through. Recorded with `--save ''`: with
save points, Redis's FLUSHALL saves and resets the counter.

tests/dirty.rs replays the transcript (recorded against Redis 7.0.15)
against ferrokv and checks every reply and every delta. Standard library
only, raw sockets. The server's keyspace is flushed first.
"""
import os
import shlex
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_transcript import read  # noqa: E402  (replies rendered as that script renders them)

SEP = "  =>  "

# One command per line, shell-quoted; the state carries from line to line.
COMMANDS = r"""
DEBUG SET-ACTIVE-EXPIRE 0
# Strings
SET k v
SET k v
SET k v NX
SET k w XX
SET nokey v XX
SET k v GET
SET k v EX 0
SETNX k v
SETNX k2 v
SETEX k 100 v
SETEX k 0 v
PSETEX k 100000 v
GETSET k x
GETSET fresh x
GETDEL k
GETDEL k
SET k v
GETEX k
GETEX k EX 100
GETEX k PERSIST
GETEX k PERSIST
GETEX nokey EX 100
GETEX k PX 0
APPEND k abc
APPEND k ''
APPEND newkey ''
INCR n
INCRBY n 0
DECR n
DECRBY n 5
INCRBYFLOAT n 1.5
INCRBYFLOAT n 0
INCR k
INCRBY n 9223372036854775807
MSET a 1 b 2 c 3
MSET a 1
MSETNX a 1 d 4
MSETNX x 1 y 2
SETRANGE k 0 xyz
SETRANGE k 0 xyz
SETRANGE k 0 ''
SETRANGE nokey 0 ''
SETRANGE nokey 2 ab
# Bitmaps
SETBIT bits 7 1
SETBIT bits 7 1
SETBIT bits 7 0
SETBIT bits 100 0
BITFIELD bits SET u8 0 255
BITFIELD bits SET u8 0 255
BITFIELD bits GET u8 0
BITFIELD bits INCRBY u8 0 1
BITFIELD bits OVERFLOW FAIL INCRBY u8 0 1
BITFIELD bits OVERFLOW FAIL INCRBY u8 0 1 SET u8 8 1
BITFIELD bits INCRBY u8 0 0
BITFIELD nobits GET u8 0
BITFIELD nobits OVERFLOW FAIL INCRBY u8 0 300
BITFIELD nobits2 SET u8 0 0
BITFIELD nobits3 SET u8 0 0 SET u8 8 0
BITFIELD nobits3 SET u8 0 1 SET u8 0 1
BITFIELD nobits3 SET u8 800 0
BITFIELD nobits3 SET u8 1600 0 SET u8 0 5
BITFIELD nobits3 SET u8 0 5 INCRBY u8 0 0 SET u8 0 6
SETBIT nobits3 20000 1
SETBIT nobits3 20000 1
BITOP AND dest bits bits
BITOP OR dest nobits nobits
BITOP OR dest2 nobits nobits
BITOP NOT dest bits
# Keys
DEL a
DEL a
DEL b c nokey
UNLINK d
UNLINK d nokey
SET t v
EXPIRE t 100
EXPIRE t 100 NX
EXPIRE t 200 GT
EXPIRE nokey 100
PEXPIRE t 100000
PEXPIREAT t 99999999999999
EXPIREAT t 9999999999
PERSIST t
PERSIST t
PERSIST nokey
EXPIRE t 0
SET t v
PEXPIREAT t 1
SET t v
EXPIRE t -1
SET r1 v
RENAME r1 r2
RENAME r2 r2
RENAME nokey r3
SET r1 v
RENAMENX r1 r2
RENAMENX r1 r3
COPY r3 r4
COPY r3 r4
COPY r3 r4 REPLACE
COPY nokey r5
COPY r3 r3
COPY r3 r6 DB 1
MOVE r4 1
MOVE r4 1
MOVE r3 1
SWAPDB 0 1
SWAPDB 0 1
SWAPDB 0 0
# RESTORE (hex: arguments are sent as the bytes they spell: DUMP of "v")
RESTORE rk 0 hex:0001760a009108ceb219388ace
RESTORE rk 0 hex:0001760a009108ceb219388ace
RESTORE rk 0 hex:0001760a009108ceb219388ace REPLACE
RESTORE rk2 0 hex:00
RESTORE-ASKING rk3 0 hex:0001760a009108ceb219388ace
RESTORE-ASKING rk3 0 hex:0001760a009108ceb219388ace
# MIGRATE of a missing key answers NOKEY without connecting anywhere
MIGRATE 127.0.0.1 1 nokey 0 1000
SELECT 1
FLUSHDB
FLUSHDB
SELECT 0
SET e v PX 1
!sleep 20
GET e
SET e v PX 1
!sleep 20
EXISTS e
SET e v PX 1
!sleep 20
SET e w
SET e v PX 1
!sleep 20
DEL e
# Hashes
HSET h f v
HSET h f v
HSET h f1 v f2 v
HSET h f1 v f1 w
HMSET h f v g w
HSETNX h f v
HSETNX h new v
HDEL h f nofield
HDEL h nofield
HDEL nohash f
HDEL h f1 f2 g new
HINCRBY h n 1
HINCRBY h n 0
HINCRBYFLOAT h fl 1.5
HINCRBY h fl 1
HSET k f v
# Lists
LPUSH l a b c
RPUSH l d
LPUSHX nolist a
LPUSHX l x y
RPUSHX l z
RPUSHX nolist z
LPOP l
LPOP l 2
LPOP nolist
LPOP nolist 2
LPOP l 0
RPOP l 100
RPUSH l a b c a
LINSERT l BEFORE a z
LINSERT l BEFORE nopivot z
LINSERT nolist BEFORE a z
LSET l 0 x
LSET l 100 x
LREM l 0 a
LREM l 0 nothing
LTRIM l 0 -1
LTRIM l 1 -1
LTRIM l 1 0
LTRIM nolist 0 1
RPUSH l a b c
LMOVE l l2 LEFT RIGHT
LMOVE l l LEFT RIGHT
LMOVE nolist l2 LEFT RIGHT
RPOPLPUSH l l2
RPOPLPUSH nolist l2
LMPOP 1 l2 LEFT COUNT 2
LMPOP 2 nolist l2 LEFT COUNT 10
LMPOP 1 nolist LEFT
RPUSH l a b c d
BLPOP l 0
BRPOP nolist l 0
BLMOVE l l2 LEFT LEFT 0
BRPOPLPUSH l l2 0
BLMPOP 0 1 l2 RIGHT COUNT 2
BLPOP nolist 0.01
LPUSH k x
# Sets
SADD s a b c
SADD s a d
SADD s a
SREM s a nomember
SREM s nomember
SREM noset a
SMOVE s s2 b
SMOVE s s2 nomember
SMOVE noset s2 b
SADD s2 c
SMOVE s s2 c
SMOVE s2 s2 c
~SPOP s
SADD s a b c d e f
~SPOP s 2
SPOP s 0
~SPOP s 100
SPOP noset
SPOP noset 2
SADD s a b c
SADD s2 b c d
SINTERSTORE dst s s2
SINTERSTORE dst s s2
SUNIONSTORE dst s s2
SDIFFSTORE dst s s2
SDIFFSTORE dst s s
SDIFFSTORE dst s s
SINTERSTORE dst2 noset s
SADD k x
# Sorted sets
ZADD z 1 a 2 b
ZADD z 1 a
ZADD z 5 a
ZADD z NX 1 a
ZADD z XX 1 nomember
ZADD z XX CH 1 a 3 b
ZADD z INCR 1 a
ZADD z GT 1 a
ZINCRBY z 1 a
ZINCRBY z 0 a
ZREM z a nomember
ZREM z nomember
ZREM noz a
ZADD z 1 a 2 c 3 d 4 e 5 f 6 g
ZREMRANGEBYSCORE z 1 2
ZREMRANGEBYSCORE z 100 200
ZREMRANGEBYRANK z 0 0
ZREMRANGEBYRANK z 100 200
ZADD lex 0 a 0 b 0 c 0 d
ZREMRANGEBYLEX lex [a [b
ZREMRANGEBYLEX lex [x [z
ZPOPMIN z
ZPOPMAX z 2
ZPOPMIN noz
ZPOPMIN z 0
ZPOPMAX z 100
ZADD z 1 a 2 b 3 c 4 d
ZMPOP 1 z MIN COUNT 2
ZMPOP 2 noz z MAX
ZMPOP 1 noz MIN
BZPOPMIN z 0
ZADD z 1 a 2 b 3 c 4 d
BZPOPMAX noz z 0
BZMPOP 0 1 z MIN COUNT 5
BZPOPMIN noz 0.01
ZADD z 1 a 2 b 3 c
ZADD z2 1 b 2 c 3 d
ZUNIONSTORE zd 2 z z2
ZUNIONSTORE zd 2 z z2
ZINTERSTORE zd 2 z z2
ZDIFFSTORE zd 2 z z2
ZDIFFSTORE zd 2 z z
ZDIFFSTORE zd 2 z z
ZINTERSTORE zd2 2 noz z
ZRANGESTORE zd z 0 -1
ZRANGESTORE zd z 5 10
ZRANGESTORE zd z 5 10
ZADD k 1 x
# HyperLogLog: one per raised register (and the new key), one for a PFCOUNT
# that rewrites its cache, PFMERGE always one, PFDEBUG TODENSE one when it
# converts (GETREG too: tests/hll.rs)
PFADD pf1 a b c
PFADD pf1 a
PFADD pf2
PFCOUNT pf1
PFCOUNT pf1
PFCOUNT pf1 pf2
PFMERGE pf3 pf1 pf2
PFMERGE pf3
PFDEBUG TODENSE pf2
PFDEBUG TODENSE pf2
PFADD k a
PFMERGE k pf1
PFADD h a
# Geo (GEOADD counts as the ZADD it is; the store forms count their members)
GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD g 13.361389 38.115556 Palermo
GEOADD g CH 13.5 38.115556 Palermo
GEOADD g XX 1 1 nope
GEOADD nog XX 1 1 a
GEOADD g 200 1 bad
GEORADIUS g 15 37 200 km
GEORADIUS g 15 37 200 km STORE gd
GEORADIUS g 15 37 200 km STOREDIST gd
GEORADIUS g 15 37 1 km STORE gd
GEORADIUS g 15 37 1 km STORE gd
GEORADIUSBYMEMBER g Palermo 200 km STORE gd
GEORADIUSBYMEMBER nog Palermo 200 km STORE gd
GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST COUNT 1
GEOSEARCHSTORE gd nog FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCHSTORE gd nog FROMLONLAT 15 37 BYRADIUS 200 km
# SORT (only its STORE form writes)
RPUSH sl 3 1 2
SORT sl
SORT sl STORE sd
SORT sl LIMIT 0 0 STORE sd
SORT sl LIMIT 0 0 STORE sd
SORT nosl STORE sd
SORT k STORE sd
# Transactions
MULTI
SET m 1
INCR m
DEL nokey
EXEC
MULTI
SET m 1
DISCARD
MULTI
SET m 2 NX
LPOP nolist
EXEC
# Whole keyspace
SET f1 v
SELECT 1
SET f2 v
SET f3 v
SELECT 0
FLUSHALL
FLUSHALL
SET f1 v
FLUSHDB ASYNC
FLUSHALL SYNC
DEBUG SET-ACTIVE-EXPIRE 1
# Streams
XADD x 1-1 a 1
XADD x 1-1 a 1
XADD x MAXLEN 1 2-1 a 1
XADD x NOMKSTREAM 3-1 a 1
XADD nox NOMKSTREAM 3-1 a 1
XADD x 4-1 b 2
XADD x 5-1 c 3
XTRIM x MAXLEN 10
XTRIM x MAXLEN 1
XTRIM nox MAXLEN 1
XADD x 6-1 d 4
XDEL x 6-1 99-1
XDEL x 99-1
XSETID x 10-0
XSETID x 1-0
XGROUP CREATE x g 0
XGROUP CREATE x g 0
XGROUP CREATE xm g $ MKSTREAM
XADD x 11-1 e 5
XADD x 12-1 e 6
XREADGROUP GROUP g c1 STREAMS x >
XREADGROUP GROUP g c1 STREAMS x >
XREADGROUP GROUP g c1 STREAMS x 0
XGROUP CREATE x g2 0
XREADGROUP GROUP g2 c1 NOACK STREAMS x >
XACK x g 11-1 99-1
XACK x g 11-1
XCLAIM x g c2 0 12-1
XCLAIM x g c3 0 99-1
XCLAIM x g c2 0 12-1 LASTID 50-0 JUSTID
XAUTOCLAIM x g c4 0 0
XAUTOCLAIM x g c4 1000000 0
XGROUP CREATECONSUMER x g c9
XGROUP CREATECONSUMER x g c9
XGROUP DELCONSUMER x g c9
XGROUP DELCONSUMER x g c9
XGROUP SETID x g 0
XGROUP DESTROY x g2
XGROUP DESTROY x g2
"""


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str) and a.startswith("hex:"):
            a = bytes.fromhex(a[4:])
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def call(s, f, args):
    s.sendall(encode(args))
    return read(f)


def dirty(s, f):
    info = call(s, f, ["INFO", "persistence"])
    for line in info.split("\\r\\n"):
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise SystemExit("no rdb_changes_since_last_save in INFO persistence")


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    call(s, f, ["FLUSHALL"])
    print("# Recorded by scripts/dirty_audit.py: command  =>  reply  =>  change of")
    print("# INFO persistence rdb_changes_since_last_save (Redis's server.dirty).")
    in_multi = False
    multi_before = 0
    for line in COMMANDS.strip("\n").split("\n"):
        if not line.strip() or line.startswith("#"):
            print(line)
            continue
        if line.startswith("!sleep "):
            time.sleep(int(line.split()[1]) / 1000)
            print(line)
            continue
        # Inside MULTI, INFO would be queued too: the counter is read
        # before MULTI and after EXEC/DISCARD, which get the whole change.
        name = line.lstrip("~").split()[0].upper()
        if name == "MULTI":
            multi_before = dirty(s, f)
        if in_multi or name == "MULTI":
            reply = call(s, f, shlex.split(line))
            if name in ("EXEC", "DISCARD"):
                in_multi = False
                change = dirty(s, f) - multi_before
            else:
                in_multi = True
                change = 0
            print(f"{line}{SEP}{reply}{SEP}+{change}", flush=True)
            continue
        random = line.startswith("~")
        line = line.lstrip("~")
        before = dirty(s, f)
        reply = call(s, f, shlex.split(line))
        if random:
            reply = "?"
        after = dirty(s, f)
        print(f"{line}{SEP}{reply}{SEP}+{after - before}", flush=True)

if __name__ == "__main__":
    main()
