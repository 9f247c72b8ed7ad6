"""rbac_defaults: a new cluster has Kubernetes' default RBAC policy, kept by the leader.

- every default ClusterRole and ClusterRoleBinding exists, labelled
  kubernetes.io/bootstrapping=rbac-defaults and annotated autoupdate=true;
- admin, edit and view get their aggregated rules written back (edit includes
  view's, admin includes edit's);
- a deleted default comes back, a rule taken out of an autoupdate role comes back,
  and a role its owner marked autoupdate=false is left as the owner left it.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, check, wait_until  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
CR = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
CRB = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
# The leader reconciles at once when it wins and then every 10 s (DEFAULTS_EVERY_TICKS).
RECONCILE_S = 30

ROLES = ["cluster-admin", "admin", "edit", "view", "system:aggregate-to-admin",
         "system:aggregate-to-edit", "system:aggregate-to-view", "system:basic-user",
         "system:discovery", "system:public-info-viewer", "system:node",
         "system:node-proxier", "system:kube-scheduler", "system:kube-controller-manager",
         "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
         "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"]
BINDINGS = ["cluster-admin", "system:basic-user", "system:discovery",
            "system:public-info-viewer", "system:node-proxier"]


def req(c, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else None
    st, _, data = c.request(method, c.api_url("r1") + path,
                            json.dumps(body) if body is not None else None, headers)
    return st, (json.loads(data) if data else None)


def get(c, path):
    st, obj = req(c, "GET", path)
    return obj if st == 200 else None


def rules_of(c, name):
    obj = get(c, f"{CR}/{name}")
    return (obj or {}).get("rules") or []


def contains(outer, inner):
    return all(r in outer for r in inner)


def defaults_exist(c):
    for name in ROLES:
        obj = wait_until(f"ClusterRole {name} exists", lambda: get(c, f"{CR}/{name}"),
                         RECONCILE_S, c)
        meta = obj["metadata"]
        check(f"{name} label", "rbac-defaults",
              meta.get("labels", {}).get("kubernetes.io/bootstrapping"), c)
        check(f"{name} annotation", "true",
              meta.get("annotations", {}).get("rbac.authorization.kubernetes.io/autoupdate"), c)
    for name in BINDINGS:
        wait_until(f"ClusterRoleBinding {name} exists", lambda: get(c, f"{CRB}/{name}"),
                   RECONCILE_S, c)
    crb = get(c, f"{CRB}/cluster-admin")
    check("cluster-admin is bound to system:masters",
          [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}],
          crb["subjects"], c)


def aggregation_written_back(c):
    view = wait_until("view has aggregated rules", lambda: rules_of(c, "view"), RECONCILE_S, c)
    check("view = system:aggregate-to-view", True,
          contains(view, rules_of(c, "system:aggregate-to-view")), c)
    edit = wait_until("edit includes view", lambda: contains(rules_of(c, "edit"), view) and
                      rules_of(c, "edit"), RECONCILE_S, c)
    check("edit includes aggregate-to-edit", True,
          contains(edit, rules_of(c, "system:aggregate-to-edit")), c)
    wait_until("admin includes edit and aggregate-to-admin",
               lambda: contains(rules_of(c, "admin"), edit) and
               contains(rules_of(c, "admin"), rules_of(c, "system:aggregate-to-admin")),
               RECONCILE_S, c)


def reconciled(c):
    st, _ = req(c, "DELETE", f"{CRB}/system:public-info-viewer")
    check("delete a default binding", 200, st, c)
    role = get(c, f"{CR}/system:basic-user")
    full = role["rules"]
    role["rules"] = full[:1]
    st, _ = req(c, "PUT", f"{CR}/system:basic-user", role)
    check("narrow system:basic-user", 200, st, c)
    disc = get(c, f"{CR}/system:discovery")
    disc["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "false"
    disc["rules"] = [{"nonResourceURLs": ["/version"], "verbs": ["get"]}]
    st, _ = req(c, "PUT", f"{CR}/system:discovery", disc)
    check("owner takes system:discovery over", 200, st, c)
    wait_until("deleted binding recreated", lambda: get(c, f"{CRB}/system:public-info-viewer"),
               RECONCILE_S, c)
    wait_until("narrowed rules restored",
               lambda: contains(rules_of(c, "system:basic-user"), full), RECONCILE_S, c)
    # the reconcile that restored them has also looked at system:discovery
    check("autoupdate=false left alone", [{"nonResourceURLs": ["/version"], "verbs": ["get"]}],
          rules_of(c, "system:discovery"), c)


def test_rbac_defaults():
    with Cluster(n=1, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(60)
        defaults_exist(c)
        aggregation_written_back(c)
        reconciled(c)


harness.main(test_rbac_defaults)
