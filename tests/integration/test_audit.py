"""audit: the audit log is on by default (CIS 1.2.16) with retention by age
(1.2.17), count (1.2.18) and size (1.2.19); events are audit.k8s.io/v1 Events
with verb, objectRef, user, response code and latency; a policy file is honoured;
Secrets never leave their bodies in it; a bad policy refuses to start (exit 2).

Until authentication lands, the user is whatever the request context holds
(system:anonymous): the checks here assert the user fields exist, not a name.
"""

import datetime
import http.client
import json
import os
import re
import subprocess
import time

import harness
from harness import Cluster, Kube, TestFailure, binary, check, wait_until

BACKUP_RE = re.compile(r"^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$")
SECRET_VALUE = "hunter2-audit-canary"


def stop_all(c):
    """SIGTERM every replica: a clean stop flushes the audit queue."""
    for name in c.names:
        if c.running(name):
            check(f"{name} exits 0 on SIGTERM", 0, c.stop(name), c)


def all_events(c):
    out = []
    for name in c.names:
        out += c.audit_events(name)
    return out


def find(events, verb, resource, name=None, namespace="default", stage="ResponseComplete"):
    """Events of one request shape (the objectRef of a create carries its name)."""
    got = []
    for e in events:
        ref = e.get("objectRef") or {}
        if (e.get("verb") == verb and ref.get("resource") == resource and e.get("stage") == stage
                and ref.get("namespace", "") == namespace
                and (name is None or ref.get("name") == name)):
            got.append(e)
    return got


def check_event_shape(e, c):
    """The fields every ResponseComplete event has, as kube-apiserver writes them."""
    for key in ("kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
                "sourceIPs", "responseStatus", "requestReceivedTimestamp", "stageTimestamp",
                "annotations"):
        check(f"event has {key}: {e}", True, key in e, c)
    check("kind", "Event", e["kind"], c)
    check("apiVersion", "audit.k8s.io/v1", e["apiVersion"], c)
    check("username is a non-empty string", True,
          isinstance(e["user"].get("username"), str) and e["user"]["username"] != "", c)
    check("groups is a list", True, isinstance(e["user"].get("groups"), list), c)
    check("sourceIPs", ["127.0.0.1"], e["sourceIPs"], c)
    ts = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"
    check("timestamps in RFC 3339 with microseconds", True,
          bool(re.match(ts, e["requestReceivedTimestamp"]) and re.match(ts, e["stageTimestamp"])),
          c)
    lat = e["annotations"].get("triarch.io/latency-ms")
    check(f"latency annotation is a number of ms: {lat!r}", True,
          lat is not None and float(lat) >= 0, c)


def one(events, what, c, **kw):
    got = find(events, **kw)
    if len(got) != 1:
        raise TestFailure(f"{what}: expected one event matching {kw}, got {len(got)}: {got} "
                          f"(logs in {c.dir})")
    check_event_shape(got[0], c)
    return got[0]


