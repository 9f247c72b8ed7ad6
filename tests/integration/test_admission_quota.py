"""LimitRanger and ResourceQuota admission and the resource-quota controller,
through the real kubectl against three replicas behind haproxy.

LimitRanger gives containers the LimitRange's default limits and requests (seen
in `kubectl get pod -o yaml`, with the kubernetes.io/limit-ranger annotation) and
refuses pods and claims outside min/max with Kubernetes' 403 messages.
ResourceQuota refuses a create past spec.hard (`exceeded quota: ...`) and a pod
that names no request or limit of a limited compute resource (`must specify`);
deleting a pod, or a pod ending, frees its share once the leader's controller
has recounted (polled, bounded). `kubectl describe quota` shows Used and Hard.
Concurrency: 20 pod creates at once, half through one replica and half through
another, against `pods: 5`: exactly 5 succeed, because each charge is a
compare-and-swap on the quota in the same Raft txn as the pod."""

import http.client
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestFailure, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60
CONTROLLER_TIMEOUT_S = 30  # the controller recounts on events; this only bounds the poll
RACE_CLIENTS = 20
RACE_LIMIT = 5


def pod(name, resources=None, init=None):
    c = {"name": "c", "image": "busybox"}
    if resources is not None:
        c["resources"] = resources
    spec = {"containers": [c]}
    if init is not None:
        spec["initContainers"] = [init]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def create(k, ns, obj):
    return k.run("create", "-n", ns, "-f", "-", input=json.dumps(obj))


def must_create(k, ns, obj):
    r = create(k, ns, obj)
    if r.returncode != 0:
        raise TestFailure(f"create {obj['metadata']['name']} in {ns}: expected success, got "
                          f"{r.stderr.strip()} (logs in {k.c.dir})")


def refused(k, ns, obj, message):
    """The create fails with 403 and exactly this Status message."""
    r = create(k, ns, obj)
    want = f"Error from server (Forbidden): error when creating \"STDIN\": {message}"
    check(f"create {obj['metadata']['name']} in {ns} refused", want, r.stderr.strip(), k.c)


def quota_used(k, ns, name):
    return k.obj("get", "resourcequota", "-n", ns, name).get("status", {}).get("used", {})


def wait_synced(c, k, ns, name):
    """Until the controller has given the quota its status."""
    def synced():
        q = k.obj("get", "resourcequota", "-n", ns, name)
        hard = q["spec"]["hard"]
        return set(q.get("status", {}).get("used", {})) == set(hard) and \
            q.get("status", {}).get("hard") == hard
    wait_until(f"quota {ns}/{name} has status", synced, CONTROLLER_TIMEOUT_S, c)


# ---------- LimitRanger ----------

