#!/usr/bin/env python3
"""Differential fuzzer: random commands against real Redis and ferrokv, replies compared.

Usage:
    redis-server --port 6480 --save '' --appendonly no --daemonize yes
    target/release/ferrokv --port 6481 > /tmp/fuzz-fk.log &
    python3 scripts/fuzz_vs_redis.py --redis-port 6480 --ferrokv-port 6481 \
        --seed 1 --commands 20000 [--json findings.json] [--log all.txt] [--stats] \
        [--ignore REGEX ...]

Exit status 1 when a divergence was found. 30,000 commands take about 10 s.

What it does: FLUSHALL on both servers, then sends the same random command
(RESP2 over raw sockets, Python standard library only) to both and compares
the replies. Commands come from a grammar covering strings, bitmaps, HyperLogLog (PF*,
crafted and corrupted HLL strings, hll-sparse-max-bytes), generic
key commands, lists, hashes, sets, sorted sets and streams, geo commands over sorted
sets (GEOADD, GEOSEARCH[STORE], GEORADIUS[BYMEMBER][_RO], GEOPOS/GEOHASH/GEODIST,
positions often repeated so equal distances meet COUNT), SORT/SORT_RO with BY/GET
patterns that hit the fuzzer's own keys (plus SETEX/PSETEX/SUBSTR,
MOVE, SCAN/SSCAN/HSCAN/ZSCAN, OBJECT subcommands, MULTI/EXEC/DISCARD/WATCH,
blocking pops with a 10 ms timeout, and a "token soup" generator that gives
any command 0-6 arguments for arity and parsing errors). The key space is 6
keys, so types collide and WRONGTYPE paths are hit; members and fields come
from small sets; numbers are often edge cases ("inf", "nan", "1e", " 1",
2^63, "0x10", ...); ranges include bad syntax; 3% of commands lose trailing
arguments and 3% get an extra token; 10% of names/options are mixed case.
Sometimes a big collection is written (127..600 entries, or a 64/65-byte
value) so encodings convert. Runs are split in phases: "mixed" phases,
where each command family prefers two of the keys, and focused phases where
most commands come from one family (so e.g. several sorted sets exist at once
for ZUNIONSTORE and friends).

Scripts (family "script", --focus script): EVAL / EVAL_RO / EVALSHA(_RO) of
generated Lua: redis.call / redis.pcall of commands drawn from the grammar
above (with keys through KEYS, values through ARGV, numbers as Lua numbers),
their replies returned (converted to Lua and back) or described from inside
Lua (types, error and status tables, doubles/maps/sets after
redis.setresp(3)); return values of every conversion (integers, floats,
strings, tables with holes, nil/false/true, error/status tables, nested
tables, RESP3 tables); raised errors; shebangs; syntax errors; multi-line
scripts (the error suffix names the line); SCRIPT LOAD / EXISTS. Reports
show the body of each SHA1 an EVALSHA names. Every FLUSHALL also sends
SCRIPT FLUSH and math.randomseed(0) to both (math.random is one sequence
per server).
Not generated: error() of a table without a string or number `err`
(redis-server 7.0.15 crashes on it).

Comparison is exact (reply type and value, error texts included), except:
  - replies Redis does not order (SMEMBERS, SINTER/SUNION/SDIFF, HKEYS/HVALS,
    HGETALL as pairs, KEYS) are sorted first;
  - SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY: only the reply's
    type and length (after SPOP the key is deleted on both);
  - TTL/PTTL/EXPIRETIME/PEXPIRETIME: only -2 / -1 / >= 0; OBJECT IDLETIME
    only as "an integer";
  - *SCAN: only cursor 0 is sent, and elements are compared (sorted) only when
    both servers end the scan in one call (reply cursor 0);
  - BYLEX commands (ZRANGEBYLEX, ZLEXCOUNT, ZRANGE BYLEX, ...) on a sorted
    set whose scores differ are not compared (Redis leaves the result
    unspecified); the fuzzer asks Redis for the scores first;
  - inside MULTI only exactly-compared commands are generated;
  - SORT ... BY nosort without STORE is compared sorted (a set's order is
    its hash table's), and ALPHA is not combined with a BY pattern;
  - a SORT Redis refuses with "One or more scores can't be converted into
    double" where ferrokv does not is asked again after a ZADD XX on a
    missing key: Redis 7.0's SORT tests errno without clearing it, so an
    earlier strtod overflow (a score of 1e400) leaves ERANGE behind.
Every --check-every commands the whole keyspace is compared too (TYPE,
OBJECT ENCODING, TTL category, content), which finds writes that replied
alike but stored different data or encodings.

On a divergence the commands since the last FLUSHALL are shrunk (delta
debugging, replaying on both servers) to a minimal sequence that still shows
the same kind of divergence; then both servers are FLUSHALLed so one
difference does not cascade. Kinds are: command name + the two reply kinds
(error texts with numbers and quoted words normalised, or reply types, plus
option keywords for value differences). --ignore REGEX (repeatable) counts
kinds matching the regex without minimising or printing them, to look for
new kinds once known ones are understood. At the end every kind is printed
with its minimal reproduction in redis-cli syntax.

RESP3 mode (--resp3):
    python3 scripts/fuzz_vs_redis.py --redis-port 6482 --ferrokv-port 6483 --resp3 --seed 1 --commands 30000
Every connection sends HELLO 3 first (and checks both servers answer a map
with proto 3). The reader understands every RESP3 type: % map, ~ set,
, double, _ null, # boolean, ( big number, = verbatim, | attribute, > push,
! blob error. Replies are rendered with the type visible: %{k: v}, ~[..],
,1.5, _, #t, (123, ='txt:..', >[..], $-1 / *-1 for RESP2 nulls, 'bulk',
+simple; and compared with the type kept (a map is not an array, a double
not a bulk string, _ not $-1). Doubles are compared as the exact text sent.
Ignore rules as in RESP2, adapted: sets/arrays of unordered replies sorted,
maps sorted by key; random commands by type structure and lengths only.
Divergence kinds get a tag: "TYPE" (same data, other RESP3 type, with the
path of the first differing element), "DOUBLE-FORMAT" (only the text of
doubles differs), "PUSH-ORDER" (the same frames, pushes on the other side of
the reply).
Out-of-band pushes: once the connection may receive pushes (SUBSCRIBE
family, CLIENT TRACKING), each command is followed by ECHO <sentinel> and
every frame before the sentinel's reply belongs to the command; a reply with
pushes is shown as &<frame ; frame ...>. With tracking on, the sentinel goes
in a second round trip (Redis sends some invalidations before sleeping);
inside MULTI no sentinel is sent. Consecutive pushes are compared as a
multiset, their place relative to the reply exactly. UNSUBSCRIBE without
arguments is compared as a set of channels (Redis walks a dict). Replies
in which Redis 7.0 itself wrote a push in the middle of an array (keyspace
events during ZPOPMIN...) are not compared (counted in the report header).
FLUSHALL becomes RESET + HELLO 3 + CONFIG SET notify-keyspace-events "" +
FLUSHALL. Keyspace checks and the BYLEX score check run on separate
connections, so they do not change the fuzzed connection's tracking state.
Extra grammar (RESP3 only; the RESP2 command stream is unchanged): pub/sub
(SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH/SPUBLISH,
PUBSUB ...), keyspace notifications (CONFIG SET notify-keyspace-events),
client-side caching (CLIENT TRACKING with BCAST/PREFIX/OPTIN/OPTOUT/NOLOOP,
CLIENT CACHING/TRACKINGINFO/GETREDIR), CLIENT GETNAME/SETNAME/ID/INFO/LIST/
NO-EVICT/UNBLOCK, CONFIG GET (map), COMMAND COUNT/INFO/DOCS/GETKEYS, INFO,
MEMORY USAGE/STATS/DOCTOR, LATENCY, SLOWLOG, TIME, HELLO variants, ZRANK/
ZREVRANK WITHSCORE, odd doubles (ZADD/ZINCRBY/ZADD INCR with 0.1, 1e17,
-0, 5e-324, inf, ...), WATCH + touching write + MULTI/EXEC sequences (EXEC
null) and RESET sequences (RESP2 replies until HELLO 3). Commands whose
content is the implementation's own (INFO, CLIENT INFO, COMMAND COUNT,
COMMAND INFO/DOCS, MEMORY STATS, TIME, ...) are compared by type structure
only.
"""
import argparse
import hashlib
import json
import random
import re
import shlex
import socket
import sys
import time

# ---------------------------------------------------------------- RESP


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


RESP3 = False              # --resp3: every connection starts with HELLO 3
SENTINEL = "__fuzz_sentinel_7f3a__"
SENTINEL_REPLY = ("$", SENTINEL.encode())
SUB_CMDS = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"}


def combine(frames):
    """The frames one command produced: the reply itself, or ("&", frames) when
    out-of-band pushes came with it (or a SUBSCRIBE sent several pushes)."""
    return frames[0] if len(frames) == 1 else ("&", frames)


class Conn:
    def __init__(self, port, resp3=False):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(20)
        self.f = self.sock.makefile("rb")
        self.resp3 = resp3
        # Predicted connection state (from the commands sent), RESP3 mode only:
        # pushes may arrive (subscribed, tracking, keyspace events) -> every
        # command is followed by ECHO SENTINEL and all frames up to the sentinel's
        # reply belong to the command; tracking may be on -> the sentinel goes in
        # a second round trip (Redis sends BCAST invalidations before sleeping);
        # inside MULTI no sentinel (it would be queued).
        self.pushy = False
        self.tracking = False
        self.multi = False
        if resp3:
            r = self.call(["HELLO", "3"])
            proto = dict(r[1]).get(("$", b"proto")) if r[0] == "%" else None
            if proto != (":", 3):
                raise SystemExit("port %d does not speak RESP3: HELLO 3 => %s" % (port, render(r)))

    def read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("connection to port %d closed" % self.port)
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return ("+", rest.decode(errors="replace"))
        if t == b"-":
            return ("-", rest.decode(errors="replace"))
        if t == b":":
            return (":", int(rest))
        if t == b"$":
            n = int(rest)
            if n < 0:
                return ("$", None)
            return ("$", self.f.read(n + 2)[:-2])
        if t == b"*":
            n = int(rest)
            if n < 0:
                return ("*", None)
            return ("*", [self.read() for _ in range(n)])
        # RESP3 types (a RESP2 server never sends them)
        if t in (b"~", b">"):
            return (t.decode(), [self.read() for _ in range(int(rest))])
        if t == b"%":
            return ("%", [(self.read(), self.read()) for _ in range(int(rest))])
        if t == b"|":                     # attribute: a map, then the reply it annotates
            attrs = [(self.read(), self.read()) for _ in range(int(rest))]
            return ("|", (attrs, self.read()))
        if t in (b",", b"(", b"#"):       # double / big number / boolean: the exact text
            return (t.decode(), rest.decode(errors="replace"))
        if t == b"_":
            return ("_", None)
        if t in (b"=", b"!"):             # verbatim string / blob error
            return (t.decode(), self.f.read(int(rest) + 2)[:-2])
        raise ValueError("bad reply line %r" % line)

    # ---- RESP3 framing

    def _until_reply(self):
        frames = []
        while True:
            r = self.read()
            frames.append(r)
            if r[0] != ">":
                return frames

    def _until_sentinel(self):
        frames = []
        while True:
            r = self.read()
            if r == SENTINEL_REPLY or (r[0] == "-" and "Can't execute 'echo'" in r[1]):
                return frames
            frames.append(r)

    def _plan(self, args):
        """0: read one reply (and pushes before it); 1: command + sentinel in one
        write; 2: reply, then the sentinel in a second round trip. Updates the
        predicted state."""
        name = args[0].upper() if args else ""
        sub = name in SUB_CMDS
        ending = name == "EXEC" or (name == "DISCARD" and len(args) == 1)
        if (self.multi and not ending) or (name == "MULTI" and len(args) == 1):
            plan = 0
        elif sub:
            plan = 1
        elif self.tracking:
            plan = 2
        elif self.pushy:
            plan = 1
        else:
            plan = 0
        n = len(args)
        if sub:
            self.pushy = True
        elif name == "CLIENT" and n > 1 and args[1].upper() == "TRACKING":
            self.pushy = self.tracking = True
        elif name == "RESET" and n == 1:
            self.pushy = self.tracking = self.multi = False
        elif name == "MULTI" and n == 1:
            self.multi = True
        elif name == "EXEC" or (name == "DISCARD" and n == 1):
            self.multi = False           # (EXEC with arguments aborts the transaction too)
        return plan

    def call(self, args):
        if self.resp3:
            r = self.pipeline([args])[0]
            name = args[0].upper() if args else ""
            main = ([f for f in r[1] if f[0] != ">"][-1:] or [r])[0] if r[0] == "&" else r
            if name == "MULTI" and len(args) == 1:    # correct the prediction from the reply
                self.multi = main == ("+", "OK") or (main[0] == "-" and "nested" in main[1])
            elif name == "DISCARD" and (main == ("+", "OK") or (main[0] == "-" and "without MULTI" in main[1])):
                self.multi = False
            return r
        self.sock.sendall(encode(args))
        return self.read()

    def pipeline(self, cmds):
        replies = []
        if not self.resp3:
            for i in range(0, len(cmds), 200):
                chunk = cmds[i:i + 200]
                self.sock.sendall(b"".join(encode(c) for c in chunk))
                replies.extend(self.read() for _ in chunk)
            return replies
        i = 0
        while i < len(cmds):
            buf, plans = [], []
            while i < len(cmds) and len(plans) < 200:
                c = cmds[i]
                i += 1
                p = self._plan(c)
                buf.append(encode(c))
                if p == 1:
                    buf.append(encode(["ECHO", SENTINEL]))
                plans.append(p)
                if p == 2:
                    break
            self.sock.sendall(b"".join(buf))
            for p in plans:
                if p == 0:
                    fr = self._until_reply()
                elif p == 1:
                    fr = self._until_sentinel()
                else:
                    fr = self._until_reply()
                    self.sock.sendall(encode(["ECHO", SENTINEL]))
                    fr += self._until_sentinel()
                replies.append(combine(fr) if fr else ("&", []))
        return replies


def render(r):
    t, v = r
    if t == "+":
        return "+" + v
    if t == "-":
        return "-" + v
    if t == ":":
        return ":%d" % v
    if t == "$":
        if v is None:
            return "$-1" if RESP3 else "nil"
        return repr(v.decode(errors="replace"))
    if t == "*" and v is None:
        return "*-1" if RESP3 else "nil*"
    if t in ("*", "~", ">"):
        return t + "[" + ", ".join(render(x) for x in v) + "]"
    if t == "%":
        return "%{" + ", ".join("%s: %s" % (render(a), render(b)) for a, b in v) + "}"
    if t in (",", "(", "#"):
        return t + v
    if t == "_":
        return "_"
    if t in ("=", "!"):
        return t + repr(v.decode(errors="replace"))
    if t == "|":
        return "|{" + ", ".join("%s: %s" % (render(a), render(b)) for a, b in v[0]) + "} " + render(v[1])
    if t == "&":
        return "&<" + " ; ".join(render(x) for x in v) + ">"
    return repr(r)


def cli(args):
    text = " ".join(shlex.quote(a) if isinstance(a, str) else shlex.quote(a.decode(errors="replace")) for a in args)
    if args and isinstance(args[0], str) and args[0].upper().startswith("EVALSHA") and len(args) > 1:
        body = SHA_BODIES.get(str(args[1]).lower())
        if body is not None:          # which script the SHA1 names
            text += "   # %s = %s" % (str(args[1])[:8], shlex.quote(body))
    return text


