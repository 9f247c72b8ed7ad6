"""Namespace deletion through the real kubectl against three replicas behind
haproxy: `kubectl delete namespace` leaves the namespace Terminating
(deletionTimestamp, phase Terminating) while the namespace controller deletes its
ConfigMaps and Secrets; creating in it meanwhile is refused (403, "being
terminated"); an object held by a finalizer keeps the namespace until it is
released; then the namespace and every object in it are gone, and a namespace of
the same name can be made again, empty. A deletion in progress when the leader is
killed is finished by the next leader."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60
NS_TIMEOUT_S = 20
HOLD = "example.com/hold"


class Kube:
    def __init__(self, c):
        self.c = c
        self.cfg = c.kubeconfig
        self.cache = os.path.join(c.dir, "kube-cache")

    def run(self, *argv, input=None):
        return subprocess.run([KUBECTL, "--kubeconfig", self.cfg, "--cache-dir", self.cache,
                               *argv], capture_output=True, text=True, input=input, timeout=60)

    def ok(self, *argv, input=None):
        for _ in range(3):  # a request cut by a leader change is retried
            r = self.run(*argv, input=input)
            if r.returncode == 0:
                return r.stdout
            if "connection refused" not in r.stderr and "EOF" not in r.stderr:
                break
            time.sleep(1)
        raise TestFailure(f"kubectl {' '.join(argv)}: exit {r.returncode}: {r.stderr[-2000:]} "
                          f"(logs in {self.c.dir})")

    def get(self, *argv):
        """The object as a dict, or None when NotFound."""
        r = self.run("get", *argv, "-o", "json")
        if r.returncode != 0:
            if "NotFound" in r.stderr or "not found" in r.stderr:
                return None
            raise TestFailure(f"kubectl get {argv}: {r.stderr} (logs in {self.c.dir})")
        return json.loads(r.stdout)

    def names(self, kind, ns):
        out = self.ok("get", kind, "-n", ns, "-o", "json")
        return sorted(i["metadata"]["name"] for i in json.loads(out)["items"])


def fill(k, ns, held=True):
    k.ok("create", "namespace", ns)
    for i in range(5):
        k.ok("create", "configmap", f"cm-{i}", "-n", ns, f"--from-literal=k={i}")
    for i in range(3):
        k.ok("create", "secret", "generic", f"secret-{i}", "-n", ns, f"--from-literal=k={i}")
    if held:
        doc = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "held", "namespace": ns, "finalizers": [HOLD]}}
        k.ok("create", "-f", "-", input=json.dumps(doc))


def release(k, ns):
    k.ok("patch", "configmap", "held", "-n", ns, "--type=json",
         "-p", json.dumps([{"op": "remove", "path": "/metadata/finalizers"}]))


def wait_gone(k, ns, timeout=NS_TIMEOUT_S):
    wait_until(f"namespace {ns} gone", lambda: k.get("namespace", ns) is None, timeout, k.c)


def deletion(k):
    ns = "doomed"
    fill(k, ns)
    k.ok("delete", "namespace", ns, "--wait=false")
    obj = k.get("namespace", ns)
    check("namespace kept while terminating", True, obj is not None, k.c)
    check("deletionTimestamp", True, "deletionTimestamp" in obj["metadata"], k.c)
    check("phase", "Terminating", obj.get("status", {}).get("phase"), k.c)
    r = k.run("create", "configmap", "late", "-n", ns, "--from-literal=k=v")
    check("create in a terminating namespace refused", True, r.returncode != 0, k.c)
    check("refusal says why", True, "being terminated" in r.stderr or "Forbidden" in r.stderr,
          k.c)
    # everything deletable goes; the held object stays marked, and so does the namespace
    wait_until("content deleted but the held configmap",
               lambda: k.names("configmaps", ns) == ["held"] and k.names("secrets", ns) == [],
               NS_TIMEOUT_S, k.c)
    held = k.get("configmap", "held", "-n", ns)
    check("held configmap marked for deletion", True, "deletionTimestamp" in held["metadata"], k.c)
    time.sleep(1)  # a wrong controller would finalize the namespace now
    check("namespace still terminating while content remains", "Terminating",
          (k.get("namespace", ns) or {}).get("status", {}).get("phase"), k.c)
    release(k, ns)
    wait_gone(k, ns)
    check("no configmaps left", [], k.names("configmaps", ns), k.c)
    check("no secrets left", [], k.names("secrets", ns), k.c)
    # the name is free again, and the new namespace starts empty
    k.ok("create", "namespace", ns)
    k.ok("create", "configmap", "fresh", "-n", ns, "--from-literal=k=v")
    check("a new namespace of that name", ["fresh"],
          [n for n in k.names("configmaps", ns) if n != "kube-root-ca.crt"], k.c)


def plain_deletion(k):
    """Without finalizers in the way, kubectl's own wait sees the namespace go."""
    ns = "quick"
    fill(k, ns, held=False)
    k.ok("delete", "namespace", ns, "--timeout=30s")
    check("namespace gone when kubectl returns", None, k.get("namespace", ns), k.c)
    check("its configmaps gone", [], k.names("configmaps", ns), k.c)


def leader_kill(k, c):
    ns = "survivor"
    fill(k, ns)
    k.ok("delete", "namespace", ns, "--wait=false")
    wait_until("content deleted but the held configmap",
               lambda: k.names("configmaps", ns) == ["held"], NS_TIMEOUT_S, c)
    old = c.leader()
    c.kill(old)
    wait_until("a new leader", lambda: c.leader() not in (None, old), 30, c)
    check("still terminating on the new leader", "Terminating",
          (k.get("namespace", ns) or {}).get("status", {}).get("phase"), c)
    release(k, ns)
    wait_gone(k, ns, timeout=30)


def test_namespace_delete():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.haproxy()
        c.wait_ready(READY_TIMEOUT_S)
        c.wait_leader(READY_TIMEOUT_S)
        k = Kube(c)
        t0 = time.monotonic()
        deletion(k)
        plain_deletion(k)
        leader_kill(k, c)
        print(f"namespace cases took {time.monotonic() - t0:.1f}s", flush=True)


harness.main(test_namespace_delete)
