"""The core/v1 kinds through the real kubectl 1.32 and haproxy against three replicas:
pods (`run`, Table columns, defaults in `-o yaml`, validation, immutable spec, the
status and binding subresources, graceful delete), services (`create service
clusterip|nodeport`, `expose`, allocations in the create's answer, explicit requests
refused when taken, release on delete, 20 concurrent creates through the three
replicas get 20 distinct ClusterIPs), secrets, serviceaccounts, PVs and PVCs,
replicationcontrollers (scale), `api-resources` and `get all`."""

import ipaddress
import json
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check, Kube  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60
NS = "core"
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
CONCURRENT_SERVICES = 20


def table(out):
    """Header words and rows (lists of words) of kubectl's tabular output."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not lines:
        return [], []
    return lines[0].split(), [ln.split() for ln in lines[1:]]


def in_cidr(ip):
    try:
        return ipaddress.ip_address(ip) in SERVICE_CIDR
    except ValueError:
        return False


def step_api_resources(c, k):
    _, rows = table(k.ok("api-resources", "--api-group="))
    by_name = {r[0]: r for r in rows if r}
    want = {
        "pods": ["pods", "po", "v1", "true", "Pod"],
        "services": ["services", "svc", "v1", "true", "Service"],
        "endpoints": ["endpoints", "ep", "v1", "true", "Endpoints"],
        "secrets": ["secrets", "v1", "true", "Secret"],
        "serviceaccounts": ["serviceaccounts", "sa", "v1", "true", "ServiceAccount"],
        "persistentvolumes": ["persistentvolumes", "pv", "v1", "false", "PersistentVolume"],
        "persistentvolumeclaims": ["persistentvolumeclaims", "pvc", "v1", "true",
                                   "PersistentVolumeClaim"],
        "resourcequotas": ["resourcequotas", "quota", "v1", "true", "ResourceQuota"],
        "limitranges": ["limitranges", "limits", "v1", "true", "LimitRange"],
        "replicationcontrollers": ["replicationcontrollers", "rc", "v1", "true",
                                   "ReplicationController"],
    }
    for name, row in want.items():
        check(f"api-resources row for {name}", row, by_name.get(name), c)


def step_pods(c, k):
    check("kubectl run", "pod/x created", k.ok("run", "x", "--image=nginx", "-n", NS).strip())
    header, rows = table(k.ok("get", "pods", "-n", NS))
    check("get pods: columns", ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], header, c)
    check("get pods: row", ["x", "0/1", "Pending", "0"], rows[0][:4] if rows else None, c)
    out = k.ok("get", "pods", "-n", NS, "-o", "wide")
    first = out.splitlines()[0]
    check("get pods -o wide: columns", True,
          re.match(r"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+"
                   r"READINESS GATES", first) is not None, c)
    check("get pods -o wide: <none> for IP, NODE", True,
          re.search(r"^x\s+0/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>$",
                    out.splitlines()[1]) is not None, c)
    o = k.obj("get", "pod", "x", "-n", NS)
    spec, ctr = o["spec"], o["spec"]["containers"][0]
    for field, want in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                        ("terminationGracePeriodSeconds", 30),
                        ("schedulerName", "default-scheduler"), ("securityContext", {}),
                        ("enableServiceLinks", True), ("serviceAccountName", "default"),
                        ("priority", 0), ("preemptionPolicy", "PreemptLowerPriority")):
        check(f"pod default spec.{field}", want, spec.get(field), c)
    for field, want in (("imagePullPolicy", "Always"),
                        ("terminationMessagePath", "/dev/termination-log"),
                        ("terminationMessagePolicy", "File"), ("resources", {})):
        check(f"pod default container {field}", want, ctr.get(field), c)
    check("pod default tolerations (DefaultTolerationSeconds)",
          ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"],
          [t.get("key") for t in spec.get("tolerations", [])], c)
    check("pod status on create", {"phase": "Pending", "qosClass": "BestEffort"},
          o.get("status"), c)
    y = k.ok("get", "pod", "x", "-n", NS, "-o", "yaml")
    for line in ("  restartPolicy: Always", "    imagePullPolicy: Always", "  phase: Pending"):
        check(f"get pod -o yaml has {line!r}", True, line in y.splitlines(), c)
    names = k.names("get", "pods", "-n", NS, "--field-selector", "status.phase=Pending")
    check("field selector status.phase=Pending", ["pod/x"], names, c)
    names = k.names("get", "pods", "-n", NS, "--field-selector",
                    "spec.schedulerName=default-scheduler,spec.nodeName=")
    check("field selector spec.schedulerName, spec.nodeName=", ["pod/x"], names, c)

    bad = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"},
                      "spec": {"containers": [{"name": "a"}, {"name": "a", "image": "i",
                                                             "ports": [{"containerPort": 0}]}]}})
    err = k.fails("create", "-f", "-", "-n", NS, input=bad)
    for frag in ('The Pod "bad" is invalid', "spec.containers[0].image: Required value",
                 'spec.containers[1].name: Duplicate value: "a"',
                 "spec.containers[1].ports[0].containerPort: Invalid value: 0"):
        check(f"invalid pod: error mentions {frag!r}", True, frag in err, c)
    err = k.fails("patch", "pod", "x", "-n", NS, "-p", '{"spec":{"restartPolicy":"Never"}}')
    check("patch of an immutable pod field: 422 names spec.restartPolicy", True,
          "spec.restartPolicy: Forbidden: pod updates may not change fields" in err, c)
    check("set image (a mutable field)", "pod/x image updated",
          k.ok("set", "image", "pod/x", "x=nginx:1.27", "-n", NS).strip(), c)
    check("image after set image", "nginx:1.27",
          k.obj("get", "pod", "x", "-n", NS)["spec"]["containers"][0]["image"], c)


def step_pod_subresources(c, k):
    """status, binding and graceful delete, served by the client's lifecycle rules."""
    k.ok("patch", "pod", "x", "-n", NS, "--subresource=status", "--type=merge", "-p",
         json.dumps({"status": {"phase": "Running", "podIP": "10.244.1.7",
                                "containerStatuses": [{"name": "x", "ready": True,
                                                       "restartCount": 0, "image": "nginx",
                                                       "imageID": "", "state": {"running": {}}}]}}))
    _, rows = table(k.ok("get", "pods", "-n", NS))
    check("after a status write: READY and STATUS", ["x", "1/1", "Running"],
          rows[0][:3] if rows else None, c)
    k.ok("patch", "pod", "x", "-n", NS, "--type=merge", "-p",
         '{"status":{"phase":"Failed"},"metadata":{"labels":{"l":"1"}}}')
    check("a main-resource write keeps the stored status", "Running",
          k.obj("get", "pod", "x", "-n", NS)["status"]["phase"], c)
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "x"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}
    url = c.api_url(c.names[0]) + f"/api/v1/namespaces/{NS}/pods/x/binding"
    st, _, body = c.request("POST", url, binding)
    check(f"POST pods/x/binding ({body[:200]!r})", 201, st, c)
    out = k.ok("get", "pod", "x", "-n", NS, "-o", "wide")
    check("get -o wide shows IP and NODE after status and binding", True,
          re.search(r"^x\s+1/1\s+Running\s+0\s+\S+\s+10\.244\.1\.7\s+node-1\s",
                    out.splitlines()[1]) is not None, c)
    st, _, body = c.request("POST", url, binding)
    check("a second binding is refused (409)", 409, st, c)
    k.ok("delete", "pod", "x", "-n", NS, "--wait=false")
    o = k.obj("get", "pod", "x", "-n", NS)
    check("graceful delete of a bound pod: deletionTimestamp set", True,
          "deletionTimestamp" in o["metadata"], c)
    check("graceful delete: deletionGracePeriodSeconds 30", 30,
          o["metadata"].get("deletionGracePeriodSeconds"), c)
    _, rows = table(k.ok("get", "pods", "-n", NS))
    check("get pods shows Terminating", "Terminating", rows[0][2] if rows else None, c)
    k.ok("delete", "pod", "x", "-n", NS, "--grace-period=0", "--force", "--wait=false")