# ---------------------------------------------------------------- grammar

R = random.Random()
KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"]
MEMBERS = ["a", "b", "c", "d", "e", "f", "1", "2", "3", "10", "-1", "1.5", ""]
INTMEMBERS = ["0", "1", "2", "3", "10", "-5", "100", "9223372036854775807", "-9223372036854775808", "01", "1.0"]
FIELDS = ["f1", "f2", "f3", "a", "b", "1"]
EDGE_INTS = ["0", "-1", "1", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
             "-9223372036854775809", "1.5", "abc", "", " 1", "1 ", "0x10", "+1", "01", "-0", "4294967296",
             "2147483648", "-2147483649", "9223372036854775806", "-9223372036854775807"]
EDGE_FLOATS = ["0", "-1", "1.5", "-0.0", "1e308", "-1e308", "5.0e3", ".5", "1e", "inf", "-inf", "+inf",
               "nan", "0x10", " 1", "1 ", "abc", "1e400", "-1e400", "1.7976931348623157e308", "4.9e-324",
               "9223372036854775807", "1e-5", "123456789012345678", "0.1", "3.0", "-", "+", "1.", "Infinity"]
SCORE_RANGE = ["-inf", "+inf", "inf", "(1.5", "1", "(1", "2", "5", "(5", "0", "-1", "(-inf", "(+inf", "3",
               "(3", "10", "2.5", "(0"]
BAD_SCORE_RANGE = ["abc", "(", "((1", "[1", "-", "+", "nan", "1e", " 1", "(nan", ""]
LEX_RANGE = ["-", "+", "[a", "(a", "[c", "(c", "[d", "[f", "(f", "[", "(", "(1", "[10", "[b", "(e", "[2"]
BAD_LEX_RANGE = ["x", "a", "++", "--", "", "1"]
KEYWORDS = {"EX", "PX", "EXAT", "PXAT", "KEEPTTL", "NX", "XX", "GT", "LT", "GET", "CH", "INCR", "PERSIST",
            "WITHSCORES", "BYSCORE", "BYLEX", "REV", "LIMIT", "WEIGHTS", "AGGREGATE", "SUM", "MIN", "MAX",
            "LEFT", "RIGHT", "BEFORE", "AFTER", "RANK", "COUNT", "MAXLEN", "REPLACE", "DB", "BYTE", "BIT",
            "AND", "OR", "XOR", "NOT", "SET", "INCRBY", "OVERFLOW", "WRAP", "SAT", "FAIL", "LEN", "IDX",
            "MINMATCHLEN", "WITHMATCHLEN", "WITHVALUES", "ENCODING"}
MIXED_CASE = 0.1


def cased(s):
    if R.random() < MIXED_CASE:
        return "".join(c.upper() if R.random() < 0.5 else c.lower() for c in s)
    return s


kw = cased


# Key affinity: each command family prefers two keys (neighbouring families
# share one), so most commands hit a key of their type and some hit another.
FAMILY_KEYS = {"str": ["k0", "k1"], "list": ["k1", "k2"], "hash": ["k2", "k3"], "set": ["k3", "k4"],
               "zset": ["k4", "k5"], "hll": ["k5", "k0"], "stream": ["k5", "k0"],
               "any": KEYS, "script": KEYS}
FAMILY = "any"
# Phases: every ~--phase-len commands a focus is drawn; in a focused phase 80%
# of the commands come from that family and use all six keys, so collections
# of one type fill up and multi-key commands meet several keys of that type.
FOCUS = "mixed"
FOCUSES = ["mixed", "mixed", "str", "list", "hash", "set", "zset", "hll", "stream", "script"]
AFFINITY = 0.8
EDGE = 0.2      # probability a numeric argument is drawn from the edge cases


def key():
    if FOCUS != "mixed":
        return R.choice(KEYS)
    if R.random() < AFFINITY:
        return R.choice(FAMILY_KEYS[FAMILY])
    return R.choice(KEYS)


def srange():
    return R.choice(SCORE_RANGE) if R.random() < 0.9 else R.choice(BAD_SCORE_RANGE)


def lrange_():
    return R.choice(LEX_RANGE) if R.random() < 0.9 else R.choice(BAD_LEX_RANGE)


def keys(lo=1, hi=4):
    return [key() for _ in range(R.randint(lo, hi))]


def member():
    r = R.random()
    if r < 0.01:
        return "x" * 70
    if r < 0.6:
        return R.choice(MEMBERS[:6])
    return R.choice(MEMBERS)


def setmember():
    return R.choice(INTMEMBERS) if R.random() < 0.5 else member()


def field():
    return R.choice(FIELDS) if R.random() < 0.97 else "y" * 70


def value():
    r = R.random()
    if r < 0.4:
        return R.choice(["a", "b", "hello", "foo", "bar", "", "xyzzy"])
    if r < 0.7:
        return str(R.randint(-5, 20))
    if r < 0.85:
        return R.choice(EDGE_INTS + EDGE_FLOATS)
    if r < 0.95:
        return R.choice(["1.5", "2.5", "-0.5", "100", "10"])
    return "v" * R.choice([40, 44, 45, 70])


def intarg():
    return str(R.randint(-5, 10)) if R.random() > EDGE else R.choice(EDGE_INTS)


def floatarg():
    return R.choice(["1", "2.5", "-1.5", "0", "3", "10", "0.1", "-2"]) if R.random() > EDGE else R.choice(EDGE_FLOATS)


def score():
    return str(R.randint(-3, 10)) if R.random() < 0.7 else floatarg()


def idx():
    if R.random() > EDGE:
        return str(R.randint(-6, 6))
    return R.choice(["-100", "100", "9223372036854775807", "-9223372036854775808", "a", "1.5", "", "-0"])


def count():
    if R.random() > EDGE:
        return str(R.randint(0, 5))
    return R.choice(["-1", "-5", "0", "9223372036854775807", "-9223372036854775808", "a", "1.5", "100", "2147483648"])


def secs():
    if R.random() < 0.8:
        return R.choice(["100", "1000", "100000", "200", "5000"])
    return R.choice(["0", "-1", "abc", "9223372036854775807", "1.5", "-9223372036854775808",
                     "9223372036854775", "9223372036854776", "", "-100"])


def msecs():
    if R.random() < 0.8:
        return R.choice(["100000", "1000000", "200000", "5000000"])
    return R.choice(["0", "-1", "abc", "9223372036854775807", "1.5", "-9223372036854775808", "-100"])


def abs_secs():
    if R.random() < 0.8:
        return str(int(time.time()) + R.choice([1000, 5000, 100000]))
    return R.choice(["1", "0", "-1", "9223372036854775807", "abc", str(int(time.time()) - 100)])


def abs_msecs():
    if R.random() < 0.8:
        return str(int(time.time() * 1000) + R.choice([1000000, 5000000]))
    return R.choice(["1", "0", "-1", "9223372036854775807", "abc"])


def numkeys_and(keys_):
    r = R.random()
    if r < 0.9:
        return [str(len(keys_))] + keys_
    return [R.choice(["0", "-1", "a", str(len(keys_) + 1), str(len(keys_) + 5), "1"])] + keys_


def opt_order(groups):
    out = []
    R.shuffle(groups)
    for g in groups:
        out += g
    return out


# Each generator returns (args, mode). mode: exact, sorted, pairs, shape, ttl, spop

def g_set():
    a = [cased("SET"), key(), value()]
    groups = []
    e = R.random()
    if e < 0.15:
        groups.append([kw("EX"), secs()])
    elif e < 0.25:
        groups.append([kw("PX"), msecs()])
    elif e < 0.3:
        groups.append([kw("EXAT"), abs_secs()])
    elif e < 0.35:
        groups.append([kw("PXAT"), abs_msecs()])
    elif e < 0.45:
        groups.append([kw("KEEPTTL")])
    c = R.random()
    if c < 0.2:
        groups.append([kw("NX")])
    elif c < 0.4:
        groups.append([kw("XX")])
    if R.random() < 0.3:
        groups.append([kw("GET")])
    if R.random() < 0.05:
        groups.append([kw(R.choice(["NX", "XX", "EX", "PX", "KEEPTTL", "GET", "FOO"]))] + ([secs()] if R.random() < 0.5 else []))
    return a + opt_order(groups), "exact"


def g_getex():
    a = [cased("GETEX"), key()]
    e = R.random()
    if e < 0.2:
        a += [kw("EX"), secs()]
    elif e < 0.35:
        a += [kw("PX"), msecs()]
    elif e < 0.45:
        a += [kw("EXAT"), abs_secs()]
    elif e < 0.5:
        a += [kw("PXAT"), abs_msecs()]
    elif e < 0.65:
        a += [kw("PERSIST")]
    if R.random() < 0.05:
        a += [kw(R.choice(["PERSIST", "EX", "FOO"]))] + ([secs()] if R.random() < 0.5 else [])
    return a, "exact"


def g_lcs():
    a = [cased("LCS"), key(), key()]
    opts = []
    if R.random() < 0.3:
        opts.append([kw("LEN")])
    if R.random() < 0.4:
        opts.append([kw("IDX")])
    if R.random() < 0.3:
        opts.append([kw("MINMATCHLEN"), R.choice(["0", "1", "2", "-1", "a"])])
    if R.random() < 0.3:
        opts.append([kw("WITHMATCHLEN")])
    return a + opt_order(opts), "exact"


def simple(name, *parts, mode="exact"):
    def g():
        return [cased(name)] + [p() if callable(p) else p for p in parts], mode
    return g


def varargs(name, head, item, lo=1, hi=4, mode="exact"):
    def g():
        a = [cased(name)] + [p() for p in head]
        for _ in range(R.randint(lo, hi)):
            it = item()
            a += it if isinstance(it, list) else [it]
        return a, mode
    return g


def g_setrange():
    off = str(R.randint(0, 20)) if R.random() < 0.8 else R.choice(["-1", "536870912", "a", "100", "1000", "9223372036854775807"])
    return [cased("SETRANGE"), key(), off, R.choice([value(), "", "xy"])], "exact"


def bitoff():
    return str(R.randint(0, 40)) if R.random() < 0.8 else R.choice(["-1", "4294967296", "a", "100", "1000", "1.5", "9223372036854775807"])


def g_bitcount():
    a = [cased("BITCOUNT"), key()]
    r = R.random()
    if r < 0.6:
        a += [idx(), idx()]
        if R.random() < 0.4:
            a.append(kw(R.choice(["BYTE", "BIT", "bit", "FOO"])))
    elif r < 0.65:
        a += [idx()]
    return a, "exact"


def g_bitpos():
    a = [cased("BITPOS"), key(), R.choice(["0", "1", "1", "0", "2", "a"])]
    r = R.random()
    if r < 0.3:
        a += [idx()]
    elif r < 0.7:
        a += [idx(), idx()]
        if R.random() < 0.4:
            a.append(kw(R.choice(["BYTE", "BIT", "FOO"])))
    return a, "exact"


def g_bitop():
    op = kw(R.choice(["AND", "OR", "XOR", "NOT", "NOT", "FOO"]))
    return [cased("BITOP"), op, key()] + keys(1, 3 if op.upper() != "NOT" or R.random() < 0.2 else 1), "exact"


def bftype():
    return R.choice(["i8", "u8", "i1", "u1", "i16", "u16", "i64", "u63", "u64", "i65", "x8", "i0", "u4", "i5", "I8", "u32"])


def bfoff():
    return R.choice(["0", "1", "7", "8", "#0", "#1", "100", "-1", "#-1", "a", "3", "#2", "4294967296"])


def g_bitfield(ro=False):
    a = [cased("BITFIELD_RO" if ro else "BITFIELD"), key()]
    for _ in range(R.randint(1, 3)):
        r = R.random()
        if r < 0.35 or ro:
            a += [kw("GET"), bftype(), bfoff()]
        elif r < 0.6:
            a += [kw("SET"), bftype(), bfoff(), intarg()]
        elif r < 0.85:
            a += [kw("INCRBY"), bftype(), bfoff(), intarg()]
        else:
            a += [kw("OVERFLOW"), kw(R.choice(["WRAP", "SAT", "FAIL", "FOO"]))]
    if ro and R.random() < 0.1:
        a += [kw("SET"), "u8", "0", "1"]
    return a, "exact"


def g_copy():
    a = [cased("COPY"), key(), key()]
    opts = []
    if R.random() < 0.4:
        opts.append([kw("REPLACE")])
    if R.random() < 0.1:
        opts.append([kw("DB"), R.choice(["0", "1", "a", "100"])])
    return a + opt_order(opts), "exact"


def g_expire(name, t):
    def g():
        a = [cased(name), key(), t()]
        r = R.random()
        if r < 0.4:
            a.append(kw(R.choice(["NX", "XX", "GT", "LT"])))
        if R.random() < 0.05:
            a.append(kw(R.choice(["NX", "XX", "GT", "LT", "FOO"])))
        return a, "exact"
    return g


def g_object():
    r = R.random()
    if r < 0.9:
        return [cased("OBJECT"), kw("ENCODING"), key()], "exact"
    return [cased("OBJECT"), kw(R.choice(["ENCODING", "FOO"])), key(), "extra"][:R.randint(2, 4)], "exact"


def g_object_other():
    a = [cased("OBJECT"), kw(R.choice(["REFCOUNT", "FREQ", "IDLETIME", "HELP"])), key()]
    return a, mode_for(a)


def g_scan(name):
    # Only cursor 0 (and invalid cursors): what a non-zero cursor means is the
    # implementation's own, and so is a non-zero cursor in the reply.
    def g():
        a = [cased(name)] + ([] if name == "SCAN" else [key()]) + [R.choice(["0", "0", "0", "0", "a", "18446744073709551616", "1.5", ""])]
        opts = []
        if R.random() < 0.4:
            opts.append([kw("MATCH"), R.choice(["*", "k*", "a*", "*1*", "f?", "[", "m1*", "[ab]"])])
        if R.random() < 0.4:
            opts.append([kw("COUNT"), R.choice(["1000", "1000", "10", "0", "-1", "a", "1"])])
        if name == "SCAN" and R.random() < 0.3:
            opts.append([kw("TYPE"), R.choice(["string", "list", "hash", "set", "zset", "foo", "STRING"])])
        return a + opt_order(opts), "scanpairs" if name in ("HSCAN", "ZSCAN") else "scan"
    return g


def btimeout():
    return R.choice(["0.01", "0.01", "0.01", "0.001", "-1", "a", "1e", "inf", "0.01 ", "-0.01"])


def g_blocking():
    """Blocking pops with a 10 ms timeout (an empty key answers nil after it)."""
    c = R.choice(["BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP"])
    if c in ("BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"):
        a = [c] + keys(1, 3) + [btimeout()]
    elif c == "BLMOVE":
        a = [c, key(), key(), side(), side(), btimeout()]
    elif c == "BRPOPLPUSH":
        a = [c, key(), key(), btimeout()]
    else:
        a = [c, btimeout()] + numkeys_and(keys(1, 3)) + [kw(R.choice(["LEFT", "RIGHT"]) if c == "BLMPOP" else R.choice(["MIN", "MAX"]))]
        if R.random() < 0.4:
            a += [kw("COUNT"), count()]
    return [cased(a[0])] + a[1:], "exact"


def g_tx():
    return [cased(R.choice(["MULTI", "MULTI", "EXEC", "EXEC", "DISCARD", "WATCH", "UNWATCH"]))] + \
        ([key()] if R.random() < 0.3 else []), "exact"


