"""The named API groups through the real kubectl 1.32, behind haproxy, against a
three-replica cluster: apps/v1 deployments (protobuf `create deployment`, Table
columns, -o yaml defaults, apply twice, set image, scale, validation and the
immutable selector), batch/v1 jobs (generated selector) and cronjobs (schedule
validation), autoscaling HPAs read through v2 and v1, networking ingresses, RBAC
roles and bindings (roleRef immutable), priorityclasses, poddisruptionbudgets,
events.k8s.io, `api-resources` and `get all` in Kubernetes' order. Each output is
compared with what kubectl prints against Kubernetes."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import KUBECTL, Cluster, TestFailure, check, Kube  # noqa: E402

FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50"]
READY_TIMEOUT_S = 60  # sanitizer builds start slowly on a loaded 2-core machine
NS = "grp"
PROTOBUF = "application/vnd.kubernetes.protobuf"

DEPLOY_API = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: api}
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: main
        image: IMAGE
        ports:
        - containerPort: 8080
        env:
        - {name: MODE, value: prod}
      - name: sidecar
        image: busybox:1.36
"""

DEPLOY_BAD_SELECTOR = """apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector:
    matchLabels: {app: one}
  template:
    metadata:
      labels: {app: other}
    spec:
      containers:
      - {name: c, image: nginx}
"""

REPLICASET = """apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs1}
spec:
  replicas: 2
  selector:
    matchLabels: {app: rs1}
  template:
    metadata:
      labels: {app: rs1}
    spec:
      containers:
      - {name: c, image: nginx:1.25}
"""

EVENT_V1 = {
    "apiVersion": "events.k8s.io/v1", "kind": "Event",
    "metadata": {"name": "ev1", "namespace": NS},
    "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "example.com/ctl",
    "reportingInstance": "ctl-1", "action": "Scale", "reason": "Scaled", "type": "Normal",
    "note": "scaled web", "regarding": {"kind": "Deployment", "name": "web", "namespace": NS},
}


def table(out):
    """Header (split on 2+ spaces, as kubectl pads) and rows of kubectl's output."""
    import re
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not lines:
        return [], []
    split = [re.split(r"\s{2,}", ln.strip()) for ln in lines]
    return split[0], split[1:]


def row_of(rows, name):
    return next((r for r in rows if r and r[0] == name), None)


def protobuf_create(c, k, what, *argv):
    """A typed `kubectl create` (protobuf body); returns its stdout."""
    r = k.ok_full("-n", NS, "-v=8", *argv)
    check(f"{what} sent a protobuf body", True, PROTOBUF in r.stderr, c)
    return r.stdout.strip()


# ---------- apps ----------

def step_create_deployment(c, k):
    out = protobuf_create(c, k, "create deployment", "create", "deployment", "web",
                          "--image=nginx", "--replicas=3")
    check("create deployment", "deployment.apps/web created", out, c)
    header, rows = table(k.ok("get", "deploy", "-n", NS))
    check("get deploy: columns", ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], header, c)
    check("get deploy: web row", ["web", "0/3", "0", "0"], (row_of(rows, "web") or [])[:4], c)
    header, rows = table(k.ok("get", "deploy", "-n", NS, "-o", "wide"))
    check("get deploy -o wide: columns", ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                                          "CONTAINERS", "IMAGES", "SELECTOR"], header, c)
    r = row_of(rows, "web") or []
    check("get deploy -o wide: containers, images, selector", ["nginx", "nginx", "app=web"],
          r[5:], c)


def step_deployment_defaults(c, k):
    o = k.obj("get", "deploy", "web", "-n", NS)
    spec = o["spec"]
    check("deployment replicas", 3, spec.get("replicas"), c)
    check("deployment strategy default", {"type": "RollingUpdate", "rollingUpdate": {
        "maxSurge": "25%", "maxUnavailable": "25%"}}, spec.get("strategy"), c)
    check("deployment revisionHistoryLimit", 10, spec.get("revisionHistoryLimit"), c)
    check("deployment progressDeadlineSeconds", 600, spec.get("progressDeadlineSeconds"), c)
    check("deployment generation", 1, o["metadata"].get("generation"), c)
    pod = spec["template"]["spec"]
    for key, want in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                      ("terminationGracePeriodSeconds", 30),
                      ("schedulerName", "default-scheduler"), ("securityContext", {})):
        check(f"template spec.{key}", want, pod.get(key), c)
    ctr = pod["containers"][0]
    for key, want in (("imagePullPolicy", "Always"),
                      ("terminationMessagePath", "/dev/termination-log"),
                      ("terminationMessagePolicy", "File"), ("resources", {})):
        check(f"container {key}", want, ctr.get(key), c)
    y = k.ok("get", "deploy", "web", "-n", NS, "-o", "yaml")
    for line in ("      maxSurge: 25%", "  progressDeadlineSeconds: 600",
                 "      creationTimestamp: null"):
        check(f"-o yaml has {line!r}", True, line in y.splitlines(), c)