def step_services(c, k):
    k.ok("run", "web", "--image=nginx:1.27", "-n", NS, "--labels=app=web")
    check("create service clusterip", "service/s created",
          k.ok("create", "service", "clusterip", "s", "--tcp=80:8080", "-n", NS).strip(), c)
    s = k.obj("get", "svc", "s", "-n", NS)
    ip = s["spec"].get("clusterIP", "")
    check(f"service s clusterIP {ip!r} in {SERVICE_CIDR}", True, in_cidr(ip), c)
    check("service s clusterIPs", [ip], s["spec"].get("clusterIPs"), c)
    check("service s defaults",
          ("ClusterIP", "None", ["IPv4"], "SingleStack", "Cluster"),
          (s["spec"].get("type"), s["spec"].get("sessionAffinity"), s["spec"].get("ipFamilies"),
           s["spec"].get("ipFamilyPolicy"), s["spec"].get("internalTrafficPolicy")), c)
    check("service s port", {"name": "80-8080", "port": 80, "protocol": "TCP",
                             "targetPort": 8080}, s["spec"]["ports"][0], c)
    header, rows = table(k.ok("get", "svc", "s", "-n", NS))
    check("get svc: columns", ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
          header, c)
    check("get svc: row", ["s", "ClusterIP", ip, "<none>", "80/TCP"], rows[0][:5], c)

    exp = json.loads(k.ok("expose", "pod", "web", "--port=80", "--name=web", "-n", NS,
                          "-o", "json"))
    check("expose: the answer carries a ClusterIP", True,
          in_cidr(exp["spec"].get("clusterIP", "")), c)
    check("expose: selector from the pod's labels", {"app": "web"}, exp["spec"].get("selector"),
          c)
    out = k.ok("get", "svc", "web", "-n", NS, "-o", "wide")
    header, rows = table(out)
    check("get svc -o wide: columns", ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)",
                                       "AGE", "SELECTOR"], header, c)
    check("get svc -o wide: SELECTOR", "app=web", rows[0][6] if rows else None, c)

    np = json.loads(k.ok("create", "service", "nodeport", "np", "--tcp=80:8080", "-n", NS,
                         "-o", "json"))
    port = np["spec"]["ports"][0].get("nodePort", 0)
    check(f"create service nodeport: nodePort {port} in the answer, in 30000-32767", True,
          30000 <= port <= 32767, c)
    _, rows = table(k.ok("get", "svc", "np", "-n", NS))
    check("get svc np: PORT(S)", f"80:{port}/TCP", rows[0][4] if rows else None, c)

    clash = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "clash"},
             "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}
    err = k.fails("create", "-f", "-", "-n", NS, input=json.dumps(clash))
    check("explicit clusterIP already taken: 422", True,
          "provided IP is already allocated" in err, c)
    clash_np = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "clash2"},
                "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}}
    err = k.fails("create", "-f", "-", "-n", NS, input=json.dumps(clash_np))
    check("explicit nodePort already taken: 422", True,
          "provided port is already allocated" in err, c)
    err = k.fails("patch", "svc", "s", "-n", NS, "-p", '{"spec":{"clusterIP":"10.96.0.250"}}')
    check("clusterIP is immutable", True, "may not change once set" in err, c)

    k.ok("delete", "svc", "s", "np", "-n", NS)
    again = dict(clash, metadata={"name": "again"})
    again["spec"] = {"clusterIP": ip, "type": "NodePort", "ports": [{"port": 80,
                                                                     "nodePort": port}]}
    k.ok("create", "-f", "-", "-n", NS, input=json.dumps(again))
    a = k.obj("get", "svc", "again", "-n", NS)
    check("the released ClusterIP and nodePort can be asked for again",
          (ip, port), (a["spec"]["clusterIP"], a["spec"]["ports"][0]["nodePort"]), c)
    hl = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless"},
          "spec": {"clusterIP": "None", "selector": {"app": "web"}}}
    k.ok("create", "-f", "-", "-n", NS, input=json.dumps(hl))
    _, rows = table(k.ok("get", "svc", "headless", "-n", NS))
    check("headless service: CLUSTER-IP None, PORT(S) <none>", ["None", "<none>", "<none>"],
          rows[0][2:5] if rows else None, c)