ARITY_NAMES = ["SET", "GET", "GETSET", "GETDEL", "GETEX", "APPEND", "STRLEN", "INCR", "DECR", "INCRBY", "DECRBY",
               "INCRBYFLOAT", "GETRANGE", "SETRANGE", "MSET", "MGET", "MSETNX", "SETNX", "SETEX", "PSETEX", "SUBSTR",
               "LCS", "SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO", "DEL", "EXISTS",
               "TYPE", "RENAME", "RENAMENX", "COPY", "MOVE", "PERSIST", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT",
               "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "OBJECT", "TOUCH", "UNLINK", "KEYS", "DBSIZE", "RANDOMKEY",
               "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LLEN", "LRANGE", "LINDEX", "LSET", "LINSERT",
               "LREM", "LTRIM", "LPOS", "LMOVE", "RPOPLPUSH", "LMPOP", "HSET", "HMSET", "HSETNX", "HGET", "HMGET",
               "HDEL", "HLEN", "HSTRLEN", "HEXISTS", "HKEYS", "HVALS", "HGETALL", "HINCRBY", "HINCRBYFLOAT",
               "HRANDFIELD", "SADD", "SREM", "SISMEMBER", "SMISMEMBER", "SCARD", "SMEMBERS", "SMOVE", "SINTER",
               "SINTERCARD", "SINTERSTORE", "SUNION", "SUNIONSTORE", "SDIFF", "SDIFFSTORE", "SPOP", "SRANDMEMBER",
               "ZADD", "ZINCRBY", "ZREM", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZCOUNT", "ZLEXCOUNT",
               "ZRANGE", "ZRANGESTORE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX",
               "ZREVRANGEBYLEX", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX",
               "ZMPOP", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD",
               "ZRANDMEMBER", "SCAN", "SSCAN", "HSCAN", "ZSCAN", "ECHO", "PING", "FOOBAR", "GETX", "ZFOO", "PFADD",
               "PFCOUNT", "PFMERGE", "PFDEBUG"]
ARITY_TOKENS = ["0", "1", "-1", "2", "a", "b", "1.5", "", "WITHSCORES", "LIMIT", "COUNT", "NX", "XX", "GT", "EX",
                "100", "BYSCORE", "REV", "LEFT", "RIGHT", "MIN", "MAX", "GET", "SET", "u8", "i8", "BEFORE", "(1", "[a",
                "-", "+", "-inf", "+inf", "WEIGHTS", "AGGREGATE", "SUM", "IDX", "LEN", "MATCH", "TYPE", "REPLACE",
                "DB", "KEEPTTL", "PERSIST", "RANK", "MAXLEN", "INCR", "CH", "BYTE", "BIT", "AND", "NOT", "WITHVALUES"]


def hll_element():
    # A few thousand distinct elements: HLLs grow through the sparse limit.
    return "e%d" % R.randint(0, R.choice([10, 300, 5000]))


def g_pfadd():
    n = R.choice([0, 1, 1, 2, 3, 5, 10, 20]) if R.random() < 0.9 else R.randint(100, 700)
    return [cased("PFADD"), key()] + [hll_element() for _ in range(n)], "exact"


def g_pfdebug():
    sub = R.choice(["GETREG", "DECODE", "ENCODING", "TODENSE", "decode", "Encoding", "foo"])
    a = [cased("PFDEBUG"), kw(sub), key()]
    if R.random() < 0.03:
        a = a[:R.randint(1, 2)] if R.random() < 0.5 else a + ["x"]
    return a, "exact"


HLL_HDR = b"HYLL\x01" + b"\0" * 10


def hll_xzero(n):
    n -= 1
    return bytes([0x40 | (n >> 8), n & 0xFF])


def g_hll_value():
    """SET of a crafted HLL string: valid or corrupted sparse opcodes, a dense
    string of the wrong length, a bad encoding byte, a stale or valid cache.
    Never a sparse string ending in the first half of an XZERO: there Redis
    reads the byte after the string, which an earlier write may have left
    non-zero (ferrokv reads 0)."""
    ops, left = b"", 16384
    while left > 0 and R.random() < 0.95:
        c = R.random()
        if c < 0.3:
            n = R.randint(1, min(left, 16384))
            ops += hll_xzero(n)
        elif c < 0.6:
            n = R.randint(1, min(left, 64))
            ops += bytes([n - 1])
        else:
            n = R.randint(1, min(left, 4))
            ops += bytes([0x80 | (R.randint(0, 31) << 2) | (n - 1)])
        left -= n
    if R.random() < 0.6:
        # Valid: the opcodes cover exactly the registers.
        while left > 0:
            n = min(left, 16384)
            ops += hll_xzero(n)
            left -= n
    elif R.random() < 0.5:
        ops += bytes([R.choice([0x00, 0x3f, 0x80, 0xfc, 0x41, 0x40]), 0x00][:R.randint(1, 2)])
    p = 0
    while p < len(ops):
        p += 2 if ops[p] & 0xC0 == 0x40 else 1
    if p > len(ops):
        ops += b"\x00"
    card = bytes([R.randint(0, 255)]) + b"\0" * 6 + bytes([R.choice([0, 0x80])])
    v = HLL_HDR[:8] + card + ops
    r = R.random()
    if r < 0.05:
        v = b"HYLL\x00" + v[5:16] + bytes(R.choice([100, 12288, 12289]))
    elif r < 0.08:
        v = b"HYLL\x02" + v[5:]
    elif r < 0.1:
        v = v[:R.randint(0, 16)]
    return ["SET", key(), v], "exact"


def g_hll_config():
    return ["CONFIG", "SET", "hll-sparse-max-bytes", R.choice(["3000", "3000", "0", "30", "200", "12000"])], "exact"


def g_arity():
    """A known (or unknown) command with 0-6 arguments drawn from a token pool."""
    a = [cased(R.choice(ARITY_NAMES))]
    for _ in range(R.choice([0, 1, 1, 2, 2, 3, 3, 4, 5, 6])):
        a.append(key() if R.random() < 0.35 else kw(R.choice(ARITY_TOKENS)))
    return a, mode_for(a)


