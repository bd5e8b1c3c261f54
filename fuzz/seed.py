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

# fuzz/corpus/rdbfile: whole RDB files made of the same values, a few keys
# a file, with the opcodes a start-up meets (AUX, SELECTDB, RESIZEDB, an
# expiry in ms and in s, LRU idle and LFU freq), EOF and a zero checksum
# (not checked), plus tests/data's RDB written by valkey-server.
def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def rdb_str(s):
    return rdb_len(len(s)) + s


out = os.path.join(root, "fuzz", "corpus", "rdbfile")
os.makedirs(out, exist_ok=True)
with open(os.path.join(root, "tests", "data", "dump-7.0.15.txt")) as f:
    bodies = [(fields[0], bytes.fromhex(fields[3])[:-10]) for fields in (line.rstrip("\n").split("\t") for line in f)]
bodies = [(n, b) for n, b in bodies if len(b) <= 2048]
prefixes = [b"", b"\xfc" + (1767225700000).to_bytes(8, "little"), b"\xfd" + (1767225700).to_bytes(4, "little"),
            b"\xf8" + rdb_len(100), b"\xf9\x05"]
for i in range(0, len(bodies), 4):
    head = b"REDIS0010" + b"\xfa" + rdb_str(b"redis-ver") + rdb_str(b"7.0.15") + b"\xfe\x00" + b"\xfb\x04\x01"
    keys = b""
    for j, (name, body) in enumerate(bodies[i:i + 4]):
        keys += prefixes[(i + j) % len(prefixes)] + body[:1] + rdb_str(name.encode()) + body[1:]
    with open(os.path.join(out, f"values-{i}"), "wb") as seed:
        seed.write(head + keys + b"\xff" + bytes(8))
with open(os.path.join(root, "tests", "data", "valkey-9.1.2.rdb"), "rb") as src:
    data = src.read()
if len(data) <= 65536:
    with open(os.path.join(out, "valkey-9.1.2"), "wb") as seed:
        seed.write(data)
