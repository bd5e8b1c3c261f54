#!/usr/bin/env python3
"""Seeds fuzz/corpus/undump with the DUMP bodies recorded from
redis-server 7.0.15 (tests/data/dump-7.0.15.txt), each behind a control
byte for each mode of the target (deep/shallow, default/tiny limits).

Run from the repository root: `python3 fuzz/seed.py`, then
`cargo +nightly fuzz run undump -- -max_total_time=300`.
"""
import os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus", "undump")
os.makedirs(out, exist_ok=True)
with open(os.path.join(root, "tests", "data", "dump-7.0.15.txt")) as f:
    for line in f:
        fields = line.rstrip("\n").split("\t")
        name, payload = fields[0], bytes.fromhex(fields[3])
        body = payload[:-10]
        if len(body) > 4096:
            continue
        for control in range(4):
            with open(os.path.join(out, f"{name}-{control}"), "wb") as seed:
                seed.write(bytes([control]) + body)
