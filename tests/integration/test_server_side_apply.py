"""server_side_apply: `kubectl apply --server-side` as against Kubernetes: creates,
re-applies without change, records managedFields, refuses a conflicting apply by
another field manager (409 naming the field and the owner) unless
--force-conflicts, and removes the fields a manager stops applying.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]


def cm(data):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "ssa", "namespace": "default"}, "data": data})


def run(c, *argv, input=None):
    return c.kubectl(*argv, input=input)


def test_server_side_apply():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        c.haproxy()
        r = run(c, "apply", "--server-side", "-f", "-", input=cm({"a": "1", "b": "2"}))
        check(f"first apply (stderr {r.stderr.strip()!r})", "configmap/ssa serverside-applied",
              r.stdout.strip(), c)
        obj = json.loads(run(c, "get", "cm", "ssa", "-o", "json", "--show-managed-fields").stdout)
        mf = obj["metadata"].get("managedFields", [])
        check("one Apply entry for kubectl", [("kubectl", "Apply")],
              [(e["manager"], e["operation"]) for e in mf], c)
        check("it owns data.a and data.b", True,
              {"f:a", "f:b"} <= set(mf[0]["fieldsV1"]["f:data"].keys()), c)
        rv = obj["metadata"]["resourceVersion"]
        r = run(c, "apply", "--server-side", "-f", "-", input=cm({"a": "1", "b": "2"}))
        check("re-apply", "configmap/ssa serverside-applied", r.stdout.strip(), c)
        obj = json.loads(run(c, "get", "cm", "ssa", "-o", "json").stdout)
        check("re-apply of the same config writes nothing", rv,
              obj["metadata"]["resourceVersion"], c)
        r = run(c, "apply", "--server-side", "--field-manager", "other", "-f", "-",
                input=cm({"a": "changed"}))
        check("conflicting apply by another manager fails", 1, r.returncode, c)
        check(f"it names the conflict ({r.stderr.strip()[:300]!r})", True,
              "conflict" in r.stderr and ".data.a" in r.stderr and "kubectl" in r.stderr, c)
        r = run(c, "apply", "--server-side", "--field-manager", "other", "--force-conflicts",
                "-f", "-", input=cm({"a": "changed"}))
        check("forced apply", 0, r.returncode, c)
        obj = json.loads(run(c, "get", "cm", "ssa", "-o", "json", "--show-managed-fields").stdout)
        check("forced value", "changed", obj["data"]["a"], c)
        owners = {e["manager"]: set(e["fieldsV1"].get("f:data", {}).keys())
                  for e in obj["metadata"]["managedFields"]}
        check("ownership moved", ({"f:b"}, {"f:a"}), (owners.get("kubectl"), owners.get("other")),
              c)
        r = run(c, "apply", "--server-side", "-f", "-", input=cm({}))
        obj = json.loads(run(c, "get", "cm", "ssa", "-o", "json").stdout)
        check("a field kubectl stops applying is removed; other's stays", {"a": "changed"},
              obj.get("data"), c)


harness.main(test_server_side_apply)
