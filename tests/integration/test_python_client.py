"""python_client: Debian's python3-kubernetes, a second real client, through haproxy
over verified TLS: list, create, get, patch (merge and strategic), watch (the client
sends watch=True, not "true"), delete, and its typed errors.
"""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check  # noqa: E402

from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]


def test_python_client():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        c.haproxy()
        config.load_kube_config(c.kubeconfig)
        v1 = client.CoreV1Api()
        names = [n.metadata.name for n in v1.list_namespace().items]
        check("built-in namespaces listed", True,
              {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names), c)
        v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))

        events, started = [], threading.Event()

        def watcher():
            w = watch.Watch()
            started.set()
            for ev in w.stream(v1.list_namespaced_config_map, "py", timeout_seconds=5):
                events.append((ev["type"], ev["object"].metadata.name,
                               dict(ev["object"].data or {})))
                if ev["type"] == "DELETED":
                    w.stop()

        t = threading.Thread(target=watcher, daemon=True)
        t.start()
        started.wait(5)
        cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="p1", labels={"app": "x"}),
                                data={"a": "1"})
        made = v1.create_namespaced_config_map("py", cm)
        check("uid assigned", True, bool(made.metadata.uid), c)
        got = v1.read_namespaced_config_map("p1", "py")
        check("read back", {"a": "1"}, got.data, c)
        patched = v1.patch_namespaced_config_map("p1", "py", {"data": {"b": "2"}})
        check("strategic merge patch keeps other keys", {"a": "1", "b": "2"}, patched.data, c)
        listed = v1.list_namespaced_config_map("py", label_selector="app=x")
        check("label selector", ["p1"], [i.metadata.name for i in listed.items], c)
        try:
            v1.create_namespaced_config_map("py", cm)
            raise harness.TestFailure("second create: expected 409")
        except ApiException as e:
            check("second create status", 409, e.status, c)
        v1.delete_namespaced_config_map("p1", "py")
        try:
            v1.read_namespaced_config_map("p1", "py")
            raise harness.TestFailure("read after delete: expected 404")
        except ApiException as e:
            check("read after delete status", 404, e.status, c)
        t.join(15)
        kinds = [e[0] for e in events]
        check("watch saw ADDED, MODIFIED, DELETED (got %r)" % events, True,
              kinds[:1] == ["ADDED"] and "MODIFIED" in kinds and kinds[-1:] == ["DELETED"], c)


harness.main(test_python_client)