def step_apply_twice(c, k):
    out = k.ok("apply", "-f", "-", "-n", NS, input=DEPLOY_API.replace("IMAGE", "nginx:1.24"))
    check("apply (create)", "deployment.apps/api created", out.strip(), c)
    out = k.ok("apply", "-f", "-", "-n", NS, input=DEPLOY_API.replace("IMAGE", "nginx:1.25"))
    check("apply (update)", "deployment.apps/api configured", out.strip(), c)
    o = k.obj("get", "deploy", "api", "-n", NS)
    ctrs = o["spec"]["template"]["spec"]["containers"]
    check("apply twice: both containers kept, in order", ["main", "sidecar"],
          [x["name"] for x in ctrs], c)
    check("apply twice: new image", "nginx:1.25", ctrs[0]["image"], c)
    check("apply twice: env kept", [{"name": "MODE", "value": "prod"}], ctrs[0].get("env"), c)
    check("apply twice: port protocol defaulted", "TCP", ctrs[0]["ports"][0].get("protocol"), c)
    check("apply twice: generation bumped by the spec change", 2,
          o["metadata"].get("generation"), c)
    out = k.ok("apply", "-f", "-", "-n", NS, input=DEPLOY_API.replace("IMAGE", "nginx:1.25"))
    check("apply unchanged", "deployment.apps/api unchanged", out.strip(), c)


def step_set_image(c, k):
    out = k.ok("set", "image", "deployment/web", "nginx=nginx:1.25", "-n", NS)
    check("set image", "deployment.apps/web image updated", out.strip(), c)
    o = k.obj("get", "deploy", "web", "-n", NS)
    ctr = o["spec"]["template"]["spec"]["containers"][0]
    check("set image: image", "nginx:1.25", ctr.get("image"), c)
    check("set image: generation", 2, o["metadata"].get("generation"), c)


def step_scale(c, k):
    out = k.ok("scale", "deployment", "web", "--replicas=5", "-n", NS, timeout=30)
    check("scale", "deployment.apps/web scaled", out.strip(), c)
    o = k.obj("get", "deploy", "web", "-n", NS)
    check("scale: spec.replicas", 5, o["spec"].get("replicas"), c)


def step_deployment_validation(c, k):
    err = k.fails("apply", "-f", "-", "-n", NS, input=DEPLOY_BAD_SELECTOR)
    check("selector not matching the template labels: 422 naming the field", True,
          "spec.template.metadata.labels" in err and
          "`selector` does not match template `labels`" in err, c)
    err = k.fails("patch", "deploy", "web", "-n", NS, "--type=merge", "-p",
                  '{"spec":{"selector":{"matchLabels":{"app":"x"}},'
                  '"template":{"metadata":{"labels":{"app":"x"}}}}}')
    check("changing the selector: field is immutable", True,
          "spec.selector" in err and "field is immutable" in err, c)
    err = k.fails("scale", "deployment", "web", "--replicas=-1", "-n", NS)
    check("negative replicas refused", True, "replicas" in err, c)


def step_replicaset(c, k):
    check("create -f replicaset", "replicaset.apps/rs1 created",
          k.ok("create", "-f", "-", "-n", NS, input=REPLICASET).strip(), c)
    header, rows = table(k.ok("get", "rs", "-n", NS))
    check("get rs: columns", ["NAME", "DESIRED", "CURRENT", "READY", "AGE"], header, c)
    check("get rs: rs1 row", ["rs1", "2", "0", "0"], (row_of(rows, "rs1") or [])[:4], c)


# ---------- batch ----------

