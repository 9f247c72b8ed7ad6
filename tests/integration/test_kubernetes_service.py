"""kubernetes_service: the `kubernetes` Service in `default`, as Kubernetes provides
it, on a real 3-replica cluster with the real kubectl: ClusterIP 10.96.0.1 (the
service CIDR's first address), port https 443/TCP to the replicas' API port,
labels component=apiserver and provider=kubernetes; Endpoints and EndpointSlices
listing every replica's advertised API address, from the identity Leases each
replica renews in kube-system. A killed replica leaves the endpoints once its
lease expires and comes back when restarted; a replica stopped gracefully deletes
its lease first; a deleted Service comes back with
the same ClusterIP; no other Service may take that address (422 "provided IP is
already allocated"); nothing is rewritten while nothing changes; and
python-kubernetes' in-cluster loader, pointed at an endpoint with a service-account
token and the CA from kube-root-ca.crt, reads the Service."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Cluster, Kube, TestFailure, check, wait_until  # noqa: E402

LEASE_S, RENEW_S = 3, 1  # test-friendly: a dead replica leaves the endpoints after 3 s
FLAGS = ["--election-timeout-ms", "300", "--heartbeat-ms", "50",
         "--identity-lease-duration-seconds", str(LEASE_S),
         "--identity-lease-renew-interval-seconds", str(RENEW_S)]
READY_TIMEOUT_S = 60   # sanitizer builds start slowly on a loaded 2-core machine
CHANGE_TIMEOUT_S = 60  # for the endpoints to follow a kill or a restart
CLUSTER_IP = "10.96.0.1"
NS = "ks-user"


def addr_of(url):
    """'https://127.0.0.1:1234' -> '127.0.0.1:1234'."""
    return url.split("://", 1)[1]


def endpoints_addrs(k):
    """The ip:port pairs the Endpoints default/kubernetes lists (a set), or None."""
    r = k.run("get", "endpoints", "kubernetes", "-n", "default", "-o", "json")
    if r.returncode != 0:
        return None
    ep = json.loads(r.stdout)
    return {f"{a['ip']}:{p['port']}" for s in ep.get("subsets") or []
            for a in s.get("addresses") or [] for p in s.get("ports") or []}


def slices_addrs(k):
    """ip:port pairs of the Service's EndpointSlices (a set), and the slices."""
    items = k.obj("get", "endpointslices", "-n", "default", "-l",
                  "kubernetes.io/service-name=kubernetes")["items"]
    return ({f"{a}:{p['port']}" for s in items for e in s.get("endpoints") or []
             for a in e.get("addresses") or [] for p in s.get("ports") or []}, items)


def wait_endpoints(c, k, want, what):
    got = {}

    def same():
        got["v"] = endpoints_addrs(k)
        try:
            return got["v"] == want and slices_addrs(k)[0] == want
        except TestFailure:  # haproxy has not yet noticed a killed replica
            return False

    try:
        wait_until(what, same, CHANGE_TIMEOUT_S, c)
    except TestFailure:
        check(what, sorted(want), sorted(got.get("v") or []), c)


def step_service(c, k, want):
    svc = k.obj("get", "svc", "kubernetes", "-n", "default")
    spec = svc["spec"]
    check("ClusterIP", (CLUSTER_IP, [CLUSTER_IP]), (spec.get("clusterIP"), spec.get("clusterIPs")),
          c)
    check("type, sessionAffinity, no selector", ("ClusterIP", "None", None),
          (spec.get("type"), spec.get("sessionAffinity"), spec.get("selector")), c)
    ports = spec.get("ports") or []
    check("one port", 1, len(ports), c)
    p = ports[0]
    check("port https 443/TCP", ("https", 443, "TCP"), (p.get("name"), p.get("port"),
                                                       p.get("protocol")), c)
    check("targetPort is a replica's API port", True,
          f"127.0.0.1:{p.get('targetPort')}" in want, c)
    check("labels", {"component": "apiserver", "provider": "kubernetes"},
          svc["metadata"].get("labels"), c)
    out = k.ok("get", "svc", "kubernetes", "-n", "default")
    row = out.splitlines()[1].split() if len(out.splitlines()) > 1 else []
    check("get svc row", ["kubernetes", "ClusterIP", CLUSTER_IP, "<none>", "443/TCP"], row[:5], c)
    check("get all -n default shows it, as on Kubernetes", ["service/kubernetes"],
          k.names("get", "all", "-n", "default"), c)
    return p.get("targetPort")


