"""The garbage collector through the real kubectl against three replicas behind
haproxy: ConfigMaps owning ConfigMaps (ownerReferences with blockOwnerDeletion),
deleted with `kubectl delete --cascade=background|foreground|orphan`, behave as in
Kubernetes: background removes the owner at once and the dependents after it
(also when an owner of the same name comes back with a new uid); foreground keeps
the owner (deletionTimestamp, finalizer foregroundDeletion) until its blocking
dependents are gone; orphan removes the owner and keeps the dependents without
the reference. A dependent whose owner never existed is collected. Killing the
leader in the middle of a background and of a foreground deletion, the new
leader finishes both. Events, the other garbage, are deleted once older than
--event-ttl and not before."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check, wait_until  # noqa: E402

EVENT_TTL_S = 3
FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50", "--event-ttl", str(EVENT_TTL_S)]
READY_TIMEOUT_S = 60
GC_TIMEOUT_S = 15
NS = "gc"
HOLD = "example.com/hold"  # a finalizer nobody serves: keeps a dependent half-deleted


class Kube:
    def __init__(self, c):
        self.c = c
        self.cfg = c.kubeconfig
        self.cache = os.path.join(c.dir, "kube-cache")

    def run(self, *argv, input=None, timeout=60):
        return subprocess.run([KUBECTL, "--kubeconfig", self.cfg, "--cache-dir", self.cache,
                               *argv], capture_output=True, text=True, input=input,
                              timeout=timeout)

    def ok(self, *argv, input=None):
        for _ in range(3):  # a request cut by a leader change is retried, as kubectl users do
            r = self.run(*argv, input=input)
            if r.returncode == 0:
                return r.stdout
            if "connection refused" not in r.stderr and "EOF" not in r.stderr:
                break
            time.sleep(1)
        raise TestFailure(f"kubectl {' '.join(argv)}: exit {r.returncode}: {r.stderr[-2000:]} "
                          f"(logs in {self.c.dir})")

    def get(self, name):
        """The ConfigMap as a dict, or None when it does not exist."""
        r = self.run("get", "configmap", "-n", NS, name, "-o", "json")
        if r.returncode != 0:
            if "NotFound" in r.stderr or "not found" in r.stderr:
                return None
            raise TestFailure(f"kubectl get configmap {name}: {r.stderr} (logs in {self.c.dir})")
        return json.loads(r.stdout)

    def create(self, name, owners=(), finalizers=()):
        """Creates a ConfigMap owned by owners (dicts with name and uid); returns its uid."""
        meta = {"name": name, "namespace": NS}
        if owners:
            meta["ownerReferences"] = [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": o["name"], "uid": o["uid"],
                 "blockOwnerDeletion": True} for o in owners]
        if finalizers:
            meta["finalizers"] = list(finalizers)
        doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": name}}
        self.ok("create", "-f", "-", input=json.dumps(doc))
        obj = self.get(name)  # None when already collected (a dangling reference)
        return {"name": name, "uid": obj["metadata"]["uid"] if obj else None}

    def delete(self, name, cascade):
        self.ok("delete", "configmap", "-n", NS, name, f"--cascade={cascade}", "--wait=false")

    def release(self, name):
        """Removes the HOLD finalizer so the half-deleted object can go."""
        self.ok("patch", "configmap", "-n", NS, name, "--type=json",
                "-p", json.dumps([{"op": "remove", "path": "/metadata/finalizers"}]))


def gone(k, names, timeout=GC_TIMEOUT_S):
    wait_until(f"configmaps {names} deleted", lambda: all(k.get(n) is None for n in names),
               timeout, k.c)


def background(k):
    owner = k.create("bg-owner")
    deps = [k.create(f"bg-dep-{i}", owners=[owner]) for i in range(3)]
    k.delete("bg-owner", "background")
    # an owner of the same name, another uid: the dependents still point at the old one
    k.create("bg-owner")
    gone(k, [d["name"] for d in deps])
    check("the new owner of the same name is not collected", True, k.get("bg-owner") is not None,
          k.c)
    # a reference to an owner that never existed
    k.create("dangling", owners=[{"name": "nobody", "uid": "0b7ac3c5-0000-4000-8000-000000000000"}])
    gone(k, ["dangling"])


def foreground(k):
    owner = k.create("fg-owner")
    held = k.create("fg-held", owners=[owner], finalizers=[HOLD])
    free = [k.create(f"fg-dep-{i}", owners=[owner]) for i in range(2)]
    k.delete("fg-owner", "foreground")
    o = k.get("fg-owner")
    check("foreground: the owner is kept while deleting", True, o is not None, k.c)
    check("foreground: deletionTimestamp set", True, "deletionTimestamp" in o["metadata"], k.c)
    check("foreground: finalizer", True, "foregroundDeletion" in o["metadata"].get("finalizers", []),
          k.c)
    gone(k, [d["name"] for d in free])
    # the held dependent was deleted too, and the owner waits for it
    wait_until("fg-held marked deleted",
               lambda: "deletionTimestamp" in (k.get("fg-held") or {}).get("metadata", {}),
               GC_TIMEOUT_S, k.c)
    time.sleep(1)  # give a wrong garbage collector time to remove the owner early
    check("foreground: owner still there while a blocking dependent is", True,
          k.get("fg-owner") is not None, k.c)
    k.release(held["name"])
    gone(k, ["fg-held", "fg-owner"])


def orphan(k):
    owner = k.create("or-owner")
    deps = [k.create(f"or-dep-{i}", owners=[owner]) for i in range(3)]
    k.delete("or-owner", "orphan")
    gone(k, ["or-owner"])
    for d in deps:
        obj = k.get(d["name"])
        check(f"orphan: {d['name']} kept", True, obj is not None, k.c)
        check(f"orphan: {d['name']} has no ownerReferences", [],
              obj["metadata"].get("ownerReferences", []), k.c)
    time.sleep(1)
    check("orphan: dependents still there later", True,
          all(k.get(d["name"]) is not None for d in deps), k.c)


def leader_kill(k, c):
    """Deletions in flight when the leader dies are finished by the next one."""
    owner = k.create("lk-owner")
    deps = [k.create(f"lk-dep-{i}", owners=[owner]) for i in range(20)]
    fowner = k.create("lkf-owner")
    held = k.create("lkf-held", owners=[fowner], finalizers=[HOLD])
    k.delete("lkf-owner", "foreground")
    wait_until("lkf-held marked deleted",
               lambda: "deletionTimestamp" in (k.get("lkf-held") or {}).get("metadata", {}),
               GC_TIMEOUT_S, c)
    k.delete("lk-owner", "background")
    old = c.leader()
    c.kill(old)
    new = wait_until("a new leader", lambda: c.leader() not in (None, old) and c.leader(), 30, c)
    check("a different leader", True, new != old, c)
    gone(k, [d["name"] for d in deps], timeout=30)
    check("lkf-owner waits on the new leader too", True, k.get("lkf-owner") is not None, c)
    k.release(held["name"])
    gone(k, ["lkf-held", "lkf-owner"], timeout=30)


def events_ttl(k):
    ev = {"apiVersion": "v1", "kind": "Event",
          "metadata": {"name": "ev-1", "namespace": NS},
          "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": NS},
          "reason": "Test", "message": "collected after the TTL", "type": "Normal"}
    k.ok("create", "-f", "-", input=json.dumps(ev))
    t0 = time.monotonic()

    def present():
        return k.run("get", "event", "-n", NS, "ev-1").returncode == 0

    check("event there after creation", True, present(), k.c)
    time.sleep(1)
    check("event kept before its TTL", True, present(), k.c)
    # expired after the TTL (second-precision timestamps) plus the 1 s sweep gap
    wait_until("event deleted after its TTL", lambda: not present(), EVENT_TTL_S + 10, k.c)
    check("event lived its TTL", True, time.monotonic() - t0 >= EVENT_TTL_S - 1, k.c)


def test_gc():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.haproxy()
        c.wait_ready(READY_TIMEOUT_S)
        c.wait_leader(READY_TIMEOUT_S)
        k = Kube(c)
        k.ok("create", "namespace", NS)
        t0 = time.monotonic()
        background(k)
        foreground(k)
        orphan(k)
        events_ttl(k)
        leader_kill(k, c)
        print(f"gc cases took {time.monotonic() - t0:.1f}s", flush=True)


harness.main(test_gc)
