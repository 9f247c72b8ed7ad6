"""lifecycle: deletion with finalizers and propagation policies, and the status
subresource, as Kubernetes has them.

- an object with finalizers is marked (deletionTimestamp), not removed, and goes the
  moment an update leaves its finalizers empty;
- propagationPolicy=Orphan / Foreground add their finalizers and mark the object;
- a write to the main resource cannot change status, a write to /status can change
  only status;
- subresources are listed in discovery; unknown ones are 404.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
CM = "/api/v1/namespaces/default/configmaps"
MERGE = {"Content-Type": "application/merge-patch+json"}


def req(c, method, path, body=None, headers=None):
    if isinstance(body, (dict, list)) and headers:
        body = json.dumps(body)
    st, _, data = c.request(method, c.api_url("r1") + path, body, headers)
    return st, (json.loads(data) if data else None)


def finalizers_hold(c):
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "data": {"a": "b"}}
    st, _ = req(c, "POST", CM, cm)
    check("create held", 201, st, c)
    st, obj = req(c, "DELETE", CM + "/held")
    check("delete of an object with finalizers", 200, st, c)
    check("answer carries deletionTimestamp", True,
          "deletionTimestamp" in obj["metadata"], c)
    st, obj = req(c, "GET", CM + "/held")
    check("still there after delete", 200, st, c)
    ts = obj["metadata"]["deletionTimestamp"]
    st, obj = req(c, "DELETE", CM + "/held")
    check("second delete keeps the first deletionTimestamp", ts,
          obj["metadata"]["deletionTimestamp"], c)
    st, obj = req(c, "PATCH", CM + "/held", {"data": {"a": "c"}}, MERGE)
    check("updates still allowed while marked", "c", obj["data"]["a"], c)
    st, _ = req(c, "PATCH", CM + "/held", {"metadata": {"finalizers": None}}, MERGE)
    check("patch that empties the finalizers", 200, st, c)
    st, _ = req(c, "GET", CM + "/held")
    check("gone once its finalizers are", 404, st, c)


def propagation(c):
    for policy, finalizer in (("Orphan", "orphan"), ("Foreground", "foregroundDeletion")):
        name = "prop-" + policy.lower()
        st, _ = req(c, "POST", CM, {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": name}})
        check(f"create {name}", 201, st, c)
        st, obj = req(c, "DELETE", CM + "/" + name,
                      {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy},
                      {"Content-Type": "application/json"})
        check(f"delete {policy}", 200, st, c)
        check(f"{policy} adds its finalizer", [finalizer], obj["metadata"].get("finalizers"), c)
        st, _ = req(c, "PATCH", CM + "/" + name, {"metadata": {"finalizers": []}}, MERGE)
        st, _ = req(c, "GET", CM + "/" + name)
        check(f"{name} gone after its finalizer is removed", 404, st, c)
    st, _ = req(c, "DELETE", CM + "/nothing?propagationPolicy=Sideways")
    check("unknown propagation policy", 400, st, c)


def status_subresource(c):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stat"}}
    st, _ = req(c, "POST", "/api/v1/namespaces", ns)
    check("create namespace", 201, st, c)
    st, obj = req(c, "PATCH", "/api/v1/namespaces/stat",
                  {"metadata": {"labels": {"x": "y"}}, "status": {"phase": "Weird"}}, MERGE)
    check("main write changes labels", "y", obj["metadata"]["labels"].get("x"), c)
    check("main write cannot change status", "Active", obj["status"]["phase"], c)
    st, obj = req(c, "PATCH", "/api/v1/namespaces/stat/status",
                  {"metadata": {"labels": {"x": "z"}}, "status": {"phase": "Weird"}}, MERGE)
    check("status write", 200, st, c)
    check("status write changes status", "Weird", obj["status"]["phase"], c)
    check("status write cannot change labels", "y", obj["metadata"]["labels"].get("x"), c)
    st, obj = req(c, "GET", "/api/v1/namespaces/stat/status")
    check("GET status", ("Weird", 200), (obj["status"]["phase"], st), c)
    st, _ = req(c, "GET", "/api/v1/namespaces/stat/nosuch")
    check("unknown subresource", 404, st, c)
    st, doc = req(c, "GET", "/api/v1")
    names = {r["name"] for r in doc["resources"]}
    check("discovery lists namespaces/status and namespaces/finalize", True,
          {"namespaces/status", "namespaces/finalize"} <= names, c)


def test_lifecycle():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        finalizers_hold(c)
        propagation(c)
        status_subresource(c)


harness.main(test_lifecycle)
