"""Field schemas of the kinds that cluster components write (Node, Lease, Event in
core/v1 and events.k8s.io/v1, Endpoints, EndpointSlice, LimitRange,
PersistentVolume, ReplicationController, ControllerRevision, IngressClass,
NetworkPolicy), with the real kubectl 1.32. For each kind:
  1. `kubectl create -f` of a valid object using its nested fields (kubectl sends it
     with fieldValidation=Strict after reading /openapi/v3) succeeds, and the object
     reads back with every field as sent;
  2. the same object with one unknown nested field is refused with kube-apiserver's
     `strict decoding error: unknown field "<path>"`, is created without the field
     under --validate=false (Ignore), and under --validate=warn with kubectl
     printing the warning;
  3. `kubectl explain` of a nested path lists that message's fields.
Then autoscaling/v1 through the full resource name: an HPA created as v1 reads back
as v1 with targetCPUUtilizationPercentage, and as v2 with the cpu metric. Last, each
kind sent as protobuf (the fuzz corpus bodies, as kubelets and controllers send
them) is stored as the JSON Go would write."""

import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestFailure, check  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60  # sanitizer builds start slowly on a loaded 2-core machine
NS = "default"
T0 = "2024-05-01T10:00:00Z"
MT0 = "2024-05-01T10:00:00.123456Z"  # a MicroTime keeps microseconds

