"""Replicated write throughput and latency: triarch vs etcd 3.4, same load generator.

triarch: three replicas (fsync on, the defaults), each with a plain loopback
listener. h2load POSTs one fixed 1 KiB ConfigMap body (metadata.generateName, so
every request creates a new object) to the LEADER's plain listener, prior-knowledge
h2c, one stream per connection (-c C -m 1: C concurrent clients, each with one
write in flight). Why the leader: h2load takes one authority per run, every write
is committed by the leader anyway, and a follower adds one forwarding hop that is
measured separately (one run at 64 clients against a follower). Then the same runs
over HTTP/1.1 (--h1), which is what etcd's gateway needs.

etcd: three members (Debian's etcd 3.4, defaults, fsync on), h2load over HTTP/1.1
to the leader's client URL, POST /v3/kv/put with a 1 KiB value, the same key every
time (etcd's JSON gateway is HTTP/1.1 only: etcd's cmux sends every HTTP/2
connection on its plain port to gRPC). Same request counts as triarch.

Latency percentiles are exact (nearest rank over every 2xx request in h2load's
--log-file). CPU per write: utime+stime of the three server processes from
/proc/PID/stat before and after a run, divided by the 2xx count. The profile:
perf on the triarch leader for a few seconds at 64 clients (profile.py).
"""

import argparse
import os
import subprocess
import sys
import time

import common
import perf_breakdown as prof
from common import fmt, log

CONCURRENCY = [1, 16, 64, 256]
# Requests per run: enough for a stable p99 (>= 100 samples beyond it) while the
# whole section stays within a few minutes on 2 cores.
REQUESTS = {1: 2000, 16: 8000, 64: 16000, 256: 16000}
WARMUP_REQUESTS = 1000
PROFILE_SECONDS = 5
PROFILE_CLIENTS = 64


def scaled(n, scale):
    return max(200, int(n * scale))


def one_run(label, url, body, n, c, pids, h1=False, snapshots=None):
    """One h2load run; snapshots() (if given) counts the leader's Raft snapshots."""
    s0 = snapshots() if snapshots else None
    before = common.cpu_seconds(pids)
    r = common.h2load(url, body, n, c, h1=h1)
    after = common.cpu_seconds(pids)
    r["snapshots"] = snapshots() - s0 if snapshots else None
    cpu = sum(after[p] - before[p] for p in pids)
    r["label"] = label
    r["cpu_us_per_write"] = cpu * 1e6 / r["ok"] if r.get("ok") else None
    r["cpu_by_proc"] = [round(after[p] - before[p], 2) for p in pids]
    if "error" in r:
        log(f"{label} c={c}: FAILED {r['error'][-300:]}")
    else:
        log(f"{label} c={c}: {r['rps']:.0f} req/s ok={r['ok']}/{n} p50={r['p50']:.2f}ms "
            f"p99={r['p99']:.2f}ms cpu/write={fmt(r['cpu_us_per_write'], 0)}us {r['codes']} "
            f"longest pause {r['max_gap_ms']:.0f}ms, pauses>={common.STALL_MS}ms "
            f"{r['gaps_over_stall']}, snapshots {r['snapshots']}")
    return r


def codes(d):
    return ", ".join(f"{v}× {k}" for k, v in sorted(d.items())) or "0"


def table(rows):
    out = ["| system | protocol | target | clients | writes ok/sent | writes/s | p50 ms | "
           "p99 ms | max ms | CPU µs/write (3 procs) | CPU s per process | non-2xx | "
           f"pauses ≥{common.STALL_MS} ms (longest) | leader snapshots |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['label']} | | | {r['c']} | FAILED: {r['error'][:120]} |"
                       " | | | | | | | | |")
            continue
        sysname, proto, target = r["label"].split(" / ")
        out.append(f"| {sysname} | {proto} | {target} | {r['c']} | {r['ok']}/{r['n']} | "
                   f"{r['rps_ok']:.0f} | {fmt(r['p50'], 2)} | {fmt(r['p99'], 2)} | "
                   f"{fmt(r['max'], 1)} | {fmt(r['cpu_us_per_write'], 0)} | "
                   f"{' / '.join(str(x) for x in r['cpu_by_proc'])} | "
                   f"{codes(r['other_codes'])} | {r['gaps_over_stall']} "
                   f"({r['max_gap_ms']:.0f} ms) | {fmt(r['snapshots'], 0)} |")
    return "\n".join(out)


