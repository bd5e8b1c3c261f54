#!/usr/bin/env python3
"""Latency while a huge set is freed: UNLINK (lazy free) vs DEL, ferrokv vs
redis-server.

For each mode (default: unlink, del; also flushall-async) and each server,
one at a time: build a set `big` of --members members (default 10,000,000;
members `m0`, `m1`, ... so the set is a real hash table, not an intset) with
pipelined `SADD big m.. (1000 members per command)`, then, while a separate
process sends PINGs back to back on its own connection and records each
round trip, send UNLINK big (or DEL big, or FLUSHALL ASYNC) and poll INFO
memory every --poll-ms until lazyfree_pending_objects is 0 and used_memory
has dropped by 90% of the set's size. Reported per mode and server:
  - how long the command took to reply;
  - when the memory was back (pending objects 0 and used_memory down);
  - PING p50 / p99 / max round trip during the window from sending the
    command to the memory being back (+50 ms) — target for ferrokv's UNLINK:
    max < 5 ms;
  - PING p99 / max in the second before the command, as a baseline.

Both servers run with default lazyfree settings (lazyfree-lazy-user-del no,
so DEL frees inline in both); redis-server frees UNLINKed values in its
lazyfree bio thread, ferrokv in its lazy-free thread. Servers are pinned to
core 0 (their background threads too: the free thread shares the event
loop's core; --server-cpus 0,1 lets it run on the other core), the client
and the PING process to core 1. Free memory is checked first: each set takes ~0.5-1 GB per 10M
members.

Examples:
    python3 scripts/lazyfree_latency.py                    # 10M members, unlink + del, 2 rounds, ~3-4 minutes
    python3 scripts/lazyfree_latency.py --members 2000000 --no-write
    python3 scripts/lazyfree_latency.py --modes unlink,del,flushall-async
"""

import argparse
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
import evictlib as ev  # noqa: E402

MODES = {"unlink": ("UNLINK", "big"), "del": ("DEL", "big"), "flushall-async": ("FLUSHALL", "ASYNC")}


def sadd_commands(members, per_cmd):
    """Encoded SADD commands, built once and reused for every build."""
    out = []
    for start in range(0, members, per_cmd):
        end = min(members, start + per_cmd)
        parts = [b"*%d\r\n$4\r\nSADD\r\n$3\r\nbig\r\n" % (2 + end - start)]
        parts += [b"$%d\r\n%s\r\n" % (len(m), m) for m in (b"m%d" % i for i in range(start, end))]
        out.append(b"".join(parts))
    return out


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def build(c, cmds, members, window=20):
    c.call("DEL", "big")
    t = time.monotonic()
    for i in range(0, len(cmds), window):
        chunk = cmds[i:i + window]
        for r in c.pipeline(chunk):
            if isinstance(r, ev.RespError):
                sys.exit(f"SADD failed: {r}")
    took = time.monotonic() - t
    n = c.call("SCARD", "big")
    if n != members:
        sys.exit(f"SCARD big is {n}, expected {members}")
    return took


