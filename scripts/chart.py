"""Hand-written SVG chart of a bench_vs_redis.py run (stdlib only).

One row per workload, three panels side by side:
  1. rps ratio ferrokv / redis (bar from the 1.0 line; green when > 1),
  2. server CPU per request ratio ferrokv / redis (green when < 1),
  3. p99 latency of each server (two bars, log scale).
Ratios use a log scale, so 0.5 and 2.0 are the same distance from 1.0.
"""

import math
from html import escape

ROW = 15
LABEL_W = 250
PANEL_W = 250
GAP = 30
TOP = 58
GOOD, BAD, NEUTRAL = "#2e8b57", "#c0392b", "#888"
REDIS_C, FKV_C = "#a0a0a0", "#e07b00"


def _fmt(v):
    return f"{v:g}" if v >= 1 else f"{v:.2g}"


def _log_axis(lo, hi, x0, width):
    llo, lhi = math.log(lo), math.log(hi)

    def x(v):
        v = min(max(v, lo), hi)
        return x0 + (math.log(v) - llo) / (lhi - llo) * width

    return x


def _ratio_range(values, lo=0.5, hi=2.0):
    vals = [v for v in values if v and v > 0 and math.isfinite(v)]
    if vals:
        lo, hi = min(lo, min(vals) / 1.1), max(hi, max(vals) * 1.1)
    return lo, hi


RATIO_TICKS = [0.1, 0.2, 0.25, 0.5, 0.65, 0.8, 1.0, 1.3, 2.0, 3.0, 4.0, 5.0, 10.0]
MS_TICKS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]


