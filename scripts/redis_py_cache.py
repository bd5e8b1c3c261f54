#!/usr/bin/env python3
"""Checks redis-py's client-side cache (`cache_config`) against a server.

Usage: python3 scripts/redis_py_cache.py PORT   (needs `pip install redis`)

redis-py (5.1 and later) caches GET/HGETALL/... replies locally over a RESP3
connection with CLIENT TRACKING ON and drops them when the server pushes an
`invalidate`. It refuses servers that announce a version below 7.4 (Redis
7.0 included, and ferrokv announces 7.0.15), so this script relaxes that
check; everything else is redis-py's own code. Prints each step and exits
non-zero if a stale value is ever served.
"""
import sys
import time

import redis
import redis.connection
from redis.cache import CacheConfig

redis.connection.CacheProxyConnection.MIN_ALLOWED_VERSION = "7.0.0"


def main():
    port = int(sys.argv[1])
    cached = redis.Redis(port=port, protocol=3, cache_config=CacheConfig())
    writer = redis.Redis(port=port)
    writer.flushall()
    cache = cached.get_cache()
    steps = []

    def check(what, got, want):
        steps.append((what, got == want))
        print(f"{'ok ' if got == want else 'BAD'} {what}: {got!r}")

    writer.set("foo", "bar")
    check("first read", cached.get("foo"), b"bar")
    check("entries cached", cache.size, 1)
    check("read from the cache", cached.get("foo"), b"bar")
    writer.set("foo", "baz")
    time.sleep(0.1)
    check("read after another client's write", cached.get("foo"), b"baz")
    cached.set("foo", "mine")
    check("read after its own write", cached.get("foo"), b"mine")
    writer.hset("h", mapping={"a": "1"})
    check("hash read", cached.hgetall("h"), {b"a": b"1"})
    writer.hset("h", "a", "2")
    time.sleep(0.1)
    check("hash read after a write", cached.hgetall("h"), {b"a": b"2"})
    writer.set("ttl", "v", px=100)
    check("read of a key with a TTL", cached.get("ttl"), b"v")
    time.sleep(0.5)
    check("read after it expired", cached.get("ttl"), None)
    writer.flushall()
    time.sleep(0.1)
    check("read after FLUSHALL", cached.get("foo"), None)
    sys.exit(0 if all(ok for _, ok in steps) else 1)


if __name__ == "__main__":
    main()
