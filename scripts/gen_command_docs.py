#!/usr/bin/env python3
"""Writes src/cmd/docs.txt: redis-server 7.0's COMMAND DOCS beyond what the
command table's rows hold (summary, since and group are the rows'), so that
ferrokv's COMMAND DOCS is Redis's: the complexity, doc flags, deprecation,
history and the argument tree that redis-cli turns into its `HELP` text and
its typing hints.

Usage: scripts/gen_command_docs.py [--port N] [--out src/cmd/docs.txt]

Two subcommands ferrokv has from Redis 7.2 (CLIENT SETINFO, CLIENT NO-TOUCH)
are appended from 7.2's docs (`LATER` below).

Without --port it starts `redis-server` (7.0.x, from PATH) on a free port
and stops it afterwards. The file, one command or subcommand after another
(Redis's full name: `client|list`), in Redis's order of fields:

    cmd <name>
    complexity <text>
    doc_flags <flag> [<flag> ...]
    deprecated_since <version>
    replaced_by <text>
    history <since>\t<changes>
    arg <depth>\t<name>\t<type>\t<key_spec_index>\t<token>\t<summary>\t<since>\t<deprecated_since>\t<flags>

Absent fields are left out (empty in an `arg` line, where `""` is a field
that is there and empty: MIGRATE's token); an argument's
`flags` are space-separated; a block's or oneof's arguments follow it, one
depth deeper. Values hold no tab or newline (checked).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchlib import Resp2, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pairs(flat):
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def clean(v):
    v = str(v)
    if "\t" in v or "\n" in v or "\r" in v:
        sys.exit(f"a value holds a tab or a line end: {v!r}")
    return v


# How an `arg` line writes a field that is there and empty (MIGRATE's
# empty-string token); an empty field is one Redis leaves out.
EMPTY = '""'

ARG_FIELDS = ["name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since", "flags"]


def write_args(out, args, depth):
    for a in args:
        d = dict(pairs(a))
        unknown = set(d) - set(ARG_FIELDS) - {"arguments"}
        if unknown:
            sys.exit(f"unknown argument fields: {unknown}")
        vals = [str(depth)]
        for f in ARG_FIELDS:
            if f not in d:
                vals.append("")
            elif f == "flags":
                vals.append(" ".join(d[f]))
            elif d[f] == EMPTY:
                sys.exit(f"a value reads as the empty string: {d}")
            else:
                vals.append(clean(d[f]) or EMPTY)
        out.append("arg " + "\t".join(vals))
        if "arguments" in d:
            write_args(out, d["arguments"], depth + 1)


CMD_FIELDS = ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by",
              "history", "arguments", "subcommands"]


def write_cmd(out, name, doc):
    d = dict(pairs(doc))
    unknown = set(d) - set(CMD_FIELDS)
    if unknown:
        sys.exit(f"{name}: unknown fields {unknown}")
    out.append(f"cmd {clean(name)}")
    if "complexity" in d:
        out.append(f"complexity {clean(d['complexity'])}")
    if "doc_flags" in d:
        out.append("doc_flags " + " ".join(d["doc_flags"]))
    for f in ("deprecated_since", "replaced_by"):
        if f in d:
            out.append(f"{f} {clean(d[f])}")
    if "history" in d:
        if not d["history"]:
            sys.exit(f"{name}: an empty history would read as absent")
        for since, changes in d["history"]:
            out.append(f"history {clean(since)}\t{clean(changes)}")
    if "arguments" in d:
        write_args(out, d["arguments"], 0)
    for sub, sdoc in sorted(pairs(d.get("subcommands", []))):
        write_cmd(out, sub, sdoc)


# Rows ferrokv has from Redis 7.2 (redis-py and other clients send CLIENT
# SETINFO), which 7.0 has no docs for: Redis 7.2's, from its
# src/commands/client-setinfo.json and client-no-touch.json (SETINFO's
# LIB-NAME and LIB-VER, the attributes ferrokv takes), in this file's format.
LATER = """\
cmd client|no-touch
complexity O(1)
arg 0\tenabled\toneof\t\t\t\t\t\t
arg 1\ton\tpure-token\t\tON\t\t\t\t
arg 1\toff\tpure-token\t\tOFF\t\t\t\t
cmd client|setinfo
complexity O(1)
arg 0\tattr\toneof\t\t\t\t\t\t
arg 1\tlibname\tstring\t\tlib-name\t\t\t\t
arg 1\tlibver\tstring\t\tlib-ver\t\t\t\t
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--out", default=os.path.join(ROOT, "src", "cmd", "docs.txt"))
    args = ap.parse_args()
    proc = None
    port = args.port
    if port is None:
        port = free_port()
        tmp = tempfile.mkdtemp()
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--dir", tmp],
                                stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                Resp2(port).call("PING")
                break
            except OSError:
                time.sleep(0.05)
    try:
        c = Resp2(port)
        version = [l for l in c.call("INFO", "server").splitlines() if l.startswith("redis_version:")][0]
        out = []
        for name, doc in sorted(pairs(c.call("COMMAND", "DOCS"))):
            write_cmd(out, name, doc)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    with open(args.out, "w") as f:
        f.write(f"# COMMAND DOCS of redis-server {version.split(':')[1]}, written by scripts/gen_command_docs.py\n")
        f.write("\n".join(out) + "\n")
        f.write(LATER)
    print(f"{args.out}: {len(out)} lines")


if __name__ == "__main__":
    main()
