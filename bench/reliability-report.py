#!/usr/bin/env python3
"""Figures of bench/reliability.sh: reads its work folder, writes OUT/reliability.md and prints it.
Exits 1 when a criterion fails (lost requests, queue over bound, accepted p99 over the timeout,
no recovery, soak growth)."""
import csv
import json
import re
import sys
from datetime import datetime, timezone

work, out, overload_s, soak_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
soak_before = [int(x) for x in sys.argv[5].split()]
soak_after = [int(x) for x in sys.argv[6].split()]
MIB = 1024 * 1024
failures = []
lines = [f"# Reliability figures ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)", "",
         f"Written by `bench/reliability.sh` (overload {overload_s} s, soak {soak_s} s), on 127.0.0.1; "
         "the machine's other load is not controlled, so rates are indicative.", ""]


def load(name):
    with open(f"{work}/{name}") as f:
        return json.load(f)


def conf(path):
    with open(path) as f:
        return json.load(f)


def p99(values):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(0.99 * len(values)))]


def nmt(name):
    text = open(f"{work}/{name}-nmt.txt").read()
    total = int(re.search(r"Total: reserved=(\d+)KB, committed=(\d+)KB", text).group(2)) // 1024
    cats = {m.group(1).strip(): int(m.group(3)) // 1024
            for m in re.finditer(r"-\s+([A-Za-z ]+) \(reserved=(\d+)KB, committed=(\d+)KB", text)}
    return total, cats


def flag(name, key):
    m = re.search(rf"-XX:{key}=(\d+)", open(f"{work}/{name}-flags.txt").read())
    return int(m.group(1)) // MIB if m else None


def overload(name, conf_file):
    cfg = conf(conf_file)
    bound = cfg["inference"]["queueCapacity"]
    timeout_ms = cfg["inference"]["timeoutMs"]
    cap = load(f"{name}-capacity.json")["throughputPerSecond"]
    o = load(f"{name}-overload.json")
    r = o["requests"]
    codes = {int(k): v for k, v in r["statusCodes"].items()}
    accepted = sum(v for k, v in codes.items() if 200 <= k < 300)
    rejected = codes.get(429, 0) + codes.get(503, 0)
    lost = r["sent"] - accepted - rejected
    with open(f"{work}/{name}-overload.csv") as f:
        rows = list(csv.DictReader(f))
    ok_latency = [float(x["latency_ms"]) for x in rows if x["status"].isdigit() and 200 <= int(x["status"]) < 300]
    accepted_p99 = p99(ok_latency)
    queue = [float(x) for x in open(f"{work}/{name}-queue.txt").read().split() if x]
    queue_max = max(queue) if queue else float("nan")
    phases = o.get("resources", {}).get("phases", {})
    mem = {k: (v["memoryBytes"], v["heapBytes"]) for k, v in phases.items()}
    nmt_total, cats = nmt(name)
    rss_at_nmt = int(open(f"{work}/{name}-nmt-rss.txt").read().split()[0]) // 1024
    hwm = int(open(f"{work}/{name}-hwm.txt").read().split()[0]) // 1024
    lines.extend([
        f"## {name}: overload at 10x capacity ({conf_file})", "",
        "| figure | value |", "| --- | --- |",
        f"| capacity (closed, 8 connections, PNG) | {cap:.1f} req/s |",
        f"| offered (open model, 1024 connections) | {o['settings']['ratePerSecond']} req/s for {overload_s} s: "
        f"{r['sent']} sent, {r['notSent']} not sent by the generator |",
        f"| accepted (2xx) | {accepted} |",
        f"| rejected (429 / 503) | {codes.get(429, 0)} / {codes.get(503, 0)} |",
        f"| lost (timeouts, connection errors, other status) | {lost} |",
        f"| status codes | {dict(sorted(codes.items()))} |",
        f"| inference queue, max sampled every 100 ms, vs bound | {queue_max:.0f} / {bound} |",
        f"| p99 of accepted (from sending) vs inference timeout | {accepted_p99:.0f} ms / {timeout_ms} ms |",
    ])
    for phase, (m, h) in mem.items():
        lines.append(f"| {phase}: RSS avg / peak; heap avg / peak | {m['avg'] / MIB:.0f} / {m['peak'] / MIB:.0f} MiB; "
                     f"{(h['avg'] or 0) / MIB:.0f} / {(h['peak'] or 0) / MIB:.0f} MiB |")
    lines.append(f"| RSS high-water mark of the process | {hwm} MiB |")
    lines.append(f"| at the peak: RSS, NMT committed (tracked), untracked native (RSS - NMT) | {rss_at_nmt} MiB, "
                 f"{nmt_total} MiB, {rss_at_nmt - nmt_total} MiB |")
    lines.append(f"| NMT committed by category (MiB) | " + ", ".join(f"{k} {v}" for k, v in cats.items() if v >= 1) + " |")
    lines.append("")
    if lost != 0:
        failures.append(f"{name}: {lost} requests lost")
    if queue_max > bound:
        failures.append(f"{name}: queue {queue_max} over its bound {bound}")
    if not accepted_p99 <= timeout_ms:
        failures.append(f"{name}: accepted p99 {accepted_p99} ms over the timeout {timeout_ms} ms")
    return cats, nmt_total, rss_at_nmt, hwm


