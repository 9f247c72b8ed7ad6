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
REQUESTS = {1: 3000, 16: 10000, 64: 20000, 256: 20000}
REPS = 3
GROWTH_BATCHES = 10
GROWTH_BATCH = 20000
GROWTH_CLIENTS = 64
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


def triarch_runs(root, scale, do_h1, do_profile, build_dir, flags=()):
    rows, prof_out = [], None
    body = os.path.join(root, "configmap.json")
    size = common.configmap_body(body)
    log(f"triarch: body {size} B; starting 3 replicas {' '.join(flags)}")
    t = common.Triarch(root, flags).start()
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


def aggregate(rows):
    """One row per (system/protocol/target, clients) over the repetitions: medians of
    writes/s (with min-max), p50, p99 and CPU/write; worst max; sums of the rest."""
    groups = {}
    for r in rows:
        groups.setdefault((r["label"], r["c"]), []).append(r)
    out = []
    for (label, c), rs in groups.items():
        good = [r for r in rs if "error" not in r]
        if not good:
            out.append(rs[0])
            continue

        def med(k):
            v = sorted(r[k] for r in good if r.get(k) is not None)
            return v[(len(v) - 1) // 2] if v else None

        codes_sum = {}
        for r in good:
            for k, v in r["other_codes"].items():
                codes_sum[k] = codes_sum.get(k, 0) + v
        rps = [r["rps_ok"] for r in good]
        out.append({
            "label": label, "c": c, "reps": len(good), "failed_reps": len(rs) - len(good),
            "ok": sum(r["ok"] for r in good), "n": sum(r["n"] for r in good),
            "rps_ok": med("rps_ok"), "rps_min": min(rps), "rps_max": max(rps),
            "p50": med("p50"), "p99": med("p99"), "max": max(r["max"] for r in good),
            "cpu_us_per_write": med("cpu_us_per_write"), "other_codes": codes_sum,
            "gaps_over_stall": sum(r["gaps_over_stall"] for r in good),
            "max_gap_ms": max(r["max_gap_ms"] for r in good),
            "snapshots": (sum(r["snapshots"] for r in good)
                          if good[0].get("snapshots") is not None else None)})
    return out


def summary_table(agg):
    out = ["| system | protocol | target | clients | writes ok/sent (all reps) | writes/s "
           "median (min–max) | p50 ms | p99 ms | max ms | CPU µs/write (3 procs) | non-2xx | "
           f"pauses ≥{common.STALL_MS} ms (longest) | leader snapshots |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for r in agg:
        sysname, proto, target = r["label"].split(" / ")
        if "error" in r:
            out.append(f"| {sysname} | {proto} | {target} | {r['c']} | FAILED: "
                       f"{r['error'][:120]} | | | | | | | | |")
            continue
        out.append(f"| {sysname} | {proto} | {target} | {r['c']} | {r['ok']}/{r['n']} | "
                   f"{r['rps_ok']:.0f} ({r['rps_min']:.0f}–{r['rps_max']:.0f}) | "
                   f"{fmt(r['p50'], 2)} | {fmt(r['p99'], 2)} | {fmt(r['max'], 1)} | "
                   f"{fmt(r['cpu_us_per_write'], 0)} | {codes(r['other_codes'])} | "
                   f"{r['gaps_over_stall']} ({r['max_gap_ms']:.0f} ms) | "
                   f"{fmt(r['snapshots'], 0)} |")
    return "\n".join(out)


def thread_cpu(pid):
    """(CPU s of the main thread, CPU s of all other threads) of pid."""
    main, other = 0.0, 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        sec = (int(rest[11]) + int(rest[12])) / common.CLK_TCK
        if tid == str(pid):
            main += sec
        else:
            other += sec
    return main, other


def growth_runs(root, batches, batch, flags=()):
    """Writes at 64 clients in batches on one cluster: how cost grows with the store."""
    body = os.path.join(root, "configmap.json")
    common.configmap_body(body)
    t = common.Triarch(root, flags).start()
    out = []
    try:
        leader = t.leader()
        url = t.plain(leader) + common.CONFIGMAPS
        pids, lpid = t.pids(), t.pid(leader)
        total = 0
        for _ in range(batches):
            s0 = t.metrics(leader).get("triarch_raft_snapshots_total", 0)
            c0, th0 = common.cpu_seconds(pids), thread_cpu(lpid)
            r = common.h2load(url, body, batch, GROWTH_CLIENTS)
            c1, th1 = common.cpu_seconds(pids), thread_cpu(lpid)
            if "error" in r or not r["ok"]:
                out.append({"objects": total, "error": r.get("error", "no write succeeded")})
                break
            total += r["ok"]
            ok = r["ok"]
            out.append({"objects": total, "rps": r["rps_ok"], "p50": r["p50"], "p99": r["p99"],
                        "pauses": r["gaps_over_stall"], "longest": r["max_gap_ms"],
                        "snapshots": t.metrics(leader).get("triarch_raft_snapshots_total", 0) - s0,
                        "cpu": sum(c1[p] - c0[p] for p in pids) * 1e6 / ok,
                        "lmain": (th1[0] - th0[0]) * 1e6 / ok,
                        "lother": (th1[1] - th0[1]) * 1e6 / ok,
                        "rss": common.proc_status(lpid, "VmRSS")})
            log(f"growth: {total} objects, {r['rps_ok']:.0f} writes/s, p99 {r['p99']:.1f} ms, "
                f"longest pause {r['max_gap_ms']:.0f} ms")
    finally:
        t.close()
    return out


def growth_table(rows):
    out = ["| objects in store after batch | writes/s | p50 ms | p99 ms | pauses "
           f"≥{common.STALL_MS} ms (longest) | leader snapshots | CPU µs/write (3 procs) | "
           "leader main thread µs/write | leader other threads µs/write | leader VmRSS MiB |",
           "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for g in rows:
        if "error" in g:
            out.append(f"| {g['objects']} | FAILED: {g['error'][:100]} | | | | | | | | |")
            continue
        out.append(f"| {g['objects']} | {g['rps']:.0f} | {g['p50']:.2f} | {g['p99']:.2f} | "
                   f"{g['pauses']} ({g['longest']:.0f} ms) | {g['snapshots']:.0f} | "
                   f"{g['cpu']:.0f} | {g['lmain']:.0f} | {g['lother']:.0f} | "
                   f"{g['rss'] / (1 << 20):.0f} |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="multiply request counts")
    p.add_argument("--reps", type=int, default=REPS,
                   help="repetitions, each on fresh clusters, triarch and etcd alternating")
    p.add_argument("--no-h1", action="store_true", help="skip triarch over HTTP/1.1")
    p.add_argument("--no-etcd", action="store_true")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--growth-batches", type=int, default=GROWTH_BATCHES,
                   help=f"batches of {GROWTH_BATCH} writes on one cluster (0: skip)")
    p.add_argument("--triarch-flags", default="",
                   help='extra triarchd flags, e.g. "--heartbeat-ms 10"')
    p.add_argument("--bin-dir", default=os.environ["TRI_BIN_DIR"])
    a, _ = p.parse_known_args()
    rows, prof_out, metrics, esize = [], None, {}, None
    for rep in range(a.reps):
        log(f"repetition {rep + 1}/{a.reps}")
        with common.TempRoot() as root:
            trows, prof, tsize, metrics = triarch_runs(root, a.scale, not a.no_h1,
                                                       not a.no_profile and rep == 0,
                                                       a.bin_dir, a.triarch_flags.split())
            prof_out = prof_out or prof
            rows += trows
        if not a.no_etcd:
            with common.TempRoot() as root:
                erows, esize = etcd_runs(root, a.scale)
                rows += erows
    print("## Replicated writes through the API\n")
    print(f"Machine: {common.machine()}. Bodies: triarch ConfigMap {tsize} B "
          f"(1 KiB data value, generateName), etcd put {esize} B (1 KiB value, base64). "
          "Three replicas/members on loopback, fsync on, h2load -t 1 -m 1 (one write in "
          f"flight per client). triarchd flags: {a.triarch_flags or 'defaults'}. {a.reps} repetitions, each on fresh clusters (triarch, then "
          "etcd); figures are medians over them.\n")
    print(summary_table(aggregate(rows)))
    print()
    growth = []
    if a.growth_batches > 0:
        with common.TempRoot() as root:
            growth = growth_runs(root, a.growth_batches, GROWTH_BATCH, a.triarch_flags.split())
    print("<details><summary>Every run</summary>\n")
    print(table(rows))
    print("\n</details>\n")
    print("triarch leader /metrics after the last repetition: "
          f"snapshots={metrics.get('triarch_raft_snapshots_total')} "
          f"keys={metrics.get('triarch_store_keys')} "
          f"store_bytes={metrics.get('triarch_store_size_bytes')} "
          f"rejected={metrics.get('apiserver_rejected_requests_total')}\n")
    if growth:
        print(f"### As the store grows: batches of {GROWTH_BATCH} creates at {GROWTH_CLIENTS} "
              "clients, h2c, to the leader of one fresh cluster\n")
        print(growth_table(growth))
        print()
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
    failed += [g for g in growth if "error" in g]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