def step_job(c, k):
    out = protobuf_create(c, k, "create job", "create", "job", "pi", "--image=busybox", "--",
                          "echo", "hi")
    check("create job", "job.batch/pi created", out, c)
    o = k.obj("get", "job", "pi", "-n", NS)
    uid = o["metadata"]["uid"]
    spec = o["spec"]
    check("job generated selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
          spec.get("selector"), c)
    labels = spec["template"]["metadata"].get("labels", {})
    for key, want in (("batch.kubernetes.io/controller-uid", uid), ("controller-uid", uid),
                      ("batch.kubernetes.io/job-name", "pi"), ("job-name", "pi")):
        check(f"job template label {key}", want, labels.get(key), c)
    check("job labels from the template", labels, o["metadata"].get("labels"), c)
    for key, want in (("backoffLimit", 6), ("completions", 1), ("parallelism", 1),
                      ("completionMode", "NonIndexed"), ("suspend", False)):
        check(f"job spec.{key}", want, spec.get(key), c)
    check("job restartPolicy from kubectl", "Never",
          spec["template"]["spec"].get("restartPolicy"), c)
    header, rows = table(k.ok("get", "jobs", "-n", NS))
    check("get jobs: columns", ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], header, c)
    check("get jobs: pi row", ["pi", "Running", "0/1"], (row_of(rows, "pi") or [])[:3], c)


def step_cronjob(c, k):
    out = protobuf_create(c, k, "create cronjob", "create", "cronjob", "tick", "--image=busybox",
                          "--schedule=*/5 * * * *", "--", "date")
    check("create cronjob", "cronjob.batch/tick created", out, c)
    o = k.obj("get", "cj", "tick", "-n", NS)
    for key, want in (("concurrencyPolicy", "Allow"), ("suspend", False),
                      ("successfulJobsHistoryLimit", 3), ("failedJobsHistoryLimit", 1)):
        check(f"cronjob spec.{key}", want, o["spec"].get(key), c)
    header, rows = table(k.ok("get", "cronjobs", "-n", NS))
    check("get cronjobs: columns", ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE",
                                    "LAST SCHEDULE", "AGE"], header, c)
    check("get cronjobs: tick row", ["tick", "*/5 * * * *", "<none>", "False", "0", "<none>"],
          (row_of(rows, "tick") or [])[:6], c)
    err = k.fails("create", "cronjob", "bad", "--image=busybox", "--schedule=61 * * * *",
                  "-n", NS)
    check("a minute of 61 is refused, naming spec.schedule", True,
          "spec.schedule" in err and "above maximum" in err, c)
    err = k.fails("create", "cronjob", "bad", "--image=busybox", "--schedule=* * *", "-n", NS)
    check("a 3-field schedule is refused", True, "expected exactly 5 fields" in err, c)


# ---------- autoscaling ----------

def step_hpa(c, k):
    out = protobuf_create(c, k, "autoscale", "autoscale", "deployment", "web", "--max=5")
    check("autoscale", "horizontalpodautoscaler.autoscaling/web autoscaled", out, c)
    header, rows = table(k.ok("get", "hpa", "-n", NS))
    check("get hpa: columns", ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS",
                               "AGE"], header, c)
    check("get hpa: web row", ["web", "Deployment/web", "cpu: <unknown>/80%", "1", "5", "0"],
          (row_of(rows, "web") or [])[:6], c)
    v2 = k.obj("get", "hpa.v2.autoscaling", "web", "-n", NS)
    check("hpa via v2: apiVersion", "autoscaling/v2", v2.get("apiVersion"), c)
    check("hpa via v2: the default cpu metric", [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
        v2["spec"].get("metrics"), c)
    # the full resource name: kubectl resolves the short name "hpa" to the preferred
    # version whatever version is written after it
    v1 = k.obj("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-n", NS)
    check("hpa via v1: apiVersion", "autoscaling/v1", v1.get("apiVersion"), c)
    check("hpa via v1: targetCPUUtilizationPercentage", 80,
          v1["spec"].get("targetCPUUtilizationPercentage"), c)
    check("hpa via v1: no metrics field", None, v1["spec"].get("metrics"), c)
    out = k.ok("patch", "horizontalpodautoscalers.v1.autoscaling", "web", "-n", NS,
               "--type=merge", "-p",
               '{"spec":{"targetCPUUtilizationPercentage":50}}')
    v2 = k.obj("get", "hpa.v2.autoscaling", "web", "-n", NS)
    check("a v1 patch lands in v2's metrics", 50,
          v2["spec"]["metrics"][0]["resource"]["target"].get("averageUtilization"), c)


# ---------- networking, rbac, scheduling, policy ----------

def step_ingress(c, k):
    out = protobuf_create(c, k, "create ingress", "create", "ingress", "web",
                          "--rule=foo.com/bar=web:80")
    check("create ingress", "ingress.networking.k8s.io/web created", out, c)
    header, rows = table(k.ok("get", "ing", "-n", NS))
    check("get ingress: columns", ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], header,
          c)
    r = row_of(rows, "web") or []
    check("get ingress: web row (empty ADDRESS)", ["web", "<none>", "foo.com", "80"],
          r[:3] + r[3:4], c)
    err = k.fails("create", "ingress", "bad", "--rule=foo.com/bar=web:99999", "-n", NS)
    check("an out-of-range backend port is refused", True, "between 1 and 65535" in err, c)