overload("node", "conf/local.json")
rec = load("node-recovery.json")
cap = load("node-capacity.json")["throughputPerSecond"]
recovered = rec["requests"]["successful"] == rec["requests"]["completed"] and rec["throughputPerSecond"] >= 0.5 * cap
lines.extend(["## node: recovery and soak", "", "| figure | value |", "| --- | --- |",
              f"| recovery (closed, 8 connections, 10 s): 2xx / completed, throughput | "
              f"{rec['requests']['successful']} / {rec['requests']['completed']}, {rec['throughputPerSecond']:.1f} req/s "
              f"({100 * rec['throughputPerSecond'] / cap:.0f} % of capacity) |"])
if not recovered:
    failures.append("node: did not recover after the overload")
soak = load("node-soak.json")
sr = soak["requests"]
lines.append(f"| soak: {soak['settings']['ratePerSecond']} req/s for {soak_s} s | {sr['sent']} sent, "
             f"{sr['successful']} 2xx, {sr['failed']} failed |")
names = ["RSS (MiB)", "threads", "open fds", "heap after full GC (MiB)"]
before = [soak_before[0] // 1024, soak_before[1], soak_before[2], soak_before[3] // MIB]
after = [soak_after[0] // 1024, soak_after[1], soak_after[2], soak_after[3] // MIB]
for n, b, a in zip(names, before, after):
    lines.append(f"| soak {n}: before / after | {b} / {a} |")
lines.append("")
# Growth allowances: a few threads/fds come and go (pools, keep-alive sockets); memory within 10 %.
if sr["failed"] > 0:
    failures.append(f"soak: {sr['failed']} failed requests")
if after[1] > before[1] + 4 or after[2] > before[2] + 8:
    failures.append("soak: threads or fds grew")
if after[0] > before[0] * 1.10 + 16 or after[3] > before[3] * 1.10 + 16:
    failures.append("soak: RSS or heap after GC grew by more than 10 %")

cats, total, rss_peak, hwm = overload("function", "conf/openfaas.json")
heap = flag("function", "MaxHeapSize")
direct = flag("function", "MaxDirectMemorySize")
meta = flag("function", "MaxMetaspaceSize")
code = flag("function", "ReservedCodeCacheSize")
tracked_other = total - cats.get("Java Heap", 0) - cats.get("Class", 0) - cats.get("Code", 0) - cats.get("Other", 0)
untracked = max(0, rss_peak - total)
budget = heap + direct + meta + code + tracked_other + untracked
lines.extend(["## function: memory budget at its 4 GiB limit", "",
              "Caps are the JVM's own limits (the flags of `openfaas/build-image.sh`, `-XX:MaxRAM=4g` standing for "
              "the container's limit); the rest is measured at the overload's peak (NMT, RSS).", "",
              "| part | MiB |", "| --- | --- |",
              f"| heap cap (MaxRAMPercentage=50 of 4 GiB) | {heap} |",
              f"| direct buffers cap (MaxDirectMemorySize) | {direct} |",
              f"| metaspace cap (MaxMetaspaceSize) | {meta} |",
              f"| code cache cap (ReservedCodeCacheSize) | {code} |",
              f"| other NMT-tracked, measured (threads, GC, symbols, internal, ...) | {tracked_other} |",
              f"| untracked native at the peak (ONNX Runtime, malloc arenas): RSS - NMT | {untracked} |",
              f"| **total (caps + measured)** | **{budget}** of 4096: headroom {4096 - budget} |",
              f"| measured RSS high-water mark under the overload | {hwm} |", ""])
if budget >= 4096:
    failures.append(f"function: memory budget {budget} MiB is not under 4096 MiB")

lines.append("Result: " + ("all criteria hold" if not failures else "FAILED: " + "; ".join(failures)))
text = "\n".join(lines) + "\n"
with open(f"{out}/reliability.md", "w") as f:
    f.write(text)
print(text)
sys.exit(1 if failures else 0)
