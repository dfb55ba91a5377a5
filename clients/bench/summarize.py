#!/usr/bin/python3
"""Medians of the standard relais-bench runs, checked against the bar, and
the gnuplot scripts of the scaling curves.
    summarize.py RESULTS_DIR RUNS      reads RESULTS_DIR/runs.jsonl"""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
runs = int(sys.argv[2])
cases = {}
for line in (out / "runs.jsonl").read_text().splitlines():
    record = json.loads(line)
    cases.setdefault(record["case"], []).append(record["result"])


def median(case, figure):
    values = [r[figure] for r in cases.get(case, []) if figure in r]
    return statistics.median(values) if values else None


# (what, case, figure, bar, holds(value))
bar = [
    ("fan-out 1,000 × 50 msg/s: server CPU per delivery vs ws", "fanout_50",
     "cpu_per_delivery_vs_raw", "≤ 0.45×", lambda v: v <= 0.45),
    ("fan-out 1,000 × 50 msg/s: missing deliveries", "fanout_50", "missing", "0",
     lambda v: v == 0),
    ("fan-out 1,000 × 200 msg/s: deliveries/s", "fanout_200", "deliveries_per_s",
     "≥ 199,000 (keeps up)", lambda v: v >= 199000),
    ("fan-out 1,000 × 200 msg/s: p99 send→deliver", "fanout_200", "deliver_p99_ms",
     "≤ 10 ms", lambda v: v <= 10),
    ("saturation 1,000 members, 10 × window 16: deliveries/s vs ws", "saturation",
     "deliveries_per_s_vs_raw", "≥ 2.5×", lambda v: v >= 2.5),
    ("saturation: missing deliveries", "saturation", "missing", "0", lambda v: v == 0),
    ("10,000 idle connections: server RSS per connection", "idle_10000",
     "server_rss_per_connection_kib", "≤ 2 KiB", lambda v: v <= 2),
    ("durable acked sends, 64 senders", "durable_64", "acked_per_s", "≥ 100,000/s",
     lambda v: v >= 100000),
    ("catch-up of 10,000 missed messages", "catchup_10000", "catchup_ms", "≤ 100 ms",
     lambda v: v <= 100),
    ("history page of 100 over the big store: p99", "history_big", "page_p99_ms", "≤ 5 ms",
     lambda v: v <= 5),
    ("session of 200 participants, 20 actions/s: p99 action→everyone", "session_200",
     "to_everyone_p99_ms", "≤ 50 ms", lambda v: v <= 50),
]


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


lines = [f"# relais-bench standard run (medians of {runs})", "",
         "| | median | bar | |", "|---|---:|---|---|"]
for what, case, figure, goal, holds in bar:
    v = median(case, figure)
    verdict = "—" if v is None else ("met" if holds(v) else "**not met**")
    lines.append(f"| {what} | {fmt(v)} | {goal} | {verdict} |")
lines += ["", "## Every figure (median)", ""]
for case, results in cases.items():
    lines.append(f"### {case} ({len(results)} run{'s' if len(results) > 1 else ''})")
    lines.append("")
    keys = [k for k in results[0] if k != "scenario"]
    lines.append("| figure | median | runs |")
    lines.append("|---|---:|---|")
    for k in keys:
        values = [r.get(k) for r in results]
        shown = ", ".join(fmt(v) for v in values)
        lines.append(f"| {k} | {fmt(median(case, k))} | {shown} |")
    lines.append("")
(out / "summary.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines[:len(bar) + 4]))

# Scaling curves: data files and gnuplot scripts.
sizes = sorted(int(c[5:]) for c in cases if c.startswith("size_"))
with open(out / "fanout_scaling.dat", "w") as f:
    f.write("# members deliveries_per_s deliver_p99_ms\n")
    for m in sizes:
        f.write(f"{m} {median(f'size_{m}', 'deliveries_per_s')} "
                f"{median(f'size_{m}', 'deliver_p99_ms')}\n")
counts = sorted(int(c[5:]) for c in cases if c.startswith("idle_"))
with open(out / "rss_scaling.dat", "w") as f:
    f.write("# connections server_rss_mib rss_per_connection_kib\n")
    for n in counts:
        f.write(f"{n} {median(f'idle_{n}', 'server_rss_mib')} "
                f"{median(f'idle_{n}', 'server_rss_per_connection_kib')}\n")
with open(out / "storage_scaling.dat", "w") as f:
    f.write("# stored_messages history_p99_ms catchup_ms\n")
    small = median("history_small", "stored_messages")
    big = median("history_big", "stored_messages")
    if small is not None:
        f.write(f"{int(small)} {median('history_small', 'page_p99_ms')} "
                f"{median('catchup_10000', 'catchup_ms')}\n")
    if big is not None:
        f.write(f"{int(big)} {median('history_big', 'page_p99_ms')} "
                f"{median('catchup_big', 'catchup_ms')}\n")

common = "set terminal pngcairo size 900,560\nset grid\nset key top left\n"
(out / "fanout_scaling.gp").write_text(common + """set output 'fanout_scaling.png'
set title 'Saturation fan-out against channel size (10 senders, window 16)'
set logscale x
set xlabel 'members online in the channel'
set ylabel 'deliveries/s'
set y2label 'p99 send→deliver (ms)'
set ytics nomirror
set y2tics
plot 'fanout_scaling.dat' using 1:2 with linespoints title 'deliveries/s', \\
     '' using 1:3 axes x1y2 with linespoints title 'p99 (ms)'
""")
(out / "rss_scaling.gp").write_text(common + """set output 'rss_scaling.png'
set title 'Server memory against idle authenticated connections'
set xlabel 'connections'
set ylabel 'server RSS (MiB)'
set y2label 'RSS per connection (KiB)'
set ytics nomirror
set y2tics
plot 'rss_scaling.dat' using 1:2 with linespoints title 'RSS (MiB)', \\
     '' using 1:3 axes x1y2 with linespoints title 'per connection (KiB)'
""")
(out / "storage_scaling.gp").write_text(common + """set output 'storage_scaling.png'
set title 'History page and catch-up against messages stored in the channel'
set logscale x
set xlabel 'messages stored'
set ylabel 'milliseconds'
plot 'storage_scaling.dat' using 1:2 with linespoints title 'history page of 100, p99', \\
     '' using 1:3 with linespoints title 'catch-up of 10,000 missed'
""")
