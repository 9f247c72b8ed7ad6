"""The operator's path through the admin CLI: `triarch cluster up` starts three
replicas behind haproxy and writes a kubeconfig that the real kubectl can use,
`cluster status` shows one leader, `cluster down` leaves no process alive, `up` again
resumes the same cluster with its data, and `init` refuses a directory that already
holds a cluster."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, triarch  # noqa: E402

UP_TIMEOUT_S = "90"  # sanitizer builds start slowly on a loaded 2-core machine
ROLES = ("leader", "follower", "candidate")


class Dir:
    """Stands in for a Cluster in check() messages: where the logs are."""

    def __init__(self, path):
        self.dir = path


def pids(d):
    """Pids recorded in the pid files of every replica and haproxy."""
    out = {}
    names = [m["name"] for m in cluster_json(d)["members"]]
    files = {n: os.path.join(d, n, "triarchd.pid") for n in names}
    files["haproxy"] = os.path.join(d, "haproxy.pid")
    for what, path in files.items():
        try:
            with open(path) as f:
                out[what] = int(f.read().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            pass
    return out


def alive(pid):
    """True while pid runs (a zombie, already dead but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def cluster_json(d):
    with open(os.path.join(d, "cluster.json")) as f:
        return json.load(f)


def run_ok(where, *argv, timeout=180):
    r = triarch(*argv, timeout=timeout)
    if r.returncode != 0:
        raise TestFailure(f"triarch {' '.join(argv)}: expected exit 0 got {r.returncode}\n"
                          f"{r.stdout}{r.stderr}(logs in {where.dir})")
    return r


def status_rows(where, d):
    """Parses `cluster status` into {name: role} and the leader line."""
    out = run_ok(where, "cluster", "status", "--dir", d).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(r\d+)\s+(\S+)\s+", line)
        if m:
            rows[m.group(1)] = m.group(2)
    leader = re.search(r"^leader: (\S+)$", out, re.M)
    return rows, leader.group(1) if leader else None, out


def up(where, d, bin_dir):
    r = run_ok(where, "cluster", "up", "--dir", d, "--bin-dir", bin_dir,
               "--timeout", UP_TIMEOUT_S)
    check("`cluster up` reports readiness", True, "ready after" in r.stdout, where)
    return r


def check_status(where, d):
    rows, leader, out = status_rows(where, d)
    check("replicas in `cluster status`", ["r1", "r2", "r3"], sorted(rows), where)
    check("every replica has a live role", True, all(r in ROLES for r in rows.values()),
          where)
    leaders = [n for n, r in rows.items() if r == "leader"]
    check("replicas saying leader", 1, len(leaders), where)
    check("leader line", leaders[0], leader, where)


def check_kubectl(where, kubeconfig):
    kubectl = ["/usr/bin/kubectl", "--kubeconfig", kubeconfig]
    v = subprocess.run(kubectl + ["version"], capture_output=True, text=True, timeout=60)
    check(f"kubectl version exit ({v.stderr.strip()})", 0, v.returncode, where)
    check("kubectl version shows the server", True, "Server Version" in v.stdout, where)
    g = subprocess.run(kubectl + ["get", "namespaces"], capture_output=True, text=True,
                       timeout=60)
    check(f"kubectl get namespaces exit ({g.stderr.strip()})", 0, g.returncode, where)


def stop_everything(d):
    """Last-resort cleanup: `cluster down`, then KILL whatever the pid files name."""
    try:
        triarch("cluster", "down", "--dir", d, timeout=60)
    except Exception:
        pass
    if os.path.exists(os.path.join(d, "cluster.json")):
        for pid in pids(d).values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def namespace_create(d, name):
    """POSTs a Namespace through the load balancer as admin (JSON, HTTP/1.1)."""
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    lb = cluster_json(d)["lb"]
    return harness.Client(d).request("POST", f"https://{lb}/api/v1/namespaces", body=body)


def namespace_get(d, name):
    lb = cluster_json(d)["lb"]
    return harness.Client(d).request("GET", f"https://{lb}/api/v1/namespaces/{name}")


def fnv1a64(text):
    h = 14695981039346656037
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) % 2**64
    return h or 1


