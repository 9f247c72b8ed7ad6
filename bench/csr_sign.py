"""CSR sign latency: from the POST of a kubelet client CertificateSigningRequest to
the moment the certificate is visible, on a 3-replica cluster, as a joining agent
sees it.

The agent side is what a kubelet does: a bootstrap token (`triarch token create`),
an EC P-256 key and request per node (made with the openssl CLI before timing
starts), the POST over HTTPS with the token, and the issued certificate read back
on the replica it posted to. "Issued" is observed on a watch of CSRs held open on
that replica, so the figure is create -> approve (csrapproving, a write) -> sign
(csrsigning, a write) -> visible there; no polling interval is in it. Through a
follower the create is forwarded to the leader and the result comes back with the
follower's next commit index.

Runs of 50 CSRs each, to a follower and to the leader:
  sequential  one at a time: the next is posted once the previous is issued
  burst       all 50 posted back to back on one connection, then waited for
"""

import argparse
import base64
import http.client
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

import common
from common import fmt, log

harness = common.harness

N = 50
TIMEOUT_S = 120
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


def make_requests(root, n, prefix):
    """n (name, base64 PEM request) for nodes prefix0..prefixN-1."""
    out = []
    for i in range(n):
        node = f"{prefix}{i}"
        key, csr = os.path.join(root, f"{node}.key"), os.path.join(root, f"{node}.csr")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
                        f"/O=system:nodes/CN=system:node:{node}", "-out", csr],
                       check=True, capture_output=True, timeout=60)
        with open(csr, "rb") as f:
            out.append((f"node-csr-{node}", base64.b64encode(f.read()).decode()))
    return out


class Watcher:
    """A watch of every CSR on one replica's plain listener: when each first shows
    status.certificate (monotonic time)."""

    def __init__(self, plain):
        self.issued = {}
        self.cond = threading.Condition()
        self.resp = urllib.request.urlopen(plain + CSRS + "?watch=1", timeout=TIMEOUT_S)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for line in self.resp:
                if not line.strip():
                    continue
                now = time.monotonic()
                obj = json.loads(line).get("object", {})
                if obj.get("status", {}).get("certificate"):
                    with self.cond:
                        self.issued.setdefault(obj["metadata"]["name"], now)
                        self.cond.notify_all()
        except (OSError, ValueError, AttributeError):
            pass  # the cluster went away at the end of the run

    def wait(self, names, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(n in self.issued for n in names):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = [n for n in names if n not in self.issued]
                    raise RuntimeError(f"not issued after {timeout}s: {missing[:5]}...")
                self.cond.wait(left)

    def close(self):
        """Nothing: closing the stream would wait for the next heartbeat; the reader
        thread is a daemon and ends when the cluster does."""


def post(conn, token, name, req):
    body = json.dumps({"apiVersion": "certificates.k8s.io/v1",
                       "kind": "CertificateSigningRequest", "metadata": {"name": name},
                       "spec": {"request": req,
                                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                                "usages": ["digital signature", "client auth"]}})
    conn.request("POST", CSRS, body=body, headers={"Authorization": f"Bearer {token}",
                                                    "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        raise RuntimeError(f"POST {name}: HTTP {r.status}")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def run(t, token, root, mode, where, n):
    replica = t.followers()[0] if where == "follower" else t.leader()
    url = t.c.api_url(replica)
    host, port = url.split("//")[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=os.path.join(t.c.dir, "pki", "ca.crt"))
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=TIMEOUT_S)
    reqs = make_requests(root, n, f"{mode[0]}{where[0]}")
    w = Watcher(t.plain(replica))
    sent = {}
    posted = []
    t0 = time.monotonic()
    try:
        for name, req in reqs:
            sent[name] = time.monotonic()
            post(conn, token, name, req)
            posted.append((time.monotonic() - sent[name]) * 1000)
            if mode == "sequential":
                w.wait([name], TIMEOUT_S)
        w.wait([name for name, _ in reqs], TIMEOUT_S)
    finally:
        w.close()
        conn.close()
    total = max(w.issued[name] for name, _ in reqs) - t0
    lat = [(w.issued[name] - sent[name]) * 1000 for name, _ in reqs]
    log(f"csr_sign: {mode} via {where}: {n} issued in {total:.2f} s, p50 {percentile(lat, 50):.1f} ms, "
        f"POST p50 {percentile(posted, 50):.1f} ms max {max(posted):.1f} ms")
    return {"mode": mode, "where": where, "n": n, "total_s": total, "p50": percentile(lat, 50),
            "p90": percentile(lat, 90), "p99": percentile(lat, 99), "max": max(lat),
            "min": min(lat)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=N)
    a = ap.parse_args()
    with common.TempRoot() as root:
        t = common.Triarch(root).start()
        try:
            r = harness.triarch("token", "create", "--kubeconfig", t.c.kubeconfig, "--ttl", "1h")
            if r.returncode != 0:
                raise RuntimeError(f"triarch token create: {r.stderr}")
            token = r.stdout.strip()
            common_wait_token(t, token)  # its Secret is read on the follower
            rows = [run(t, token, root, mode, where, a.n)
                    for mode in ("sequential", "burst") for where in ("follower", "leader")]
        finally:
            t.close()
    print(common.machine())
    print(f"\n3 replicas, fsync on; kubelet client CSRs (EC P-256) posted with a bootstrap "
          f"token over HTTPS to one replica; issued = seen on a watch on that replica.\n")
    print("| mode | replica | CSRs | all issued in s | p50 ms | p90 ms | p99 ms | min ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['where']} | {r['n']} | {fmt(r['total_s'], 2)} | {fmt(r['p50'])} | "
              f"{fmt(r['p90'])} | {fmt(r['p99'])} | {fmt(r['min'])} | {fmt(r['max'])} |")


def common_wait_token(t, token):
    """Until the follower authenticates the token (its Secret replicated there)."""
    follower = t.followers()[0]
    url = t.c.api_url(follower)
    ctx = ssl.create_default_context(cafile=os.path.join(t.c.dir, "pki", "ca.crt"))
    deadline = time.monotonic() + 30
    while True:
        req = urllib.request.Request(url + CSRS, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
                if r.status == 200:
                    return
        except urllib.error.HTTPError as e:
            if e.code != 401:
                raise
        if time.monotonic() > deadline:
            raise RuntimeError("the bootstrap token never authenticated on the follower")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