def step_concurrent_services(c, k):
    urls = [c.api_url(n) for n in c.names]
    results = [None] * CONCURRENT_SERVICES

    def create(i):
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"par-{i}"},
                "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
        url = urls[i % len(urls)] + f"/api/v1/namespaces/{NS}/services"
        try:
            st, _, b = c.request("POST", url, body, timeout=60)
            results[i] = (st, json.loads(b))
        except Exception as e:  # reported below as a failed create
            results[i] = (0, str(e))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(CONCURRENT_SERVICES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    codes = [r[0] if r else None for r in results]
    check("20 concurrent service creates through 3 replicas: all 201",
          [201] * CONCURRENT_SERVICES, codes, c)
    ips = [r[1]["spec"]["clusterIP"] for r in results]
    ports = [r[1]["spec"]["ports"][0]["nodePort"] for r in results]
    check("20 concurrent creates: 20 distinct ClusterIPs", CONCURRENT_SERVICES, len(set(ips)), c)
    check("20 concurrent creates: 20 distinct nodePorts", CONCURRENT_SERVICES, len(set(ports)),
          c)
    check("20 concurrent creates: every IP in the service CIDR", True, all(map(in_cidr, ips)), c)
    kube_ip = k.obj("get", "svc", "kubernetes", "-n", "default")["spec"]["clusterIP"]
    check(f"20 concurrent creates: none took the kubernetes Service's {kube_ip}", [],
          [ip for ip in ips if ip == kube_ip], c)
    stored = {s["metadata"]["name"]: s["spec"]["clusterIP"]
              for s in k.obj("get", "svc", "-n", NS)["items"]}
    check("stored ClusterIPs are the answered ones", ips,
          [stored.get(f"par-{i}") for i in range(CONCURRENT_SERVICES)], c)


def step_secrets_and_sa(c, k):
    check("create secret generic", "secret/sec created",
          k.ok("create", "secret", "generic", "sec", "--from-literal=a=b", "-n", NS).strip(), c)
    s = k.obj("get", "secret", "sec", "-n", NS)
    check("secret type and data", ("Opaque", {"a": "Yg=="}), (s.get("type"), s.get("data")), c)
    header, rows = table(k.ok("get", "secrets", "-n", NS))
    check("get secrets: columns", ["NAME", "TYPE", "DATA", "AGE"], header, c)
    check("get secrets: row", ["sec", "Opaque", "1"],
          next((r[:3] for r in rows if r[0] == "sec"), None), c)
    bad = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"},
           "data": {"a": "not base64!"}}
    err = k.fails("create", "-f", "-", "-n", NS, input=json.dumps(bad))
    check("secret with bad base64: refused", True, "illegal base64 data" in err, c)
    sd = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sd"},
          "stringData": {"k": "hello"}}
    k.ok("create", "-f", "-", "-n", NS, input=json.dumps(sd))
    check("stringData lands in data", {"k": "aGVsbG8="},
          k.obj("get", "secret", "sd", "-n", NS).get("data"), c)
    check("create sa", "serviceaccount/robot created",
          k.ok("create", "sa", "robot", "-n", NS).strip(), c)
    header, rows = table(k.ok("get", "sa", "robot", "-n", NS))
    check("get sa: columns", ["NAME", "SECRETS", "AGE"], header, c)
    check("get sa: row", ["robot", "0"], rows[0][:2] if rows else None, c)


