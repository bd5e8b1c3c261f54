#!/usr/bin/env python3
"""Replays commands against a Redis-compatible server and prints a transcript.

Usage: python3 scripts/resp_transcript.py PORT < commands-or-transcript > transcript

Input: one command per line, shell-quoted (`zadd k 1 "a b"`); lines starting
with `#` are copied through; a line that is already a transcript line
(`command  =>  reply`) is replayed from its command part, so a transcript
can be regenerated in place. Output: `command  =>  reply` with the reply
rendered compactly: `:int`, `'bulk'`, `*[a, b]`, `nil` (null bulk), `nil*`
(null array), `+simple`, `-error`; RESP3 types as `%[...]`, `~[...]`, `,double`,
`_`, `#t`.

tests/zset.rs replays tests/data/zset_transcript.txt (made with this
script against Redis 7.0.15) against ferrokv and compares every reply.
"""
import shlex
import socket
import sys

SEP = "  =>  "


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in b"+-:,_#(":
        return (t + rest).decode(errors="replace")
    if t in b"$=!":
        n = int(rest)
        if n < 0:
            return "nil"
        return repr(f.read(n + 2)[:-2].decode(errors="replace"))
    if t in b"*~%>":
        n = int(rest)
        if n < 0:
            return "nil*"
        if t == b"%":
            n *= 2
        return t.decode() + "[" + ", ".join(read(f) for _ in range(n)) + "]"
    return "??" + repr(line)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            print(line)
            continue
        cmd = line.split(SEP, 1)[0]
        s.sendall(encode(shlex.split(cmd)))
        print(f"{cmd}{SEP}{read(f)}", flush=True)


if __name__ == "__main__":
    main()