def triarch_runs(root, scale, do_h1, do_profile, build_dir):
    rows, prof_out = [], None
    body = os.path.join(root, "configmap.json")
    size = common.configmap_body(body)
    log(f"triarch: body {size} B; starting 3 replicas")
    t = common.Triarch(root).start()
    try:
        leader = t.leader()
        follower = [n for n in t.c.names if n != leader][0]
        url = t.plain(leader) + common.CONFIGMAPS
        pids = t.pids()
        log(f"triarch: leader {leader} ({url}), warm-up {WARMUP_REQUESTS}")
        common.h2load(url, body, WARMUP_REQUESTS, 16)
        runs = [("triarch / h2c / leader", url, c, False) for c in CONCURRENCY]
        if do_h1:
            runs += [("triarch / HTTP/1.1 / leader", url, c, True) for c in CONCURRENCY]
        runs.append(("triarch / h2c / follower (forwarded)", t.plain(follower) + common.CONFIGMAPS,
                     64, False))
        def snapshots():
            return t.metrics(leader).get("triarch_raft_snapshots_total", 0)

        for label, u, c, h1 in runs:
            rows.append(one_run(label, u, body, scaled(REQUESTS[c], scale), c, pids, h1=h1,
                                snapshots=snapshots))
            dead = [n for n in t.c.names if not t.c.running(n)]
            if dead:
                rows[-1]["error"] = (f"replica(s) {', '.join(dead)} died during this run "
                                     f"({rows[-1].get('ok', 0)} writes ok); runs stopped")
                return rows, None, size, {}
        if do_profile:
            prof_out = profile_leader(t, leader, url, body, root, build_dir)
        metrics = t.metrics(leader)
    finally:
        t.close()
    return rows, prof_out, size, metrics


def profile_leader(t, leader, url, body, root, build_dir):
    """perf on the leader while h2load keeps PROFILE_CLIENTS writes in flight."""
    if not os.access(prof.PERF, os.X_OK):
        return {"error": "perf not installed"}
    data = os.path.join(root, "perf.data")
    hl = subprocess.Popen([common.H2LOAD, "-n", "1000000", "-c", str(PROFILE_CLIENTS), "-m", "1",
                           "-d", body, "-H", "Content-Type: application/json", url],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # let the connections open and the load settle
        err = prof.record(t.pid(leader), PROFILE_SECONDS, data)
    finally:
        hl.kill()
        hl.wait(timeout=30)
    if err:
        return {"error": err}
    lines, comps, total = prof.report(data, build_dir)
    return {"top": lines, "components": comps, "total": total}


def etcd_runs(root, scale):
    rows = []
    body = os.path.join(root, "etcd-put.json")
    size = common.etcd_put_body(body)
    log(f"etcd: body {size} B; starting 3 members")
    e = common.Etcd(root).start()
    try:
        leader = e.leader()
        url = e.client[leader] + "/v3/kv/put"
        pids = e.pids()
        log(f"etcd: leader {leader} ({url}), warm-up {WARMUP_REQUESTS}")
        common.h2load(url, body, WARMUP_REQUESTS, 16, h1=True)
        for c in CONCURRENCY:
            rows.append(one_run("etcd 3.4 / HTTP/1.1 JSON gateway / leader", url, body,
                                scaled(REQUESTS[c], scale), c, pids, h1=True))
    finally:
        e.close()
    return rows, size


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="multiply request counts")
    p.add_argument("--no-h1", action="store_true", help="skip triarch over HTTP/1.1")
    p.add_argument("--no-etcd", action="store_true")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--bin-dir", default=os.environ["TRI_BIN_DIR"])
    a, _ = p.parse_known_args()
    rows, prof_out = [], None
    with common.TempRoot() as root:
        trows, prof_out, tsize, metrics = triarch_runs(root, a.scale, not a.no_h1,
                                                       not a.no_profile, a.bin_dir)
        rows += trows
        esize = None
        if not a.no_etcd:
            erows, esize = etcd_runs(root, a.scale)
            rows += erows
    print("## Replicated writes through the API\n")
    print(f"Machine: {common.machine()}. Bodies: triarch ConfigMap {tsize} B "
          f"(1 KiB data value, generateName), etcd put {esize} B (1 KiB value, base64). "
          "Three replicas/members on loopback, fsync on, h2load -t 1 -m 1 (one write in "
          "flight per client).\n")
    print(table(rows))
    print()
    print("Leader /metrics after the runs: "
          f"snapshots={metrics.get('triarch_raft_snapshots_total')} "
          f"keys={metrics.get('triarch_store_keys')} "
          f"store_bytes={metrics.get('triarch_store_size_bytes')} "
          f"rejected={metrics.get('apiserver_rejected_requests_total')}\n")
    if prof_out:
        if "error" in prof_out:
            print(f"perf profile: FAILED: {prof_out['error']}\n")
        else:
            print(f"### CPU profile of the triarch leader at {PROFILE_CLIENTS} clients "
                  f"(perf, cpu-clock, {PROFILE_SECONDS} s, self time)\n")
            print("| component | % of leader CPU samples |\n|---|---:|")
            for k, v in prof_out["components"]:
                print(f"| {k} | {v:.1f} |")
            print("\nTop functions (perf report --no-children --sort dso,sym):\n\n```")
            print("\n".join(prof_out["top"]))
            print("```\n")
    # 409: a generateName suffix (5 of 27 letters) that collides with an existing
    # object, as Kubernetes answers it; expected at tens of thousands of objects.
    failed = [r for r in rows if "error" in r or set(r.get("other_codes", {})) - {409}]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