def mode_for(args, default="exact"):
    n = args[0].upper()
    u = {x.upper() for x in args[1:]}
    if n in ("SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "KEYS"):
        return "sorted"
    if n == "HGETALL":
        return "pairs"
    if n in ("SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "RANDOMKEY"):
        return "shape"
    if n == "SPOP":
        return "spop"
    if n in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        return "ttl"
    if n in ("SCAN", "SSCAN"):
        return "scan"
    if n in ("UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE") and len(args) == 1:
        return "unsub"
    if n in ("HSCAN", "ZSCAN"):
        return "scanpairs"
    if n == "OBJECT" and "IDLETIME" in u:
        return "object"
    if n == "COMMAND" and (len(args) == 1 or (len(args) == 2 and args[1].upper() in ("INFO", "DOCS"))):
        # Every command: ferrokv has no cluster or replication commands,
        # and Redis lists its dict's order.
        return "unspecified"
    if n in ("ZLEXCOUNT", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZREMRANGEBYLEX") or \
            (n in ("ZRANGE", "ZRANGESTORE") and "BYLEX" in u):
        return "lex"
    return default


def g_keys():
    return [cased("KEYS"), R.choice(["*", "k*", "k[0-2]", "*1", "?0", "k[^1]*", "x*", "[", "k\\1"])], "sorted"


def g_pop(name):
    def g():
        a = [cased(name), key()]
        if R.random() < 0.5:
            a.append(count())
        return a, "exact"
    return g


def g_linsert():
    return [cased("LINSERT"), key(), kw(R.choice(["BEFORE", "AFTER", "BEFORE", "AFTER", "MIDDLE"])), member(), member()], "exact"


def g_lpos():
    a = [cased("LPOS"), key(), member()]
    opts = []
    if R.random() < 0.4:
        opts.append([kw("RANK"), R.choice(["1", "-1", "2", "-2", "0", "a", "-9223372036854775808", "9223372036854775807", "3"])])
    if R.random() < 0.4:
        opts.append([kw("COUNT"), R.choice(["0", "1", "2", "-1", "a", "5"])])
    if R.random() < 0.3:
        opts.append([kw("MAXLEN"), R.choice(["0", "1", "2", "-1", "a", "3"])])
    return a + opt_order(opts), "exact"


def side():
    return kw(R.choice(["LEFT", "RIGHT", "LEFT", "RIGHT", "UP"]) if R.random() < 0.95 else "MIDDLE")


def g_lmove():
    return [cased("LMOVE"), key(), key(), side(), side()], "exact"


def g_lmpop():
    ks = keys(1, 3)
    a = [cased("LMPOP")] + numkeys_and(ks) + [side()]
    if R.random() < 0.4:
        a += [kw("COUNT"), count()]
    return a, "exact"


def rand_with(name, with_kw):
    """HRANDFIELD / ZRANDMEMBER: key [count [WITHVALUES | WITHSCORES]]."""
    a = [cased(name), key()]
    if R.random() < 0.6:
        a.append(count())
        if R.random() < 0.4:
            a.append(kw(with_kw))
    return a, "shape"


def g_hrandfield():
    return rand_with("HRANDFIELD", "WITHVALUES")


def g_srandmember():
    a = [cased("SRANDMEMBER"), key()]
    if R.random() < 0.6:
        a.append(count())
    return a, "shape"


def g_spop():
    a = [cased("SPOP"), key()]
    if R.random() < 0.6:
        a.append(count())
    return a, "spop"


def g_sintercard():
    a = [cased("SINTERCARD")] + numkeys_and(keys(1, 3))
    if R.random() < 0.3:
        a += [kw("LIMIT"), count()]
    return a, "exact"


def g_zadd():
    a = [cased("ZADD"), key()]
    opts = []
    r = R.random()
    if r < 0.15:
        opts.append([kw("NX")])
    elif r < 0.3:
        opts.append([kw("XX")])
    r = R.random()
    if r < 0.15:
        opts.append([kw("GT")])
    elif r < 0.3:
        opts.append([kw("LT")])
    if R.random() < 0.25:
        opts.append([kw("CH")])
    incr = R.random() < 0.15
    if incr:
        opts.append([kw("INCR")])
    a += opt_order(opts)
    n = 1 if incr and R.random() < 0.8 else R.randint(1, 5)
    for _ in range(n):
        a += [score(), member()]
    return a, "exact"


def zrange_args(name, by=None):
    a = [cased(name), key()]
    if by == "score":
        a += [srange(), srange()]
    elif by == "lex":
        a += [lrange_(), lrange_()]
    else:
        a += [idx(), idx()]
    return a


def g_zrange(store=False):
    def g():
        by = R.choice([None, None, "score", "lex"])
        a = [cased("ZRANGESTORE"), key()] if store else [cased("ZRANGE")]
        a += zrange_args("x", by)[1:]
        opts = []
        if by == "score":
            opts.append([kw("BYSCORE")])
        elif by == "lex":
            opts.append([kw("BYLEX")])
        elif R.random() < 0.05:
            opts.append([kw(R.choice(["BYSCORE", "BYLEX"]))])
        if R.random() < 0.3:
            opts.append([kw("REV")])
        if R.random() < 0.3:
            opts.append([kw("LIMIT"), idx(), count() if R.random() < 0.7 else "-1"])
        if not store and R.random() < 0.4:
            opts.append([kw("WITHSCORES")])
        return a + opt_order(opts), "lex" if by == "lex" else "exact"
    return g


def g_zrangeby(name, by):
    def g():
        a = zrange_args(name, by)
        opts = []
        if by == "score" and R.random() < 0.4:
            opts.append([kw("WITHSCORES")])
        if R.random() < 0.3:
            opts.append([kw("LIMIT"), idx(), count() if R.random() < 0.7 else "-1"])
        return a + opt_order(opts), "lex" if by == "lex" else "exact"
    return g


def g_zadd_lex():
    """A sorted set whose members all have one score: the only case where the BYLEX
    commands are specified."""
    a = [cased("ZADD"), key()]
    sc = R.choice(["0", "0", "1", "-2.5"])
    for m in R.sample(MEMBERS + ["aa", "ab", "b1", "c2", "[x", "(y", "-", "+"], R.randint(2, 9)):
        a += [sc, m]
    return a, "exact"


def g_zrevrange():
    a = [cased("ZREVRANGE"), key(), idx(), idx()]
    if R.random() < 0.4:
        a.append(kw("WITHSCORES"))
    return a, "exact"


# ZPOPMIN/ZPOPMAX take the same arguments as LPOP/RPOP.
g_zpop = g_pop


def g_zmpop():
    a = [cased("ZMPOP")] + numkeys_and(keys(1, 3)) + [kw(R.choice(["MIN", "MAX", "MIN", "MAX", "MID"]))]
    if R.random() < 0.4:
        a += [kw("COUNT"), count()]
    return a, "exact"


def weights_aggr(n, withscores):
    opts = []
    if R.random() < 0.3:
        m = n if R.random() < 0.85 else max(0, n + R.choice([-1, 1]))
        opts.append([kw("WEIGHTS")] + [floatarg() if R.random() < 0.3 else str(R.randint(-2, 3)) for _ in range(m)])
    if R.random() < 0.3:
        opts.append([kw("AGGREGATE"), kw(R.choice(["SUM", "MIN", "MAX", "SUM", "AVG"]))])
    if withscores and R.random() < 0.4:
        opts.append([kw("WITHSCORES")])
    return opt_order(opts)


def g_zsetop(name, store, weights=True):
    def g():
        ks = keys(1, 3)
        a = [cased(name)] + ([key()] if store else []) + numkeys_and(ks)
        if weights:
            a += weights_aggr(len(ks), not store)
        elif not store and R.random() < 0.4:
            a.append(kw("WITHSCORES"))
        return a, "exact"
    return g


def g_zintercard():
    a = [cased("ZINTERCARD")] + numkeys_and(keys(1, 3))
    if R.random() < 0.3:
        a += [kw("LIMIT"), count()]
    return a, "exact"


def g_zrandmember():
    return rand_with("ZRANDMEMBER", "WITHSCORES")


def g_big():
    global FAMILY
    n = R.choice([127, 128, 129, 200, 511, 512, 513, 600])
    t = R.choice(["list", "set_int", "set_str", "hash", "zset", "hash_long", "zset_long"])
    FAMILY = t.split("_")[0]
    k = key()
    if t == "list":
        return [cased("RPUSH"), k] + [str(R.randint(0, 50)) if R.random() < 0.5 else R.choice(MEMBERS[:6]) for _ in range(n)], "exact"
    if t == "set_int":
        return [cased("SADD"), k] + [str(i) for i in range(n)], "exact"
    if t == "set_str":
        return [cased("SADD"), k] + ["m%d" % i for i in range(n)], "exact"
    if t == "hash":
        a = [cased("HSET"), k]
        for i in range(n):
            a += ["f%d" % i, str(i)]
        return a, "exact"
    if t == "hash_long":
        return [cased("HSET"), k, "f1", "z" * R.choice([64, 65])], "exact"
    if t == "zset_long":
        return [cased("ZADD"), k, "1", "z" * R.choice([64, 65])], "exact"
    a = [cased("ZADD"), k]
    for i in range(n):
        a += [str(i % 17), "m%d" % i]
    return a, "exact"


# ---------------------------------------------------------------- streams
# Ids are explicit (small ms and seq, so many collide and go back), or
# `ms-*`; never `*`, whose ids differ between the servers. Replies that
# carry delivery times or idle times (XPENDING's extended form, XINFO
# CONSUMERS, XINFO STREAM FULL with groups, XCLAIM IDLE/TIME) are compared
# by shape only.

GROUPS = ["g1", "g2", "nog"]
CONSUMERS = ["c1", "c2", "c3"]


def sid(star=False):
    r = R.random()
    if star and r < 0.15:
        return "%d-*" % R.randint(0, 40)
    if r < 0.75:
        return "%d-%d" % (R.randint(0, 40), R.randint(0, 3))
    if r < 0.85:
        return str(R.randint(0, 40))
    return R.choice(["-", "+", "0", "0-0", "$", ">", "a", "1-a", "18446744073709551615-18446744073709551615",
                     "18446744073709551616", " 5", "+5", "007-1", "5-", "-5", "1.5"])


def sbound():
    b = sid()
    return "(" + b if R.random() < 0.15 else b


def g_xadd():
    a = [cased("XADD"), key()]
    if R.random() < 0.2:
        a.append(kw("NOMKSTREAM"))
    if R.random() < 0.25:
        a += [kw(R.choice(["MAXLEN", "MINID"]))] + ([R.choice(["~", "="])] if R.random() < 0.6 else [])
        a.append(str(R.randint(0, 30)) if a[-1] in ("~", "=") or R.random() < 0.5 else sid())
        if R.random() < 0.3:
            a += [kw("LIMIT"), R.choice(["0", "1", "10", "-1", "a"])]
    a.append(sid(True))
    for _ in range(R.randint(1, 3)):
        a += [R.choice(["f", "g", "h", "1", "field"]), value()]
    return a, "exact"


def g_xtrim():
    a = [cased("XTRIM"), key(), kw(R.choice(["MAXLEN", "MINID", "MAXLEN", "FOO"]))]
    if R.random() < 0.6:
        a.append(R.choice(["~", "="]))
    a.append(str(R.randint(-1, 30)) if R.random() < 0.6 else sid())
    if R.random() < 0.3:
        a += [kw("LIMIT"), R.choice(["0", "1", "10", "-1", "a"])]
    return a, "exact"


def g_xrange(name):
    def g():
        a = [cased(name), key(), sbound(), sbound()]
        if R.random() < 0.4:
            a += [kw("COUNT"), R.choice(["0", "1", "2", "5", "-1", "a"])]
        return a, "exact"
    return g


# Geo: positions from a few places (repeats make equal distances, which
# COUNT's partial sort must order as Redis does), edge and bad coordinates.
GEO_LONS = ["13.361389", "15.087269", "13.5", "-0.1", "0", "180", "-180", "179.9999", "13.361389", "200", "abc", "-180.1"]
GEO_LATS = ["38.115556", "37.502669", "38.5", "51.5", "0", "85.05112878", "-85.05112878", "38.115556", "86", "nan", " 1"]
GEO_UNITS = ["m", "km", "mi", "ft", "KM", "yd"]
GEO_DISTS = ["0", "1", "100", "200", "1000", "5000", "20000", "-1", "abc", "1e6"]


def geo_pos():
    return [R.choice(GEO_LONS[:9]) if R.random() < 0.95 else R.choice(GEO_LONS),
            R.choice(GEO_LATS[:8]) if R.random() < 0.95 else R.choice(GEO_LATS)]


def g_geoadd():
    a = [cased("GEOADD"), key()]
    opts = [o for o in (R.choice(["NX", "XX", None, None, None]), R.choice(["CH", None])) if o]
    if R.random() < 0.05:
        opts.append(R.choice(["NX", "XX", "GT", "INCR"]))
    R.shuffle(opts)
    a += [kw(o) for o in opts]
    for _ in range(R.randint(1, 4)):
        a += geo_pos() + [member()]
    return a, "exact"


def geo_opts(store_ok, search):
    a = []
    for _ in range(R.randint(0, 3)):
        r = R.random()
        if r < 0.15:
            a.append(kw(R.choice(["WITHDIST", "WITHCOORD", "WITHHASH"])))
        elif r < 0.3:
            a.append(kw(R.choice(["ASC", "DESC"])))
        elif r < 0.5:
            a += [kw("COUNT"), R.choice(["1", "2", "3", "5", "0", "-1", "a"])]
            if R.random() < 0.3:
                a.append(kw("ANY"))
        elif r < 0.6 and store_ok:
            a += [kw(R.choice(["STORE", "STOREDIST"])), key()]
        elif r < 0.65 and search:
            a.append(kw("STOREDIST"))
        elif r < 0.7:
            a.append(kw(R.choice(["ANY", "STORE", "FOO"])))
    return a


def geo_shape():
    if R.random() < 0.5:
        return [kw("BYRADIUS"), R.choice(GEO_DISTS), R.choice(GEO_UNITS)]
    return [kw("BYBOX"), R.choice(GEO_DISTS), R.choice(GEO_DISTS), R.choice(GEO_UNITS)]


def geo_from():
    if R.random() < 0.5:
        return [kw("FROMMEMBER"), member()]
    return [kw("FROMLONLAT")] + geo_pos()


def g_geosearch(store):
    def g():
        a = [cased("GEOSEARCHSTORE" if store else "GEOSEARCH")] + ([key()] if store else []) + [key()]
        parts = [geo_from(), geo_shape()]
        if R.random() < 0.1:
            parts.append(geo_from() if R.random() < 0.5 else geo_shape())
        R.shuffle(parts)
        for p in parts:
            a += p
        a += geo_opts(False, store)
        return a, "exact"
    return g


def g_xread():
    a = [cased("XREAD")]
    if R.random() < 0.4:
        a += [kw("COUNT"), R.choice(["1", "2", "0", "-1", "a"])]
    if R.random() < 0.15:
        a += [kw("BLOCK"), R.choice(["10", "-1", "a"])]
    if R.random() < 0.05:
        a += [kw(R.choice(["GROUP", "NOACK"]))]
    n = R.randint(1, 2)
    ks = [key() for _ in range(n)]
    ids = [sid() for _ in range(n + (1 if R.random() < 0.05 else 0))]
    return a + [kw("STREAMS")] + ks + ids, "exact"


def g_xreadgroup():
    a = [cased("XREADGROUP"), kw("GROUP"), R.choice(GROUPS), R.choice(CONSUMERS)]
    if R.random() < 0.4:
        a += [kw("COUNT"), R.choice(["1", "2", "0", "-1", "a"])]
    if R.random() < 0.1:
        a += [kw("BLOCK"), R.choice(["10", "-1", "a"])]
    if R.random() < 0.3:
        a.append(kw("NOACK"))
    n = R.randint(1, 2)
    ks = [key() for _ in range(n)]
    ids = [">" if R.random() < 0.6 else sid() for _ in range(n)]
    return a + [kw("STREAMS")] + ks + ids, "exact"


def g_xgroup():
    sub = R.choice(["CREATE", "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER", "HELP", "FOO"])
    a = [cased("XGROUP"), kw(sub)]
    if sub == "HELP":
        return a, "exact"
    a += [key(), R.choice(GROUPS)]
    if sub in ("CREATE", "SETID"):
        a.append(R.choice(["$", "0", sid()]))
        if sub == "CREATE" and R.random() < 0.4:
            a.append(kw("MKSTREAM"))
        if R.random() < 0.3:
            a += [kw("ENTRIESREAD"), R.choice(["0", "3", "-1", "-2", "a"])]
    elif sub in ("CREATECONSUMER", "DELCONSUMER"):
        a.append(R.choice(CONSUMERS))
    return a, "exact"


def g_xack():
    return [cased("XACK"), key(), R.choice(GROUPS)] + [sid() for _ in range(R.randint(1, 3))], "exact"


def g_xpending():
    a = [cased("XPENDING"), key(), R.choice(GROUPS)]
    if R.random() < 0.5:
        return a, "exact"
    if R.random() < 0.2:
        a += [kw("IDLE"), R.choice(["0", "100000", "a"])]
    a += [sbound(), sbound(), R.choice(["10", "1", "0", "-1", "a"])]
    if R.random() < 0.4:
        a.append(R.choice(CONSUMERS))
    return a, "shape"


def g_xclaim():
    a = [cased("XCLAIM"), key(), R.choice(GROUPS), R.choice(CONSUMERS), R.choice(["0", "0", "100000", "a", "-1"])]
    a += [sid() for _ in range(R.randint(1, 3))]
    mode = "exact"
    for _ in range(R.randint(0, 2)):
        o = R.choice(["FORCE", "JUSTID", "RETRYCOUNT", "LASTID", "IDLE", "TIME", "FOO"])
        a.append(kw(o))
        if o in ("RETRYCOUNT", "IDLE", "TIME"):
            a.append(R.choice(["0", "5", "a"]))
        if o == "LASTID":
            a.append(sid())
        if o in ("IDLE", "TIME"):
            mode = "shape"
    return a, mode


def g_xautoclaim():
    a = [cased("XAUTOCLAIM"), key(), R.choice(GROUPS), R.choice(CONSUMERS), R.choice(["0", "0", "100000", "a"]), sbound()]
    if R.random() < 0.4:
        a += [kw("COUNT"), R.choice(["1", "2", "0", "a", "100"])]
    if R.random() < 0.3:
        a.append(kw("JUSTID"))
    return a, "exact"


def g_xinfo():
    sub = R.choice(["STREAM", "STREAM", "GROUPS", "CONSUMERS", "HELP", "FOO"])
    a = [cased("XINFO"), kw(sub)]
    if sub == "HELP":
        return a, "exact"
    a.append(key())
    mode = "exact"
    if sub == "CONSUMERS":
        a.append(R.choice(GROUPS))
        mode = "shape"
    if sub == "STREAM" and R.random() < 0.3:
        a.append(kw("FULL"))
        mode = "shape"
        if R.random() < 0.5:
            a += [kw("COUNT"), R.choice(["1", "0", "-1", "a"])]
    return a, mode


def g_xsetid():
    a = [cased("XSETID"), key(), sid()]
    if R.random() < 0.3:
        a += [kw("ENTRIESADDED"), R.choice(["0", "5", "100", "-1", "a"])]
    if R.random() < 0.3:
        a += [kw("MAXDELETEDID"), sid()]
    return a, "exact"

def g_georadius(name, by_member, store_ok):
    def g():
        a = [cased(name), key()] + ([member()] if by_member else geo_pos())
        a += [R.choice(GEO_DISTS), R.choice(GEO_UNITS)] + geo_opts(store_ok, False)
        return a, "exact"
    return g


def g_geoquery():
    name = R.choice(["GEOPOS", "GEOHASH", "GEODIST"])
    if name == "GEODIST":
        a = [cased(name), key(), member(), member()] + ([R.choice(GEO_UNITS)] if R.random() < 0.5 else [])
    else:
        a = [cased(name), key()] + [member() for _ in range(R.randint(0, 3))]
    return a, "exact"


def g_sort():
    """SORT / SORT_RO. The elements and `k*` patterns meet the fuzzer's
    own keys (elements 0-5 make k0..k5). Left out where Redis's order is
    not defined: BY nosort on a set (compared sorted, without LIMIT), and
    ALPHA with a BY pattern (ties follow the set's hash order)."""
    name = R.choice(["SORT", "SORT", "SORT_RO"])
    a = [cased(name), key()]
    by = None
    r = R.random()
    if r < 0.25:
        by = R.choice(["nosort", "k*", "k*->f1", "k*->a", "nokey_*"])
    alpha = R.random() < 0.3 and (by is None or by == "nosort")
    opts = []
    if by:
        opts.append([kw("BY"), by])
    if alpha:
        opts.append([kw("ALPHA")])
    if R.random() < 0.3:
        opts.append([kw(R.choice(["ASC", "DESC"]))])
    if R.random() < 0.3 and by != "nosort":
        opts.append([kw("LIMIT"), R.choice(["0", "1", "-1", "2", "a"]), R.choice(["0", "1", "2", "-1", "10"])])
    for _ in range(R.choice([0, 0, 1, 2])):
        opts.append([kw("GET"), R.choice(["#", "k*", "k*->f1", "k*->a", "nokey_*", "#x"])])
    if R.random() < 0.2:
        opts.append([kw("STORE"), key()])
    if R.random() < 0.03:
        opts.append([kw(R.choice(["FOO", "LIMIT", "BY", "GET", "STORE"]))])
    R.shuffle(opts)
    for o in opts:
        a += o
    stored = any(o[0].upper() == "STORE" for o in opts)
    # A lone BY keyword (the junk option) can take the next option's word
    # as its pattern: a pattern without `*` is nosort too.
    nosort = by == "nosort" or any(x.upper() == "BY" and "*" not in y for x, y in zip(a[2:], a[3:]))
    if nosort and not stored:
        limited = any(x.upper() == "LIMIT" for x in a[2:])
        return a, ("shape" if limited else "sorted")
    return a, "exact"

# ---------------------------------------------------------------- scripts (EVAL of generated Lua)
# EVAL / EVAL_RO / EVALSHA(_RO) of generated scripts: redis.call / redis.pcall
# of commands from the grammar above (their replies converted to Lua and
# back, or described from inside Lua by D so the Lua-side values themselves
# are compared: types, error/status tables, doubles, maps and sets after
# redis.setresp(3)), and return values of every conversion: integers and
# floats (truncated in RESP2), strings, tables with holes, nil/false/true,
# error and status tables, nested tables, RESP3 tables (double, map, set,
# big_number, verbatim_string), raised errors (error() with a string, a
# table, a number, nothing), bad redis.* arguments. Some scripts span
# several lines (the error suffix names the line). SCRIPT EXISTS/LOAD of
# recent scripts too. Families of commands whose replies are random (SPOP,
# SRANDMEMBER, ...) or unspecified (BYLEX) are not called from scripts.


# A Lua function describing any value as a string, keys sorted.
LUA_D = ("local function D(v) local t = type(v) "
         "if t == 'table' then local ks = {} for k in pairs(v) do ks[#ks + 1] = k end "
         "table.sort(ks, function(a, b) return tostring(a) < tostring(b) end) "
         "local o = {} for _, k in ipairs(ks) do o[#o + 1] = tostring(k) .. '=' .. D(v[k]) end "
         "return '{' .. table.concat(o, ',') .. '}' "
         "elseif t == 'string' then return string.format('%q', v) "
         "elseif t == 'number' then return string.format('%.17g', v) "
         "else return tostring(v) end end ")
SCRIPTS = []         # recent script bodies (EVALSHA, SCRIPT EXISTS)
SHA_BODIES = {}      # SHA1 -> body of every script generated (shown in reports)
SHA_MODES = {}       # SHA1 -> how its reply is compared (EVALSHA of it)
SCRIPT_MODES = ("exact", "sorted", "pairs", "ttl", "object", "scan", "scanpairs")


def lua_lit(s):
    out = []
    for ch in (s if isinstance(s, bytes) else s.encode()):
        if ch in (39, 92) or ch < 32 or ch > 126:
            out.append("\\%03d" % ch)
        else:
            out.append(chr(ch))
    return "'" + "".join(out) + "'"


def lua_num():
    return R.choice(["0", "1", "-1", "3", "1.5", "-1.5", "0.1", "3.0", "-0.0", "1e20", "-1e20", "2^53", "2^63",
                     "-2^63", "2^63 - 1", "0/0", "1/0", "-1/0", "1e-300", "123456789.123", "0.5", "-0.5", "2.5",
                     "4294967296.7", "100"])


def lua_value(depth=0):
    r = R.random()
    if r < 0.2 or depth > 2:
        return lua_num()
    if r < 0.32:
        return lua_lit(R.choice(["", "abc", "a\r\nb", "\x00\x01", "1", "1.5", "OK", "-ERR x", "+x", "nil"]))
    if r < 0.4:
        return R.choice(["nil", "false", "true"])
    if r < 0.6:      # array, maybe with holes and a non-array key
        items = [lua_value(depth + 1) for _ in range(R.randint(0, 4))]
        if R.random() < 0.2:
            items.append(R.choice(["x=1", "[0]=5", "[-1]=6", "[1.5]=7", "ok='s'", "err='e'"]))
        return "{" + ", ".join(items) + "}"
    if r < 0.7:
        k = R.choice(["ok", "err"])
        v = R.choice([lua_lit(R.choice(["fine", "", "a\nb", "-x", "ERR y", "WRONGTYPE z"])), lua_num(), "{}", "true"])
        return "{%s=%s}" % (k, v)
    if r < 0.76:
        return R.choice(["redis.error_reply", "redis.status_reply"]) + "(%s)" % R.choice(
            [lua_lit(R.choice(["x", "", "-x", "ERR y", "a\nb"])), lua_num(), "nil", "{}", ""])
    if r < 0.9:      # RESP3 tables (arrays/errors in RESP2)
        kind = R.choice(["double", "map", "set", "big_number", "verbatim_string"])
        if kind == "double":
            v = R.choice([lua_num(), lua_lit(R.choice(["1.5", "abc", "inf"]))])
        elif kind in ("map", "set"):
            pairs = ["[%s]=%s" % (lua_value(depth + 2), lua_value(depth + 2)) for _ in range(R.randint(0, 2))]
            pairs = [p for p in pairs if not p.startswith("[nil]") and not p.startswith("[0/0]")]
            v = "{" + ", ".join(pairs) + "}" if R.random() < 0.9 else lua_num()
        elif kind == "big_number":
            v = R.choice([lua_lit(R.choice(["123", "-99999999999999999999", "abc", ""])), lua_num()])
        else:
            v = R.choice(["{format='txt', string='hi'}", "{format='mkd', string=''}", "{format='txt'}",
                          "{string='x'}", "'x'", "{format='toolong', string='y'}"])
        return "{%s=%s}" % (kind, v)
    if r < 0.95:
        return "{" + ", ".join(lua_value(depth + 1) for _ in range(R.randint(1, 3))) + "}"
    return R.choice(["math.random()", "math.random(10)", "tostring(%s)" % lua_num(), "tonumber('0x10')",
                     "string.format('%%d', %s)" % lua_num(), "#KEYS", "ARGV[1]", "KEYS[1]", "redis.sha1hex('x')",
                     "type(redis.call('ping'))", "redis.REDIS_VERSION", "cjson.encode({1, 2, 'a'})",
                     "string.rep('x', 3)", "1 .. ''"])


def inner_command():
    """A command from the grammar for a script to call, and its reply mode."""
    global FAMILY
    for _ in range(50):
        fam, g = R.choice(BASE_GEN_CHOICES)
        FAMILY = fam
        args, mode = g()
        if mode in SCRIPT_MODES:
            return args, mode
    return ["PING"], "exact"


def lua_call_expr(args, keys_, argv):
    """redis.call/pcall's argument list: literals, some keys through KEYS,
    some values through ARGV, numbers sometimes as Lua numbers."""
    parts = []
    for i, a in enumerate(args):
        if i > 0 and isinstance(a, str) and a in KEYS and R.random() < 0.4:
            if a not in keys_:
                keys_.append(a)
            parts.append("KEYS[%d]" % (keys_.index(a) + 1))
        elif i > 0 and R.random() < 0.1:
            argv.append(a)
            parts.append("ARGV[%d]" % len(argv))
        elif i > 0 and isinstance(a, str) and re.fullmatch(r"-?\d{1,15}(\.\d+)?", a) and R.random() < 0.3:
            parts.append(a)           # a Lua number: integers as %d, others as %.17g
        else:
            parts.append(lua_lit(a))
    if R.random() < 0.02:
        parts.insert(R.randint(1, len(parts)), R.choice(["nil", "{}", "true", "1.5", "0.1"]))
    return ", ".join(parts)


def g_eval():
    keys_, argv = [], []
    lines = []
    mode = "exact"
    resp3 = R.random() < 0.3
    if resp3:
        lines.append("redis.setresp(3)")
    if R.random() < 0.02:
        lines.append("redis.setresp(%s)" % R.choice(["4", "'3'", "", "2, 3"]))
    shape = R.random()
    if shape < 0.35:          # one call, its reply converted back
        args, mode = inner_command()
        fn = R.choice(["call", "pcall"])
        lines.append("return redis.%s(%s)" % (fn, lua_call_expr(args, keys_, argv)))
    elif shape < 0.6:         # calls, described from inside Lua
        lines.insert(0, LUA_D)
        outs = []
        for i in range(R.randint(1, 3)):
            args, m = inner_command()
            fn = R.choice(["pcall", "pcall", "call"])
            if m != "exact":
                lines.append("local r%d = redis.%s(%s)" % (i, fn, lua_call_expr(args, keys_, argv)))
                outs.append("type(r%d)" % i)
            else:
                lines.append("local r%d = redis.%s(%s)" % (i, fn, lua_call_expr(args, keys_, argv)))
                outs.append("D(r%d)" % i)
        lines.append("return {%s}" % ", ".join(outs))
    elif shape < 0.75:        # calls, replies returned together (holes where nil/false)
        outs = []
        for i in range(R.randint(1, 3)):
            args, m = inner_command()
            if m != "exact":
                args, m = ["GET", key()], "exact"
            lines.append("local r%d = redis.pcall(%s)" % (i, lua_call_expr(args, keys_, argv)))
            outs.append("r%d" % i)
        lines.append("return {%s}" % ", ".join(outs))
    elif shape < 0.93:        # a value's conversion
        lines.append("return " + lua_value())
    else:                     # errors raised
        lines.append(R.choice([
            # (redis-server 7.0.15 crashes on error() of a table without a string or number err field)
            "error(%s)" % R.choice([lua_num(), lua_lit("msg"), "nil", "true", "{err=%s}" % lua_num()]), "error()", "error({err=%s})" % lua_lit(R.choice(["x", "ERR y", "-z", ""])),
            "error(redis.error_reply('boom'))", "assert(false, 'nope')", "return nosuchglobal",
            "nosuch = 1", "return redis.call()", "return redis.call({})", "return redis.pcall('nosuchcmd')",
            "return redis.call('eval', 'return 1', '0')", "return redis.call('multi')",
            "return redis.call('select', 1)", "return redis.sha1hex()", "return redis.log(redis.LOG_WARNING)",
            "return string.sub()", "local t = nil return t.x", "return 1 + {}", "return #nil",
            "return redis.status_reply()", "return cjson.decode('{')", "return redis.acl_check_cmd('nosuch')",
            "return redis.setresp()", "return redis.set_repl(9)", "return loadstring('return 1')()",
            "return pcall(error, 'x')", "return {pcall(redis.call, 'incr', 'k0')}",
        ]))
    if R.random() < 0.1:      # a syntax error
        lines[-1] = lines[-1][:R.randint(0, len(lines[-1]))] + R.choice(["", " end", " +", " (", "'"])
    sep = "\n" if R.random() < 0.5 else " "
    body = sep.join(lines)
    if R.random() < 0.05:
        body = R.choice(["#!lua\n", "#!lua flags=no-writes\n", "#!lua flags=allow-oom,no-cluster\n",
                         "#!lua flags=bad\n", "#!luax\n", "#!lua foo=bar\n", "#!lua flags=\n"]) + body
    if body not in SCRIPTS:
        SHA_BODIES[hashlib.sha1(body.encode()).hexdigest()] = body
        SHA_MODES[hashlib.sha1(body.encode()).hexdigest()] = mode
        SCRIPTS.append(body)
        del SCRIPTS[:-50]
    argv += [R.choice(["a", "1", "", "2.5"]) for _ in range(R.randint(0, 1))]
    r = R.random()
    if r < 0.1 and SCRIPTS:
        old = R.choice(SCRIPTS)
        sha = hashlib.sha1(old.encode()).hexdigest()
        return [cased("EVALSHA" if R.random() < 0.7 else "EVALSHA_RO"),
                sha.upper() if R.random() < 0.2 else sha, "0"], SHA_MODES.get(sha, "exact")
    if r < 0.13:
        return [cased("SCRIPT"), cased("EXISTS")] + [hashlib.sha1(s.encode()).hexdigest() for s in SCRIPTS[-3:]] + \
            ["0" * 40], "exact"
    if r < 0.16:
        return [cased("SCRIPT"), cased("LOAD"), body], "exact"
    name = "EVAL_RO" if r < 0.22 else "EVAL"
    nk = str(len(keys_))
    if R.random() < 0.02:
        nk = R.choice(["-1", "a", str(len(keys_) + len(argv) + 1), "1.5"])
    return [cased(name), body, nk] + keys_ + argv, mode


GENS = [
    # strings
    (6, "str", g_set), (3, "str", simple("GET", key)), (1, "str", simple("GETSET", key, value)), (1, "str", simple("GETDEL", key)),
    (2, "str", g_getex), (2, "str", simple("APPEND", key, value)), (1, "str", simple("STRLEN", key)),
    (2, "str", simple("INCR", key)), (1, "str", simple("DECR", key)), (2, "str", simple("INCRBY", key, intarg)),
    (1, "str", simple("DECRBY", key, intarg)), (2, "str", simple("INCRBYFLOAT", key, floatarg)),
    (2, "str", simple("GETRANGE", key, idx, idx)), (2, "str", g_setrange),
    (1, "str", varargs("MSET", [], lambda: [key(), value()], 1, 3)), (1, "str", varargs("MGET", [], key, 1, 4)),
    (1, "str", varargs("MSETNX", [], lambda: [key(), value()], 1, 3)), (1, "str", simple("SETNX", key, value)), (2, "str", g_lcs),
    # bitmaps
    (2, "str", simple("SETBIT", key, bitoff, lambda: R.choice(["0", "1", "1", "2", "a", "-1"]))),
    (1, "str", simple("GETBIT", key, bitoff)), (2, "str", g_bitcount), (2, "str", g_bitpos), (1, "str", g_bitop), (3, "str", g_bitfield),
    (1, "str", lambda: g_bitfield(True)),
    # keys
    (2, "any", varargs("DEL", [], key, 1, 3)), (2, "any", varargs("EXISTS", [], key, 1, 3)), (2, "any", simple("TYPE", key)),
    (1, "any", simple("RENAME", key, key)), (1, "any", simple("RENAMENX", key, key)), (2, "any", g_copy), (1, "any", simple("PERSIST", key)),
    (2, "any", g_expire("EXPIRE", secs)), (1, "any", g_expire("PEXPIRE", msecs)), (1, "any", g_expire("EXPIREAT", abs_secs)),
    (1, "any", g_expire("PEXPIREAT", abs_msecs)),
    (1, "any", simple("TTL", key, mode="ttl")), (1, "any", simple("PTTL", key, mode="ttl")),
    (1, "any", simple("EXPIRETIME", key, mode="ttl")), (1, "any", simple("PEXPIRETIME", key, mode="ttl")),
    (3, "any", g_object), (1, "any", varargs("TOUCH", [], key, 1, 3)), (1, "any", varargs("UNLINK", [], key, 1, 3)),
    (1, "any", g_keys), (1, "any", simple("DBSIZE")), (1, "any", simple("RANDOMKEY", mode="shape")),
    # lists
    (7, "list", varargs("LPUSH", [key], member, 1, 5)), (7, "list", varargs("RPUSH", [key], member, 1, 5)),
    (1, "list", varargs("LPUSHX", [key], member, 1, 3)), (1, "list", varargs("RPUSHX", [key], member, 1, 3)),
    (2, "list", g_pop("LPOP")), (2, "list", g_pop("RPOP")), (1, "list", simple("LLEN", key)), (3, "list", simple("LRANGE", key, idx, idx)),
    (2, "list", simple("LINDEX", key, idx)), (2, "list", simple("LSET", key, idx, member)), (2, "list", g_linsert),
    (2, "list", simple("LREM", key, lambda: R.choice(["0", "1", "-1", "2", "-2", "a", "100"]), member)),
    (1, "list", simple("LTRIM", key, idx, idx)), (3, "list", g_lpos), (2, "list", g_lmove), (1, "list", simple("RPOPLPUSH", key, key)),
    (2, "list", g_lmpop),
    # hashes
    (6, "hash", varargs("HSET", [key], lambda: [field(), value()], 1, 4)), (1, "hash", varargs("HMSET", [key], lambda: [field(), value()], 1, 2)),
    (1, "hash", simple("HSETNX", key, field, value)), (2, "hash", simple("HGET", key, field)), (1, "hash", varargs("HMGET", [key], field, 1, 3)),
    (2, "hash", varargs("HDEL", [key], field, 1, 3)), (1, "hash", simple("HLEN", key)), (1, "hash", simple("HSTRLEN", key, field)),
    (1, "hash", simple("HEXISTS", key, field)), (1, "hash", simple("HKEYS", key, mode="sorted")),
    (1, "hash", simple("HVALS", key, mode="sorted")), (2, "hash", simple("HGETALL", key, mode="pairs")),
    (2, "hash", simple("HINCRBY", key, field, intarg)), (2, "hash", simple("HINCRBYFLOAT", key, field, floatarg)),
    (1, "hash", g_hrandfield),
    # sets
    (8, "set", varargs("SADD", [key], setmember, 1, 5)), (2, "set", varargs("SREM", [key], setmember, 1, 3)),
    (1, "set", simple("SISMEMBER", key, setmember)), (1, "set", varargs("SMISMEMBER", [key], setmember, 1, 3)),
    (1, "set", simple("SCARD", key)), (2, "set", simple("SMEMBERS", key, mode="sorted")), (1, "set", simple("SMOVE", key, key, setmember)),
    (1, "set", varargs("SINTER", [], key, 1, 3, mode="sorted")), (1, "set", g_sintercard),
    (1, "set", varargs("SINTERSTORE", [key], key, 1, 3)), (1, "set", varargs("SUNION", [], key, 1, 3, mode="sorted")),
    (1, "set", varargs("SUNIONSTORE", [key], key, 1, 3)), (1, "set", varargs("SDIFF", [], key, 1, 3, mode="sorted")),
    (1, "set", varargs("SDIFFSTORE", [key], key, 1, 3)), (1, "set", g_spop), (1, "set", g_srandmember),
    # sorted sets
    (12, "zset", g_zadd), (2, "zset", simple("ZINCRBY", key, floatarg, member)), (2, "zset", varargs("ZREM", [key], member, 1, 3)),
    (1, "zset", simple("ZCARD", key)), (2, "zset", simple("ZSCORE", key, member)), (1, "zset", varargs("ZMSCORE", [key], member, 1, 3)),
    (1, "zset", simple("ZRANK", key, member)), (1, "zset", simple("ZREVRANK", key, member)),
    (2, "zset", simple("ZCOUNT", key, srange, srange)),
    (2, "zset", simple("ZLEXCOUNT", key, lrange_, lrange_, mode="lex")), (3, "zset", g_zadd_lex),
    (5, "zset", g_zrange()), (2, "zset", g_zrange(True)), (2, "zset", g_zrevrange),
    (2, "zset", g_zrangeby("ZRANGEBYSCORE", "score")), (2, "zset", g_zrangeby("ZREVRANGEBYSCORE", "score")),
    (2, "zset", g_zrangeby("ZRANGEBYLEX", "lex")), (2, "zset", g_zrangeby("ZREVRANGEBYLEX", "lex")),
    (1, "zset", simple("ZREMRANGEBYRANK", key, idx, idx)),
    (1, "zset", simple("ZREMRANGEBYSCORE", key, srange, srange)),
    (1, "zset", simple("ZREMRANGEBYLEX", key, lrange_, lrange_, mode="lex")),
    (2, "zset", g_zpop("ZPOPMIN")), (2, "zset", g_zpop("ZPOPMAX")), (2, "zset", g_zmpop),
    (1, "zset", g_zsetop("ZUNIONSTORE", True)), (1, "zset", g_zsetop("ZINTERSTORE", True)), (1, "zset", g_zsetop("ZDIFFSTORE", True, False)),
    (1, "zset", g_zsetop("ZUNION", False)), (1, "zset", g_zsetop("ZINTER", False)), (1, "zset", g_zsetop("ZDIFF", False, False)),
    (1, "zset", g_zintercard), (1, "zset", g_zrandmember),
    # geo (over sorted sets) and SORT
    (4, "zset", g_geoadd), (3, "zset", g_geosearch(False)), (2, "zset", g_geosearch(True)),
    (1, "zset", g_georadius("GEORADIUS", False, True)), (1, "zset", g_georadius("GEORADIUS_RO", False, False)),
    (1, "zset", g_georadius("GEORADIUSBYMEMBER", True, True)),
    (1, "zset", g_georadius("GEORADIUSBYMEMBER_RO", True, False)), (2, "zset", g_geoquery),
    (3, "any", g_sort),
    # extra string commands, scans, OBJECT subcommands, MOVE, transactions, arity/unknown commands
    (1, "str", simple("SETEX", key, secs, value)), (1, "str", simple("PSETEX", key, msecs, value)),
    (1, "str", simple("SUBSTR", key, idx, idx)), (1, "any", simple("MOVE", key, lambda: R.choice(["1", "0", "a", "16", "-1"]))),
    (1, "any", g_scan("SCAN")), (1, "set", g_scan("SSCAN")), (1, "hash", g_scan("HSCAN")), (1, "zset", g_scan("ZSCAN")),
    (1, "any", g_object_other), (1, "any", g_tx), (4, "any", g_arity),
    (1, "list", g_blocking), (1, "zset", g_blocking),
    # big collections
    (2, "any", g_big),
    # HyperLogLog
    (6, "hll", g_pfadd), (3, "hll", varargs("PFCOUNT", [], key, 1, 3)), (2, "hll", varargs("PFMERGE", [key], key, 0, 3)),
    (2, "hll", g_pfdebug), (1, "hll", g_hll_value), (1, "hll", simple("DEL", key)), (1, "hll", g_hll_config), (2, "hll", simple("GET", key)),
    # streams
    (8, "stream", g_xadd), (3, "stream", g_xrange("XRANGE")), (2, "stream", g_xrange("XREVRANGE")),
    (1, "stream", simple("XLEN", key)), (2, "stream", varargs("XDEL", [key], sid, 1, 3)), (2, "stream", g_xtrim),
    (3, "stream", g_xread), (4, "stream", g_xreadgroup), (4, "stream", g_xgroup), (2, "stream", g_xack),
    (2, "stream", g_xpending), (2, "stream", g_xclaim), (2, "stream", g_xautoclaim), (3, "stream", g_xinfo),
    (1, "stream", g_xsetid),
    # scripts
    (8, "script", g_eval),
]
# What a script calls: the grammar's generators except scripts themselves
BASE_GEN_CHOICES = [(fam, g) for w, fam, g in GENS for _ in range(w) if fam != "script"]


# ---------------------------------------------------------------- RESP3 grammar (--resp3 only)
# Commands whose RESP3 replies are special (maps, sets, pushes, verbatim
# strings, nulls) and that the RESP2 grammar does not send: pub/sub (pushes,
# also while subscribed), keyspace notifications, client-side caching
# (invalidation pushes), CONFIG GET / CLIENT TRACKINGINFO / PUBSUB NUMSUB /
# COMMAND INFO|DOCS / MEMORY STATS / LATENCY HISTOGRAM / HELLO (maps), INFO /
# CLIENT INFO|LIST / MEMORY DOCTOR (verbatim), ZRANK WITHSCORE, EXEC after a
# failed WATCH (null), RESET (back to RESP2). Some generators queue a short
# sequence of commands (QUEUE) that the next calls of gen() return in order.

QUEUE = []
CHANNELS = ["ch1", "ch2", "news.a", "k0", "__keyspace@0__:k0"]
PATTERNS = ["ch*", "news.*", "*", "k?", "__key*__:*", "__keyevent@0__:*", "ch[12]", "["]


def g_subscribe():
    c = R.choice(["SUBSCRIBE", "SUBSCRIBE", "PSUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
                  "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"])
    pool = PATTERNS if c.startswith("P") else CHANNELS
    n = R.choice([0, 1, 1, 2, 3]) if "UNSUB" in c else R.choice([0, 1, 1, 1, 2, 3] if R.random() < 0.1 else [1, 1, 2])
    return [cased(c)] + [R.choice(pool) for _ in range(n)], "unsub" if "UNSUB" in c and n == 0 else "push"


def g_publish():
    c = R.choice(["PUBLISH", "PUBLISH", "PUBLISH", "SPUBLISH"])
    a = [cased(c), R.choice(CHANNELS), R.choice(["hi", "", "1.5", "x" * 70])]
    return a[:R.choice([3, 3, 3, 3, 3, 3, 3, 3, 3, 2])], "push"


def g_pubsub_info():
    sub = R.choice(["CHANNELS", "NUMSUB", "NUMPAT", "SHARDCHANNELS", "SHARDNUMSUB", "HELP", "FOO"])
    a = [cased("PUBSUB"), kw(sub)]
    if sub in ("CHANNELS", "SHARDCHANNELS"):
        if R.random() < 0.5:
            a.append(R.choice(PATTERNS))
        return a, "sorted"
    if sub in ("NUMSUB", "SHARDNUMSUB"):
        a += [R.choice(CHANNELS) for _ in range(R.randint(0, 3))]
    return a, "exact"


def g_notify_config():
    flags = R.choice(["KEA", "AKE", "Kg$", "El", "KA", "", "Ex", "Kz", "Eh", "Ks", "K$lshzxeg", "KEA", "q"])
    return [cased("CONFIG"), kw("SET"), "notify-keyspace-events", flags], "exact"


def g_tracking():
    r = R.random()
    if r < 0.6:
        a = [cased("CLIENT"), kw("TRACKING"), kw(R.choice(["ON", "ON", "ON", "OFF", "maybe"]))]
        opts = []
        if R.random() < 0.3:
            opts.append([kw("BCAST")])
            for _ in range(R.randint(0, 2)):
                opts.append([kw("PREFIX"), R.choice(["k", "k1", "", "k0", "f"])])
        if R.random() < 0.2:
            opts.append([kw(R.choice(["OPTIN", "OPTOUT"]))])
        if R.random() < 0.2:
            opts.append([kw("NOLOOP")])
        if R.random() < 0.05:
            opts.append([kw(R.choice(["REDIRECT", "FOO", "PREFIX"]))] + (["1"] if R.random() < 0.5 else []))
        return a + opt_order(opts), "push"
    if r < 0.8:
        return [cased("CLIENT"), kw("CACHING"), kw(R.choice(["YES", "NO", "maybe"]))], "push"
    if r < 0.9:
        return [cased("CLIENT"), kw("TRACKINGINFO")], "exact"
    return [cased("CLIENT"), kw("GETREDIR")], "exact"


def g_client():
    r = R.choice(["GETNAME", "GETNAME", "SETNAME", "SETNAME", "ID", "INFO", "LIST", "NO-EVICT", "HELP", "FOO", "UNBLOCK"])
    a = [cased("CLIENT"), kw(r)]
    if r == "SETNAME":
        a.append(R.choice(["n1", "n2", "bad name", ""]))
    elif r == "NO-EVICT":
        a.append(kw(R.choice(["ON", "OFF", "maybe"])))
    elif r == "UNBLOCK":
        a += [R.choice(["123456", "a", "-1"])] + ([kw(R.choice(["TIMEOUT", "ERROR", "FOO"]))] if R.random() < 0.5 else [])
    if r in ("ID", "INFO", "LIST"):
        return a, "typeonly"
    if r == "HELP":
        return a, "typeshape"
    return a, "exact"


CONFIG_PARAMS = ["maxmemory", "maxmemory-policy", "hash-max-listpack-entries", "hash-max-ziplist-entries",
                 "zset-max-listpack-entries", "set-max-intset-entries", "list-max-listpack-size", "timeout",
                 "databases", "nonexistent", "*max-*-entries*", "lazyfree-lazy-user-del", "notify-keyspace-events",
                 "appendonly", "zset-max-ziplist-value", "maxmemory-samples"]


def g_config_get():
    return [cased("CONFIG"), kw("GET")] + [R.choice(CONFIG_PARAMS) for _ in range(R.choice([0, 1, 1, 1, 2, 3]))], "sorted"


def g_admin():
    c = R.choice(["COMMAND COUNT", "COMMAND INFO", "COMMAND DOCS", "COMMAND GETKEYS", "INFO", "MEMORY USAGE",
                  "MEMORY STATS", "MEMORY DOCTOR", "LATENCY DOCTOR", "LATENCY LATEST", "LATENCY HISTOGRAM",
                  "SLOWLOG LEN", "SLOWLOG GET", "TIME", "LASTSAVE", "DBSIZE", "ECHO", "PING", "PING"])
    a = [cased(x) for x in c.split()]
    if c == "COMMAND COUNT" or c in ("INFO", "MEMORY DOCTOR", "LATENCY DOCTOR", "SLOWLOG LEN", "SLOWLOG GET",
                                      "LASTSAVE", "LATENCY LATEST"):
        if c == "INFO" and R.random() < 0.5:
            a.append(R.choice(["server", "keyspace", "clients", "foo", "memory"]))
        return a, "typeonly"
    if c in ("COMMAND INFO", "COMMAND DOCS"):
        a += [R.choice(["get", "zadd", "set", "zrange", "foo", "client|list", "hgetall"]) for _ in range(R.randint(0, 2))]
        return a, "typeshape" if c == "COMMAND INFO" else "typeshape1"
    if c == "COMMAND GETKEYS":
        a += R.choice([["set", "a", "b"], ["mget", "a", "b"], ["zunionstore", "d", "2", "a", "b"], ["get"], ["foo", "a"],
                       ["lmpop", "2", "a", "b", "LEFT"], ["ping"]])
        return a, "exact"
    if c == "MEMORY USAGE":
        return a + [key()], "typeonly"
    if c == "MEMORY STATS":
        return a, "typeshape"
    if c == "LATENCY HISTOGRAM":
        return a + [R.choice(["get", "set", "zadd", "foo"]) for _ in range(R.randint(0, 2))], "typeshape1"
    if c == "TIME":
        return a, "typeshape"
    if c == "ECHO":
        return a + [R.choice(["hi", "", "1.5"])], "exact"
    if R.random() < 0.3:
        a.append("hello")
    return a, "exact"


def g_hello():
    a = R.choice([["HELLO", "3"], ["HELLO", "3"], ["HELLO"], ["HELLO", "4"], ["HELLO", "abc"], ["HELLO", "1"],
                  ["HELLO", "3", "SETNAME", "n1"], ["HELLO", "3", "SETNAME"], ["HELLO", "3", "AUTH", "default", "x"],
                  ["HELLO", "3", "FOO"], ["HELLO", "-1"], ["HELLO", "3", "SETNAME", "bad name"]])
    return [cased(a[0])] + [kw(x) for x in a[1:]], "hello"


def g_zrank_withscore():
    return [cased(R.choice(["ZRANK", "ZREVRANK"])), key(), member(), kw("WITHSCORE")], "exact"


def g_exact_cmd():
    """A command of the RESP2 grammar that is compared exactly (for inside MULTI)."""
    total = sum(g[0] for g in BASE_GENS)
    while True:
        x = R.uniform(0, total)
        for w, fam, g in BASE_GENS:
            x -= w
            if x <= 0:
                break
        args, mode = g()
        if mode == "exact" and args[0].upper() not in ("MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "RESET",
                                                      "HELLO", "FLUSHALL"):
            return args


def g_watch_seq():
    """WATCH, maybe a write that touches the key, MULTI, 1-3 commands, EXEC
    (a touched WATCH makes EXEC answer null: _ in RESP3, *-1 in RESP2)."""
    k = key()
    seq = [[cased("WATCH"), k] + ([key()] if R.random() < 0.2 else [])]
    r = R.random()
    if r < 0.6:
        seq.append(R.choice([["SET", k, "x"], ["DEL", k], ["LPUSH", k, "a"], ["EXPIRE", k, "100"], ["SADD", k, "a"],
                             ["INCR", k], ["PERSIST", k], ["GET", k], ["FLUSHDB"], ["SET", "k5", "y"], ["RENAME", k, "k5"],
                             ["EXPIRE", k, "0"], ["ZADD", k, "1", "a"]]))
    elif r < 0.65:
        seq.append(["UNWATCH"])
    seq.append(["MULTI"])
    for _ in range(R.randint(1, 3)):
        seq.append(g_exact_cmd())
    seq.append(["EXEC"])
    QUEUE.extend((c, "exact") for c in seq[1:])
    return seq[0], "exact"


def g_reset_seq():
    """RESET switches the connection back to RESP2: a command then shows RESP2
    nulls/arrays, then HELLO 3 again."""
    k = key()
    probe = R.choice([["GET", k], ["HGETALL", k], ["ZSCORE", k, "a"], ["LPOP", k, "2"], ["SMEMBERS", k],
                      ["ZRANGE", k, "0", "-1", "WITHSCORES"], ["CONFIG", "GET", "maxmemory"], ["BLPOP", k, "0.01"]])
    QUEUE.append((probe, mode_for(probe)))
    QUEUE.append((["HELLO", "3"], "hello"))
    return [cased("RESET")], "exact"


ODD_DOUBLES = ["0.1", "0.2", "0.3", "1e-5", "123456789012345678", "1e17", "1e16", "12345678901234567", "3.14159",
               "-0", "1e-300", "2.5e-7", "1.1", "100000000000000000000", "9007199254740993", "1e21", "1e22",
               "5e-324", "0.000001", "0.0001", "1e15", "999999999999999", "1e308", "-1e308", "inf", "-inf",
               "2.2250738585072014e-308", "0.5", "-2.5", "33.333333333333336", "1.7976931348623157e308", "7",
               "-12345.678", "4503599627370496.5", "1e-7", "0.00001234"]


def g_zdouble():
    """Scores and increments that print oddly (%.17g: 0.1 -> 0.10000000000000001,
    1e17 -> 1e+17, -0, inf, denormals), then commands replying with doubles."""
    k = key()
    r = R.random()
    if r < 0.35:
        a = [cased("ZADD"), k]
        for _ in range(R.randint(1, 3)):
            a += [R.choice(ODD_DOUBLES), member()]
        return a, "exact"
    if r < 0.55:
        return [cased("ZINCRBY"), k, R.choice(ODD_DOUBLES), member()], "exact"
    if r < 0.65:
        return [cased("ZADD"), k, kw("INCR"), R.choice(ODD_DOUBLES), member()], "exact"
    if r < 0.75:
        return [cased("ZSCORE"), k, member()], "exact"
    if r < 0.8:
        return [cased("ZMSCORE"), k] + [member() for _ in range(R.randint(1, 3))], "exact"
    if r < 0.9:
        return [cased("ZRANGE"), k, "0", "-1", kw("WITHSCORES")], "exact"
    return [cased(R.choice(["INCRBYFLOAT", "HINCRBYFLOAT"]))] + ([k] if R.random() < 0.5 else [k, field()]) + \
        [R.choice(ODD_DOUBLES)], "exact"


BASE_GENS = list(GENS)
GENS3 = [
    (3, "any", g_subscribe), (3, "any", g_publish), (1, "any", g_pubsub_info), (1, "any", g_notify_config),
    (2, "any", g_tracking), (2, "any", g_client), (1, "any", g_config_get), (2, "any", g_admin), (1, "any", g_hello),
    (2, "zset", g_zrank_withscore), (3, "any", g_watch_seq), (1, "any", g_reset_seq), (4, "zset", g_zdouble),
]

TOTAL_W = sum(g[0] for g in GENS)


def pick():
    gens, total = GENS, TOTAL_W
    if FOCUS != "mixed" and R.random() < 0.8:
        gens = [g for g in GENS if g[1] == FOCUS]
        total = sum(g[0] for g in gens)
    x = R.uniform(0, total)
    for w, fam, g in gens:
        x -= w
        if x <= 0:
            return fam, g
    return GENS[-1][1:]


def gen():
    global FAMILY
    if QUEUE:
        return QUEUE.pop(0)
    FAMILY, g = pick()
    args, mode = g()
    r = R.random()
    if r < 0.03 and len(args) > 1:
        args = args[:R.randint(1, len(args) - 1)]          # too few / cut options
        mode = mode_for(args, mode)
    elif r < 0.06:
        tok = R.choice(["foo", "NX", "WITHSCORES", "1", "LIMIT", "COUNT", "-1", "XX", "BYLEX", "REV", "GET"])
        args = args[:]
        args.insert(R.randint(1, len(args)), tok)   # extra / unknown token
        mode = mode_for(args, mode)
    return args, mode


# ---------------------------------------------------------------- comparison


def ttl_cat(r):
    if r[0] == ":":
        return (":", "-2" if r[1] == -2 else "-1" if r[1] == -1 else ">=0" if r[1] >= 0 else str(r[1]))
    return r


NESTED_PUSH = [0]


def nested_push(r, top=True):
    """A push inside another reply: Redis 7.0 writes keyspace notifications /
    invalidations in the middle of a reply it is building (e.g. ZPOPMIN), which
    corrupts the reply; such replies are not compared."""
    t, v = r
    if t == ">" and not top:
        return True
    if t == "&":
        return any(nested_push(x, True) for x in v)
    if t in ("*", "~", ">") and v:
        return any(nested_push(x, False) for x in v)
    if t == "%":
        return any(nested_push(a, False) or nested_push(b, False) for a, b in v)
    return False


STALE_ERRNO = "One or more scores can't be converted into double"


def stale_errno(args, rr, rf):
    """Redis refused a SORT with its conversion error where ferrokv did not."""
    def refused(r):
        return r[0] == "-" and STALE_ERRNO in r[1]
    return args[0].upper() in ("SORT", "SORT_RO") and refused(rr) and not refused(rf)


def same(rr, rf, mode):
    if RESP3 and nested_push(rr):
        NESTED_PUSH[0] += 1
        return True
    if mode in ("scan", "scanpairs"):
        # a scan that did not finish in one call may stop anywhere: compare only
        # when both servers say the scan is complete (cursor 0)
        part = [r[0] == "*" and r[1] and len(r[1]) == 2 and r[1][0] != ("$", b"0") for r in (rr, rf)]
        if any(part):
            return True
    return normalize(rr, mode) == normalize(rf, mode)


def normalize(r, mode):
    if RESP3:
        return normalize3(r, mode)
    return normalize2(r, mode)


def normalize2(r, mode):
    t, v = r
    if t == "-":
        return r
    if mode == "exact":
        return r
    if mode == "ttl":
        return ttl_cat(r)
    if mode == "sorted" and t == "*" and v is not None:
        return ("*", sorted(v, key=repr))
    if mode == "pairs" and t == "*" and v is not None:
        return ("*", sorted([tuple(v[i:i + 2]) for i in range(0, len(v), 2)], key=repr))
    if mode in ("scan", "scanpairs") and t == "*" and v and len(v) == 2 and v[1][0] == "*":
        cur, elems = v[0][1], v[1][1]
        if cur != b"0":
            return ("*", ["cursor not 0"])   # cursors are the implementation's own
        if mode == "scanpairs":
            return ("*", [cur, sorted([tuple(elems[i:i + 2]) for i in range(0, len(elems), 2)], key=repr)])
        return ("*", [cur, sorted(elems, key=repr)])
    if mode == "object" and t == ":":
        return (":", "int")                  # IDLETIME/REFCOUNT values are the implementation's own
    if mode in ("shape", "spop"):
        if t == "*":
            return ("*", None if v is None else len(v))
        if t == "$":
            return ("$", None if v is None else "bulk")
        return r
    return r


def err_norm(msg):
    msg = re.sub(r"'[^']*'", "'…'", msg)
    return re.sub(r"-?\d+", "N", msg)


def kind(r):
    if r[0] == "-":
        return "-" + err_norm(r[1])
    if RESP3:
        return tshape(r, 2)
    if r[1] is None:
        return r[0] + "nil"
    return r[0]


def signature(args, rr, rf, mode="exact"):
    name = args[0].upper()
    if name in ("OBJECT", "BITOP") and len(args) > 1:
        name += " " + args[1].upper()
    if RESP3 and name in SUBCMD_NAMES and len(args) > 1:
        name += " " + args[1].upper()
    opts = sorted({a.upper() for a in args[1:] if a.upper() in KEYWORDS})
    if RESP3:
        s3 = signature3(name, opts, rr, rf, mode)
        if s3:
            return s3
    kr, kf = kind(rr), kind(rf)
    if name == "OBJECT ENCODING" and rr[0] == rf[0] == "$" and rr[1] and rf[1]:
        kr, kf = render(rr), render(rf)
    if kr == kf:
        kr = kf = kr + "(value)"
    if kr.startswith("-") or kf.startswith("-"):
        return "%s | redis %s | ferrokv %s" % (name, kr, kf)
    return "%s [%s] | redis %s | ferrokv %s" % (name, " ".join(opts), kr, kf)



# ---------------------------------------------------------------- RESP3 comparison

SUBCMD_NAMES = {"CONFIG", "CLIENT", "COMMAND", "PUBSUB", "MEMORY", "LATENCY", "SLOWLOG"}
AGGR = ("*", "~", ">")


def tshape(r, depth=8):
    """The reply's type structure, values left out: '*[*[$|,]]' is an array of
    [bulk, double] pairs, '%{$:~[+]|$::}' a map of bulk keys to sets or integers,
    '_' the RESP3 null, '$-1'/'*-1' the RESP2 nulls."""
    t, v = r
    if t == "-":
        return "-" + err_norm(v)
    if t in ("$", "*") and v is None:
        return t + "-1"
    if t in AGGR:
        if depth <= 0:
            return t
        return t + "[" + "|".join(sorted({tshape(x, depth - 1) for x in v})) + "]"
    if t == "%":
        if depth <= 0:
            return t
        return "%{" + "|".join(sorted({tshape(a, depth - 1) + ":" + tshape(b, depth - 1) for a, b in v})) + "}"
    if t == "|":
        return "|" + tshape(v[1], depth)
    if t == "&":
        return "&<" + " ".join(tshape(x, depth - 1) for x in v) + ">"
    return t


def shape3(r):
    """For random replies: types and lengths, recursively, no values."""
    t, v = r
    if t == "-":
        return r
    if v is None:
        return (t, None)
    if t in AGGR:
        return (t, len(v), sorted({repr(shape3(x)) for x in v}))
    if t == "%":
        return (t, len(v), sorted({repr((shape3(a), shape3(b))) for a, b in v}))
    if t == "&":
        return (t, [shape3(x) for x in v])
    return (t,)


def sort_push_runs(frames):
    """Consecutive pushes (e.g. keyspace events, invalidations, pmessages of
    several patterns) are compared as a multiset; their position relative to
    the reply is kept."""
    out, run = [], []
    for f in frames:
        if f[0] == ">":
            run.append(f)
        else:
            out += sorted(run, key=repr) + [f]
            run = []
    return out + sorted(run, key=repr)


def unsub_norm(frames):
    """UNSUBSCRIBE without arguments: Redis walks its own dict, the order is
    unspecified; compare the channels unsubscribed and the counts."""
    pushes = [f for f in frames if f[0] in (">", "*") and f[1] and len(f[1]) == 3]
    others = [f for f in frames if f not in pushes]
    return ("&unsub", sorted(repr(p[1][:2]) for p in pushes), sorted(p[1][2][1] for p in pushes
                                                                      if p[1][2][0] == ":"), others)


def normalize3(r, mode):
    t, v = r
    if t == "&":
        if mode == "unsub":
            return unsub_norm(v)
        return ("&", [f if f[0] == ">" else normalize3(f, mode) for f in sort_push_runs(v)])
    if mode == "unsub" and t == ">":
        return unsub_norm([r])
    if t == "-":
        return r
    if mode == "ttl":
        return ttl_cat(r)
    if mode == "object" and t == ":":
        return (":", "int")
    if mode in ("sorted", "pairs") and v is not None and t in AGGR + ("%",):
        if mode == "pairs" and t == "*":
            return ("*", sorted([tuple(v[i:i + 2]) for i in range(0, len(v), 2)], key=repr))
        return (t, sorted(v, key=repr))
    if mode in ("scan", "scanpairs") and t == "*" and v and len(v) == 2 and v[1][0] == "*":
        cur, elems = v[0][1], v[1][1]
        if cur != b"0":
            return ("*", ["cursor not 0"])
        if mode == "scanpairs":
            return ("*", [cur, sorted([tuple(elems[i:i + 2]) for i in range(0, len(elems), 2)], key=repr)])
        return ("*", [cur, sorted(elems, key=repr)])
    if mode in ("shape", "spop"):
        return shape3(r)
    if mode == "hello" and t == "%":
        return ("%", [(a, (":", "id") if a == ("$", b"id") and b[0] == ":" else b) for a, b in v])
    if mode == "typeonly":
        return (t, None) if v is None else (t, v[:4]) if t == "=" else (t,)   # verbatim: its format too
    if mode == "typeshape":
        return ("shape", tshape(r))
    if mode == "typeshape1":
        return ("shape", tshape(r, 1))
    return r


def downgrade(r):
    """How RESP2 would carry the reply (map/set/push -> array, pairs of
    [member, double] -> flat, double/big number/verbatim -> bulk, every null ->
    nil): replies equal after this differ only in RESP3 types."""
    t, v = r
    if t == "_" or (t in ("$", "*") and v is None):
        return ("$", None)
    if t in AGGR:
        items = [downgrade(x) for x in v]
        if items and all(x[0] == "*" and x[1] and len(x[1]) == 2 for x in items) and \
                all(x[0] == "*" and x[1][1][0] == "," for x in v):
            items = [y for x in items for y in x[1]]
        return ("*", items)
    if t == "%":
        return ("*", [y for a, b in v for y in (downgrade(a), downgrade(b))])
    if t in (",", "("):
        return ("$", v.encode())
    if t == "#":
        return (":", 1 if v == "t" else 0)
    if t == "=":
        return ("$", v[4:])
    if t == "!":
        return ("-", v.decode(errors="replace"))
    if t == "|":
        return downgrade(v[1])
    if t == "&":
        return ("&", [downgrade(x) for x in v])
    return r


def strip_doubles(r):
    t, v = r
    if t == ",":
        return (",", "?")
    if isinstance(v, list):
        return (t, [tuple(strip_doubles(y) for y in x) if isinstance(x, tuple) and len(x) == 2 and
                    isinstance(x[0], tuple) else strip_doubles(x) if isinstance(x, tuple) else x for x in v])
    return r


def doubles(r, out):
    t, v = r
    if t == ",":
        out.append(v)
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], tuple):
                doubles(x[0], out)
                doubles(x[1], out)
            elif isinstance(x, tuple):
                doubles(x, out)
    elif t == "|":
        doubles(v[1], out)
    return out


def dclass(x):
    if x.lower() in ("inf", "-inf", "nan", "+inf"):
        return x
    if "e" in x.lower():
        return "exponent"
    if "." not in x:
        return "integer"
    return "%d-digit" % len(x.lstrip("-").replace(".", "").lstrip("0"))


def first_type_diff(a, b, path=""):
    """(path, redis type, ferrokv type) of the first place where the two replies'
    types differ, walking both in parallel; None if the types agree everywhere."""
    ta, tb = tshape(a, 0), tshape(b, 0)
    if ta != tb:
        return path or ".", ta, tb
    t = a[0]
    if t in AGGR + ("&",) and a[1] is not None:
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            d = first_type_diff(x, y, path + "[%d]" % i)
            if d:
                return d
    elif t == "%":
        for (ka, va), (kb, vb) in zip(a[1], b[1]):
            name = ka[1].decode(errors="replace") if ka[0] == "$" else ka[1] if ka[0] == "+" else "?"
            d = first_type_diff(ka, kb, path + "{key}") or first_type_diff(va, vb, path + "{%s}" % name)
            if d:
                return d
    elif t == "|":
        return first_type_diff(a[1][1], b[1][1], path)
    return None


def frame_seq(r):
    """'push+ reply' / 'reply push+': where the pushes are relative to the reply."""
    out = []
    for f in r[1]:
        w = "push+" if f[0] == ">" else "reply"
        if not out or out[-1] != w or w == "reply":
            out.append(w)
    return " ".join(out)


def type_sig(name, opts, rr, rf, ordered):
    d = first_type_diff(rr, rf) if ordered else None
    if d:
        p = re.sub(r"^\[\d+\]", "[i]", d[0])
        return "%s%s | TYPE redis %s | ferrokv %s%s" % (name, " [%s]" % " ".join(opts) if opts else "", d[1], d[2],
                                                     "" if p == "." else " at " + p)
    return "%s%s | TYPE redis %s | ferrokv %s" % (name, " [%s]" % " ".join(opts) if opts else "", tshape(rr, 3), tshape(rf, 3))


def signature3(name, opts, rr, rf, mode):
    """Kinds for RESP3: TYPE (same data, other RESP3 type), PUSH-ORDER, DOUBLE-FORMAT,
    else None (the RESP2-style kinds, with type structures)."""
    if rr[0] == "-" or rf[0] == "-":
        return None
    if mode in ("typeshape", "typeshape1", "typeonly"):
        return type_sig(name, [], rr, rf, True)
    if rr[0] == rf[0] == "&" and sorted(rr[1], key=repr) == sorted(rf[1], key=repr):
        kinds = sorted({f[1][0][1].decode(errors="replace") for f in rr[1]
                        if f[0] == ">" and f[1] and f[1][0][0] == "$"})
        return "PUSH-ORDER (%s) | redis %s | ferrokv %s" % (" ".join(kinds), frame_seq(rr), frame_seq(rf))
    if mode in ("shape", "spop"):
        if tshape(rr) != tshape(rf) and shape3(downgrade(rr)) == shape3(downgrade(rf)):
            return type_sig(name, opts, rr, rf, False)
        return None
    nr, nf = normalize3(rr, mode), normalize3(rf, mode)
    if tshape(rr) != tshape(rf):
        try:
            m2 = mode if mode in ("sorted", "pairs", "ttl", "scan", "scanpairs", "object") else "exact"
            same_data = normalize2(downgrade(rr), m2) == normalize2(downgrade(rf), m2)
        except Exception:
            same_data = False
        if same_data:
            if mode == "sorted":
                return type_sig(name, opts, nr, nf, True)
            return type_sig(name, opts, rr, rf, mode in ("exact", "lex", "ttl", "object", "hello"))
        return None
    try:
        if strip_doubles(nr) == strip_doubles(nf):
            pairs = [(a, b) for a, b in zip(doubles(nr, []), doubles(nf, [])) if a != b]
            if pairs:
                a, b = pairs[0]
                return "%s | DOUBLE-FORMAT redis %s | ferrokv %s" % (name, dclass(a), dclass(b))
    except Exception:
        pass
    return None


# ---------------------------------------------------------------- state check


def dump_cmds(k):
    return [["TYPE", k], ["OBJECT", "ENCODING", k], ["TTL", k], ["GET", k], ["LRANGE", k, "0", "-1"],
            ["SMEMBERS", k], ["HGETALL", k], ["ZRANGE", k, "0", "-1", "WITHSCORES"], ["XRANGE", k, "-", "+"],
            ["XINFO", "STREAM", k], ["XINFO", "GROUPS", k]]


def state_diff(rc, fc):
    """First difference in the keyspace, as (signature, args, redis, ferrokv) or None."""
    for k in KEYS:
        cmds = dump_cmds(k)
        a, b = rc.pipeline(cmds), fc.pipeline(cmds)
        typ = a[0][1]
        for c, x, y in zip(cmds, a, b):
            if c[0] == "TTL":
                x, y = ttl_cat(x), ttl_cat(y)
            if c[0] in ("GET", "LRANGE", "SMEMBERS", "HGETALL", "ZRANGE", "XRANGE", "XINFO") and x[0] == "-" and y[0] == "-":
                continue
            mode = "sorted" if c[0] == "SMEMBERS" else "pairs" if c[0] == "HGETALL" else "exact"
            if normalize(x, mode) != normalize(y, mode):
                return ("STATE %s of a %s | redis %s | ferrokv %s" % (" ".join(c[:-1]) if c[0] == "OBJECT" else c[0], typ, kind(x), kind(y)),
                        c, x, y)
    return None


# ---------------------------------------------------------------- driver


class Fuzzer:
    def __init__(self, opts):
        self.opts = opts
        self.rc = Conn(opts.redis_port, RESP3)
        self.fc = Conn(opts.ferrokv_port, RESP3)
        # RESP3: keyspace checks on their own connections, so their reads do not
        # change the fuzzed connection's client-side-caching (tracking) state
        self.rcs = Conn(opts.redis_port, True) if RESP3 else self.rc
        self.fcs = Conn(opts.ferrokv_port, True) if RESP3 else self.fc
        self.found = {}          # signature -> record
        self.order = []
        self.history = []        # deterministic commands since the last FLUSHALL
        self.ncmds = 0
        self.stats = {}
        self.ignored = {}
        self.nunspec = 0
        self.nerrno = 0
        self.in_multi = False
        self.ndiv = 0
        self.log = open(opts.log, "w") if opts.log else None

    def flush(self):
        QUEUE.clear()
        for c in (self.rc, self.fc):
            if RESP3:
                # RESET leaves MULTI, subscriptions, tracking, client name (and
                # RESP3): back to a fresh RESP3 connection on an empty server
                rs = c.pipeline([["RESET"], ["HELLO", "3"], ["CONFIG", "SET", "notify-keyspace-events", ""],
                                 ["FLUSHALL"]])
                assert rs[1][0] == "%" and rs[2:] == [("+", "OK")] * 2, (c.port, [render(x) for x in rs])
                continue
            c.pipeline([["DISCARD"]])        # leave a MULTI the history may have opened
            r = c.call(["FLUSHALL"])
            assert r == ("+", "OK"), r
        for c in (self.rc, self.fc):
            # The script cache emptied with the data (a repro then starts
            # from the same cache on both); Lua's math.random is one
            # sequence per server, across scripts: the same seed on both
            r = c.call(["SCRIPT", "FLUSH"])
            assert r == ("+", "OK"), r
            r = c.call(["EVAL", "math.randomseed(0)", "0"])
            assert r[0] in ("$", "_") and r[1] is None, r
        self.history = []
        self.in_multi = False

    def replay(self, hist):
        self.flush()
        if hist:
            self.rc.pipeline(hist)
            self.fc.pipeline(hist)

    def lex_key(self, args):
        i = 2 if args[0].upper() == "ZRANGESTORE" else 1
        return args[i] if len(args) > i else None

    def lex_specified(self, args):
        """BYLEX results are unspecified unless every member has the same score."""
        k = self.lex_key(args)
        if k is None:
            return True
        r = self.rcs.call(["ZRANGE", k, "0", "-1", "WITHSCORES"])
        if r[0] != "*" or not r[1]:
            return True
        if r[1][0][0] == "*":              # RESP3: [member, score] pairs
            return len({repr(x[1][1]) for x in r[1]}) <= 1
        return len({x[1] for x in r[1][1::2]}) <= 1

    def test_cmd(self, hist, args, mode, sig):
        self.replay(hist)
        if mode == "lex" and not self.lex_specified(args):
            return None
        rr, rf = self.rc.call(args), self.fc.call(args)
        if same(rr, rf, mode):
            return None
        return (rr, rf) if signature(args, rr, rf, mode) == sig else None

    def test_state(self, hist, sig):
        self.replay(hist)
        d = state_diff(self.rcs, self.fcs)
        return d if d and d[0] == sig else None

    def minimize(self, hist, test):
        budget = [self.opts.min_budget]

        def t(h):
            budget[0] -= 1
            return test(h) is not None
        if t([]):
            return []
        n = 2
        while len(hist) >= 2 and budget[0] > 0:
            chunk = -(-len(hist) // n)
            removed = False
            for i in range(0, len(hist), chunk):
                cand = hist[:i] + hist[i + chunk:]
                if t(cand):
                    hist, n, removed = cand, max(n - 1, 2), True
                    break
                if budget[0] <= 0:
                    break
            if not removed:
                if chunk == 1:
                    break
                n = min(n * 2, len(hist))
        if len(hist) == 1 and t([]):
            hist = []
        return hist

    def transcript(self, hist, final):
        """Replays hist (+ final command) on both; returns lines 'cmd  =>  redis | ferrokv'."""
        self.flush()
        lines = []
        for c in hist + ([final] if final else []):
            rr, rf = self.rc.call(c), self.fc.call(c)
            lines.append((cli(c), render(rr), render(rf)))
        return lines

    def record(self, sig, hist, final, mode, rr, rf, state=False):
        self.ndiv += 1
        if any(re.search(pat, sig) for pat in self.opts.ignore):
            self.ignored[sig] = self.ignored.get(sig, 0) + 1
            harmless = ((rr[0] == rf[0] == "-") and not re.match(r"(EXEC|MULTI|DISCARD)\b", sig)) \
                or "OBJECT ENCODING" in sig
            if not harmless:
                self.flush()
            return
        rec = self.found.get(sig)
        if rec is None:
            rec = {"signature": sig, "count": 0, "examples": [], "seed": self.opts.seed, "at": self.ncmds}
            self.found[sig] = rec
            self.order.append(sig)
            print("[%d] NEW %s\n     %s\n     redis:   %s\n     ferrokv: %s" % (
                self.ncmds, sig, ("(state check) " if state else "") + cli(final), render(rr)[:300], render(rf)[:300]), flush=True)
        rec["count"] += 1
        if len(rec["examples"]) < self.opts.examples and len(self.found) <= self.opts.max_minimize:
            h0 = list(hist)
            if state:
                mh = self.minimize(h0, lambda h: self.test_state(h, sig))
                ok = self.test_state(mh, sig)
                tr = self.transcript(mh, None)
                if ok:
                    _, c, x, y = ok
                    self.flush()
                    tr = self.transcript(mh, None)   # (state check on the check connections)
                    tr.append(("(state check) " + cli(c), render(x), render(y)))
            else:
                mh = self.minimize(h0, lambda h: self.test_cmd(h, final, mode, sig))
                ok = self.test_cmd(mh, final, mode, sig)
                tr = self.transcript(mh, final)
            rec["examples"].append({"reproduced": bool(ok), "history_len": len(hist),
                                    "original": [("(state check) " if state else "") + cli(final), render(rr), render(rf)],
                                    "repro": tr})
            rec["examples"].sort(key=lambda e: (not e["reproduced"], len(e["repro"])))
        self.flush()

    def run(self):
        global FOCUS
        R.seed(self.opts.seed)
        FOCUS = self.opts.focus or "mixed"
        self.flush()
        for i in range(self.opts.commands):
            self.ncmds += 1
            if R.random() < 1 / self.opts.flush_every:
                self.flush()
            if R.random() < 1 / self.opts.phase_len:
                FOCUS = self.opts.focus or R.choice(FOCUSES)
            args, mode = gen()
            while self.in_multi and mode != "exact":
                args, mode = gen()       # EXEC compares its array exactly
            if mode == "lex" and not self.lex_specified(args):
                mode = "unspecified"
            rr = self.rc.call(args)
            try:
                rf = self.fc.call(args)
            except Exception as e:   # crash / hang
                print("ferrokv failed on %s: %r" % (cli(args), e))
                self.found["CRASH"] = {"signature": "CRASH " + args[0], "count": 1, "seed": self.opts.seed,
                                       "examples": [{"reproduced": False, "history": [cli(c) for c in self.history],
                                                     "original": [cli(args), render(rr), repr(e)], "repro": []}]}
                self.order.append("CRASH")
                break
            st = self.stats.setdefault(args[0].upper(), {})
            k = "wrongtype" if rr[0] == "-" and rr[1].startswith("WRONGTYPE") else "err" if rr[0] == "-" else \
                "nil" if rr[1] is None else "empty" if rr[0] == "*" and not rr[1] else "ok"
            if RESP3 and k == "ok" or k in ("nil", "empty"):
                k = tshape(rr, 2)[:40] if RESP3 else k    # RESP3: count reply types
            st[k] = st.get(k, 0) + 1
            if self.log:
                self.log.write("%s  =>  %s | %s\n" % (cli(args), render(rr)[:200], render(rf)[:200]))
            if mode == "unspecified":
                self.nunspec += 1
                if args[0].upper() in ("ZREMRANGEBYLEX", "ZRANGESTORE") and len(args) > 1:
                    for c in (self.rc, self.fc):   # may have removed/stored different members
                        c.call(["DEL", args[1]])
                    self.history.append(["DEL", args[1]])
                continue
            if stale_errno(args, rr, rf):
                # Redis's SORT reads errno without clearing it: a strtod
                # overflow in an earlier command (a score of 1e400) makes
                # it refuse numbers it parsed fine. ZADD XX on a missing
                # key parses its score with errno cleared and changes
                # nothing; then SORT is asked again.
                self.rcs.call(["ZADD", "__fuzz_errno", "XX", "0", "x"])
                rr = self.rc.call(args)
                self.nerrno += 1
            if not same(rr, rf, mode):
                self.record(signature(args, rr, rf, mode), self.history, args, mode, rr, rf)
                continue
            name = args[0].upper()
            main = [f for f in rr[1] if f[0] != ">"][-1:] or [rr] if rr[0] == "&" else [rr]
            if name == "MULTI" and main[0] == ("+", "OK"):
                self.in_multi = True
            elif name in ("EXEC", "DISCARD", "RESET") and self.in_multi:
                self.in_multi = False
            if mode == "spop":
                if rr[0] != "-":
                    self.rc.call(["DEL", args[1]])
                    self.fc.call(["DEL", args[1]])
                    self.history.append(["DEL", args[1]])
            elif mode != "shape":
                self.history.append(args)
            if self.ncmds % self.opts.check_every == 0 and not self.in_multi:
                d = state_diff(self.rcs, self.fcs)
                if d:
                    self.record(d[0], self.history, d[1], None, d[2], d[3], state=True)
        return self.report()

    def report(self):
        out = []
        out.append("# fuzz_vs_redis%s seed=%d commands=%d divergences=%d kinds=%d "
                   "(BYLEX on mixed scores and whole COMMAND listings, not compared: %d; SORT asked again after Redis's stale errno: %d%s)\n" % (
                       " --resp3" if RESP3 else "", self.opts.seed, self.ncmds, self.ndiv, len(self.found), self.nunspec,
                       self.nerrno, "; Redis replies with a push inside, not compared: %d" % NESTED_PUSH[0] if RESP3 else ""))
        for sig in self.order:
            rec = self.found[sig]
            out.append("## %s  (x%d, first at command %d)" % (rec["signature"], rec["count"], rec.get("at", 0)))
            for ex in rec["examples"][:1]:
                out.append("   first seen: %s  =>  redis %s | ferrokv %s" % tuple(x[:300] for x in ex["original"]))
                out.append("   minimal repro (%s, from %d prior commands):" % (
                    "reproduced" if ex["reproduced"] else "NOT reproduced", ex.get("history_len", 0)))
                out.append("     FLUSHALL")
                for c, a, b in ex["repro"]:
                    c = c if len(c) < 300 else c[:300] + " ...(%d chars)" % len(c)
                    if a == b:
                        out.append("     %s  =>  %s" % (c, a[:200]))
                    else:
                        out.append("     %s\n         redis:   %s\n         ferrokv: %s" % (c, a[:500], b[:500]))
            out.append("")
        if self.ignored:
            out.append("# ignored (--ignore) kinds")
            for sig, n in sorted(self.ignored.items()):
                out.append("  x%-5d %s" % (n, sig))
        if self.opts.stats:
            out.append("# Redis reply kinds per command (ok / empty / nil / err / wrongtype; RESP3: reply types)")
            for name in sorted(self.stats):
                d = self.stats[name]
                ks = ("ok", "empty", "nil", "err", "wrongtype") if not RESP3 else sorted(d)
                out.append("  %-18s %s" % (name, " ".join("%s=%d" % (k, d.get(k, 0)) for k in ks)))
        text = "\n".join(out)
        print(text)
        if self.opts.json:
            with open(self.opts.json, "w") as f:
                json.dump({"seed": self.opts.seed, "commands": self.ncmds, "divergences": self.ndiv,
                           "kinds": [self.found[s] for s in self.order]}, f, indent=1)
        return 1 if self.found else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--redis-port", type=int, default=6480)
    p.add_argument("--ferrokv-port", type=int, default=6481)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--commands", type=int, default=20000)
    p.add_argument("--check-every", type=int, default=50, help="compare the whole keyspace every N commands")
    p.add_argument("--flush-every", type=float, default=400, help="FLUSHALL with probability 1/N per command")
    p.add_argument("--examples", type=int, default=2, help="minimised examples kept per kind")
    p.add_argument("--max-minimize", type=int, default=300, help="stop minimising after this many kinds")
    p.add_argument("--min-budget", type=int, default=1500, help="replays allowed per minimisation")
    p.add_argument("--mixed-case", type=float, default=0.1)
    p.add_argument("--json", help="write the findings as JSON here")
    p.add_argument("--log", help="write every command with both replies here")
    p.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                   help="known divergence kinds (signature regex) to count but not report; repeatable")
    p.add_argument("--stats", action="store_true", help="print per-command reply kinds (coverage)")
    p.add_argument("--phase-len", type=float, default=300, help="mean commands per focus phase")
    p.add_argument("--focus", choices=sorted(set(FOCUSES)), help="stay in this focus (default: random phases)")
    p.add_argument("--edge", type=float, default=0.2, help="probability a number is an edge case")
    p.add_argument("--resp3", action="store_true",
                   help="HELLO 3 on every connection; RESP3 reply types compared; extra RESP3 grammar")
    p.add_argument("--affinity", type=float, default=0.8, help="probability a key is one of its family's")
    opts = p.parse_args()
    global MIXED_CASE, AFFINITY, EDGE, RESP3, TOTAL_W
    if opts.resp3:
        RESP3 = True
        GENS.extend(GENS3)
        TOTAL_W = sum(g[0] for g in GENS)
        ARITY_NAMES.extend(["CONFIG", "PUBSUB", "MEMORY", "CLIENT", "LATENCY"])
    MIXED_CASE = opts.mixed_case
    AFFINITY = opts.affinity
    EDGE = opts.edge
    sys.exit(Fuzzer(opts).run())


if __name__ == "__main__":
    main()