def test_cis_1_2_16_audit_log_on():
    """Three replicas behind haproxy with `triarch init`'s config: every kubectl
    request shows up in one replica's audit log, at Metadata, without bodies."""
    with Cluster(n=3) as c:
        for name in c.names:
            with open(os.path.join(c.dir, name, "triarchd.yaml")) as f:
                check(f"{name}'s config sets audit-log-path", True,
                      f'audit-log-path: "{c.audit_log_path(name)}"' in f.read(), c)
        c.start_all()
        c.wait_ready(30)
        c.haproxy()
        k = Kube(c)
        k.ok("create", "configmap", "cm1", "--from-literal=k=v1")
        k.ok("get", "configmap", "cm1")
        k.ok("get", "configmaps")
        k.ok("patch", "configmap", "cm1", "-p", '{"data":{"k":"v2"}}')
        k.ok("delete", "configmap", "cm1")
        k.fails("get", "configmap", "cm1")
        k.ok("create", "secret", "generic", "s1", f"--from-literal=password={SECRET_VALUE}")
        k.ok("get", "secret", "s1")
        k.ok("delete", "secret", "s1")
        # a watch: ResponseStarted when the stream opens, ResponseComplete at its end
        url = c.api_url("r1")
        st, hdrs, _ = c.request("GET", url + "/api/v1/namespaces/default/configmaps"
                                "?watch=1&timeoutSeconds=1", timeout=30)
        check("watch answered", 200, st, c)
        watch_id = {k.lower(): v for k, v in hdrs.items()}.get("audit-id")
        check("Audit-Id header on the watch", True, bool(watch_id), c)
        st, hdrs, _ = c.request("GET", url + "/api/v1/namespaces/default/configmaps/nope")
        check("404 answered", 404, st, c)
        miss_id = {k.lower(): v for k, v in hdrs.items()}.get("audit-id")
        st, _, metrics = c.request("GET", url + "/metrics")
        m = re.search(rb"^triarch_audit_events_total (\d+)$", metrics, re.M)
        check("/metrics counts audit events", True, m is not None and int(m.group(1)) > 0, c)
        check("/metrics: nothing dropped", True,
              re.search(rb"^triarch_audit_events_dropped_total 0$", metrics, re.M) is not None, c)
        stop_all(c)  # flushes: every acknowledged request must be in the logs now

        ev = all_events(c)
        create = one(ev, "configmap create", c, verb="create", resource="configmaps", name="cm1")
        check("create code", 201, create["responseStatus"]["code"], c)
        check("create objectRef", {"resource": "configmaps", "namespace": "default",
                                   "name": "cm1", "apiVersion": "v1"}, create["objectRef"], c)
        check("level Metadata by default", "Metadata", create["level"], c)
        check("no requestObject at Metadata", False, "requestObject" in create, c)
        # kubectl itself gets before a patch and after a delete: count by code
        gets = find(ev, "get", "configmaps", name="cm1")
        for e in gets:
            check_event_shape(e, c)
        codes = sorted(e["responseStatus"]["code"] for e in gets)
        check(f"configmap gets answered 200 and (after the delete) 404: {codes}", True,
              codes.count(200) >= 2 and codes.count(404) >= 1 and set(codes) == {200, 404}, c)
        lists = [e for e in find(ev, "list", "configmaps") if "watch" not in e["requestURI"]]
        check("one configmap list", 1, len(lists), c)
        check_event_shape(lists[0], c)
        check("patch code", 200, one(ev, "configmap patch", c, verb="patch",
                                     resource="configmaps", name="cm1")
              ["responseStatus"]["code"], c)
        dels = find(ev, "delete", "configmaps", name="cm1")
        check("configmap delete", [200], [e["responseStatus"]["code"] for e in dels], c)
        gone = [e for e in find(ev, "get", "configmaps", name="cm1")
                if e["responseStatus"]["code"] == 404]
        check("a failed get records Failure with reason and message", True,
              all(e["responseStatus"].get("status") == "Failure"
                  and e["responseStatus"].get("reason") == "NotFound"
                  and "cm1" in e["responseStatus"].get("message", "") for e in gone), c)
        s = one(ev, "secret create", c, verb="create", resource="secrets", name="s1")
        check("secret create code", 201, s["responseStatus"]["code"], c)
        check("secret delete", [200], [e["responseStatus"]["code"] for e in
                                        find(ev, "delete", "secrets", name="s1")], c)
        check("secret get recorded", True, any(e["responseStatus"]["code"] == 200 for e in
                                               find(ev, "get", "secrets", name="s1")), c)
        w = [e for e in ev if e["auditID"] == watch_id]
        check("watch: ResponseStarted then ResponseComplete, one auditID",
              ["ResponseStarted", "ResponseComplete"], [e["stage"] for e in w], c)
        check("watch verb", {"watch"}, {e["verb"] for e in w}, c)
        miss = [e for e in ev if e["auditID"] == miss_id]
        check("the 404 is recorded under its Audit-Id", [404],
              [e["responseStatus"]["code"] for e in miss], c)
        non_res = [e for e in ev if e["requestURI"].startswith("/api?") or e["requestURI"] == "/api"]
        check("discovery (non-resource) recorded with a lowercased method verb", True,
              bool(non_res) and all(e["verb"] == "get" and "objectRef" not in e for e in non_res),
              c)
        probes = [e for e in ev if re.match(r"^/(readyz|livez|healthz)", e["requestURI"])]
        check("health probes are not recorded (built-in policy)", [], probes, c)
        for name in c.names:
            with open(c.audit_log_path(name), "rb") as f:
                raw = f.read()
            check(f"{name}: the secret's value is nowhere in the audit log", False,
                  SECRET_VALUE.encode() in raw, c)
            check(f"{name}: audit log mode 0600", 0o600,
                  os.stat(c.audit_log_path(name)).st_mode & 0o777, c)


POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  namespaces: [quiet]
  resources: [{group: "", resources: [configmaps]}]