def step_endpoints(c, k, want, target):
    ep = k.obj("get", "endpoints", "kubernetes", "-n", "default")
    check("Endpoints skip mirroring", "true",
          ep["metadata"].get("labels", {}).get("endpointslice.kubernetes.io/skip-mirror"), c)
    check("Endpoints ports are https/TCP", True,
          all(p.get("name") == "https" and p.get("protocol") == "TCP"
              for s in ep["subsets"] for p in s["ports"]), c)
    out = k.ok("get", "endpoints", "kubernetes", "-n", "default")
    listed = set(out.splitlines()[1].split()[1].split(",")) if len(out.splitlines()) > 1 else set()
    check("kubectl get endpoints kubernetes lists the replicas", want, listed, c)
    _, items = slices_addrs(k)
    names = sorted(s["metadata"]["name"] for s in items)
    check("one slice named kubernetes", True, "kubernetes" in names, c)
    primary = next(s for s in items if s["metadata"]["name"] == "kubernetes")
    check("the kubernetes slice is the Service's targetPort", [target],
          [p.get("port") for p in primary["ports"]], c)
    for s in items:
        labels = s["metadata"].get("labels", {})
        check(f"slice {s['metadata']['name']} labels", True,
              labels.get("kubernetes.io/service-name") == "kubernetes" and
              bool(labels.get("endpointslice.kubernetes.io/managed-by")), c)
        check(f"slice {s['metadata']['name']} addressType", "IPv4", s.get("addressType"), c)
        check(f"slice {s['metadata']['name']} endpoints ready", True,
              all(e.get("conditions", {}).get("ready") is True for e in s["endpoints"]), c)


def step_leases(c, k, want):
    items = k.obj("get", "leases", "-n", "kube-system", "-l",
                  "apiserver.kubernetes.io/identity=kube-apiserver")["items"]
    holders = sorted(i["spec"].get("holderIdentity") for i in items)
    check("one identity lease per replica", c.names, holders, c)
    check("lease names", True, all(i["metadata"]["name"].startswith("apiserver-") for i in items),
          c)
    check("leases carry the advertised addresses", want,
          {i["metadata"].get("annotations", {}).get("triarch.io/advertise-address")
           for i in items}, c)
    check("leaseDurationSeconds", {LEASE_S}, {i["spec"].get("leaseDurationSeconds")
                                             for i in items}, c)


def step_steady(c, k):
    """Renewals go on; the Service, Endpoints and slices are not rewritten."""
    def rvs():
        _, items = slices_addrs(k)
        return (k.obj("get", "svc", "kubernetes", "-n", "default")["metadata"]["resourceVersion"],
                k.obj("get", "endpoints", "kubernetes", "-n", "default")["metadata"][
                    "resourceVersion"],
                sorted(s["metadata"]["resourceVersion"] for s in items))

    def lease_rvs():
        return {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in k.obj(
            "get", "leases", "-n", "kube-system", "-l",
            "apiserver.kubernetes.io/identity=kube-apiserver")["items"]}

    before = rvs()
    for n in (1, 2):
        seen = lease_rvs()
        wait_until(f"every identity lease renewed ({n})", lambda: all(
            rv != seen[name] for name, rv in lease_rvs().items()), 30, c)
    check("Service, Endpoints and slices unchanged while renewals go on", before, rvs(), c)


