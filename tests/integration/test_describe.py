"""describe: `kubectl describe` of a pod, a deployment and a node prints what it
prints against Kubernetes (the fields it reads: defaults, tolerations, strategy,
conditions, node info, the pods on the node), and `kubectl explain` of a kind with a
full schema works.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]

NODE = """apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
status:
  conditions: [{type: Ready, status: "True"}]
  nodeInfo: {kubeletVersion: v1.32.0}
"""


def ok(c, *argv, input=None):
    r = c.kubectl(*argv, input=input)
    check(f"kubectl {' '.join(argv)} exit code (stderr {r.stderr.strip()[:200]!r})", 0,
          r.returncode, c)
    return r.stdout


def has_lines(c, what, out, needles):
    """Each needle on some line, whitespace runs compared as one space (kubectl's
    column widths depend on the longest label of a section)."""
    flat = [" ".join(line.split()) for line in out.splitlines()]
    for n in needles:
        want = " ".join(n.split())
        check(f"{what} shows {n!r}", True, any(want in line for line in flat), c)


def test_describe():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        c.haproxy()
        ok(c, "create", "-f", "-", input=NODE)
        ok(c, "run", "p1", "--image=busybox", "--", "sleep", "10")
        ok(c, "create", "deployment", "web", "--image=nginx", "--replicas=2")
        out = ok(c, "describe", "pod", "p1")
        has_lines(c, "describe pod", out, [
            "Name:             p1", "Namespace:        default", "Status:           Pending",
            "Service Account:  default", "QoS Class:        BestEffort",
            "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s", "Image:      busybox",
            "Events:           <none>"])
        out = ok(c, "describe", "deployment", "web")
        has_lines(c, "describe deployment", out, [
            "Name:                   web", "Selector:               app=web",
            "Replicas:               2 desired", "StrategyType:           RollingUpdate",
            "RollingUpdateStrategy:  25% max unavailable, 25% max surge", "Image:         nginx"])
        out = ok(c, "describe", "node", "n1")
        has_lines(c, "describe node", out, [
            "Name:               n1", "Ready   True", "Kubelet Version:            v1.32.0",
            "Non-terminated Pods:          (0 in total)", "Allocated resources:"])
        out = ok(c, "explain", "configmap")
        has_lines(c, "explain configmap", out, ["KIND:       ConfigMap", "VERSION:    v1",
                                                "FIELDS:", "data"])


harness.main(test_describe)