- level: Request
  resources:
  - group: ""
    resources: [configmaps, secrets]
- level: None
"""


def test_policy_file():
    """None for configmaps in `quiet`, Request for configmaps and secrets elsewhere,
    None for everything else; a Secret stays at Metadata and its body out."""
    with Cluster(n=1) as c:
        policy = os.path.join(c.dir, "audit-policy.yaml")
        with open(policy, "w") as f:
            f.write(POLICY)
        c.start("r1", "--audit-policy-file", policy)
        c.wait_ready(30)
        k = Kube(c)
        k.ok("create", "namespace", "quiet")
        k.ok("create", "configmap", "loud", "--from-literal=color=blue")
        k.ok("create", "configmap", "hush", "-n", "quiet", "--from-literal=color=red")
        k.ok("create", "secret", "generic", "s2", f"--from-literal=password={SECRET_VALUE}")
        stop_all(c)
        ev = c.audit_events("r1")
        loud = one(ev, "configmap create at Request", c, verb="create", resource="configmaps",
                   name="loud")
        check("level Request", "Request", loud["level"], c)
        check("requestObject is the decoded body", {"color": "blue"},
              loud.get("requestObject", {}).get("data"), c)
        check("nothing for configmaps in quiet", [],
              find(ev, "create", "configmaps", namespace="quiet"), c)
        check("nothing for namespaces (last rule None)", [],
              [e for e in ev if (e.get("objectRef") or {}).get("resource") == "namespaces"], c)
        s = one(ev, "secret create", c, verb="create", resource="secrets", name="s2")
        check("a Secret is capped at Metadata", "Metadata", s["level"], c)
        check("no requestObject for a Secret", False, "requestObject" in s, c)
        with open(c.audit_log_path("r1"), "rb") as f:
            check("the secret's value is nowhere in the audit log", False,
                  SECRET_VALUE.encode() in f.read(), c)


def test_client_gone_before_answer():
    """An HTTP/2 client that resets its stream before the answer: the event waits
    for the operation's outcome (here the 504 of a read at a future
    resourceVersion, which waits ~3 s) instead of recording no status."""
    with Cluster(n=1) as c:
        c.start("r1", "--api-listen-plain", "127.0.0.1:0")
        c.wait_ready(30)
        plain = [u for u in c.api_urls("r1") if u.startswith("http://")][0]
        path = "/api/v1/namespaces/default/configmaps/later?resourceVersion=999999999"
        r = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "--max-time", "0.5",
                            plain + path], capture_output=True, timeout=30)
        check("curl gave up before the answer (exit 28)", 28, r.returncode, c)

        def recorded():
            st, _, m = c.request("GET", c.api_url("r1") + "/metrics")
            got = re.search(rb"^triarch_audit_events_total (\d+)$", m, re.M)
            return got is not None and any(
                e["requestURI"] == path for e in c.audit_events("r1")) if st == 200 else False
        # the event is queued when the read gives up, then written within a batch wait
        wait_until("the abandoned request is in the audit log", recorded, 30, c)
        stop_all(c)
        ev = [e for e in c.audit_events("r1") if e["requestURI"] == path]
        check("one event, with the operation's outcome", [(504, "get")],
              [(e["responseStatus"]["code"], e["verb"]) for e in ev], c)


def run_triarchd(c, *flags):
    return subprocess.run([binary("triarchd"), "--config",
                           os.path.join(c.dir, "r1", "triarchd.yaml"), *flags],
                          capture_output=True, text=True, timeout=60)


def test_bad_policy_refused():
    """A policy that cannot be applied as written stops the replica before it starts."""
    with Cluster(n=1) as c:
        cases = [
            ("unknown level", "rules:\n- level: Loud\n", "rules[0].level"),
            ("misspelt field", "rules:\n- level: None\n  namespace: [x]\n", "namespace"),
            ("RequestResponse", "rules:\n- level: RequestResponse\n", "RequestResponse"),
            ("no rules", "rules: []\n", "rule"),
        ]
        for what, body, want in cases:
            path = os.path.join(c.dir, "bad-policy.yaml")
            with open(path, "w") as f:
                f.write("apiVersion: audit.k8s.io/v1\nkind: Policy\n" + body)
            r = run_triarchd(c, "--audit-policy-file", path)
            check(f"{what}: exit code", 2, r.returncode, c)
            check(f"{what}: message names the policy and the problem: {r.stderr!r}", True,
                  "audit-policy-file" in r.stderr and path in r.stderr and want in r.stderr, c)
        r = run_triarchd(c, "--audit-policy-file", os.path.join(c.dir, "missing.yaml"))
        check("missing policy file: exit code", 2, r.returncode, c)
        r = run_triarchd(c, "--audit-level", "Everything")
        check("bad audit-level: exit 2 naming it", (2, True),
              (r.returncode, "audit-level" in r.stderr), c)
        r = run_triarchd(c, "--audit-log-maxsize", "big")
        check("bad audit-log-maxsize: exit 2 naming it", (2, True),
              (r.returncode, "audit-log-maxsize" in r.stderr), c)
        check("nothing written to the data dir", False, os.path.exists(c.data_dir("r1")), c)
        check("no audit log opened", False, os.path.exists(c.audit_log_path("r1")), c)


def traffic(c, n):
    url = c.api_url("r1")
    for i in range(n):
        st, _, _ = c.request("GET", url + f"/api/v1/namespaces/default/configmaps?i={i}")
        if st != 200:
            raise TestFailure(f"list {i}: expected 200 got {st} (logs in {c.dir})")


def backups(c):
    d = os.path.dirname(c.audit_log_path("r1"))
    return sorted(f for f in os.listdir(d) if f != "audit.log")


def test_cis_1_2_18_and_1_2_19_maxbackup_maxsize():
    """A 4 KiB maxsize rotates many times under traffic; maxbackup 2 keeps only the
    two newest backups, named by their UTC timestamp; no file exceeds maxsize."""
    with Cluster(n=1) as c:
        c.start("r1", "--audit-log-maxsize", "4KiB", "--audit-log-maxbackup", "2")
        c.wait_ready(30)
        traffic(c, 120)  # ~600 bytes an event: ~70 KB, ~18 rotations
        st, _, metrics = c.request("GET", c.api_url("r1") + "/metrics")
        m = re.search(rb"^triarch_audit_rotations_total (\d+)$", metrics, re.M)
        check("rotated several times", True, m is not None and int(m.group(1)) >= 5, c)
        stop_all(c)
        names = backups(c)
        check(f"two backups, timestamp-named: {names}", (2, True),
              (len(names), all(BACKUP_RE.match(n) for n in names)), c)
        d = os.path.dirname(c.audit_log_path("r1"))
        for n in names + ["audit.log"]:
            size = os.path.getsize(os.path.join(d, n))
            check(f"{n} within maxsize ({size} bytes)", True, 0 < size <= 4096, c)
        ev = c.audit_events("r1")
        idx = sorted(int(re.search(r"[?&]i=(\d+)", e["requestURI"]).group(1))
                     for e in ev if "?i=" in e["requestURI"])
        check("the newest events are kept, in order, none missing at the end", True,
              bool(idx) and idx[-1] == 119 and idx == list(range(idx[0], 120)), c)


def test_cis_1_2_17_maxage():
    """Backups whose names say they are older than maxage days are deleted (at start
    and after each rotation); younger ones stay."""
    with Cluster(n=1) as c:
        d = os.path.dirname(c.audit_log_path("r1"))
        os.makedirs(d, mode=0o700)
        now = datetime.datetime.now(datetime.timezone.utc)

        def name(age):
            return "audit-" + (now - age).strftime("%Y-%m-%dT%H-%M-%S.000") + ".log"
        old = name(datetime.timedelta(days=3))
        young = name(datetime.timedelta(hours=1))
        ancient = "audit-2001-01-01T00-00-00.000.log"
        unrelated = "audit-notes.txt"
        for n in (old, young, ancient, unrelated):
            open(os.path.join(d, n), "w").close()
        c.start("r1", "--audit-log-maxage", "2")
        c.wait_ready(30)
        check("kept: the young backup and the unrelated file",
              sorted([young, unrelated]), backups(c), c)
        stop_all(c)
        # the default (30 days) keeps a 3-day-old backup
        open(os.path.join(d, old), "w").close()
        c.start("r1")
        c.wait_ready(30)
        check("default maxage 30 days keeps 3-day-old backups", True, old in backups(c), c)
        stop_all(c)


def test_audit():
    test_cis_1_2_16_audit_log_on()
    test_policy_file()
    test_client_gone_before_answer()
    test_bad_policy_refused()
    test_cis_1_2_18_and_1_2_19_maxbackup_maxsize()
    test_cis_1_2_17_maxage()


harness.main(test_audit)