def step_kill_restart(c, k, want):
    victim = c.wait_leader()  # the leader: the next one must notice its lease expire
    gone = addr_of(c.api_url(victim))
    c.kill(victim)
    wait_endpoints(c, k, want - {gone}, f"{victim} ({gone}) leaves the endpoints once its "
                   "lease expires")
    svc = k.obj("get", "svc", "kubernetes", "-n", "default")
    check("targetPort moves to a live replica", True,
          f"127.0.0.1:{svc['spec']['ports'][0]['targetPort']}" in want - {gone}, c)
    check("the ClusterIP stays", CLUSTER_IP, svc["spec"]["clusterIP"], c)
    c.start(victim)
    c.wait_ready(READY_TIMEOUT_S)
    back = {addr_of(c.api_url(n)) for n in c.names}
    wait_endpoints(c, k, back, f"{victim} comes back into the endpoints after a restart")
    return back


def step_graceful_stop(c, k, want):
    """SIGTERM: the replica deletes its own Lease before it goes (an expired Lease
    would stay), and leaves the endpoints without waiting for the TTL."""
    leader = c.wait_leader()
    victim = next(n for n in c.names if n != leader)
    gone = addr_of(c.api_url(victim))
    leases = k.obj("get", "leases", "-n", "kube-system", "-l",
                   "apiserver.kubernetes.io/identity=kube-apiserver")["items"]
    name = next(i["metadata"]["name"] for i in leases if i["spec"]["holderIdentity"] == victim)
    check(f"{victim} stops gracefully", 0, c.stop(victim), c)
    r = k.run("get", "lease", name, "-n", "kube-system")
    check(f"{victim}'s Lease {name} is deleted at its graceful stop", True,
          r.returncode != 0 and "NotFound" in r.stderr, c)
    wait_endpoints(c, k, want - {gone}, f"{victim} ({gone}) left the endpoints")
    c.start(victim)
    c.wait_ready(READY_TIMEOUT_S)
    wait_endpoints(c, k, want, f"{victim} is back in the endpoints")


def step_recreate(c, k):
    old = k.obj("get", "svc", "kubernetes", "-n", "default")
    k.ok("delete", "svc", "kubernetes", "-n", "default")

    def recreated():
        r = k.run("get", "svc", "kubernetes", "-n", "default", "-o", "json")
        if r.returncode != 0:
            return None
        s = json.loads(r.stdout)
        return s if s["metadata"]["uid"] != old["metadata"]["uid"] else None

    s = wait_until("the kubernetes Service is recreated", recreated, CHANGE_TIMEOUT_S, c)
    check("recreated with the same ClusterIP", (CLUSTER_IP, [CLUSTER_IP]),
          (s["spec"]["clusterIP"], s["spec"]["clusterIPs"]), c)
    check("recreated port", [("https", 443)],
          [(p["name"], p["port"]) for p in s["spec"]["ports"]], c)


def step_reserved(c, k):
    k.ok("create", "namespace", NS)
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "thief"},
           "spec": {"clusterIP": CLUSTER_IP, "ports": [{"port": 80}]}}
    err = k.fails("create", "-n", NS, "-f", "-", input=json.dumps(svc))
    check(f"kubectl create with clusterIP {CLUSTER_IP} is refused ({err.strip()})", True,
          "provided IP is already allocated" in err, c)
    url = c.api_url(c.names[0]) + f"/api/v1/namespaces/{NS}/services"
    status, _, body = c.request("POST", url, body=svc)
    check("POST with the reserved ClusterIP: 422", 422, status, c)
    st = json.loads(body)
    check("Status reason and field", ("Invalid", "spec.clusterIPs"),
          (st.get("reason"), (st.get("details", {}).get("causes") or [{}])[0].get("field")), c)
    # A Service in default named otherwise gets no special treatment either.
    svc["metadata"]["name"] = "kubernetes-too"
    status, _, _ = c.request("POST", c.api_url(c.names[0]) +
                             "/api/v1/namespaces/default/services", body=svc)
    check("another Service in default may not take it either", 422, status, c)
    # Allocation never hands it out.
    for i in range(5):
        k.ok("create", "service", "clusterip", f"auto{i}", "--tcp=80", "-n", NS)
        ip = k.obj("get", "svc", f"auto{i}", "-n", NS)["spec"]["clusterIP"]
        check(f"auto{i} did not get {CLUSTER_IP}", True, ip != CLUSTER_IP, c)
    k.ok("delete", "namespace", NS, "--wait=false")


