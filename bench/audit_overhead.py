"""What the audit log costs: request throughput and latency with the audit log at
Metadata (the default) and switched off (--audit-level None), same run.

For each mode a fresh 3-replica cluster (fsync on, the defaults, audit log where
`triarch init` puts it), then against the leader's plain listener, h2c, h2load -m 1:
  - creates: POST of a 1 KiB ConfigMap (generateName) at CLIENTS clients;
  - gets: GET of one ConfigMap at CLIENTS clients (a read barrier, then the local store).
Modes alternate Metadata, None, Metadata, None (REPS each) so that drift of the
shared machine falls on both. Reported: medians over repetitions of 2xx/s, exact
p50/p99 (h2load's per-request log), leader CPU µs per request, and what the leader
wrote to its audit log (events, dropped, bytes).

    python3 bench/audit_overhead.py [--scale 0.5] [--reps 2]
"""

import argparse
import json
import os
import statistics
import tempfile
import urllib.request

import common
from common import fmt, log

CLIENTS = 64
CREATES = 8000
GETS = 20000
WARMUP = 1000
REPS = 2


def h2load_get(url, n, c):
    """common.h2load always POSTs a body; a GET run parsed the same way."""
    fd, log_path = tempfile.mkstemp(prefix="h2load-", suffix=".log")
    os.close(fd)
    argv = [common.H2LOAD, "-n", str(n), "-c", str(c), "-m", "1", "-t", "1",
            "--log-file", log_path, url]
    try:
        return common._h2load_parse(argv, n, c, 1, log_path, common.H2LOAD_TIMEOUT_S)
    finally:
        os.unlink(log_path)


def audit_bytes(t, name):
    d = os.path.join(t.c.dir, name, "audit")
    if not os.path.isdir(d):
        return 0
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def one_mode(root, mode, scale):
    flags = [] if mode == "Metadata" else ["--audit-level", "None"]
    body = os.path.join(root, "configmap.json")
    common.configmap_body(body)
    t = common.Triarch(root, flags).start()
    try:
        leader = t.leader()
        base = t.plain(leader)
        url = base + common.CONFIGMAPS
        req = urllib.request.Request(url, method="POST", headers={
            "Content-Type": "application/json"}, data=json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench-get"},
                 "data": {"k": "v" * 1024}}).encode())
        urllib.request.urlopen(req, timeout=10).read()
        common.h2load(url, body, WARMUP, 16)
        lpid = t.pid(leader)
        out = {}
        for kind, n in (("create", int(CREATES * scale)), ("get", int(GETS * scale))):
            before = common.cpu_seconds([lpid])
            if kind == "create":
                r = common.h2load(url, body, n, CLIENTS)
            else:
                r = h2load_get(url + "/bench-get", n, CLIENTS)
            after = common.cpu_seconds([lpid])
            r["cpu_us"] = (after[lpid] - before[lpid]) * 1e6 / r["ok"] if r.get("ok") else None
            out[kind] = r
            log(f"{mode} {kind}: {fmt(r.get('rps_ok'))}/s p50 {fmt(r.get('p50'), 2)} ms "
                f"p99 {fmt(r.get('p99'), 2)} ms cpu {fmt(r.get('cpu_us'))} us "
                f"{r.get('error', '')}")
        m = t.metrics(leader)
        out["events"] = m.get("triarch_audit_events_total", 0)
        out["dropped"] = m.get("triarch_audit_events_dropped_total", 0)
        out["bytes"] = audit_bytes(t, leader)
    finally:
        t.close()
    return out


def med(runs, kind, key):
    vals = [r[kind][key] for r in runs if r[kind].get(key) is not None]
    return statistics.median(vals) if vals else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--reps", type=int, default=REPS)
    a, _ = p.parse_known_args()
    runs = {"Metadata": [], "None": []}
    for rep in range(a.reps):
        for mode in ("Metadata", "None"):
            log(f"repetition {rep + 1}/{a.reps}: audit {mode}")
            with common.TempRoot() as root:
                runs[mode].append(one_mode(root, mode, a.scale))
    print("## Audit log overhead\n")
    print(f"Machine: {common.machine()}. 3 replicas, fsync on; h2load -t 1 -m 1 at {CLIENTS} "
          f"clients, h2c to the leader; {int(CREATES * a.scale)} creates (1 KiB ConfigMap) and "
          f"{int(GETS * a.scale)} GETs of one ConfigMap per run; {a.reps} repetitions per mode, "
          "modes alternating on fresh clusters; medians.\n")
    print("| audit | request | 2xx/s | p50 ms | p99 ms | leader CPU µs/req |")
    print("|---|---|---:|---:|---:|---:|")
    for kind in ("create", "get"):
        for mode in ("None", "Metadata"):
            r = runs[mode]
            print(f"| {mode} | {kind} | {fmt(med(r, kind, 'rps_ok'), 0)} | "
                  f"{fmt(med(r, kind, 'p50'), 2)} | {fmt(med(r, kind, 'p99'), 2)} | "
                  f"{fmt(med(r, kind, 'cpu_us'))} |")
    print()
    for kind in ("create", "get"):
        n, md = med(runs["None"], kind, "rps_ok"), med(runs["Metadata"], kind, "rps_ok")
        if n and md:
            print(f"- {kind}: Metadata at {100.0 * md / n:.1f}% of the throughput without audit")
    meta = runs["Metadata"]
    ev = sum(r["events"] for r in meta)
    print(f"- leader's audit log at Metadata: {int(ev)} events, "
          f"{int(sum(r['dropped'] for r in meta))} dropped, "
          f"{sum(r['bytes'] for r in meta) / max(ev, 1):.0f} bytes per event\n")
    print("<details><summary>Every run</summary>\n")
    print("| audit | rep | request | 2xx | other | 2xx/s | p50 | p99 | max | CPU µs/req |")
    print("|---|---:|---|---:|---|---:|---:|---:|---:|---:|")
    for mode, rs in runs.items():
        for i, r in enumerate(rs):
            for kind in ("create", "get"):
                x = r[kind]
                print(f"| {mode} | {i + 1} | {kind} | {x.get('ok')} | {x.get('other_codes')} | "
                      f"{fmt(x.get('rps_ok'), 0)} | {fmt(x.get('p50'), 2)} | "
                      f"{fmt(x.get('p99'), 2)} | {fmt(x.get('max'), 2)} | "
                      f"{fmt(x.get('cpu_us'))} |")
    print("\n</details>")


if __name__ == "__main__":
    main()
