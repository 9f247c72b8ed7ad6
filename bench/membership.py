"""Membership at runtime: how long a new replica takes to become a voter, what adding
and removing members does to writes, side by side with etcd 3.4 adding a learner and
promoting it.

triarch: the harness's 3-replica cluster (election 300 ms, heartbeat 50 ms) holding
--objects 1 KiB ConfigMaps, haproxy in front. Each round:
  add:    `triarch member add r4` (CLI wall time: certificate + leader round trip +
          bundle), start r4 from its config (--join), then poll /triarch/v1/members until
          r4 is a voter. "to voter" = start of the process -> voter (it catches up as a
          standby, the leader promotes it after libraft's catch-up rounds).
  remove: `triarch member remove <leader>` (leadership moves first) and wait until
          the removed process has exited by itself.
WRITERS threads write 1 KiB ConfigMaps through haproxy the whole time (keep-alive,
one at a time, reconnect on error); the table gives their p50/p99 and errors in a
quiet window before the add, during add..voter, and during the removal, and the
longest stretch without a 201 during the removal.

etcd: 3 members (Debian's etcd 3.4, defaults) holding the same number of 1 KiB keys;
`etcdctl member add e4 --learner`, start e4 with --initial-cluster-state existing,
then `etcdctl member promote` every 100 ms until it succeeds (etcd refuses to promote
a learner that is not in sync). "to voter" = start of the process -> promoted. No
write load on etcd (its gateway would need another client); compare the idle rows.

Run: TRI_BIN_DIR=build/release python3 bench/membership.py [--objects N] [--rounds R]
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import common
import failover
from common import fmt, log

ETCDCTL = "/usr/bin/etcdctl"
QUIET_S = 3.0
VOTER_TIMEOUT_S = 120.0
POLL_S = 0.02


def pct(vals, q):
    return common.percentile(sorted(vals), q) if vals else None


def window(w, t0, t1):
    """p50/p99 ms of 201s started in [t0, t1), and the errors by kind."""
    lat, errs = [], {}
    for s, e, st in w.since(t0):
        if s >= t1:
            continue
        if st == 201:
            lat.append((e - s) * 1000)
        else:
            k = "conn" if st == -1 else str(st)
            errs[k] = errs.get(k, 0) + 1
    return {"n": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "errors": errs}


def max_gap(w, t0, t1):
    ends = sorted(e for s, e, st in w.since(t0) if st == 201 and e <= t1)
    pts = [t0] + ends + [t1]
    return max(b - a for a, b in zip(pts, pts[1:])) * 1000


def members(t):
    for n in t.c.names:
        if not t.c.running(n):
            continue
        try:
            with urllib.request.urlopen(t.plain(n, 0) + "/triarch/v1/members", timeout=2) as r:
                return {m["name"]: m for m in json.loads(r.read())["members"]}
        except Exception:  # a replica going away: ask the next
            continue
    return {}


def triarch_cli(*argv):
    r = subprocess.run([common.harness.binary("triarch"), *argv], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        raise common.harness.TestFailure(f"triarch {' '.join(argv)}: {r.stderr}")
    return r


def preload_triarch(t, n):
    if n == 0:
        return
    body = os.path.join(t.c.dir, "cm.json")
    common.configmap_body(body)
    url = t.plain(t.leader()) + common.CONFIGMAPS
    r = common.h2load(url, body, n, 16, m=4)
    log(f"triarch: preloaded {r['ok']} ConfigMaps ({r['rps_ok']:.0f}/s)")


def triarch_round(root, objects, i):
    t = common.Triarch(os.path.join(root, f"tri-{objects}-{i}"),
                       extra_flags=failover.ELECTION_FLAGS).start()
    c = t.c
    w = None
    try:
        preload_triarch(t, objects)
        c.haproxy()
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"generateName": "w-"},
                           "data": {"v": "x" * common.VALUE_BYTES}})
        w = failover.Writers(c.lb, c.client.ssl_context(), body)
        w.start()
        time.sleep(QUIET_S)
        q0 = time.monotonic()
        quiet = window(w, q0 - QUIET_S, q0)
        peer, api = common.harness.free_ports(2)
        a0 = time.monotonic()
        triarch_cli("member", "add", "r4", "--dir", c.dir, "--peer", f"127.0.0.1:{peer}",
                    "--api", f"127.0.0.1:{api}")
        a1 = time.monotonic()
        c.names.append("r4")
        c.start("r4")
        s0 = time.monotonic()
        common.harness.wait_until("r4 voter",
                                  lambda: members(t).get("r4", {}).get("role") == "voter",
                                  VOTER_TIMEOUT_S, c)
        s1 = time.monotonic()
        adding = window(w, a0, s1)
        time.sleep(1.0)
        leader = t.leader()
        p = c.procs[leader]
        r0 = time.monotonic()
        triarch_cli("member", "remove", leader, "--dir", c.dir)
        r1 = time.monotonic()
        common.harness.wait_until("removed leader exits", lambda: p.poll() is not None, 30, c)
        r2 = time.monotonic()
        c.names.remove(leader)
        del c.procs[leader]  # it stopped by itself, as it should
        time.sleep(1.0)
        removing = window(w, r0, r2 + 1.0)
        return {"objects": objects, "add_cli_ms": (a1 - a0) * 1000,
                "to_voter_ms": (s1 - s0) * 1000, "remove_cli_ms": (r1 - r0) * 1000,
                "removed_exit_ms": (r2 - r0) * 1000, "quiet": quiet, "adding": adding,
                "removing": removing, "remove_gap_ms": max_gap(w, r0, r2 + 1.0)}
    finally:
        if w is not None:
            w.close()
        t.close()


# ---------------------------------------------------------------- etcd

def preload_etcd(e, n):
    url = e.client[e.leader()] + "/v3/kv/put"
    v = base64.b64encode(b"x" * common.VALUE_BYTES).decode()
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= n:
                return
            key = base64.b64encode(f"/registry/configmaps/default/b-{k}".encode()).decode()
            req = urllib.request.Request(url, data=json.dumps({"key": key, "value": v}).encode(),
                                         method="POST")
            urllib.request.urlopen(req, timeout=10).read()

    th = [threading.Thread(target=worker) for _ in range(16)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    log(f"etcd: preloaded {n} keys")


def etcdctl(e, *argv):
    ep = ",".join(e.client[n] for n in e.names)
    return subprocess.run([ETCDCTL, "--endpoints", ep, *argv], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "ETCDCTL_API": "3"})


def etcd_round(root, objects, i):
    e = common.Etcd(os.path.join(root, f"etcd-{objects}-{i}")).start()
    try:
        preload_etcd(e, objects)
        peer_port, client_port = common.harness.free_ports(2)
        peer = f"http://127.0.0.1:{peer_port}"
        client = f"http://127.0.0.1:{client_port}"
        # etcd refuses reconfiguration until its members have been connected a while
        # ("unhealthy cluster"); wait for that outside the timed part.
        for _ in range(60):
            if etcdctl(e, "endpoint", "health").returncode == 0 and \
                    "unhealthy" not in etcdctl(e, "member", "list").stderr:
                break
            time.sleep(0.5)
        time.sleep(5.5)
        a0 = time.monotonic()
        r = etcdctl(e, "member", "add", "e4", "--learner", "--peer-urls", peer)
        a1 = time.monotonic()
        if r.returncode != 0:
            raise common.harness.TestFailure(f"etcdctl member add: {r.stderr}")
        mid = r.stdout.split("Member ")[1].split()[0]
        initial = ",".join(f"{n}={e.peer[n]}" for n in e.names) + f",e4={peer}"
        argv = [common.ETCD, "--name", "e4", "--data-dir", os.path.join(e.dir, "e4"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", initial, "--initial-cluster-state", "existing",
                "--log-level", "warn", "--logger", "zap"]
        e.procs["e4"] = common.harness.spawn(argv, os.path.join(e.dir, "e4.log"))
        s0 = time.monotonic()
        deadline = s0 + VOTER_TIMEOUT_S
        while time.monotonic() < deadline:
            if etcdctl(e, "member", "promote", mid).returncode == 0:
                break
            time.sleep(0.1)
        s1 = time.monotonic()
        return {"objects": objects, "add_cli_ms": (a1 - a0) * 1000,
                "to_voter_ms": (s1 - s0) * 1000}
    finally:
        e.close()


def median(rows, key):
    vals = sorted(r[key] for r in rows if r.get(key) is not None)
    return vals[len(vals) // 2] if vals else None


def report(tri, etcd):
    print(f"\n## Membership ({common.machine()})\n")
    print("| system | objects | rounds | add (CLI) ms | start -> voter ms | remove leader "
          "(CLI) ms | removed replica exits ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for objects, rows in tri.items():
        print(f"| triarch | {objects} | {len(rows)} | {fmt(median(rows, 'add_cli_ms'))} | "
              f"{fmt(median(rows, 'to_voter_ms'))} | {fmt(median(rows, 'remove_cli_ms'))} | "
              f"{fmt(median(rows, 'removed_exit_ms'))} |")
    for objects, rows in etcd.items():
        print(f"| etcd 3.4 (learner + promote) | {objects} | {len(rows)} | "
              f"{fmt(median(rows, 'add_cli_ms'))} | {fmt(median(rows, 'to_voter_ms'))} | | |")
    print("\nWrites through haproxy during the changes (triarch, each round):\n")
    print("| objects | round | quiet p50/p99 ms | adding p50/p99 ms (errors) | removing leader "
          "p50/p99 ms (errors) | longest gap without a 201 while removing, ms |")
    print("|---:|---:|---|---|---|---:|")
    for objects, rows in tri.items():
        for i, r in enumerate(rows):
            def cell(win):
                errs = ", ".join(f"{k}: {v}" for k, v in win["errors"].items()) or "none"
                return f"{fmt(win['p50'])} / {fmt(win['p99'])} ({errs})"
            print(f"| {objects} | {i + 1} | {fmt(r['quiet']['p50'])} / {fmt(r['quiet']['p99'])} "
                  f"| {cell(r['adding'])} | {cell(r['removing'])} | {fmt(r['remove_gap_ms'])} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, nargs="+", default=[0, 20000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-etcd", action="store_true")
    a = ap.parse_args()
    tri, etcd = {}, {}
    with common.TempRoot() as root:
        for objects in a.objects:
            for i in range(a.rounds):
                log(f"triarch: {objects} objects, round {i + 1}")
                tri.setdefault(objects, []).append(triarch_round(root, objects, i))
                if not a.no_etcd:
                    log(f"etcd: {objects} objects, round {i + 1}")
                    etcd.setdefault(objects, []).append(etcd_round(root, objects, i))
    report(tri, etcd)


if __name__ == "__main__":
    sys.exit(main())