def step_rbac(c, k):
    check("create role", "role.rbac.authorization.k8s.io/reader created",
          protobuf_create(c, k, "create role", "create", "role", "reader", "--verb=get,list",
                          "--resource=pods"), c)
    check("create rolebinding", "rolebinding.rbac.authorization.k8s.io/rb created",
          protobuf_create(c, k, "create rolebinding", "create", "rolebinding", "rb",
                          "--role=reader", "--user=alice"), c)
    check("create clusterrole", "clusterrole.rbac.authorization.k8s.io/creader created",
          k.ok("create", "clusterrole", "creader", "--verb=get", "--resource=nodes").strip(), c)
    check("create clusterrolebinding",
          "clusterrolebinding.rbac.authorization.k8s.io/crb created",
          k.ok("create", "clusterrolebinding", "crb", "--clusterrole=creader",
               "--serviceaccount=grp:default").strip(), c)
    header, rows = table(k.ok("get", "rolebinding", "-n", NS))
    check("get rolebinding: columns", ["NAME", "ROLE", "AGE"], header, c)
    check("get rolebinding: rb row", ["rb", "Role/reader"], (row_of(rows, "rb") or [])[:2], c)
    header, rows = table(k.ok("get", "clusterrolebinding", "crb", "-o", "wide"))
    check("get clusterrolebinding -o wide: columns",
          ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"], header, c)
    check("get clusterrolebinding -o wide: service account", "grp:default",
          (row_of(rows, "crb") or [""])[-1], c)
    header, _ = table(k.ok("get", "role", "-n", NS))
    check("get role: columns", ["NAME", "CREATED AT"], header, c)
    o = k.obj("get", "rolebinding", "rb", "-n", NS)
    check("rolebinding subject apiGroup", "rbac.authorization.k8s.io",
          o["subjects"][0].get("apiGroup"), c)
    err = k.fails("patch", "rolebinding", "rb", "-n", NS, "--type=merge", "-p",
                  '{"roleRef":{"name":"other"}}')
    check("changing roleRef is refused", True, "cannot change roleRef" in err, c)


def step_priorityclass(c, k):
    check("create priorityclass", "priorityclass.scheduling.k8s.io/high created",
          k.ok("create", "priorityclass", "high", "--value=1000", "--description=x").strip(), c)
    header, rows = table(k.ok("get", "pc"))
    check("get pc: columns", ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
          header, c)
    r = row_of(rows, "high") or []
    check("get pc: high row", ["high", "1000", "false", "PreemptLowerPriority"],
          r[:3] + r[4:], c)
    err = k.fails("create", "priorityclass", "huge", "--value=2000000000")
    check("a user priority above 1e9 is refused", True,
          "maximum allowed value of a user defined priority" in err, c)


def step_pdb(c, k):
    check("create pdb", "poddisruptionbudget.policy/web created",
          k.ok("create", "pdb", "web", "--selector=app=web", "--min-available=1",
               "-n", NS).strip(), c)
    header, rows = table(k.ok("get", "pdb", "-n", NS))
    check("get pdb: columns", ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS",
                               "AGE"], header, c)
    check("get pdb: web row", ["web", "1", "N/A", "0"], (row_of(rows, "web") or [])[:4], c)