def ratio_chart(rows, path, title, targets=None):
    """rows: dicts with label, rps_ratio, cpu_ratio, p99_redis, p99_ferrokv
    (None for missing) and optionally group (a line separates groups). targets: optional {"rps": [..], "cpu": [..]} ratios
    drawn as dashed lines."""
    targets = targets or {}
    n = len(rows)
    height = TOP + n * ROW + 40
    width = LABEL_W + 3 * PANEL_W + 2 * GAP + 80
    x_rps0 = LABEL_W
    x_cpu0 = x_rps0 + PANEL_W + GAP
    x_lat0 = x_cpu0 + PANEL_W + GAP
    rps_lo, rps_hi = _ratio_range([r["rps_ratio"] for r in rows])
    cpu_lo, cpu_hi = _ratio_range([r["cpu_ratio"] for r in rows])
    lats = [v for r in rows for v in (r["p99_redis"], r["p99_ferrokv"]) if v and v > 0]
    lat_lo = min(lats) / 1.5 if lats else 0.1
    lat_hi = max(lats) * 1.2 if lats else 10
    xr = _log_axis(rps_lo, rps_hi, x_rps0, PANEL_W)
    xc = _log_axis(cpu_lo, cpu_hi, x_cpu0, PANEL_W)
    xl = _log_axis(lat_lo, lat_hi, x_lat0, PANEL_W)
    y_end = TOP + n * ROW

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]

    def header(x0, text):
        out.append(f'<text x="{x0 + PANEL_W / 2}" y="{TOP - 22}" text-anchor="middle" font-weight="bold">'
                   f"{escape(text)}</text>")

    header(x_rps0, "rps ratio ferrokv/redis (higher is better)")
    header(x_cpu0, "server CPU/request ratio (lower is better)")
    header(x_lat0, "p99 latency, ms (log scale)")
    out.append(f'<rect x="{x_lat0 + 40}" y="{TOP - 15}" width="10" height="8" fill="{REDIS_C}"/>'
               f'<text x="{x_lat0 + 54}" y="{TOP - 8}">redis</text>'
               f'<rect x="{x_lat0 + 100}" y="{TOP - 15}" width="10" height="8" fill="{FKV_C}"/>'
               f'<text x="{x_lat0 + 114}" y="{TOP - 8}">ferrokv</text>')

    # zebra rows and labels
    for i, r in enumerate(rows):
        y = TOP + i * ROW
        if i % 2:
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{ROW}" fill="#f4f4f4"/>')
        out.append(f'<text x="{LABEL_W - 8}" y="{y + ROW - 4}" text-anchor="end">{escape(r["label"])}</text>')

    def grid(x, lo, hi, ticks, marked=()):
        for t in ticks:
            if lo <= t <= hi:
                xx = x(t)
                strong = t == 1.0 and ticks is RATIO_TICKS
                dash = ' stroke-dasharray="4,3"' if t in marked else ""
                color = "#222" if strong else ("#666" if t in marked else "#ddd")
                out.append(f'<line x1="{xx:.1f}" y1="{TOP}" x2="{xx:.1f}" y2="{y_end}" stroke="{color}"'
                           f' stroke-width="{1.5 if strong else 1}"{dash}/>')
                out.append(f'<text x="{xx:.1f}" y="{y_end + 14}" text-anchor="middle" fill="#444">{_fmt(t)}</text>')

    grid(xr, rps_lo, rps_hi, RATIO_TICKS, targets.get("rps", ()))
    grid(xc, cpu_lo, cpu_hi, RATIO_TICKS, targets.get("cpu", ()))
    grid(xl, lat_lo, lat_hi, MS_TICKS)

    def ratio_bar(x, v, higher_better, y):
        if v is None or not math.isfinite(v) or v <= 0:
            out.append(f'<text x="{x(1.0) + 4:.1f}" y="{y + ROW - 4}" fill="{BAD}">n/a</text>')
            return
        x1, x2 = sorted((x(1.0), x(v)))
        good = v > 1 if higher_better else v < 1
        color = NEUTRAL if abs(v - 1) < 0.005 else (GOOD if good else BAD)
        out.append(f'<rect x="{x1:.1f}" y="{y + 2}" width="{max(x2 - x1, 1):.1f}" height="{ROW - 4}" '
                   f'fill="{color}"><title>{v:.2f}</title></rect>')
        tx = x(v) + (4 if v >= 1 else -4)
        anchor = "start" if v >= 1 else "end"
        out.append(f'<text x="{tx:.1f}" y="{y + ROW - 4}" text-anchor="{anchor}" font-size="9">{v:.2f}</text>')

    for i, r in enumerate(rows):
        y = TOP + i * ROW
        ratio_bar(xr, r["rps_ratio"], True, y)
        ratio_bar(xc, r["cpu_ratio"], False, y)
        half = (ROW - 4) / 2
        for j, (v, color) in enumerate(((r["p99_redis"], REDIS_C), (r["p99_ferrokv"], FKV_C))):
            if v and v > 0:
                w = xl(v) - x_lat0
                out.append(f'<rect x="{x_lat0}" y="{y + 2 + j * half:.1f}" width="{max(w, 1):.1f}" height="{half:.1f}"'
                           f' fill="{color}"><title>{v:.3f} ms</title></rect>')
        both = [v for v in (r["p99_redis"], r["p99_ferrokv"]) if v]
        if len(both) == 2:
            out.append(f'<text x="{xl(max(both)) + 4:.1f}" y="{y + ROW - 4}" font-size="9">'
                       f'{r["p99_redis"]:.2f} / {r["p99_ferrokv"]:.2f}</text>')

    # a line between groups (e.g. -P 1, -P 16, extras)
    for i in range(1, n):
        if rows[i].get("group") != rows[i - 1].get("group"):
            y = TOP + i * ROW
            out.append(f'<line x1="10" y1="{y}" x2="{width - 10}" y2="{y}" stroke="#555"/>')

    for x0 in (x_rps0, x_cpu0, x_lat0):
        out.append(f'<rect x="{x0}" y="{TOP}" width="{PANEL_W}" height="{n * ROW}" fill="none" stroke="#999"/>')
    out.append(f'<text x="10" y="{height - 8}" fill="#444">Ratios on a log scale; dashed lines: targets. '
               f'p99 labels: redis / ferrokv.</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
