"""admission: the plugins kube-apiserver runs, seen through the real kubectl
(issue 4; CIS 1.2.12 ServiceAccount, 1.2.13 NamespaceLifecycle, 1.2.14
NodeRestriction).

- ServiceAccount: every namespace gets its `default` account and `kube-root-ca.crt`
  from the leader; a pod created the moment its namespace is waits for the account;
  pods get the projected kube-api-access volume mounted in every container; a
  missing account is 403; automountServiceAccountToken: false is honoured;
- Priority: the system PriorityClasses exist; a class's value lands in
  spec.priority; an unknown class is 403; a global default applies;
- NodeRestriction: an agent's certificate may create only mirror pods bound to its
  node, may not touch node-restriction.kubernetes.io/ labels, may update only pod
  status;
- NamespaceLifecycle: creating in a terminating namespace is 403.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestPKI, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
SA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
MERGE = {"Content-Type": "application/merge-patch+json"}


def pod(name, **spec):
    base = {"containers": [{"name": "c", "image": "busybox"}]}
    base.update(spec)
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": base})


def test_service_account(c, k):
    k.ok("create", "namespace", "fresh")
    k.ok("create", "-n", "fresh", "-f", "-", input=pod("first"))  # right away: waits
    p = k.obj("get", "pod", "first", "-n", "fresh")
    vols = [v for v in p["spec"].get("volumes", []) if v["name"].startswith("kube-api-access-")]
    check("one kube-api-access volume", 1, len(vols), c)
    srcs = vols[0]["projected"]["sources"]
    check("token, CA bundle and namespace in the projected volume",
          [("serviceAccountToken", 3607), ("configMap", "kube-root-ca.crt"),
           ("downwardAPI", "metadata.namespace")],
          [("serviceAccountToken", srcs[0]["serviceAccountToken"]["expirationSeconds"]),
           ("configMap", srcs[1]["configMap"]["name"]),
           ("downwardAPI", srcs[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"])], c)
    mounts = p["spec"]["containers"][0].get("volumeMounts", [])
    check("mounted read-only at the service-account path", [(vols[0]["name"], SA_PATH, True)],
          [(m["name"], m["mountPath"], m.get("readOnly")) for m in mounts], c)
    check("serviceAccountName defaults to default", "default", p["spec"]["serviceAccountName"], c)
    check("the namespace has its default account", ["default"],
          [i["metadata"]["name"] for i in k.obj("get", "sa", "-n", "fresh")["items"]], c)
    with open(os.path.join(c.dir, "pki", "ca.crt")) as f:
        ca = f.read()
    cm = k.obj("get", "configmap", "kube-root-ca.crt", "-n", "fresh")
    check("kube-root-ca.crt holds the cluster CA", ca, cm["data"]["ca.crt"], c)
    err = k.fails("create", "-f", "-", input=pod("lost", serviceAccountName="nobody"))
    check("a missing account is refused with 403", True,
          "Forbidden" in err and 'serviceaccount "nobody" not found' in err, c)
    k.ok("create", "-f", "-", input=pod("quiet", automountServiceAccountToken=False))
    p = k.obj("get", "pod", "quiet")
    check("automountServiceAccountToken: false mounts nothing", [],
          [v["name"] for v in p["spec"].get("volumes", [])], c)
    # the controller puts back what is deleted
    k.ok("delete", "sa", "default", "-n", "fresh")
    wait_until("the default account comes back",
               lambda: k.run("get", "sa", "default", "-n", "fresh").returncode == 0, 20, c)


def test_priority(c, k):
    names = k.ok("get", "priorityclass", "-o", "name").split()
    check("the system PriorityClasses exist", True,
          {"priorityclass.scheduling.k8s.io/system-node-critical",
           "priorityclass.scheduling.k8s.io/system-cluster-critical"} <= set(names), c)
    k.ok("create", "-f", "-", input=pod("crit", priorityClassName="system-node-critical"))
    check("priority from the class", 2000001000, k.obj("get", "pod", "crit")["spec"]["priority"], c)
    err = k.fails("create", "-f", "-", input=pod("nope", priorityClassName="nope"))
    check("an unknown class is refused", True,
          "no PriorityClass with name nope was found" in err, c)
    k.ok("create", "priorityclass", "normal", "--value=1000", "--global-default=true")
    p = k.obj("get", "pod", "crit")
    k.ok("create", "-f", "-", input=pod("plain"))
    p = k.obj("get", "pod", "plain")
    check("the global default applies", ("normal", 1000),
          (p["spec"].get("priorityClassName"), p["spec"].get("priority")), c)


def test_node_restriction(c, k, pki, url):
    for n in ("n1", "n2"):
        k.ok("create", "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}}))
    n1 = pki.issue("n1", "/CN=system:node:n1/O=system:nodes")
    pods = "/api/v1/namespaces/default/pods"
    plain = json.loads(pod("agent-made", nodeName="n1"))
    st, body = pki.request(url, "POST", pods, n1, body=plain)
    check(f"a node may not create an ordinary pod ({body})", 403, st, c)
    check("...and is told why", True, "can only create mirror pods" in body.get("message", ""), c)
    mirror = json.loads(pod("static-web-n1", nodeName="n1"))
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "x"}
    st, body = pki.request(url, "POST", pods, n1, body=mirror)
    check(f"a mirror pod bound to itself is fine ({body})", 201, st, c)
    mirror["metadata"]["name"] = "static-web-n2"
    mirror["spec"]["nodeName"] = "n2"
    st, _ = pki.request(url, "POST", pods, n1, body=mirror)
    check("a mirror pod for another node is refused", 403, st, c)
    st, body = pki.request(url, "PATCH", pods + "/static-web-n1", n1,
                           body={"metadata": {"labels": {"a": "b"}}}, headers=MERGE)
    check(f"a node may not update a pod, only its status ({body})", 403, st, c)
    st, _ = pki.request(url, "PATCH", pods + "/static-web-n1/status", n1,
                        body={"status": {"phase": "Running"}}, headers=MERGE)
    check("a node updates the status of its pod", 200, st, c)
    st, body = pki.request(url, "PATCH", "/api/v1/nodes/n1", n1, headers=MERGE,
                           body={"metadata": {"labels": {"node-restriction.kubernetes.io/pool": "x"}}})
    check(f"a node may not set node-restriction labels ({body})", 403, st, c)
    st, _ = pki.request(url, "PATCH", "/api/v1/nodes/n1", n1, headers=MERGE,
                        body={"metadata": {"labels": {"topology.kubernetes.io/zone": "a"}}})
    check("a node sets other labels on itself", 200, st, c)


def test_namespace_lifecycle(c, k):
    k.ok("create", "namespace", "doomed")
    k.ok("create", "configmap", "keep", "-n", "doomed")
    k.ok("patch", "configmap", "keep", "-n", "doomed", "--type=merge", "-p",
         '{"metadata":{"finalizers":["example.com/hold"]}}')
    k.ok("delete", "namespace", "doomed", "--wait=false")
    err = k.fails("create", "configmap", "late", "-n", "doomed")
    check(f"creating in a terminating namespace is 403 ({err.strip()})", True,
          "is forbidden" in err and "being terminated" in err, c)
    k.ok("patch", "configmap", "keep", "-n", "doomed", "--type=merge", "-p",
         '{"metadata":{"finalizers":null}}')


def test_admission():
    with Cluster(n=1, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        url = c.api_url("r1")
        c.haproxy()
        k = Kube(c)
        wait_until("the default namespace has its account",
                   lambda: k.run("get", "sa", "default").returncode == 0, 30, c)
        test_service_account(c, k)
        test_priority(c, k)
        test_node_restriction(c, k, TestPKI(c), url)
        test_namespace_lifecycle(c, k)


if __name__ == "__main__":
    harness.args()
    harness.main(test_admission)
