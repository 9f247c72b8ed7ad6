"""What ResourceQuota admission costs a pod create: the same pod POSTs into a
namespace without a quota and into one with a ResourceQuota (pods, requests.cpu,
requests.memory, limits.cpu, limits.memory, all far from full), side by side in
the same run on one 3-replica cluster, through the leader's plain loopback
listener (h2c) so that only admission differs.

With a quota, every create also rewrites the quota (its status.used) in the same
Raft txn, guarded by the quota's mod_revision: creates in one namespace serialize
on that object, and a create that loses the race is admitted again once the
local store has the winner's write. The figures show what that costs at 1 client
(no contention: the extra work per create) and at 16 and 64 clients (contention).
After the runs the quota's status.used.pods is compared with the number of pods
stored: the charge must be exact.

Each case: h2load -c C -m 1 POSTing a pod (generateName) to the leader, after a
warm-up; repetitions alternate the two namespaces so drift affects both.
"""

import argparse
import json
import os
import sys
import time
import urllib.request

import common
from common import fmt, log

CLIENTS = [1, 16, 64]
REQUESTS = 4000
REPS = 3
WARMUP = 500
NAMESPACES = {"no quota": "bench-free", "quota": "bench-quota"}
HARD = {"pods": "1000000", "requests.cpu": "100000", "requests.memory": "1000Ti",
        "limits.cpu": "200000", "limits.memory": "2000Ti"}


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def setup(base):
    for ns in NAMESPACES.values():
        http("POST", base + "/api/v1/namespaces",
             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    http("POST", base + f"/api/v1/namespaces/{NAMESPACES['quota']}/resourcequotas",
         {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"},
          "spec": {"hard": HARD}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the leader's loops: default accounts, quota status
        try:
            for ns in NAMESPACES.values():
                http("GET", base + f"/api/v1/namespaces/{ns}/serviceaccounts/default")
            q = http("GET", base + f"/api/v1/namespaces/{NAMESPACES['quota']}/resourcequotas/q")
            if set(q.get("status", {}).get("used", {})) == set(HARD):
                return
        except Exception:  # not there yet
            pass
        time.sleep(0.1)
    raise RuntimeError("namespaces or quota status not ready after 30 s")


def pod_body(path):
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"},
                   "spec": {"containers": [{
                       "name": "c", "image": "busybox",
                       "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                     "limits": {"cpu": "200m", "memory": "128Mi"}}}]}}, f)


def run(label, base, c, n, body):
    url = base + f"/api/v1/namespaces/{NAMESPACES[label]}/pods"
    r = common.h2load(url, body, n, c)
    if r.get("error"):
        raise RuntimeError(f"{label} c={c}: {r['error']}")
    if r.get("failed"):  # reported in the table (a leader change answers 504)
        log(f"quota: {label} c={c}: non-2xx {r.get('other_codes')}")
    return r


def med(runs):
    m = {k: common.median_of(runs, src) for k, src in
         (("rps", "rps_ok"), ("p50", "p50"), ("p99", "p99"))}
    m["failed"] = sum(r["failed"] for r in runs)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=REPS)
    a = ap.parse_args()
    with common.TempRoot() as root:
        t = common.Triarch(root).start()
        try:
            leader = t.leader()
            base = t.plain(leader)
            setup(base)
            body = os.path.join(root, "pod.json")
            pod_body(body)
            for label in NAMESPACES:
                run(label, base, 16, WARMUP, body)
            rows = {}
            n = max(500, int(REQUESTS * a.scale))
            for rep in range(a.reps):
                for c in CLIENTS:
                    for label in NAMESPACES:
                        r = run(label, base, c, n, body)
                        rows.setdefault((c, label), []).append(r)
                        log(f"quota: rep {rep} c={c} {label}: {r['rps_ok']:.0f}/s "
                            f"p50 {r['p50']:.2f} p99 {r['p99']:.2f} ms")
            ns = NAMESPACES["quota"]
            pods = len(http("GET", base + f"/api/v1/namespaces/{ns}/pods")["items"])
            used = http("GET", base + f"/api/v1/namespaces/{ns}/resourcequotas/q")["status"]["used"]
        finally:
            t.close()
    print(common.machine())
    print(f"\n{a.reps} repetitions per row (median of runs shown), h2load -m 1, "
          f"{n} pod creates per run, leader.\n")
    print("| clients | namespace | creates/s | p50 ms | p99 ms | non-2xx | added to p50 | creates/s lost |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for c in CLIENTS:
        base_m = med(rows[(c, "no quota")])
        for label in NAMESPACES:
            m = med(rows[(c, label)])
            extra = " | " if label == "no quota" else \
                f"{(m['p50'] / base_m['p50'] - 1) * 100:+.1f}% | {(1 - m['rps'] / base_m['rps']) * 100:+.1f}%"
            print(f"| {c} | {label} | {m['rps']:.0f} | {fmt(m['p50'], 2)} | {fmt(m['p99'], 2)} | "
                  f"{m['failed']} | {extra} |")
    print(f"\nquota status.used.pods = {used.get('pods')}, pods stored = {pods}, "
          f"requests.cpu = {used.get('requests.cpu')}")
    if str(pods) != used.get("pods"):
        print("MISMATCH: the quota's charge differs from the pods stored")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