def test_limit_ranger(c, k):
    ns = "lr"
    k.ok("create", "namespace", ns)
    must_create(k, ns, {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "a"},
                        "spec": {"limits": [
                            {"type": "Container", "max": {"cpu": "1"},
                             "default": {"cpu": "500m", "memory": "256Mi"},
                             "defaultRequest": {"cpu": "250m", "memory": "128Mi"}},
                            {"type": "Container", "min": {"memory": "100Mi"}},
                            {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"},
                             "max": {"storage": "5Gi"}}]}})
    must_create(k, ns, pod("defaulted"))
    got = k.ok("get", "pod", "-n", ns, "defaulted", "-o", "yaml")
    p = k.obj("get", "pod", "-n", ns, "defaulted")
    res = p["spec"]["containers"][0]["resources"]
    check("defaulted limits", {"cpu": "500m", "memory": "256Mi"}, res.get("limits"), c)
    # the second item's min became its defaultRequest (LimitRange defaulting), and a
    # later item's default wins, as in Kubernetes
    check("defaulted requests", {"cpu": "250m", "memory": "100Mi"}, res.get("requests"), c)
    check("kubectl get pod -o yaml shows the default limit", True,
          re.search(r"limits:\s*\n\s*cpu: 500m\s*\n\s*memory: 256Mi", got) is not None, c)
    check("the limit-ranger annotation",
          "LimitRanger plugin set: cpu, memory request for container c; "
          "cpu, memory limit for container c",
          p["metadata"].get("annotations", {}).get("kubernetes.io/limit-ranger"), c)
    # a limit without a request requests the limit; the rest comes from the defaults
    must_create(k, ns, pod("limited", {"limits": {"cpu": "800m"}}))
    res = k.obj("get", "pod", "-n", ns, "limited")["spec"]["containers"][0]["resources"]
    check("limit given, request copied", {"cpu": "800m", "memory": "100Mi"}, res.get("requests"), c)
    check("default memory limit added", {"cpu": "800m", "memory": "256Mi"}, res.get("limits"), c)
    refused(k, ns, pod("toobig", {"limits": {"cpu": "2"}, "requests": {"memory": "50Mi"}}),
            'pods "toobig" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, '
            'minimum memory usage per Container is 100Mi, but request is 50Mi]')
    refused(k, ns, pod("init-big", {}, {"name": "i", "image": "busybox",
                                         "resources": {"limits": {"cpu": "1500m"}}}),
            'pods "init-big" is forbidden: maximum cpu usage per Container is 1, but limit is 1500m')
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "big"},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "10Gi"}}}}
    refused(k, ns, claim, 'persistentvolumeclaims "big" is forbidden: maximum storage usage per '
            'PersistentVolumeClaim is 5Gi, but request is 10Gi')
    claim["metadata"]["name"] = "small"
    claim["spec"]["resources"]["requests"]["storage"] = "500Mi"
    refused(k, ns, claim, 'persistentvolumeclaims "small" is forbidden: minimum storage usage per '
            'PersistentVolumeClaim is 1Gi, but request is 500Mi')
    claim["metadata"]["name"] = "fits"
    claim["spec"]["resources"]["requests"]["storage"] = "2Gi"
    must_create(k, ns, claim)


# ---------- ResourceQuota ----------

def test_pod_count(c, k):
    ns = "q"
    k.ok("create", "namespace", ns)
    k.ok("create", "quota", "q", "-n", ns, "--hard=pods=2")
    wait_synced(c, k, ns, "q")
    must_create(k, ns, pod("p1"))
    must_create(k, ns, pod("p2"))
    check("no LimitRange in the namespace: no defaults", {},
          k.obj("get", "pod", "-n", ns, "p1")["spec"]["containers"][0].get("resources", {}), c)
    refused(k, ns, pod("p3"), 'pods "p3" is forbidden: exceeded quota: q, requested: pods=1, '
            'used: pods=2, limited: pods=2')
    desc = k.ok("describe", "quota", "q", "-n", ns)
    check("describe quota shows Used and Hard", True,
          re.search(r"Resource\s+Used\s+Hard", desc) is not None and
          re.search(r"\n\s*pods\s+2\s+2\s*\n", desc + "\n") is not None, c)
    k.ok("delete", "pod", "p1", "-n", ns)
    wait_until("p3 is created once p1's share is freed",
               lambda: create(k, ns, pod("p3")).returncode == 0, CONTROLLER_TIMEOUT_S, c)
    check("used pods", "2", quota_used(k, ns, "q").get("pods"), c)
    # a pod that ended holds no share
    k.ok("patch", "pod", "p2", "-n", ns, "--subresource=status", "--type=merge",
         "-p", json.dumps({"status": {"phase": "Succeeded"}}))
    wait_until("a Succeeded pod no longer counts",
               lambda: quota_used(k, ns, "q").get("pods") == "1", CONTROLLER_TIMEOUT_S, c)
    must_create(k, ns, pod("p4"))