PV = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
      "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
               "hostPath": {"path": "/tmp/pv1"}, "storageClassName": "manual"}}
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "claim"},
       "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                "resources": {"requests": {"storage": "1Gi"}}}}


def step_volumes(c, k):
    k.ok("create", "-f", "-", input=json.dumps(PV))
    k.ok("create", "-f", "-", "-n", NS, input=json.dumps(PVC))
    out = k.ok("get", "pv,pvc", "-n", NS)
    check("get pv,pvc: the PV header", True,
          re.search(r"^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+"
                    r"STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$", out, re.M)
          is not None, c)
    check("get pv,pvc: the PV row", True,
          re.search(r"^persistentvolume/pv1\s+1Gi\s+RWO\s+Retain\s+Pending\s+manual\s+<unset>",
                    out, re.M) is not None, c)
    check("get pv,pvc: the PVC header", True,
          re.search(r"^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+"
                    r"VOLUMEATTRIBUTESCLASS\s+AGE$", out, re.M) is not None, c)
    check("get pv,pvc: the PVC row", True,
          re.search(r"^persistentvolumeclaim/claim\s+Pending\s+manual\s+<unset>", out, re.M)
          is not None, c)
    bad = dict(PV, metadata={"name": "pv2"}, spec={"accessModes": ["ReadWriteOnce"]})
    err = k.fails("create", "-f", "-", input=json.dumps(bad))
    check("PV without capacity or source: 422", True,
          "spec.capacity: Required value" in err and "must specify a volume type" in err, c)