# (resource for kubectl, object, where to put the unknown field, the path kube names,
#  explain path, fields explain must list)
CASES = [
    ("node", {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "schema-n1"},
        "spec": {"podCIDR": "10.244.7.0/24", "podCIDRs": ["10.244.7.0/24"],
                 "providerID": "kind://docker/n1", "unschedulable": True,
                 "taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule",
                             "timeAdded": T0}]}},
     ["spec", "taints", 0, "tolerationSeconds"], "spec.taints[0].tolerationSeconds",
     "node.spec.taints", ["effect", "timeAdded"]),
    ("lease", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "schema-n1", "namespace": NS},
        "spec": {"holderIdentity": "schema-n1", "leaseDurationSeconds": 40,
                 "acquireTime": MT0, "renewTime": MT0, "leaseTransitions": 1}},
     ["spec", "renewDeadline"], "spec.renewDeadline",
     "lease.spec", ["holderIdentity", "renewTime", "leaseTransitions"]),
    ("event", {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "schema-ev", "namespace": NS},
        "involvedObject": {"kind": "Pod", "namespace": NS, "name": "web",
                           "fieldPath": "spec.containers{web}"},
        "reason": "Pulled", "message": "pulled the image", "type": "Normal",
        "source": {"component": "kubelet", "host": "schema-n1"},
        "firstTimestamp": T0, "lastTimestamp": T0, "count": 2,
        "reportingComponent": "kubelet", "reportingInstance": "schema-n1"},
     ["source", "node"], "source.node",
     "event.involvedObject", ["fieldPath", "resourceVersion"]),
    ("events.v1.events.k8s.io", {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "schema-ev1", "namespace": NS},
        "eventTime": MT0, "reportingController": "example.com/ctl",
        "reportingInstance": "ctl-1", "action": "Scale", "reason": "Scaled", "type": "Normal",
        "note": "scaled up", "regarding": {"kind": "Deployment", "namespace": NS, "name": "web"},
        "series": {"count": 2, "lastObservedTime": MT0}},
     ["series", "state"], "series.state",
     ["events.series", "--api-version=events.k8s.io/v1"], ["count", "lastObservedTime"]),
    ("endpoints", {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "schema-ep", "namespace": NS},
        "subsets": [{"addresses": [{"ip": "10.1.0.5", "nodeName": "schema-n1",
                                    "targetRef": {"kind": "Pod", "namespace": NS, "name": "web"}}],
                     "notReadyAddresses": [{"ip": "10.1.0.6"}],
                     "ports": [{"name": "http", "port": 8080, "protocol": "TCP",
                                "appProtocol": "http"}]}]},
     ["subsets", 0, "addresses", 0, "zone"], "subsets[0].addresses[0].zone",
     "endpoints.subsets.addresses", ["ip", "nodeName", "targetRef"]),
    ("endpointslice", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "schema-es", "namespace": NS,
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.0.5"],
                       "conditions": {"ready": True, "serving": True, "terminating": False},
                       "nodeName": "schema-n1", "zone": "z1",
                       "hints": {"forZones": [{"name": "z1"}]},
                       "targetRef": {"kind": "Pod", "namespace": NS, "name": "web"}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"}]},
     ["endpoints", 0, "conditions", "healthy"], "endpoints[0].conditions.healthy",
     "endpointslice.endpoints.conditions", ["ready", "serving", "terminating"]),
    ("limitrange", {
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "schema-lr", "namespace": NS},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "2", "memory": "1Gi"},
                             "min": {"cpu": "10m"}, "default": {"cpu": "500m"},
                             "defaultRequest": {"cpu": "100m"},
                             "maxLimitRequestRatio": {"cpu": "4"}}]}},
     ["spec", "limits", 0, "defaults"], "spec.limits[0].defaults",
     "limitrange.spec.limits", ["defaultRequest", "maxLimitRequestRatio"]),
    ("persistentvolume", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "schema-pv"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "hostPath": {"path": "/tmp/schema-pv", "type": "DirectoryOrCreate"},
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "manual",
                 "volumeMode": "Filesystem", "mountOptions": ["ro"],
                 "claimRef": {"namespace": NS, "name": "data"},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "kubernetes.io/hostname", "operator": "In",
                      "values": ["schema-n1"]}]}]}}}},
     ["spec", "hostPath", "readOnly"], "spec.hostPath.readOnly",
     "persistentvolume.spec.csi", ["driver", "volumeHandle", "nodePublishSecretRef"]),
    ("replicationcontroller", {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "schema-rc", "namespace": NS},
        "spec": {"replicas": 0, "minReadySeconds": 5, "selector": {"app": "schema-rc"},
                 "template": {"metadata": {"labels": {"app": "schema-rc"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx",
                                                       "ports": [{"containerPort": 80}]}]}}}},
     ["spec", "template", "spec", "containers", 0, "ports", 0, "port"],
     "spec.template.spec.containers[0].ports[0].port",
     "replicationcontroller.spec.template.spec", ["containers", "volumes"]),
    ("controllerrevision", {
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": "schema-cr", "namespace": NS},
        "data": {"spec": {"template": {"$patch": "replace", "spec": {"x": 1}}}},
        "revision": 3},
     ["revisions"], "revisions",
     "controllerrevision", ["data", "revision"]),
    ("ingressclass", {
        "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "schema-ic"},
        "spec": {"controller": "example.com/ingress",
                 "parameters": {"apiGroup": "example.com", "kind": "Params", "name": "p",
                                "scope": "Namespace", "namespace": NS}}},
     ["spec", "parameters", "group"], "spec.parameters.group",
     "ingressclass.spec.parameters", ["apiGroup", "scope"]),
    ("networkpolicy", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "schema-np", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app": "db"}},
                 "policyTypes": ["Ingress", "Egress"],
                 "ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16",
                                                    "except": ["172.17.1.0/24"]}},
                                       {"namespaceSelector": {"matchLabels": {"team": "a"}},
                                        "podSelector": {"matchLabels": {"role": "fe"}}}],
                              "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}],
                 "egress": [{"to": [{"podSelector": {}}],
                             "ports": [{"protocol": "UDP", "port": 53}]}]}},
     ["spec", "ingress", 0, "ports", 0, "portRange"], "spec.ingress[0].ports[0].portRange",
     "networkpolicy.spec.ingress.ports", ["endPort", "protocol"]),
]