def step_python_incluster(c, k, want):
    """load_incluster_config's loader, as a pod would run it: the token of a
    service account allowed to read services and endpoints in default, the CA from
    its namespace's kube-root-ca.crt, and KUBERNETES_SERVICE_HOST/PORT set to an
    address the Endpoints list (the ClusterIP is not routable outside a pod)."""
    from kubernetes import client  # python3-kubernetes, a second real client
    from kubernetes.config.incluster_config import InClusterConfigLoader
    ns = "ks-reader"
    k.ok("create", "namespace", ns)
    k.ok("create", "serviceaccount", "reader", "-n", ns)
    k.ok("create", "role", "svc-reader", "-n", "default", "--verb=get,list",
         "--resource=services,endpoints")
    k.ok("create", "rolebinding", "svc-reader", "-n", "default", "--role=svc-reader",
         f"--serviceaccount={ns}:reader")
    token = k.ok("create", "token", "reader", "-n", ns).strip()
    ca = wait_until("kube-root-ca.crt published", lambda: (k.run(
        "get", "cm", "kube-root-ca.crt", "-n", ns, "-o", "json").stdout or None), 30, c)
    host, port = sorted(want)[0].split(":")
    tok_path, ca_path = os.path.join(c.dir, "sa-token"), os.path.join(c.dir, "sa-ca.crt")
    with open(tok_path, "w") as f:
        f.write(token)
    with open(ca_path, "w") as f:
        f.write(json.loads(ca)["data"]["ca.crt"])
    cfg = client.Configuration()
    InClusterConfigLoader(tok_path, ca_path, environ={"KUBERNETES_SERVICE_HOST": host,
                                                      "KUBERNETES_SERVICE_PORT": port}
                          ).load_and_set(cfg)
    v1 = client.CoreV1Api(client.ApiClient(cfg))
    svc = v1.read_namespaced_service("kubernetes", "default")
    check("python-kubernetes (in-cluster) reads the ClusterIP", CLUSTER_IP, svc.spec.cluster_ip, c)
    check("python-kubernetes port", (443, "https"), (svc.spec.ports[0].port,
                                                     svc.spec.ports[0].name), c)
    ep = v1.read_namespaced_endpoints("kubernetes", "default")
    check("python-kubernetes reads the endpoints", want,
          {f"{a.ip}:{p.port}" for s in ep.subsets for a in s.addresses for p in s.ports}, c)
    step_service_names_in_cert(c, ca_path, host, port)


def step_service_names_in_cert(c, ca_path, host, port):
    """What a pod dials verifies: the replicas' serving certificate names the Service
    (kubernetes.default.svc and the rest, as kubeadm's does) and its ClusterIP."""
    import socket
    import ssl
    ctx = ssl.create_default_context(cafile=ca_path)
    for name in ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local", CLUSTER_IP):
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as s:
                check(f"the serving certificate verifies as {name}", True,
                      s.getpeercert() is not None, c)


def test_kubernetes_service():
    with Cluster(n=3, extra_flags=FLAGS) as c:
        c.start_all()
        c.wait_ready(READY_TIMEOUT_S)
        c.haproxy()
        k = Kube(c)
        want = {addr_of(c.api_url(n)) for n in c.names}
        wait_endpoints(c, k, want, "the endpoints list the three replicas")
        target = step_service(c, k, want)
        step_endpoints(c, k, want, target)
        step_leases(c, k, want)
        step_steady(c, k)
        want = step_kill_restart(c, k, want)
        step_graceful_stop(c, k, want)
        step_recreate(c, k)
        step_reserved(c, k)
        step_python_incluster(c, k, want)


harness.main(test_kubernetes_service)