def test_compute(c, k):
    ns = "qc"
    k.ok("create", "namespace", ns)
    k.ok("create", "quota", "compute", "-n", ns, "--hard=requests.cpu=1,limits.cpu=2")
    wait_synced(c, k, ns, "compute")
    refused(k, ns, pod("bare"), 'pods "bare" is forbidden: failed quota: compute: must specify '
            'limits.cpu for: c; requests.cpu for: c')
    refused(k, ns, pod("nolimit", {"requests": {"cpu": "100m"}}),
            'pods "nolimit" is forbidden: failed quota: compute: must specify limits.cpu for: c')
    must_create(k, ns, pod("a", {"requests": {"cpu": "600m"}, "limits": {"cpu": "1"}}))
    refused(k, ns, pod("b", {"requests": {"cpu": "600m"}, "limits": {"cpu": "1"}}),
            'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, '
            'used: requests.cpu=600m, limited: requests.cpu=1')
    used = quota_used(k, ns, "compute")
    check("compute usage charged", {"requests.cpu": "600m", "limits.cpu": "1"}, used, c)
    desc = k.ok("describe", "quota", "compute", "-n", ns)
    check("describe shows limits.cpu 1 of 2", True,
          re.search(r"limits\.cpu\s+1\s+2", desc) is not None, c)
    k.ok("delete", "pod", "a", "-n", ns)
    wait_until("b fits once a is gone",
               lambda: create(k, ns, pod("b", {"requests": {"cpu": "600m"},
                                               "limits": {"cpu": "1"}})).returncode == 0,
               CONTROLLER_TIMEOUT_S, c)


def test_object_counts(c, k):
    ns = "qo"
    k.ok("create", "namespace", ns)
    k.ok("create", "quota", "objects", "-n", ns, "--hard=count/secrets=1,services.nodeports=0")
    wait_synced(c, k, ns, "objects")
    k.ok("create", "secret", "generic", "s1", "-n", ns, "--from-literal=a=b")
    r = k.run("create", "secret", "generic", "s2", "-n", ns, "--from-literal=a=b")
    check("second secret refused", 'error: failed to create secret secrets "s2" is forbidden: '
          'exceeded quota: objects, requested: count/secrets=1, used: count/secrets=1, '
          'limited: count/secrets=1', r.stderr.strip(), c)
    r = k.run("create", "service", "nodeport", "np", "-n", ns, "--tcp=80:80")
    check("NodePort service refused", True, "exceeded quota: objects, requested: "
          "services.nodeports=1, used: services.nodeports=0, limited: services.nodeports=0"
          in r.stderr, c)
    k.ok("create", "service", "clusterip", "cip", "-n", ns, "--tcp=80:80")


# ---------- concurrency ----------

def test_race(c, k):
    ns = "race"
    k.ok("create", "namespace", ns)
    k.ok("create", "quota", "five", "-n", ns, f"--hard=pods={RACE_LIMIT}")
    wait_synced(c, k, ns, "five")
    urls = [c.api_url("r1"), c.api_url("r2")]
    ctx = c.client.ssl_context()
    barrier = threading.Barrier(RACE_CLIENTS)
    results = [None] * RACE_CLIENTS

    def one(i):
        host, port = urls[i % 2].split("//")[1].split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)
        body = json.dumps(pod(f"r{i}"))
        try:
            conn.connect()
            barrier.wait()
            conn.request("POST", f"/api/v1/namespaces/{ns}/pods", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            results[i] = (r.status, json.loads(r.read() or b"{}").get("message", ""))
        except Exception as e:  # reported below as a result that is neither 201 nor 403
            results[i] = (0, repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(RACE_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = [r for r in results if r[0] == 201]
    refusals = [r for r in results if r[0] == 403 and "exceeded quota: five" in r[1]]
    check("every create answered 201 or 403 exceeded quota", RACE_CLIENTS,
          len(created) + len(refusals), c)
    check(f"exactly {RACE_LIMIT} of {RACE_CLIENTS} concurrent creates succeed", RACE_LIMIT,
          len(created), c)
    check("pods stored", RACE_LIMIT, len(k.names("get", "pods", "-n", ns)), c)
    check("the quota charged exactly them", str(RACE_LIMIT), quota_used(k, ns, "five").get("pods"), c)


def test_admission_quota():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        k = Kube(c)
        wait_until("the default service account exists",
                   lambda: k.run("get", "serviceaccount", "default").returncode == 0, 30, c)
        test_limit_ranger(c, k)
        test_pod_count(c, k)
        test_compute(c, k)
        test_object_counts(c, k)
        test_race(c, k)


if __name__ == "__main__":
    harness.args()
    harness.main(test_admission_quota)