def contains(sent, got, path=""):
    """Every field of sent is in got with the same value (got may hold more:
    defaults, metadata). Returns the first differing path or None."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return path or "."
        for k, v in sent.items():
            if k not in got:
                return f"{path}.{k}"
            d = contains(v, got[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(sent, list):
        if not isinstance(got, list) or len(sent) != len(got):
            return path
        for i, (a, b) in enumerate(zip(sent, got)):
            d = contains(a, b, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if sent == got else path


def with_unknown(obj, where, name_suffix):
    o = copy.deepcopy(obj)
    o["metadata"]["name"] += name_suffix
    cur = o
    for step in where[:-1]:
        cur = cur[step]
    cur[where[-1]] = "oops"
    return o


def without(obj, where):
    """obj as the server should keep it once the unknown field is dropped."""
    o = copy.deepcopy(obj)
    cur = o
    for step in where[:-1]:
        cur = cur[step]
    cur.pop(where[-1], None)
    return o


def get_obj(k, resource, obj):
    argv = ["get", resource, obj["metadata"]["name"]]
    if "namespace" in obj["metadata"]:
        argv += ["-n", obj["metadata"]["namespace"]]
    return k.obj(*argv)


def check_kind(c, k, resource, obj, where, reported, explain, explain_fields):
    body = json.dumps(obj)
    k.ok("create", "-f", "-", input=body)
    got = get_obj(k, resource, obj)
    check(f"{resource}: read back as sent (first difference)", None, contains(obj, got), c)

    bad = with_unknown(obj, where, "-strict")
    err = k.fails("create", "-f", "-", input=json.dumps(bad))
    want = f'strict decoding error: unknown field "{reported}"'
    check(f"{resource}: strict refusal names the field ({err.strip()})", True, want in err, c)
    r = k.run("get", resource, bad["metadata"]["name"], "-n", NS)
    check(f"{resource}: nothing created by the refused request", True,
          "NotFound" in r.stderr, c)

    for mode in ("false", "warn"):
        lenient = with_unknown(obj, where, "-" + mode)
        r = k.ok_full("create", f"--validate={mode}", "-f", "-", input=json.dumps(lenient))
        warned = f'unknown field "{reported}"' in r.stderr
        check(f"{resource}: --validate={mode} warns ({r.stderr.strip()})", mode == "warn",
              warned, c)
        got = get_obj(k, resource, lenient)
        check(f"{resource}: --validate={mode} drops the field", None,
              contains(without(lenient, where), got), c)
        cur = got
        for step in where[:-1]:
            cur = cur[step]
        check(f"{resource}: --validate={mode} dropped {reported}", False, where[-1] in cur, c)

    explain = explain if isinstance(explain, list) else [explain]
    out = k.ok("explain", *explain)
    for f in explain_fields:
        if f not in out:
            raise TestFailure(f"kubectl explain {' '.join(explain)}: no {f!r} in\n{out}")


def check_hpa_v1(c, k):
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "schema-hpa", "namespace": NS},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "web"},
                    "minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70}}
    k.ok("create", "-f", "-", input=json.dumps(hpa))
    v1 = k.obj("get", "horizontalpodautoscalers.v1.autoscaling", "schema-hpa", "-n", NS)
    check("hpa v1: apiVersion", "autoscaling/v1", v1.get("apiVersion"), c)
    check("hpa v1: spec as sent", None, contains(hpa["spec"], v1["spec"]), c)
    check("hpa v1: status replicas", (0, 0), (v1["status"].get("currentReplicas"),
                                            v1["status"].get("desiredReplicas")), c)
    v2 = k.obj("get", "horizontalpodautoscalers.v2.autoscaling", "schema-hpa", "-n", NS)
    check("hpa v2 of a v1 object: the cpu metric", [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
        v2["spec"].get("metrics"), c)
    # kubectl expands a short name to its group and drops the version written after
    # it (client-go's shortcutExpander), so hpa.v1.autoscaling is the preferred v2, as
    # against kube-apiserver
    short = k.obj("get", "hpa.v1.autoscaling", "schema-hpa", "-n", NS)
    check("hpa.v1.autoscaling resolves as kubectl resolves it", "autoscaling/v2",
          short.get("apiVersion"), c)
    out = k.ok("explain", "horizontalpodautoscalers.spec", "--api-version=autoscaling/v1")
    check("explain autoscaling/v1 spec lists targetCPUUtilizationPercentage", True,
          "targetCPUUtilizationPercentage" in out, c)


# The protobuf bodies of the fuzz corpus (tests/fuzz/corpus/protobuf/cluster-*), as a
# kubelet or controller would send them: where each goes, and fields its JSON must
# show once decoded (MicroTime to the microsecond, RawExtension as JSON, Node's
# capitalised Port, a PersistentVolume's inline source).
PB_CASES = [
    ("node", "/api/v1/nodes", "n1",
     [(["status", "daemonEndpoints", "kubeletEndpoint", "Port"], 10250),
      (["spec", "taints", 0, "timeAdded"], "2023-11-14T22:13:20Z")]),
    ("lease", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", "n1",
     [(["spec", "acquireTime"], "2023-11-14T22:13:20.123456Z"),
      (["spec", "renewTime"], "2023-11-14T22:13:30.000001Z"),
      (["spec", "leaseTransitions"], 0)]),
    ("event", "/api/v1/namespaces/default/events", "e",
     [(["eventTime"], "2023-11-14T22:13:20.000005Z"),
      (["series", "lastObservedTime"], "2023-11-14T22:13:21.000007Z")]),
    ("event-v1", "/apis/events.k8s.io/v1/namespaces/default/events", "e1",
     [(["regarding", "name"], "web"), (["deprecatedCount"], 1)]),
    ("endpoints", "/api/v1/namespaces/default/endpoints", "s",
     [(["subsets", 0, "addresses", 0, "nodeName"], "n1")]),
    ("endpointslice", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "s",
     [(["endpoints", 0, "conditions", "terminating"], False),
      (["endpoints", 0, "hints", "forZones", 0, "name"], "z")]),
    ("limitrange", "/api/v1/namespaces/default/limitranges", "l",
     [(["spec", "limits", 0, "defaultRequest", "cpu"], "100m")]),
    ("persistentvolume", "/api/v1/persistentvolumes", "pv",
     [(["spec", "csi", "volumeHandle"], "h"),
      (["spec", "csi", "nodePublishSecretRef", "name"], "s"),
      (["spec", "nodeAffinity", "required", "nodeSelectorTerms", 0, "matchExpressions", 0,
        "values"], ["v"])]),
    ("replicationcontroller", "/api/v1/namespaces/default/replicationcontrollers", "rc",
     [(["spec", "template", "spec", "containers", 0, "image"], "nginx")]),
    ("controllerrevision", "/apis/apps/v1/namespaces/default/controllerrevisions", "r",
     [(["data"], {"spec": {"template": {"$patch": "replace"}}}), (["revision"], 2)]),
    ("ingressclass", "/apis/networking.k8s.io/v1/ingressclasses", "nginx",
     [(["spec", "parameters", "apiGroup"], "example.com")]),
    ("networkpolicy", "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", "np",
     [(["spec", "ingress", 0, "ports", 0, "endPort"], 32768),
      (["spec", "ingress", 0, "from", 0, "ipBlock", "except"], ["172.17.1.0/24"])]),
]


def at(obj, path):
    for step in path:
        if isinstance(obj, list):
            obj = obj[step] if step < len(obj) else None
        else:
            obj = (obj or {}).get(step)
    return obj


def check_protobuf(c):
    base = c.api_url(c.names[0])
    corpus = os.path.join(harness.args().src_dir, "tests", "fuzz", "corpus", "protobuf")
    for name, path, obj_name, fields in PB_CASES:
        with open(os.path.join(corpus, "cluster-" + name), "rb") as f:
            body = f.read()
        st, _, out = c.request("POST", base + path, body=body,
                               headers={"Content-Type": "application/vnd.kubernetes.protobuf"})
        check(f"protobuf {name}: POST ({out[:300]!r})", 201, st, c)
        st, _, out = c.request("GET", f"{base}{path}/{obj_name}")
        check(f"protobuf {name}: GET", 200, st, c)
        got = json.loads(out)
        for fpath, want in fields:
            check(f"protobuf {name}: {'.'.join(map(str, fpath))}", want, at(got, fpath), c)


def test_schema_kinds():
    with Cluster(n=1, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        k = Kube(c)
        for case in CASES:
            check_kind(c, k, *case)
        check_hpa_v1(c, k)
        check_protobuf(c)


harness.main(test_schema_kinds)