def run_mode(srv, mode, cmds, args):
    c = srv.client()
    base_used = c.info("memory")["used_memory"]
    build_s = build(c, cmds, args.members)
    time.sleep(0.5)
    info = c.info("memory")
    full_used = info["used_memory"]
    set_bytes = full_used - base_used
    lazyfreed0 = info.get("lazyfreed_objects", 0)
    target = full_used - 0.9 * set_bytes

    ping = ev.pinger(srv.port, 0)
    time.sleep(1.0)  # baseline second
    t_cmd = ev.now_ns()
    reply = c.call(*MODES[mode])
    t_reply = ev.now_ns()
    t_freed, polls, last = None, 0, {}
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        last = c.info("memory")
        polls += 1
        if last.get("lazyfree_pending_objects", 0) == 0 and last["used_memory"] <= target:
            t_freed = ev.now_ns()
            break
        time.sleep(args.poll_ms / 1000)
    time.sleep(0.1)
    samples = ping.stop()
    srv.check_alive()
    after = c.info("memory")
    c.close()

    end = max(t_freed or ev.now_ns(), t_reply) + 50_000_000
    window = [rtt / 1e6 for (ts, rtt) in samples if ts <= end and ts + rtt >= t_cmd]
    before = [rtt / 1e6 for (ts, rtt) in samples if t_cmd - 1_000_000_000 <= ts and ts + rtt < t_cmd]
    return {
        "reply": reply.decode() if isinstance(reply, bytes) else reply,
        "build_s": build_s,
        "set_bytes": set_bytes,
        "reply_ms": (t_reply - t_cmd) / 1e6,
        "freed_ms": (t_freed - t_cmd) / 1e6 if t_freed else None,
        "pings": len(window),
        "p50": ev.percentile(window, 50),
        "p99": ev.percentile(window, 99),
        "pmax": max(window, default=float("nan")),
        "slow": sum(1 for x in window if x > 5),
        "base_p99": ev.percentile(before, 99),
        "base_max": max(before, default=float("nan")),
        "lazyfreed": after.get("lazyfreed_objects", 0) - lazyfreed0,
        "used_after": after["used_memory"],
        "rss_after": after.get("used_memory_rss"),
        "polls": polls,
    }


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=10_000_000, help="set size (default 10,000,000)")
    ap.add_argument("--per-command", type=int, default=1000, help="members per SADD (default 1000)")
    ap.add_argument("--modes", default="unlink,del", help="unlink,del,flushall-async (default unlink,del)")
    ap.add_argument("--poll-ms", type=float, default=5, help="INFO memory polling period (default 5 ms)")
    ap.add_argument("--timeout", type=float, default=120, help="give up waiting for the memory after this (s)")
    ap.add_argument("--rounds", type=int, default=2, help="repetitions, server order alternating (default 2)")
    ap.add_argument("--server-cpus", default="0",
                    help="taskset CPU list for the servers, their free threads included (default 0; e.g. 0,1 "
                         "lets the free thread run beside the event loop); a non-default value writes its own section")
    ev.add_report_args(ap, "1 round of 1,000,000 members; no doc write unless --write")
    args = ap.parse_args()
    if args.quick:
        args.members, args.rounds = 1_000_000, 1
    ev.resolve_write(args)
    args.modes = args.modes.split(",")
    for m in args.modes:
        if m not in MODES:
            sys.exit(f"unknown mode {m}: choose from {', '.join(MODES)}")
    return args


