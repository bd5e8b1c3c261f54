#!/usr/bin/env python3
"""Sweeps that send the same calls to redis-server and ferrokv and print
every reply that differs (session 24 found the SLOWLOG GET, CONFIG SET
alias/memory-value and tls-* differences with them; each is now a test).

Usage: scripts/sweep_vs_redis.py --redis-port P --ferrokv-port Q [--only args,config]

  args    every command and subcommand of COMMAND LIST (those that block,
          end the connection or change the server's state left out) with 0
          to 5 odd arguments, from an empty keyspace each time
  config  CONFIG SET of every parameter (those that move the server's port,
          files or limits left out) with 12 odd values, each put back after

Both servers should be fresh, started alike (`--save ""`, and
`--enable-debug-command yes` on both or neither). Replies are compared
whole, except bulk strings, whose contents (times, ids, addresses) differ.
"""

import argparse

from benchlib import Error, Resp2, Simple

SKIP_COMMANDS = {
    "shutdown", "monitor", "subscribe", "psubscribe", "ssubscribe", "quit", "reset", "debug", "sync",
    "psync", "failover", "replicaof", "slaveof", "save", "bgsave", "bgrewriteaof", "flushall", "flushdb",
    "client|kill", "client|pause", "hello", "auth", "multi", "exec", "discard", "watch", "unwatch",
    "blpop", "brpop", "blmove", "brpoplpush", "bzpopmin", "bzpopmax", "blmpop", "bzmpop", "xread",
    "xreadgroup", "wait", "select", "swapdb", "acl|load", "acl|save", "config|rewrite", "config|set",
    "script|kill", "function|kill", "function|flush", "script|flush", "client|reply", "client|tracking",
    "module|load", "module|loadex", "module|unload", "acl|setuser", "acl|deluser", "cluster|reset",
    "migrate", "restore", "restore-asking", "unsubscribe", "punsubscribe", "sunsubscribe",
    "client|no-evict", "client|setname", "client|unpause", "latency|reset", "slowlog|reset",
    "config|resetstat", "readonly", "readwrite", "asking", "lolwut", "memory|purge", "keys",
    "function|restore", "function|delete", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall",
    "fcall_ro", "function|load", "replconf", "client|caching", "pubsub|numsub",
}
# Replies that differ by nature (times, ids, counters, orders) or by a known
# difference (CLIENT HELP lists 7.2's SETINFO; COMMAND lists ferrokv's
# commands; no SCRIPT DEBUG): run, not compared.
VARYING = {
    "time", "lastsave", "client|id", "client|help", "command", "command|list", "command|info",
    "command|docs", "command|count", "latency|histogram", "latency|latest", "slowlog|get", "slowlog|len",
    "memory|stats", "script|debug", "function|stats",
}
ODD_ARGS = [[], ["k"], ["k", "x"], ["k", "x", "y"], ["k", "1", "2", "3"], ["k", "-1"], ["k", "x", "y", "z", "w"]]

SKIP_CONFIG = {
    "port", "bind", "dir", "unixsocket", "unixsocketperm", "logfile", "pidfile", "tls-port", "bind-source-addr",
    "dbfilename", "appendfilename", "appenddirname", "requirepass", "masterauth", "masteruser", "replicaof",
    "slaveof", "daemonize", "supervised", "syslog-enabled", "syslog-ident", "syslog-facility", "aclfile",
    "maxmemory", "oom-score-adj", "oom-score-adj-values", "save", "appendonly", "enable-debug-command",
    "enable-protected-configs", "enable-module-command", "cluster-enabled", "loglevel", "protected-mode",
    "io-threads", "crash-log-enabled", "watchdog-period", "shutdown-timeout", "maxclients", "timeout",
    "always-show-logo", "set-proc-title", "proc-title-template", "server_cpulist", "bio_cpulist",
    "aof_rewrite_cpulist", "bgsave_cpulist", "disable-thp", "tls-cert-file", "tls-key-file",
    "tls-ca-cert-file", "tls-ca-cert-dir", "tls-dh-params-file", "tls-client-cert-file", "tls-client-key-file",
    "tls-key-file-pass", "tls-client-key-file-pass", "hz", "dynamic-hz", "lua-time-limit",
    "busy-reply-threshold", "client-query-buffer-limit", "proto-max-bulk-len", "maxmemory-clients",
    "client-output-buffer-limit", "repl-backlog-size",
}
ODD_VALUES = ["", "abc", "-1", "0", "1", "yes", "no", "99999999999999999999999", "1k", "1mb", "-5 3", "1.5"]


class Conn(Resp2):
    def call(self, *args):
        """The reply rendered: `+x`, `-ERR ...`, `:n`, `$text`, `*[...]`."""
        try:
            return render(super().call(*args))
        except (OSError, ValueError, EOFError) as e:
            return f"EXC {type(e).__name__}"

    def send(self, *args):
        return Resp2.call(self, *args)


def render(v):
    if v is None:
        return "nil"
    if isinstance(v, Simple):
        return "+" + v
    if isinstance(v, Error):
        return "-" + v
    if isinstance(v, int):
        return f":{v}"
    if isinstance(v, list):
        return "*[" + ",".join(render(x) for x in v) + "]"
    return "$" + v


def same(a, b):
    return a == b or (a.startswith("$") and b.startswith("$"))


def sweep_args(r, f):
    names = r.send("COMMAND", "LIST")
    diffs = 0
    for name in sorted(names):
        if name in SKIP_COMMANDS or name.split("|")[0] in SKIP_COMMANDS:
            continue
        for extra in ODD_ARGS:
            for c in (r, f):
                c.call("FLUSHALL")
            args = name.split("|") + extra
            a, b = r.call(*args), f.call(*args)
            if name not in VARYING and not same(a, b):
                diffs += 1
                print(f"{' '.join(args)}\n  redis:   {a[:200]}\n  ferrokv: {b[:200]}")
    return diffs


def config_pairs(c):
    flat = c.send("CONFIG", "GET", "*")
    return dict(zip(flat[0::2], flat[1::2]))


def sweep_config(r, f):
    ra, fa = config_pairs(r), config_pairs(f)
    diffs = 0
    for name in sorted(ra):
        if name in SKIP_CONFIG or name not in fa:
            continue
        for v in ODD_VALUES:
            a, b = r.call("CONFIG", "SET", name, v), f.call("CONFIG", "SET", name, v)
            if a != b:
                diffs += 1
                print(f"CONFIG SET {name} {v!r}\n  redis:   {a[:200]}\n  ferrokv: {b[:200]}")
            r.call("CONFIG", "SET", name, ra[name])
            f.call("CONFIG", "SET", name, fa[name])
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--ferrokv-port", type=int, required=True)
    ap.add_argument("--only", default="args,config")
    args = ap.parse_args()
    r, f = Conn(args.redis_port, timeout=5), Conn(args.ferrokv_port, timeout=5)
    total = 0
    for part in args.only.split(","):
        n = {"args": sweep_args, "config": sweep_config}[part](r, f)
        print(f"# {part}: {n} differences")
        total += n
    raise SystemExit(1 if total else 0)


if __name__ == "__main__":
    main()