RC = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc1"},
      "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "rc1"}},
                                           "spec": {"containers": [{"name": "c",
                                                                    "image": "nginx"}]}}}}


def step_rc_and_all(c, k):
    k.ok("create", "-f", "-", "-n", NS, input=json.dumps(RC))
    o = k.obj("get", "rc", "rc1", "-n", NS)
    check("rc selector defaulted from the template labels", {"app": "rc1"},
          o["spec"].get("selector"), c)
    check("rc generation 1", 1, o["metadata"].get("generation"), c)
    header, rows = table(k.ok("get", "rc", "-n", NS))
    check("get rc: columns", ["NAME", "DESIRED", "CURRENT", "READY", "AGE"], header, c)
    check("get rc: row", ["rc1", "2", "0", "0"], rows[0][:4] if rows else None, c)
    check("scale rc", "replicationcontroller/rc1 scaled",
          k.ok("scale", "rc", "rc1", "--replicas=3", "-n", NS).strip(), c)
    o = k.obj("get", "rc", "rc1", "-n", NS)
    check("rc after scale: replicas and generation", (3, 2),
          (o["spec"].get("replicas"), o["metadata"].get("generation")), c)
    out = k.ok("get", "all", "-n", NS)
    for name in ("pod/web", "service/web", "replicationcontroller/rc1"):
        check(f"get all lists {name}", True,
              re.search(rf"^{re.escape(name)}\s", out, re.M) is not None, c)
    order = [m.group(1) for m in re.finditer(r"^(\w+)/", out, re.M)]
    firsts = [t for i, t in enumerate(order) if t not in order[:i]]
    check("get all: pods, then replicationcontrollers, then services",
          ["pod", "replicationcontroller", "service"],
          [t for t in firsts if t in ("pod", "replicationcontroller", "service")], c)


def test_core_resources():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        k = Kube(c)
        k.ok("create", "namespace", NS)
        failures = []  # later steps still run, so one run shows every broken behaviour
        for step in (step_api_resources, step_pods, step_pod_subresources, step_services,
                     step_concurrent_services, step_secrets_and_sa, step_volumes,
                     step_rc_and_all):
            try:
                step(c, k)
            except TestFailure as e:
                failures.append(f"{step.__name__}: {e}")
                print(f"step {step.__name__} failed: {e}", flush=True)
        if failures:
            raise TestFailure("; ".join(failures))


if __name__ == "__main__":
    harness.main(test_core_resources)