def main():
    args = parse_args()
    ev.require_tools("redis-server")
    # ~100 bytes per member is generous for both servers; one set lives at a
    # time, but the other server may keep freed pages: ask for 3x.
    need = args.members * 100 * 3
    avail = mem_available()
    if avail and avail < need:
        sys.exit(f"only {avail / 1e9:.1f} GB available, {need / 1e9:.1f} GB wanted for {args.members:,} members: "
                 f"use --members with a smaller number")
    ev.build_ferrokv(args.no_build)
    ev.SERVER_CORE = args.server_cpus
    ev.pin_self()
    t_start = time.monotonic()
    print(f"encoding {args.members:,} members...", file=sys.stderr, flush=True)
    cmds = sadd_commands(args.members, args.per_command)
    results, lazy_cfg = {}, {}
    with ev.Servers([]) as servers:
        for name in ("redis", "ferrokv"):
            c = servers[name].client()
            cfg = c.call("CONFIG", "GET", "lazyfree-lazy-user-del")
            lazy_cfg[name] = cfg[1].decode() if cfg and len(cfg) > 1 else "?"
            c.close()
        runs = {}
        for rnd in range(args.rounds):
            order = ("redis", "ferrokv") if rnd % 2 == 0 else ("ferrokv", "redis")
            for mode in args.modes:
                for name in order:
                    print(f"round {rnd + 1}/{args.rounds}, {mode} on {name}: building a {args.members:,}-member "
                          f"set...", file=sys.stderr, flush=True)
                    r = run_mode(servers[name], mode, cmds, args)
                    runs.setdefault((mode, name), []).append(r)
                    freed = f"{r['freed_ms']:.0f} ms" if r["freed_ms"] is not None else "not within timeout"
                    print(f"  built in {r['build_s']:.1f} s ({r['set_bytes'] / 1e6:.0f} MB); reply "
                          f"{r['reply_ms']:.2f} ms, memory back after {freed}; PING p99 {r['p99']:.2f} max "
                          f"{r['pmax']:.2f} ms over {r['pings']:,} PINGs ({r['slow']} > 5 ms); 1 s before: "
                          f"p99 {r['base_p99']:.2f} max {r['base_max']:.2f} ms", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - t_start
    med = statistics.median
    for key, rs in runs.items():
        r = results[key] = {k: med([x[k] for x in rs]) if isinstance(v, (int, float)) and k != "freed_ms" else v
                            for k, v in rs[-1].items()}
        freed = [x["freed_ms"] for x in rs]
        r["freed_ms"] = med(freed) if None not in freed else None
        r["pmax_all"] = [x["pmax"] for x in rs]
        r["base_max_worst"] = max(x["base_max"] for x in rs)
        r["pings"] = sum(x["pings"] for x in rs)
        r["slow"] = sum(x["slow"] for x in rs)

    rows = []
    for mode in args.modes:
        for name, label in (("redis", "redis-server"), ("ferrokv", "ferrokv")):
            r = results[(mode, name)]
            freed = f"{r['freed_ms']:,.0f} ms" if r["freed_ms"] is not None else f"> {args.timeout:.0f} s"
            rows.append([
                f"{MODES[mode][0]} {MODES[mode][1]}", label, f"{r['set_bytes'] / 1e6:,.0f} MB ({r['build_s']:.1f} s)",
                f"{r['reply_ms']:,.2f} ms", freed, f"{r['lazyfreed']:,.0f}",
                f"{r['p50']:.3f} / {r['p99']:.2f} / **{r['pmax']:.2f}**",
                " / ".join(f"{x:.1f}" for x in r["pmax_all"]),
                f"{r['slow']:,} of {r['pings']:,}",
                f"{r['base_p99']:.2f} / {r['base_max_worst']:.2f}",
                ev.mb(r["used_after"]),
            ])
    header = ["command", "server", "set's used_memory (build time)", "command reply", "memory back after",
              "lazyfreed_objects +", "PING in window p50 / p99 / max ms (medians of rounds)",
              "max PING per round ms", "PINGs > 5 ms (all rounds)",
              "PING in the 1 s before: p99 (median) / max (worst) ms", "used_memory after"]
    verdicts = []
    if "unlink" in args.modes:
        r = results[("unlink", "ferrokv")]
        worst = max(r["pmax_all"])
        verdicts.append(f"- ferrokv UNLINK: max PING during the free {worst:.2f} ms (worst round), "
                        f"{r['pmax']:.2f} ms (median round) → "
                        f"{'**meets**' if worst < 5 else '**misses**'} the target (< 5 ms)")
        r = results[("unlink", "redis")]
        verdicts.append(f"- redis-server UNLINK: max PING during the free {max(r['pmax_all']):.2f} ms (worst round), "
                        f"{r['pmax']:.2f} ms (median round)")
    md = "\n".join([
        "## Latency while a huge set is freed: UNLINK vs DEL (`scripts/lazyfree_latency.py`)",
        "",
        f"`{ev.command_line()}` — {ev.stamp()}, run took {elapsed:.0f} s",
        "",
        f"Machine: {ev.machine_line()}",
        "",
        f"Set `big` of **{args.members:,} members** (`m0`, `m1`, ...), built with pipelined SADD of "
        f"{args.per_command} members per command; no maxmemory; default lazyfree settings "
        f"(lazyfree-lazy-user-del: redis-server {lazy_cfg['redis']}, ferrokv {lazy_cfg['ferrokv']}). "
        f"A separate process sends PINGs back to back on its own connection; the window runs from sending the "
        f"command until lazyfree_pending_objects is 0 and used_memory has dropped by 90% of the set's size "
        f"(INFO memory polled every {args.poll_ms:g} ms), plus 50 ms. Servers one at a time; {args.rounds} "
        f"round(s), the server order alternating between rounds; columns are medians over rounds unless "
        f"said otherwise. The last columns show the machine's noise: PING round trips in the second before the "
        f"command, with nothing else sent to that server.",
        "",
        ev.md_table(header, rows),
        "",
        *verdicts,
        "",
    ])
    print(md)
    if args.write:
        section = "lazyfree_latency"
        if args.server_cpus != "0":
            section += "_cpus_" + args.server_cpus.replace(",", "_").replace("-", "_")
            md = md.replace("(`scripts/lazyfree_latency.py`)",
                            f"(`scripts/lazyfree_latency.py`), servers on CPUs {args.server_cpus}", 1)
        ev.write_section(section, md, args.write)


if __name__ == "__main__":
    main()
