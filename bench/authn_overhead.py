"""What TLS + authentication + RBAC add to a request: the same GETs and creates
through the HTTPS listener (HTTP/2 by ALPN, RBAC deciding through a RoleBinding to the
aggregated `edit` ClusterRole) and through the plain loopback listener
(prior-knowledge h2c, no credentials: the unsecured admin, which skips
authorization), side by side in the same run on one 3-replica cluster.

Two load generators, because the client's HPACK encoder decides what the server
pays for a bearer token:
- h2load (nghttp2) sends `authorization` "never indexed": the server Huffman-decodes
  the ~800-byte token on every request.
- goload (bench/goload: Go's golang.org/x/net/http2, the client stack of kubectl and
  client-go) indexes it: after a connection's first request it is one byte. goload
  also presents client certificates (a user `bench-user` bound to `edit`), which
  h2load cannot, and runs in two shapes: one connection per client (64 kubectl
  processes) and one connection shared by all clients (64 workers of one client-go
  program: client-go multiplexes every request to a host over one connection).

Each case: C clients with one request in flight each, GET of one ConfigMap and POST
of a 1 KiB ConfigMap (generateName), against the leader, after a warm-up;
repetitions alternate the cases so drift affects all. Server CPU per request is
utime+stime of the three replicas over the run divided by the requests (it leaves
out the load generator's own TLS work on the same cores). Goal (issue 4): under 10%
added at 64 clients.
"""

import argparse
import json
import os
import sys
import urllib.request

import common
from common import fmt, harness, log

CLIENTS = [1, 64]

REQUESTS = {"GET": 40000, "POST": 20000}
REPS = 3
WARMUP = 2000


def plain_post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def setup(t, leader):
    """A service account bound to `edit` in default, its token, and a ConfigMap."""
    p = t.plain(leader)
    plain_post(p, "/api/v1/namespaces/default/serviceaccounts",
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bench"}})
    plain_post(p, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "bench-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "edit"},
        "subjects": [{"kind": "ServiceAccount", "name": "bench", "namespace": "default"}]})
    plain_post(p, "/api/v1/namespaces/default/configmaps",
               {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "target"},
                "data": {"k": "x" * 1024}})
    tr = plain_post(p, "/api/v1/namespaces/default/serviceaccounts/bench/token",
                    {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                     "spec": {"expirationSeconds": 7200}})
    return tr["status"]["token"]


def issue_user_cert(t):
    """A client certificate for User bench-user (signed by the cluster CA) and a
    RoleBinding of `edit` to it in default."""
    cert = harness.TestPKI(t.c).issue("bench-user", "/CN=bench-user/O=bench")
    plain_post(t.plain(t.leader()),
               "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", {
                   "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "bench-user-edit"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                               "kind": "ClusterRole", "name": "edit"},
                   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                 "name": "bench-user"}]})
    return cert


def make_cases(t, leader, token, cert):
    """label -> (group, load function(url, n, c, body)); the first case of each group
    is its plain baseline."""
    tls, plain = t.c.api_url(leader), t.plain(leader)
    ca = os.path.join(t.c.dir, "pki", "ca.crt")
    auth = [f"Authorization: Bearer {token}"]

    def h2(base, hdr):
        return lambda path, n, c, body: common.h2load(base + path, body, n, c, headers=hdr)

    def go(base, conns, **kw):
        return lambda path, n, c, body: common.goload(base + path, n, c, conns=conns,
                                                      body_path=body, ca=ca, **kw)
    cases = {
        "h2load · plain h2c": ("h2load", h2(plain, [])),
        "h2load · TLS + token + RBAC": ("h2load", h2(tls, auth)),
    }
    for conns, shape in ((0, "Go, conn per client"), (1, "Go, one shared conn")):
        cases[f"{shape} · plain h2c"] = (shape, go(plain, conns))
        cases[f"{shape} · TLS + token + RBAC"] = (shape, go(tls, conns, token=token))
        cases[f"{shape} · TLS + client cert + RBAC"] = (shape, go(tls, conns, cert=cert))
    return cases


def run(label, load, op, c, n, body, pids=()):
    """One load run; also the servers' CPU per request (utime+stime of pids)."""
    path = "/api/v1/namespaces/default/configmaps"
    path = path + "/target" if op == "GET" else path
    before = common.cpu_seconds(pids)
    r = load(path, n, c, body if op == "POST" else None)
    after = common.cpu_seconds(pids)
    if r.get("error") or r.get("failed"):
        raise RuntimeError(f"{label} {op} c={c}: {r.get('error') or r.get('other_codes')}")
    r["cpu_us"] = sum(after[p] - before[p] for p in pids) * 1e6 / r["ok"] if r["ok"] else 0
    return r


def measure(t, cases, a, body):
    rows = {}
    for rep in range(a.reps):
        for op in ("GET", "POST"):
            for c in CLIENTS:
                # one client: fewer requests (it runs at a twentieth of the rate)
                n = max(1000, int(REQUESTS[op] * a.scale / (4 if c == 1 else 1)))
                for label, (group, load) in cases.items():
                    if c == 1 and group == "Go, one shared conn":
                        continue  # the same as a connection per client
                    r = run(label, load, op, c, n, body, t.pids())
                    rows.setdefault((op, c, label), []).append(r)
                    log(f"authn: rep {rep} {op} c={c} {label}: "
                        f"{r['rps_ok']:.0f}/s p50 {r['p50']:.2f} p99 {r['p99']:.2f} ms "
                        f"server CPU {r['cpu_us']:.1f} us/req")
    return rows


def report(rows, cases, a):
    print(common.machine())
    print(f"\n{a.reps} repetitions per row (median of runs shown), one request in flight "
          "per client, leader.\n")
    print("| op | clients | client · listener | req/s | p50 ms | p99 ms | server CPU µs/req "
          "| added to p50 | req/s lost | server CPU added |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for op in ("GET", "POST"):
        for c in CLIENTS:
            base = None
            for label, (group, _) in cases.items():
                if (op, c, label) not in rows:
                    continue
                m = med(rows[(op, c, label)])
                if label.endswith("plain h2c"):
                    base, extra = m, " | | "
                else:
                    extra = (f"{(m['p50'] / base['p50'] - 1) * 100:+.1f}% | "
                             f"{(1 - m['rps'] / base['rps']) * 100:+.1f}% | "
                             f"{(m['cpu'] / base['cpu'] - 1) * 100:+.1f}%")
                print(f"| {op} | {c} | {label} | {m['rps']:.0f} | {fmt(m['p50'], 2)} | "
                      f"{fmt(m['p99'], 2)} | {fmt(m['cpu'], 1)} | {extra} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=REPS)
    a = ap.parse_args()
    common.goload_binary()  # built (or refused) before a cluster is made
    with common.TempRoot() as root:
        t = common.Triarch(root).start()
        try:
            leader = t.leader()
            token = setup(t, leader)
            cert = issue_user_cert(t)
            body = os.path.join(root, "cm.json")
            common.configmap_body(body)
            cases = make_cases(t, leader, token, cert)
            for label, (_, load) in cases.items():
                run(label, load, "GET", 16, WARMUP, body)
            rows = measure(t, cases, a, body)
        finally:
            t.close()
    report(rows, cases, a)


def med(runs):
    return {k: common.median_of(runs, src) for k, src in
            (("rps", "rps_ok"), ("p50", "p50"), ("p99", "p99"), ("cpu", "cpu_us"))}


if __name__ == "__main__":
    sys.exit(main())