def check_init(where, d):
    """`triarch init` alone: validation, derived ids, key modes, certificates."""
    for bad in ("R1=127.0.0.1:7001", "r1=localhost:7001", "r1=127.0.0.1:7001,r1=127.0.0.1:7002",
                "r1=127.0.0.1:99999"):
        r = triarch("init", "--dir", os.path.join(d, "bad"), "--members", bad)
        check(f"init --members {bad} exit", 2, r.returncode, where)
        check(f"init --members {bad} leaves no cluster", False,
              os.path.exists(os.path.join(d, "bad", "cluster.json")), where)
    i = os.path.join(d, "init")
    run_ok(where, "init", "--dir", i, "--members", "a=127.0.0.1:7001,b=127.0.0.2:7001",
           "--api", "a=127.0.0.1:6443,b=127.0.0.2:6443", "--lb", "127.0.0.9:6443",
           "--san", "api.example.test")
    spec = cluster_json(i)
    for m in spec["members"]:
        check(f"id of {m['name']}", str(fnv1a64(f"{spec['clusterId']}/{m['name']}")), m["id"],
              where)
    for key in ("ca.key", "a.key", "b.key", "admin.key"):
        mode = os.stat(os.path.join(i, "pki", key)).st_mode & 0o777
        check(f"mode of {key}", "0o600", oct(mode), where)
    pki = os.path.join(i, "pki")
    v = subprocess.run(["openssl", "verify", "-CAfile", f"{pki}/ca.crt", f"{pki}/b.crt",
                        f"{pki}/admin.crt"], capture_output=True, text=True)
    check(f"certificates verify against the CA ({v.stdout}{v.stderr})", 0, v.returncode, where)
    t = subprocess.run(["openssl", "x509", "-in", f"{pki}/b.crt", "-noout", "-text"],
                       capture_output=True, text=True).stdout
    for want in ("IP Address:127.0.0.2", "IP Address:127.0.0.9", "IP Address:127.0.0.1",
                 "DNS:localhost", "DNS:api.example.test", "TLS Web Server Authentication",
                 "TLS Web Client Authentication", "prime256v1"):
        check(f"replica certificate has {want}", True, want in t, where)
    s = subprocess.run(["openssl", "x509", "-in", f"{pki}/admin.crt", "-noout", "-subject"],
                       capture_output=True, text=True).stdout
    check("admin subject", "subject=O = system:masters, CN = admin", s.strip(), where)
    with open(os.path.join(i, "b", "triarchd.yaml")) as f:
        y = f.read()
    for want in ('name: "b"', 'peer-listen: "127.0.0.2:7001"', 'api-listen: "127.0.0.2:6443"',
                 f'cluster-id: "{spec["clusterId"]}"', 'initial-cluster-state: "new"',
                 'initial-cluster: "a=127.0.0.1:7001,b=127.0.0.2:7001"',
                 f'data-dir: "{i}/b/data"', f'tls-key-file: "{pki}/b.key"'):
        check(f"b/triarchd.yaml has {want}", True, want in y, where)
    shutil.rmtree(i)


def check_member_add_remove(where, d, bin_dir):
    """`member add` + `cluster up` runs a fourth replica behind the load balancer;
    `member remove` takes it out again (it stops by itself)."""
    peer, api = harness.free_ports(2)
    run_ok(where, "member", "add", "r4", "--dir", d, "--peer", f"127.0.0.1:{peer}", "--api",
           f"127.0.0.1:{api}")
    up(where, d, bin_dir)
    with open(os.path.join(d, "haproxy.cfg")) as f:
        check("haproxy.cfg routes to r4", True, f"server r4 127.0.0.1:{api}" in f.read(), where)
    harness.wait_until("r4 is a voter",
                       lambda: re.search(r"^r4\s+\S+\s+voter\s",
                                         run_ok(where, "member", "list", "--dir", d).stdout,
                                         re.M), 60, where)
    rows, _, _ = status_rows(where, d)
    check("replicas in `cluster status` after add", ["r1", "r2", "r3", "r4"], sorted(rows),
          where)
    r4 = pids(d)["r4"]
    run_ok(where, "member", "remove", "r4", "--dir", d)
    harness.wait_until("removed r4 stops", lambda: not alive(r4), 30, where)
    check_status(where, d)
    with open(os.path.join(d, "haproxy.cfg")) as f:
        check("haproxy.cfg no longer routes to r4", False, "server r4 " in f.read(), where)
    check_kubectl(where, os.path.join(d, "kubeconfig"))


def test_cluster_cli():
    bin_dir = harness.args().bin_dir
    d = tempfile.mkdtemp(prefix="triarch-cli-")
    where = Dir(d)
    ok = False
    try:
        check_init(where, d)
        up(where, d, bin_dir)
        cluster_id = cluster_json(d)["clusterId"]
        hc = subprocess.run(["/usr/sbin/haproxy", "-c", "-f", os.path.join(d, "haproxy.cfg")],
                            capture_output=True, text=True)
        check(f"haproxy accepts the rendered config ({hc.stderr.strip()})", 0, hc.returncode,
              where)
        check("kubeconfig mode", "0o600",
              oct(os.stat(os.path.join(d, "kubeconfig")).st_mode & 0o777), where)
        check_status(where, d)
        check_kubectl(where, os.path.join(d, "kubeconfig"))
        st, _, body = namespace_create(d, "kept-across-restart")
        check(f"namespace create status ({body[:200]!r})", 201, st, where)

        before = pids(d)
        check("pid files after up", 4, len(before), where)
        run_ok(where, "cluster", "down", "--dir", d)
        check("processes alive after down", [],
              [f"{w}:{p}" for w, p in before.items() if alive(p)], where)

        up(where, d, bin_dir)
        check("cluster id after restart", cluster_id, cluster_json(d)["clusterId"], where)
        check_status(where, d)
        st, _, body = namespace_get(d, "kept-across-restart")
        check(f"namespace after restart ({body[:200]!r})", 200, st, where)
        check_member_add_remove(where, d, bin_dir)

        again = triarch("init", "--dir", d, "--members", "r1=127.0.0.1:1")
        check("init on an existing cluster exits non-zero", True, again.returncode != 0, where)
        check("init says why", True, "already holds a cluster" in again.stderr, where)
        check("cluster.json untouched by refused init", cluster_id,
              cluster_json(d)["clusterId"], where)

        run_ok(where, "cluster", "down", "--dir", d, "--purge")
        check("directory after down --purge", False, os.path.exists(d), where)
        ok = True
    finally:
        if not ok:
            stop_everything(d)
            print(f"logs kept in {d}", file=sys.stderr)
        elif os.path.exists(d):
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    harness.main(test_cluster_cli)