def step_events_v1(c, k):
    url = f"https://{c.lb}/apis/events.k8s.io/v1/namespaces/{NS}/events"
    st, _, body = c.request("POST", url, EVENT_V1)
    check("POST events.k8s.io/v1 event", 201, st, c)
    st, _, body = c.request("GET", url + "/ev1")
    o = json.loads(body) if st == 200 else {}
    check("GET it back: status", 200, st, c)
    check("GET it back: events.k8s.io/v1 shape", ("events.k8s.io/v1", "scaled web", "Deployment"),
          (o.get("apiVersion"), o.get("note"), o.get("regarding", {}).get("kind")), c)
    core = f"https://{c.lb}/api/v1/namespaces/{NS}/events"
    st, _, body = c.request("GET", core + "/ev1")
    o = json.loads(body) if st == 200 else {}
    check("the same event through core/v1", (200, "v1", "scaled web", "Deployment"),
          (st, o.get("apiVersion"), o.get("message"), o.get("involvedObject", {}).get("kind")), c)
    st, _, body = c.request("GET", url + "?fieldSelector=regarding.name%3Dweb")
    names = [i["metadata"]["name"] for i in json.loads(body).get("items", [])] if st == 200 else st
    check("events.k8s.io list by regarding.name", ["ev1"], names, c)
    header, rows = table(k.ok("get", "events", "-n", NS))
    check("kubectl get events shows it", True,
          any("deployment/web" in r and "scaled web" in r for r in rows), c)
    bad = dict(EVENT_V1, metadata={"name": "ev2"})
    del bad["reportingController"]
    st, _, body = c.request("POST", url, bad)
    check("an events.k8s.io event without reportingController: 422", 422, st, c)


# ---------- discovery ----------

def step_api_resources(c, k):
    header, rows = table(k.ok("api-resources"))
    want = {
        "deployments": ["deployments", "deploy", "apps/v1", "true", "Deployment"],
        "horizontalpodautoscalers": ["horizontalpodautoscalers", "hpa", "autoscaling/v2", "true",
                                     "HorizontalPodAutoscaler"],
        "cronjobs": ["cronjobs", "cj", "batch/v1", "true", "CronJob"],
        "leases": ["leases", "coordination.k8s.io/v1", "true", "Lease"],
        "ingresses": ["ingresses", "ing", "networking.k8s.io/v1", "true", "Ingress"],
        "priorityclasses": ["priorityclasses", "pc", "scheduling.k8s.io/v1", "false",
                            "PriorityClass"],
        "poddisruptionbudgets": ["poddisruptionbudgets", "pdb", "policy/v1", "true",
                                 "PodDisruptionBudget"],
        "endpointslices": ["endpointslices", "discovery.k8s.io/v1", "true", "EndpointSlice"],
        "clusterroles": ["clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"],
    }
    for name, row in want.items():
        check(f"api-resources row for {name}", row, row_of(rows, name), c)
    check("api-resources lists events.k8s.io events", True,
          any(r[0] == "events" and "events.k8s.io/v1" in r for r in rows), c)


def step_get_all(c, k):
    out = k.ok("get", "all", "-n", NS)
    kinds = [ln.split()[0].split("/")[0] for ln in out.splitlines()
             if ln.strip() and "/" in ln.split()[0]]
    order = []
    for kind in kinds:
        if kind not in order:
            order.append(kind)
    check("get all: kinds in Kubernetes' discovery order",
          ["deployment.apps", "replicaset.apps", "horizontalpodautoscaler.autoscaling",
           "cronjob.batch", "job.batch"], [x for x in order if "." in x], c)


def test_group_resources():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        k = Kube(c)
        k.ok("create", "namespace", NS)
        failures = []  # later steps still run, so one run shows every broken behaviour
        for step in (step_create_deployment, step_deployment_defaults, step_apply_twice,
                     step_set_image, step_scale, step_deployment_validation, step_replicaset,
                     step_job, step_cronjob, step_hpa, step_ingress, step_rbac,
                     step_priorityclass, step_pdb, step_events_v1, step_api_resources,
                     step_get_all):
            try:
                step(c, k)
            except TestFailure as e:
                failures.append(f"{step.__name__}: {e}")
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
                failures.append(f"{step.__name__}: {type(e).__name__}: {e} (logs in {c.dir})")
        if failures:
            raise TestFailure(f"{len(failures)} step(s) failed:\n" + "\n".join(failures))


harness.main(test_group_resources)
