#!/usr/bin/env python3
"""The Markdown report of one benches/suite.sh run: medians over the rounds, per server.

    suite_report.py OUT_DIR BINARY SCALE
"""
import glob
import json
import os
import statistics
import sys

# Issue 8's targets: Rapport's req/s at least this many times the peer's, with a lower p99.
TARGETS = {"list_leads": 8, "get_lead": 10, "search": 20, "dashboard": 100, "create_lead": 5}
PEAK_RSS_TARGET_MB = 40


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def median(values):
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def main():
    out, binary, scale = sys.argv[1:4]
    runs = {}  # server -> workload -> [result lines]
    for path in sorted(glob.glob(os.path.join(out, "*-*.jsonl"))):
        server = os.path.basename(path).split("-")[0]
        for r in lines(path):
            runs.setdefault(server, {}).setdefault(r["workload"], []).append(r)
    servers = {}
    if os.path.exists(os.path.join(out, "servers.jsonl")):
        for s in lines(os.path.join(out, "servers.jsonl")):
            servers.setdefault(s["server"], []).append(s)
    rounds = max((len(v) for v in servers.values()), default=0)

    print(f"## {scale} dataset, {rounds} round(s), medians\n")
    print("| workload | Rapport req/s | p50 ms | p99 ms | peer req/s | p50 ms | p99 ms | ratio | target | met |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for workload, target in TARGETS.items():
        ours = runs.get("rapport", {}).get(workload, [])
        peer = runs.get("peer", {}).get(workload, [])
        med = lambda rs, k: median([r[k] for r in rs])
        o_rps, p_rps = med(ours, "rps"), med(peer, "rps")
        o_p99, p_p99 = med(ours, "p99_ms"), med(peer, "p99_ms")
        errors = sum(r["non2xx"] + r["socket_errors"] for r in ours + peer)
        ratio = o_rps / p_rps if o_rps and p_rps else None
        met = "–"
        if ratio is not None:
            met = "yes" if ratio >= target and o_p99 < p_p99 else "**no**"
        if errors:
            met += f" ({errors} errors)"
        print(
            f"| {workload} | {fmt(o_rps)} | {fmt(med(ours, 'p50_ms'), 2)} | {fmt(o_p99, 2)} "
            f"| {fmt(p_rps, 1)} | {fmt(med(peer, 'p50_ms'), 1)} | {fmt(p_p99, 1)} "
            f"| {fmt(ratio, 1)}× | {target}× | {met} |"
        )

    print("\n| server | start to first /healthz (ms) | idle RSS after start (MB) | peak RSS under load (MB) |")
    print("|---|---|---|---|")
    for name in ("rapport", "peer"):
        if name not in servers:
            continue
        s = servers[name]
        ready = median([x["ready_ms"] for x in s])
        idle = median([x["idle"]["rss_end_kb"] / 1024 for x in s])
        peak = median([max(x["load"]["hwm_kb"], x["load"]["rss_peak_kb"]) / 1024 for x in s])
        mark = ""
        if name == "rapport":
            mark = " (target ≤ 40: " + ("met" if peak <= PEAK_RSS_TARGET_MB else "**not met**") + ")"
        print(f"| {name} | {fmt(ready)} | {fmt(idle, 1)} | {fmt(peak, 1)}{mark} |")
    size = os.path.getsize(binary)
    print(f"\nRapport binary: {size:,} bytes ({size / 1048576:.1f} MiB).")


if __name__ == "__main__":
    main()
