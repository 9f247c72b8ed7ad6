"""authz: Node,RBAC on every request (issue 4; CIS 1.2.6-1.2.8).

- a user without bindings gets 403 Forbidden, worded as kube-apiserver words it, on
  every verb; a RoleBinding takes effect at once and its removal revokes at once;
- `kubectl auth can-i` (SelfSubjectAccessReview), `can-i --list`
  (SelfSubjectRulesReview) and `auth whoami` (SelfSubjectReview) answer correctly for a
  role matrix, run as the user with its own kubeconfig;
- group bindings to the default aggregated roles (view, edit) and service-account
  subjects work; view cannot read secrets;
- an agent's certificate (system:node:n1) reads and writes its own Node, reads the
  secrets of pods bound to it and nothing of another node;
- non-resource paths: discovery for every authenticated user, /metrics not.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestPKI, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
PODS = "/api/v1/namespaces/default/pods"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
MERGE = {"Content-Type": "application/merge-patch+json"}


def forbidden(c, what, got, verb, resource):
    status, body = got
    check(f"{what}: HTTP status (body {str(body)[:300]})", 403, status, c)
    check(f"{what}: reason", "Forbidden", body.get("reason"), c)
    want = f'User "jane" cannot {verb} resource "{resource}"'
    check(f"{what}: message names user, verb and resource ({body.get('message')})", True,
          want in body.get("message", ""), c)


def every_verb_denied(c, pki, url, jane):
    req = pki.request
    forbidden(c, "get", req(url, "GET", PODS + "/p", jane), "get", "pods")
    forbidden(c, "list", req(url, "GET", PODS, jane), "list", "pods")
    forbidden(c, "watch", req(url, "GET", PODS + "?watch=1", jane), "watch", "pods")
    forbidden(c, "create", req(url, "POST", PODS, jane, body=POD), "create", "pods")
    forbidden(c, "update", req(url, "PUT", PODS + "/p", jane, body=POD), "update", "pods")
    forbidden(c, "patch", req(url, "PATCH", PODS + "/p", jane, body={}, headers=MERGE),
              "patch", "pods")
    forbidden(c, "delete", req(url, "DELETE", PODS + "/p", jane), "delete", "pods")
    forbidden(c, "deletecollection", req(url, "DELETE", PODS, jane), "deletecollection", "pods")
    forbidden(c, "status subresource", req(url, "GET", PODS + "/p/status", jane), "get",
              "pods/status")


def can_i(kj, *argv):
    r = kj.run("auth", "can-i", *argv)
    return r.stdout.strip()


def test_bindings(c, k, kj, pki, url, jane):
    every_verb_denied(c, pki, url, jane)
    check("can-i list pods before any binding", "no", can_i(kj, "list", "pods"), c)
    k.ok("create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods")
    k.ok("create", "rolebinding", "jane-reads", "--role=pod-reader", "--user=jane")
    status, _ = pki.request(url, "GET", PODS, jane)
    check("list pods right after the binding", 200, status, c)
    forbidden(c, "create still", pki.request(url, "POST", PODS, jane, body=POD), "create", "pods")
    matrix = [(("list", "pods"), "yes"), (("get", "pods"), "yes"), (("watch", "pods"), "yes"),
              (("create", "pods"), "no"), (("delete", "pods"), "no"),
              (("list", "pods", "-n", "kube-system"), "no"), (("list", "secrets"), "no"),
              (("get", "pods", "--subresource=log"), "no")]
    for argv, want in matrix:
        check(f"kubectl auth can-i {' '.join(argv)} as jane", want, can_i(kj, *argv), c)
    out = kj.ok("auth", "can-i", "--list")
    check("can-i --list shows the role's rule", True,
          any(line.split()[:1] == ["pods"] and "[get list watch]" in line
              for line in out.splitlines()), c)
    check("auth whoami", True, "jane" in kj.ok("auth", "whoami"), c)
    kj.ok("get", "pods")
    k.ok("delete", "rolebinding", "jane-reads")
    forbidden(c, "list right after the binding is removed", pki.request(url, "GET", PODS, jane),
              "list", "pods")


def test_groups_and_accounts(c, k, kj, pki, url, jane):
    k.ok("create", "clusterrolebinding", "dev-view", "--clusterrole=view", "--group=dev")
    check("view (aggregated) lets group dev list deployments anywhere", "yes",
          can_i(kj, "list", "deployments", "-A"), c)
    check("view does not read secrets", "no", can_i(kj, "get", "secrets"), c)
    check("view does not write", "no", can_i(kj, "create", "configmaps"), c)
    k.ok("create", "serviceaccount", "ci")
    k.ok("create", "rolebinding", "ci-edit", "--clusterrole=edit", "--serviceaccount=default:ci")
    tok = k.ok("create", "token", "ci").strip()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-ci"}}
    status, body = pki.request(url, "POST", "/api/v1/namespaces/default/configmaps",
                               token=tok, body=cm)
    check(f"edit lets the ci account create a configmap ({body})", 201, status, c)
    status, _ = pki.request(url, "GET", "/api/v1/namespaces/kube-system/configmaps", token=tok)
    check("ci's RoleBinding does not reach kube-system", 403, status, c)


def node_objects(k):
    for n in ("n1", "n2"):
        k.ok("create", "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}}))
    k.ok("create", "secret", "generic", "s1", "--from-literal=k=v")
    k.ok("create", "secret", "generic", "s2", "--from-literal=k=v")
    k.ok("create", "secret", "generic", "s3", "--from-literal=k=v")
    for pod, node, secret in (("on-n1", "n1", "s1"), ("on-n2", "n2", "s3")):
        k.ok("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                     "volumes": [{"name": "v", "secret": {"secretName": secret}}]}}))


def test_node(c, k, pki, url):
    node_objects(k)
    n1 = pki.issue("n1", "/CN=system:node:n1/O=system:nodes")
    req = pki.request
    check("node n1 reads its own Node", 200, req(url, "GET", "/api/v1/nodes/n1", n1)[0], c)
    status, _ = req(url, "PATCH", "/api/v1/nodes/n1/status", n1,
                    body={"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                    headers=MERGE)
    check("node n1 patches its own status", 200, status, c)
    status, _ = req(url, "PATCH", "/api/v1/nodes/n2", n1,
                    body={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    check("node n1 cannot modify node n2", 403, status, c)
    sec = "/api/v1/namespaces/default/secrets/"
    check("node n1 reads the secret of a pod bound to it", 200, req(url, "GET", sec + "s1", n1)[0], c)
    check("node n1 cannot read an unreferenced secret", 403, req(url, "GET", sec + "s2", n1)[0], c)
    check("node n1 cannot read the secret of n2's pod", 403, req(url, "GET", sec + "s3", n1)[0], c)
    check("node n1 cannot list secrets", 403,
          req(url, "GET", "/api/v1/namespaces/default/secrets", n1)[0], c)


def test_impersonation(c, k, pki, url, jane):
    """kubectl --as (system:masters may impersonate anyone); jane may not; a hollow-node
    agent may act as exactly the nodes RBAC names for it."""
    check("kubectl --as jane (no bindings now) cannot list pods", "no",
          k.run("auth", "can-i", "list", "pods", "--as", "jane").stdout.strip(), c)
    check("kubectl --as jane --as-group dev can list deployments (view)", "yes",
          k.run("auth", "can-i", "list", "deployments", "--as", "jane", "--as-group", "dev")
          .stdout.strip(), c)
    st, body = pki.request(url, "GET", "/api/v1/namespaces", jane,
                           headers={"Impersonate-User": "admin"})
    check(f"jane may not impersonate ({body})", 403, st, c)
    check("...and is told", True, 'cannot impersonate resource "users"' in body.get("message", ""), c)
    k.ok("create", "clusterrole", "hollow-nodes", "--verb=impersonate", "--resource=users",
         "--resource-name=system:node:n1")
    k.ok("create", "clusterrole", "hollow-groups", "--verb=impersonate", "--resource=groups",
         "--resource-name=system:nodes")
    k.ok("create", "clusterrolebinding", "hollow-nodes", "--clusterrole=hollow-nodes", "--user=hollow")
    k.ok("create", "clusterrolebinding", "hollow-groups", "--clusterrole=hollow-groups",
         "--user=hollow")
    hollow = pki.issue("hollow", "/CN=hollow")
    as_n1 = {"Impersonate-User": "system:node:n1", "Impersonate-Group": "system:nodes"}
    check("the hollow agent acts as node n1", 200,
          pki.request(url, "GET", "/api/v1/nodes/n1", hollow, headers=as_n1)[0], c)
    check("...and gets n1's rights only: n2's secret stays closed", 403,
          pki.request(url, "GET", "/api/v1/namespaces/default/secrets/s3", hollow,
                      headers=as_n1)[0], c)
    as_n2 = {"Impersonate-User": "system:node:n2", "Impersonate-Group": "system:nodes"}
    check("the hollow agent may not act as node n2", 403,
          pki.request(url, "GET", "/api/v1/nodes/n2", hollow, headers=as_n2)[0], c)


def test_authz():
    with Cluster(n=1, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        url = c.api_url("r1")
        c.haproxy()
        k = Kube(c)
        pki = TestPKI(c)
        jane = pki.issue("jane", "/CN=jane/O=dev")
        kj = Kube(c, pki.kubeconfig("jane", jane))
        # the leader writes the default policy when it is elected
        wait_until("the default ClusterRoles exist",
                   lambda: k.run("get", "clusterrole", "view").returncode == 0, 30, c)
        check("admin (system:masters) can do anything", "yes", k.ok("auth", "can-i", "*", "*").strip(), c)
        test_bindings(c, k, kj, pki, url, jane)
        test_groups_and_accounts(c, k, kj, pki, url, jane)
        test_node(c, k, pki, url)
        test_impersonation(c, k, pki, url, jane)
        check("discovery for any authenticated user", 200, pki.request(url, "GET", "/apis", jane)[0], c)
        check("/version for any authenticated user", 200,
              pki.request(url, "GET", "/version", jane)[0], c)
        status, body = pki.request(url, "GET", "/metrics", jane)
        check("/metrics is forbidden to jane", 403, status, c)
        check("its message names the path", True, 'cannot get path "/metrics"' in body.get("message", ""), c)


if __name__ == "__main__":
    harness.args()
    harness.main(test_authz)
