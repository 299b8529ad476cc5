#!/usr/bin/env python3
"""Draws a JMH JSON results file as an SVG bar chart: packets per second per benchmark and
parameter set, on a logarithmic axis (parse and upcall differ by four orders of magnitude),
with the GC profiler's bytes per op beside each bar when the run had -prof gc.

usage: chart.py RESULTS.json OUT.svg [--title TEXT]
Standard library only, so it runs wherever python3 does.
"""
import argparse
import json
import math
import sys
from xml.sax.saxutils import escape

BAR_HEIGHT = 22
BAR_GAP = 10
LABEL_WIDTH = 330
PLOT_WIDTH = 520
RIGHT_MARGIN = 190
TOP = 56
BOTTOM = 44


def short_name(benchmark):
    """dev.junction.bench.ParseBenchmark.parse -> ParseBenchmark.parse"""
    parts = benchmark.split(".")
    return ".".join(parts[-2:])


def alloc_norm(entry):
    for name, metric in entry.get("secondaryMetrics", {}).items():
        # JMH before 1.36 prefixed profiler metrics with a middle dot.
        if name.lstrip("\u00b7") == "gc.alloc.rate.norm":
            return metric.get("score")
    return None


def rows(results):
    out = []
    for entry in results:
        metric = entry["primaryMetric"]
        unit = metric.get("scoreUnit", "")
        if unit != "ops/s":
            sys.exit("chart.py: %s reports %s, expected ops/s (throughput mode)" % (entry["benchmark"], unit))
        params = entry.get("params") or {}
        label = short_name(entry["benchmark"])
        if params:
            label += " [" + ", ".join("%s=%s" % kv for kv in sorted(params.items())) + "]"
        error = metric.get("scoreError")
        if error is None or (isinstance(error, float) and math.isnan(error)) or error == "NaN":
            error = None
        out.append((label, float(metric["score"]), error, alloc_norm(entry)))
    return out


def human(v):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return "%.3g%s" % (v / div, suffix)
    return "%.3g" % v


def svg(data, title):
    lo = 10 ** math.floor(math.log10(min(score for _, score, _, _ in data)))
    hi = 10 ** math.ceil(math.log10(max(score for _, score, _, _ in data)))
    if hi <= lo:
        hi = lo * 10
    span = math.log10(hi) - math.log10(lo)

    def x(v):
        return LABEL_WIDTH + PLOT_WIDTH * (math.log10(max(v, lo)) - math.log10(lo)) / span

    height = TOP + len(data) * (BAR_HEIGHT + BAR_GAP) + BOTTOM
    width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN
    p = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">'
         % (width, height),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (10, escape(title)),
         '<text x="%d" y="40" fill="#555">packets per second, log scale; label: score (B/op allocated)</text>' % 10]
    plot_bottom = TOP + len(data) * (BAR_HEIGHT + BAR_GAP)
    decade = lo
    while decade <= hi * 1.0001:
        gx = x(decade)
        p.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (gx, TOP - 6, gx, plot_bottom))
        p.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>' % (gx, plot_bottom + 16, human(decade)))
        decade *= 10
    for i, (label, score, error, norm) in enumerate(data):
        y = TOP + i * (BAR_HEIGHT + BAR_GAP)
        p.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (LABEL_WIDTH - 8, y + 15, escape(label)))
        p.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#4e79a7"/>'
                 % (LABEL_WIDTH, y, x(score) - LABEL_WIDTH, BAR_HEIGHT))
        if error:
            e0, e1 = x(max(score - error, lo)), x(score + error)
            p.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222"/>'
                     % (e0, y + BAR_HEIGHT // 2, e1, y + BAR_HEIGHT // 2))
        text = human(score) + " ops/s"
        if norm is not None:
            text += " (%.2g B/op)" % norm
        p.append('<text x="%.1f" y="%d">%s</text>' % (x(score) + 6, y + 15, escape(text)))
    p.append('</svg>')
    return "\n".join(p) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="JMH JSON results (-rf json)")
    ap.add_argument("out", help="SVG file to write")
    ap.add_argument("--title", default="Junction JMH benchmarks")
    args = ap.parse_args()
    with open(args.results, encoding="utf-8") as f:
        results = json.load(f)
    if not results:
        sys.exit("chart.py: %s holds no results" % args.results)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(svg(rows(results), args.title))


if __name__ == "__main__":
    main()
